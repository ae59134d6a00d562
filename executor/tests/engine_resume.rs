//! `resume` continues an interrupted execution without re-running finished steps; `retry` re-runs part of a
//! finished one. An interruption is simulated by abandoning the execution's task, which leaves the store as a
//! killed process would (the end-to-end test in the root `tests/` kills a real `pilot run`).

mod common;

use common::{Harness, status_of, step};
use executor::engine::{Context, EngineError};
use executor::store::Status;
use serde_json::json;
use std::time::Duration;

const CHAIN: &str = r#"
name: chain
steps:
  - id: first
    action: probe/work
    input: {tag: first}
  - id: stamp
    action: transform
    input:
      at: "${now()}"
      tag: "${first.tag}"
  - id: second
    action: probe/work
    input: {tag: "second", delay: 1h}
    needs: stamp
  - id: third
    action: probe/work
    input: {tag: "third-after-${second.tag}"}
  - id: later
    action: transform
    input:
      due: "${stamp.at + 1d}"
    needs: third
"#;

async fn interrupt_at(harness: &Harness, yaml: &str, tag: &str) -> String {
    let workflow = harness.compile(yaml);
    let handle = harness.engine.start(&workflow, Context::default()).await.unwrap();
    while !harness.probe.calls().iter().any(|call| call == tag) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let id = handle.id.clone();
    handle.abandon();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let record = harness.record(&id).await;
    assert_eq!(record.status, Status::Running, "an interrupted execution stays running");
    id
}

#[tokio::test(start_paused = true)]
async fn resume_never_reruns_finished_steps_and_reruns_the_interrupted_one() {
    let harness = Harness::new();
    let id = interrupt_at(&harness, CHAIN, "second").await;
    let before = harness.record(&id).await;
    assert_eq!(status_of(&before, "first"), Status::Success);
    assert_eq!(status_of(&before, "second"), Status::Running);

    let outcome = harness.engine.resume(&id, Context::default()).await.unwrap().wait().await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert_eq!(harness.probe.calls(), ["first", "second", "second", "third-after-second"]);
    let after = harness.record(&id).await;
    assert_eq!(after.status, Status::Success);
    assert_eq!(step(&after, "first").output, before.steps[0].output, "the stored output was kept");
    // `later` computes with the reloaded `stamp.at`: it came back as a timestamp, not as text.
    let stamp = step(&after, "stamp").output.as_ref().unwrap()["at"].as_str().unwrap().to_string();
    let due = step(&after, "later").output.as_ref().unwrap()["due"].as_str().unwrap().to_string();
    let day = chrono::Duration::days(1);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&due).unwrap(),
        chrono::DateTime::parse_from_rfc3339(&stamp).unwrap() + day
    );
}

#[tokio::test(start_paused = true)]
async fn a_step_marked_resume_fail_is_not_rerun_and_fails_the_resumed_execution() {
    let harness = Harness::new();
    let yaml = CHAIN.replace("    needs: stamp\n", "    needs: stamp\n    resume: fail\n");
    let id = interrupt_at(&harness, &yaml, "second").await;
    let outcome = harness.engine.resume(&id, Context::default()).await.unwrap().wait().await;
    assert_eq!(outcome.status, Status::Failed);
    let record = harness.record(&id).await;
    assert_eq!(status_of(&record, "second"), Status::Failed);
    assert!(
        step(&record, "second")
            .error
            .as_deref()
            .unwrap()
            .starts_with("interrupted while running; not re-run (resume: fail)")
    );
    assert_eq!(harness.probe.calls(), ["first", "second"], "neither the step nor its dependents ran again");
}

#[tokio::test(start_paused = true)]
async fn a_finished_execution_cannot_be_resumed() {
    let harness = Harness::new();
    let (outcome, _) =
        harness.run("name: quick\nsteps:\n  - id: only\n    action: probe/work\n    input: {tag: only}\n").await;
    let err = harness.engine.resume(&outcome.id, Context::default()).await.unwrap_err();
    assert!(matches!(err, EngineError::AlreadyFinished { status: Status::Success, .. }), "{err:?}");
}

const FAILS_ONCE: &str = r#"
name: fails-once
steps:
  - id: first
    action: probe/work
    input: {tag: first}
  - id: second
    action: probe/work
    input: {tag: "${first.tag}-second", fail_times: 1}
  - id: third
    action: probe/work
    input: {tag: "${second.tag}-third"}
"#;

#[tokio::test(start_paused = true)]
async fn retry_reruns_the_failed_step_and_its_dependents_in_a_new_linked_execution() {
    let harness = Harness::new();
    let (failed, _) = harness.run(FAILS_ONCE).await;
    assert_eq!(failed.status, Status::Failed);
    let outcome = harness.engine.retry(&failed.id, None, Context::default()).await.unwrap().wait().await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert_ne!(outcome.id, failed.id);
    assert_eq!(harness.probe.calls(), ["first", "first-second", "first-second", "first-second-third"]);
    let record = harness.record(&outcome.id).await;
    assert_eq!(record.trigger, json!({"type": "manual"}), "the original trigger data stays");
    let lineage = executor::store::RetryOf { execution_id: failed.id.clone(), from_step: None };
    assert_eq!(record.retry_of, Some(lineage));
    assert_eq!(step(&record, "first").output, Some(json!({"tag": "first", "call": 1})), "copied from the old run");
    assert_eq!(step(&record, "third").output, Some(json!({"tag": "first-second-third", "call": 1})));
    assert_eq!(harness.record(&failed.id).await.status, Status::Failed, "the old execution is unchanged");
}

#[tokio::test(start_paused = true)]
async fn retry_from_a_step_reruns_it_and_everything_after_it() {
    let harness = Harness::new();
    let (failed, _) = harness.run(FAILS_ONCE).await;
    let outcome = harness.engine.retry(&failed.id, Some("first"), Context::default()).await.unwrap().wait().await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert_eq!(harness.probe.calls(), ["first", "first-second", "first", "first-second", "first-second-third"]);

    let nothing = harness.engine.retry(&outcome.id, None, Context::default()).await.unwrap_err();
    assert!(matches!(nothing, EngineError::NothingToRetry { .. }), "{nothing:?}");
    let unknown = harness.engine.retry(&outcome.id, Some("fourth"), Context::default()).await.unwrap_err();
    assert_eq!(unknown.to_string(), "step `fourth` is not a step of workflow fails-once");
}

const HANGS: &str = r#"
name: hangs
steps:
  - id: stuck
    action: probe/work
    input: {tag: stuck, delay: 1h}
"#;

#[tokio::test(start_paused = true)]
async fn an_execution_whose_resumes_never_finish_is_recorded_failed_after_the_limit() {
    let harness = Harness::new();
    let id = interrupt_at(&harness, HANGS, "stuck").await;
    for attempt in 1..=executor::engine::MAX_RESUME_ATTEMPTS {
        let handle = harness.engine.resume(&id, Context::default()).await.expect("resumes");
        while harness.probe.calls().len() <= attempt as usize {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        handle.abandon(); // The process stops again.
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(harness.record(&id).await.resume_attempts, attempt);
    }
    let given_up = harness.engine.resume(&id, Context::default()).await.expect_err("not resumed again");
    assert!(matches!(&given_up, EngineError::ResumeGivenUp { attempts: 3, .. }), "{given_up:?}");
    assert!(given_up.to_string().contains("pilot retry"), "{given_up}");
    let record = harness.record(&id).await;
    assert_eq!(record.status, Status::Failed);
    let error = record.error.unwrap_or_default();
    assert!(error.contains("not resumed again") && error.contains("last 3 resumes did not finish"), "{error}");
    assert_eq!(harness.probe.calls().len(), 4, "the fourth resume ran nothing");
}

#[tokio::test(start_paused = true)]
async fn a_resume_that_keeps_failing_before_running_is_recorded_failed_with_its_reason() {
    let harness = Harness::new();
    let id = interrupt_at(&harness, HANGS, "stuck").await;
    // A `stuck` output that does not fit its type: the resume fails before anything runs, every time.
    let bad_end = executor::store::StepEnd {
        execution_id: id.clone(),
        step_id: "stuck".to_owned(),
        status: Status::Success,
        attempts: 1,
        output: Some(json!("not an object")),
        error: None,
        completed_at: common::T0,
    };
    harness.store.end_step(bad_end).await.expect("recorded");
    for attempt in 1..executor::engine::MAX_RESUME_ATTEMPTS {
        let error = harness.engine.resume(&id, Context::default()).await.expect_err("cannot resume");
        assert!(matches!(error, EngineError::StoredOutput { .. }), "{error:?}");
        let record = harness.record(&id).await;
        assert_eq!((record.status, record.resume_attempts), (Status::Running, attempt));
    }
    let last = harness.engine.resume(&id, Context::default()).await.expect_err("given up");
    assert!(matches!(&last, EngineError::ResumeGivenUp { attempts: 3, .. }), "{last:?}");
    let record = harness.record(&id).await;
    assert_eq!(record.status, Status::Failed);
    let error = record.error.unwrap_or_default();
    assert!(error.contains("resume attempt 3 failed") && error.contains("does not fit"), "{error}");
}

#[test]
fn executions_resumed_before_go_last_and_one_at_a_time_fewest_attempts_first() {
    let summary = |id: &str, resume_attempts: u32| executor::store::ExecutionSummary {
        id: id.to_owned(),
        workflow_id: "wf".to_owned(),
        workflow_name: "wf".to_owned(),
        status: Status::Running,
        started_at: None,
        completed_at: None,
        error: None,
        resume_attempts,
        owner: None,
        trigger_type: None,
    };
    let oldest_first = [summary("a", 2), summary("b", 0), summary("c", 1), summary("d", 0), summary("e", 1)];
    let order = executor::engine::ResumeOrder::of(&oldest_first);
    assert_eq!(order.together, ["b", "d"]);
    assert_eq!(order.one_at_a_time, ["c", "e", "a"]);
}
