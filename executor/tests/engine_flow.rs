//! How the engine runs a plan: parallel branches, data flow, `if:`, loops, `filter`, `continue_on_error`,
//! `on_failure`. Delays run on paused tokio time; the engine's clock follows it, so recorded times are exact.

mod common;

use common::{Harness, T0, status_of, step};
use executor::store::Status;
use serde_json::json;

#[tokio::test(start_paused = true)]
async fn three_independent_slow_steps_run_side_by_side() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: parallel
steps:
  - id: a
    action: probe/work
    input: {tag: a, delay: 10s}
  - id: b
    action: probe/work
    input: {tag: b, delay: 10s}
  - id: c
    action: probe/work
    input: {tag: c, delay: 10s}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    let intervals: Vec<_> = ["a", "b", "c"]
        .iter()
        .map(|id| (step(&record, id).started_at.unwrap(), step(&record, id).completed_at.unwrap()))
        .collect();
    let latest_start = intervals.iter().map(|i| i.0).max().unwrap();
    let earliest_end = intervals.iter().map(|i| i.1).min().unwrap();
    assert!(latest_start < earliest_end, "every step started before any ended: {intervals:?}");
    assert_eq!(harness.probe.max_in_flight(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_step_starts_as_soon_as_its_own_predecessors_are_done() {
    // `slow` and `fast` are independent; `after_fast` needs only `fast`, so it must not wait for `slow`.
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: eager
steps:
  - id: slow
    action: probe/work
    input: {tag: slow, delay: 60s}
  - id: fast
    action: probe/work
    input: {tag: fast, delay: 1s}
  - id: after_fast
    action: probe/work
    input: {tag: "${fast.tag}-next", delay: 1s}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert!(step(&record, "after_fast").completed_at.unwrap() < step(&record, "slow").completed_at.unwrap());
    assert_eq!(step(&record, "after_fast").input, Some(json!({"tag": "fast-next", "delay": "1s"})));
    assert_eq!(step(&record, "after_fast").output, Some(json!({"tag": "fast-next", "call": 1})));
}

#[tokio::test(start_paused = true)]
async fn a_false_if_skips_the_step_and_its_dependents_see_null() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: conditional
steps:
  - id: maybe
    action: probe/work
    if: "${1 > 2}"
    input: {tag: maybe}
  - id: after
    action: transform
    input:
      saw: "${maybe}"
      ran: "${maybe != null}"
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert_eq!(status_of(&record, "maybe"), Status::Skipped);
    assert_eq!(step(&record, "maybe").attempts, 0);
    assert_eq!(step(&record, "after").output, Some(json!({"saw": null, "ran": false})));
    assert!(harness.probe.calls().is_empty(), "the skipped step's action never ran");
}

#[tokio::test(start_paused = true)]
async fn a_loop_runs_at_most_concurrency_items_at_once_and_keeps_item_order() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: looping
variables:
  names: ["a", "b", "c", "d", "e", "f", "g"]
steps:
  - id: each
    action: probe/work
    loop:
      items: "${names}"
      concurrency: 3
    input:
      tag: "${item}-${index}"
      delay: "${if(index == 0, 5s, 1s)}"
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert_eq!(harness.probe.max_in_flight(), 3);
    let tags: Vec<_> =
        step(&record, "each").output.as_ref().unwrap().as_array().unwrap().iter().map(|o| o["tag"].clone()).collect();
    assert_eq!(
        tags,
        ["a-0", "b-1", "c-2", "d-3", "e-4", "f-5", "g-6"],
        "results in item order, though item 0 finished last"
    );
}

#[tokio::test(start_paused = true)]
async fn a_loop_without_concurrency_runs_one_item_at_a_time() {
    let harness = Harness::new();
    let (outcome, _) = harness
        .run(
            r#"
name: sequential-loop
steps:
  - id: each
    action: probe/work
    loop: "${[1, 2, 3, 4]}"
    input: {tag: "n${item}", delay: 1s}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert_eq!(harness.probe.max_in_flight(), 1);
    assert_eq!(harness.probe.calls(), ["n1", "n2", "n3", "n4"]);
}

#[tokio::test(start_paused = true)]
async fn continue_on_error_turns_a_failure_into_an_error_output_and_the_execution_goes_on() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: tolerant
steps:
  - id: flaky
    action: probe/work
    continue_on_error: true
    input: {tag: flaky, fail_times: 9}
  - id: report
    action: transform
    input:
      saw: "${flaky}"
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    assert_eq!(status_of(&record, "flaky"), Status::Failed);
    assert_eq!(step(&record, "flaky").error.as_deref(), Some("flaky failed on call 1"));
    assert_eq!(step(&record, "flaky").output, Some(json!({"error": "flaky failed on call 1"})));
    assert_eq!(step(&record, "report").output, Some(json!({"saw": {"error": "flaky failed on call 1"}})));
}

#[tokio::test(start_paused = true)]
async fn a_failure_stops_its_dependents_lets_other_branches_finish_and_runs_on_failure() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: failing
steps:
  - id: broken
    action: probe/work
    input: {tag: broken, fail_times: 1}
  - id: dependent
    action: probe/work
    input: {tag: "${broken.tag}-dependent"}
  - id: unrelated
    action: probe/work
    input: {tag: unrelated, delay: 5s}
on_failure:
  - id: cleanup
    action: probe/work
    input: {tag: cleanup}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Failed);
    assert_eq!(outcome.error.as_deref(), Some("step `broken` (line 4) failed: broken failed on call 1"));
    assert_eq!(record.error, outcome.error);
    assert!(!record.steps.iter().any(|s| s.step_id == "dependent"), "the dependent never started");
    assert_eq!(status_of(&record, "unrelated"), Status::Success);
    assert_eq!(status_of(&record, "cleanup"), Status::Success);
    assert!(step(&record, "cleanup").started_at >= step(&record, "unrelated").completed_at, "on_failure runs last");
}

#[tokio::test(start_paused = true)]
async fn on_failure_steps_do_not_run_when_the_execution_succeeds() {
    let harness = Harness::new();
    let (outcome, record) = harness
        .run(
            r#"
name: fine
steps:
  - id: ok
    action: probe/work
    input: {tag: ok}
on_failure:
  - id: cleanup
    action: probe/work
    input: {tag: cleanup}
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success);
    assert_eq!(record.steps.len(), 1);
    assert_eq!(harness.probe.calls(), ["ok"]);
}

#[tokio::test]
async fn filter_keeps_the_items_whose_condition_holds_with_now_from_the_clock() {
    let harness = Harness::with_fixed_clock();
    let (outcome, record) = harness
        .run(
            r#"
name: recent
variables:
  files:
    - {name: old.docx, modified_at: "${parse_date('2026-11-20T10:00:00Z')}"}
    - {name: new.docx, modified_at: "${parse_date('2026-11-24T09:00:00Z')}"}
    - {name: newer.docx, modified_at: "${parse_date('2026-11-24T09:59:00Z')}"}
steps:
  - id: recent
    action: filter
    input:
      items: "${files}"
      condition: "modified_at > now() - 1d && index > 0"
  - id: names
    action: transform
    input:
      names: "${recent[*].name}"
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    let _ = T0;
    assert_eq!(step(&record, "names").output, Some(json!({"names": ["new.docx", "newer.docx"]})));
}

#[tokio::test]
async fn filter_over_a_large_list_gives_the_same_answer_on_the_parallel_path() {
    let harness = Harness::with_fixed_clock();
    let count = executor::engine::FILTER_PARALLEL_THRESHOLD * 2 + 7;
    let numbers: Vec<String> = (0..count).map(|n| n.to_string()).collect();
    let numbers = numbers.join(", ");
    let (outcome, record) = harness
        .run(&format!(
            r#"
name: big-filter
steps:
  - id: evens
    action: filter
    input:
      items: [{numbers}]
      condition: "item % 2 == 0"
  - id: count
    action: transform
    input:
      n: "${{len(evens)}}"
      last: "${{evens[len(evens) - 1]}}"
"#
        ))
        .await;
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
    let expected_last = if (count - 1).is_multiple_of(2) { count - 1 } else { count - 2 };
    assert_eq!(step(&record, "count").output, Some(json!({"n": count.div_ceil(2), "last": expected_last})));
}

#[tokio::test]
async fn a_filter_condition_that_gives_no_bool_fails_naming_the_item() {
    let harness = Harness::with_fixed_clock();
    let (outcome, record) = harness
        .run(
            r#"
name: bad-filter
variables:
  items: [{size: 1}, {size: "big"}]
steps:
  - id: big
    action: filter
    input:
      items: "${items}"
      condition: "item.size > 0"
"#,
        )
        .await;
    assert_eq!(outcome.status, Status::Failed);
    let error = step(&record, "big").error.clone().unwrap();
    assert!(error.contains("item 1"), "{error}");
}
