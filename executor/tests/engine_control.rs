//! Retries, timeouts, cancellation, panics, inputs and secrets. Delays run on paused tokio time.

mod common;

use common::{Harness, status_of, step};
use executor::engine::{Context, EngineError, InputError, add_var};
use executor::store::Status;
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

fn micros(d: Duration) -> i64 {
    d.as_micros() as i64
}

#[tokio::test(start_paused = true)]
async fn a_failing_step_is_retried_until_it_succeeds_and_the_attempts_are_recorded() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: retrying
steps:
  - id: flaky
    action: probe/work
    retry: {max_attempts: 4, backoff: exponential, initial_delay: 1s}
    input: {tag: flaky, fail_times: 2}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    let flaky = step(&record, "flaky");
    assert_eq!(flaky.attempts, 3);
    assert_eq!(flaky.output, Some(json!({"tag": "flaky", "call": 3})));
    // Waits of 1s then 2s, each with jitter in its upper half: between 1.5s and 3s in all.
    let waited = flaky.completed_at.unwrap().0 - flaky.started_at.unwrap().0;
    assert!((micros(Duration::from_millis(1500))..=micros(Duration::from_secs(3))).contains(&waited), "{waited}us");
    let log = harness.store.read_log(&record.id).await.unwrap().unwrap();
    assert!(log.contains("attempt 1 failed: flaky failed on call 1; retrying in"), "{log}");
}

#[tokio::test(start_paused = true)]
async fn a_step_that_keeps_failing_fails_after_its_last_attempt_with_fixed_waits() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: hopeless
steps:
  - id: broken
    action: probe/work
    retry: {max_attempts: 4, backoff: fixed, initial_delay: 2s}
    input: {tag: broken, fail_times: 100}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Failed);
    let broken = step(&record, "broken");
    assert_eq!(broken.attempts, 4);
    assert_eq!(broken.error.as_deref(), Some("broken failed on call 4"));
    assert_eq!(broken.completed_at.unwrap().0 - broken.started_at.unwrap().0, micros(Duration::from_secs(6)));
    assert_eq!(harness.probe.calls().len(), 4);
}

#[tokio::test(start_paused = true)]
async fn an_action_unavailable_here_is_not_retried() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: no-credential
steps:
  - id: needs_key
    action: probe/work
    credential: missing_key
    retry: {max_attempts: 5}
    input: {tag: key}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(step(&record, "needs_key").attempts, 1);
    assert_eq!(
        step(&record, "needs_key").error.as_deref(),
        Some("not available here: credential `missing_key` was not provided")
    );
}

#[tokio::test(start_paused = true)]
async fn a_timeout_bounds_each_attempt_and_a_timed_out_attempt_is_retried() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: slow
steps:
  - id: slow
    action: probe/work
    timeout: 2s
    retry: {max_attempts: 2, backoff: fixed, initial_delay: 1s}
    input: {tag: slow, delay: 1h}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Failed);
    let slow = step(&record, "slow");
    assert_eq!(slow.attempts, 2);
    assert_eq!(slow.error.as_deref(), Some("timed out after 2s"));
    assert_eq!(slow.completed_at.unwrap().0 - slow.started_at.unwrap().0, micros(Duration::from_secs(5)));
    assert_eq!(harness.probe.saw_cancel.lock().unwrap().len(), 2, "each timed-out attempt saw its token fire");
    assert_eq!(harness.probe.in_flight.load(std::sync::atomic::Ordering::SeqCst), 0);
}

const HANGING: &str = r#"
name: hanging
steps:
  - id: first
    action: probe/work
    input: {tag: first}
  - id: waiting
    action: probe/hang
    input: {tag: "${first.tag}-hang"}
  - id: never
    action: probe/work
    input: {tag: "${waiting.tag}-never"}
on_failure:
  - id: cleanup
    action: probe/work
    input: {tag: cleanup}
"#;

async fn wait_for_call(harness: &Harness, tag: &str) {
    while !harness.probe.calls().iter().any(|call| call == tag) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn cancelling_stops_the_running_step_through_its_token_and_starts_nothing_more() {
    let harness = Harness::new();
    let workflow = harness.compile(HANGING);
    let handle = harness.engine.start(&workflow, Context::default()).await.unwrap();
    wait_for_call(&harness, "first-hang").await;
    assert_eq!(harness.engine.get_status(&handle.id).await.unwrap(), Status::Running);
    harness.engine.cancel(&handle.id).await.unwrap();
    let outcome = handle.wait().await;
    assert_eq!(outcome.status, Status::Cancelled);
    let record = harness.record(&outcome.id).await;
    assert_eq!(record.status, Status::Cancelled);
    assert_eq!(status_of(&record, "first"), Status::Success);
    assert_eq!(status_of(&record, "waiting"), Status::Cancelled);
    assert!(!record.steps.iter().any(|s| s.step_id == "never" || s.step_id == "cleanup"));
    assert_eq!(*harness.probe.saw_cancel.lock().unwrap(), ["first-hang"]);
    assert_eq!(harness.engine.get_status(&outcome.id).await.unwrap(), Status::Cancelled);
    let again = harness.engine.cancel(&outcome.id).await.unwrap_err();
    assert!(matches!(again, EngineError::AlreadyFinished { status: Status::Cancelled, .. }), "{again:?}");
}

#[tokio::test(start_paused = true)]
async fn the_execution_timeout_cancels_running_steps_fails_the_execution_and_runs_on_failure() {
    let harness = Harness::new();
    let context = Context { timeout: Some(Duration::from_secs(30)), ..Context::default() };
    let (outcome, record) = harness.run_with(HANGING, context).await;
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(outcome.error.as_deref(), Some("the execution timed out after 30s"));
    assert_eq!(status_of(&record, "waiting"), Status::Cancelled);
    assert_eq!(status_of(&record, "cleanup"), Status::Success);
    assert_eq!(record.completed_at.unwrap().0 - record.started_at.unwrap().0, micros(Duration::from_secs(30)));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_action_fails_its_own_step_only() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: panicky
steps:
  - id: boom
    action: probe/panic
    input: {tag: boom}
  - id: fine
    action: probe/work
    input: {tag: fine, delay: 1s}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(step(&record, "boom").error.as_deref(), Some("the action panicked: probe panicked on purpose"));
    assert_eq!(status_of(&record, "fine"), Status::Success);
}

const WITH_INPUTS: &str = r#"
name: greeting
inputs:
  who:
    type: string
  times:
    type: int
    default: 2
steps:
  - id: greet
    action: transform
    input:
      text: "hello ${inputs.who} x${inputs.times}"
"#;

#[tokio::test]
async fn a_missing_required_input_is_a_clear_error_before_anything_runs() {
    let harness = Harness::with_fixed_clock();
    let workflow = harness.compile(WITH_INPUTS);
    let err = harness.engine.execute(&workflow, Context::default()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "missing required input `who` (type string): pass it with --var who=VALUE or --input '{\"who\": ...}'"
    );
    assert!(harness.store.list_executions(&Default::default()).await.unwrap().is_empty());
}

#[tokio::test]
async fn inputs_from_vars_are_typed_by_the_plan_and_defaults_fill_the_rest() {
    let harness = Harness::with_fixed_clock();
    let workflow = harness.compile(WITH_INPUTS);
    let mut context = Context::default();
    add_var(&workflow.plan, &mut context.inputs, "who=world").unwrap();
    let outcome = harness.engine.execute(&workflow, context).await.unwrap();
    let record = harness.record(&outcome.id).await;
    assert_eq!(step(&record, "greet").output, Some(json!({"text": "hello world x2"})));
    assert_eq!(record.input, json!({"who": "world", "times": 2}));

    let mut wrong = Context::default();
    add_var(&workflow.plan, &mut wrong.inputs, "who=x").unwrap();
    add_var(&workflow.plan, &mut wrong.inputs, "times=many").unwrap();
    let err = harness.engine.execute(&workflow, wrong).await.unwrap_err();
    assert_eq!(
        err,
        EngineError::Input(InputError::Invalid {
            name: "times".into(),
            reason: "$: expected int, found a string".into()
        })
    );
    let unknown = add_var(&workflow.plan, &mut Default::default(), "color=red").unwrap_err();
    assert_eq!(unknown.to_string(), "unknown input `color`: the workflow's inputs are `who`, `times`");
}

#[tokio::test]
async fn secrets_never_reach_the_store_or_the_log() {
    let harness = Harness::with_fixed_clock();
    let context = Context {
        secrets: HashMap::from([("api_token".to_string(), "s3cr3t-value".to_string())]),
        ..Context::default()
    };
    let (outcome, record) = harness
        .run_with(
            r#"
name: secretive
steps:
  - id: header
    action: transform
    input:
      authorization: "Bearer ${secrets.api_token}"
  - id: fail
    action: probe/work
    input: {tag: "${header.authorization}", fail_times: 1}
"#,
            context,
        )
        .await;
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(step(&record, "header").input, Some(json!({"authorization": "Bearer ***"})));
    assert_eq!(step(&record, "header").output, Some(json!({"authorization": "Bearer ***"})));
    assert_eq!(step(&record, "fail").error.as_deref(), Some("Bearer *** failed on call 1"));
    let everything = format!("{:?} {}", record, harness.store.read_log(&record.id).await.unwrap().unwrap_or_default());
    assert!(!everything.contains("s3cr3t"), "{everything}");
}

#[tokio::test]
async fn a_secret_that_was_not_provided_is_an_error_naming_it() {
    let harness = Harness::with_fixed_clock();
    let workflow = harness.compile(
        r#"
name: secretive
steps:
  - id: header
    action: transform
    input: {token: "${secrets.api_token}"}
"#,
    );
    let err = harness.engine.execute(&workflow, Context::default()).await.unwrap_err();
    assert_eq!(err, EngineError::MissingSecret { name: "api_token".into() });
}
