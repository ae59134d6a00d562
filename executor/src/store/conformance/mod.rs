//! The conformance suite every [`Store`] implementation must pass (like apalis's backend tests).
//!
//! A backend's tests run it with one line: `executor::store_conformance_tests!(make_store);` where `make_store` is
//! a `fn() -> (S, G)` giving a fresh, empty store and a guard kept alive for the test (a temporary folder). The
//! generated tests use `#[tokio::test]`, so the calling crate needs tokio (with `macros` and `rt-multi-thread`).
//! The cases are plain async functions over `&dyn Store`, so they can also be called one by one.
//!
//! A backend that needs a server has an async factory instead, `async fn(test_name: &str) -> Option<(S, G)>`,
//! answering `None` (after saying why on stderr) when there is no server to test against:
//! `executor::store_conformance_tests!(async make_store);` (the PostgreSQL store does).

mod resume_attempts;
mod step_batches;

pub use resume_attempts::*;
pub use step_batches::*;

use super::*;
use serde_json::json;

mod daemon;
pub use daemon::*;

/// Generates one `#[tokio::test]` per conformance case for a store factory `fn() -> (S, G)`.
#[macro_export]
macro_rules! store_conformance_tests {
    (async $make:path) => {
        $crate::store_conformance_tests!(@list [async] $make);
    };
    ($make:path) => {
        $crate::store_conformance_tests!(@list [sync] $make);
    };
    (@list [$mode:ident] $make:path) => {
        $crate::store_conformance_tests!(@cases [$mode] $make;
            saving_a_workflow_assigns_version_one,
            saving_changed_definition_bumps_version_and_keeps_old_text,
            saving_same_definition_again_changes_nothing,
            looking_up_unknown_things_finds_nothing,
            created_execution_loads_back_with_every_field,
            creating_execution_for_unknown_workflow_fails,
            creating_execution_twice_fails_and_keeps_first,
            invalid_writes_are_refused,
            step_start_then_end_records_input_output_and_attempts,
            step_end_without_start_records_a_skipped_step,
            retry_keeps_first_start_and_replaces_previous_result,
            steps_load_in_the_order_first_recorded,
            finishing_records_status_error_and_context,
            marking_running_again_reopens_a_finished_execution,
            writes_for_unknown_execution_fail,
            list_filters_by_workflow_and_status_newest_first,
            list_respects_limit,
            interrupted_executions_are_the_pending_and_running_ones,
            id_prefix_or_suffix_resolves_unique_and_reports_ambiguous_or_missing,
            json_values_round_trip_unchanged,
            log_records_lifecycle_and_appended_lines_in_order,
            concurrent_step_ends_are_all_recorded,
            ends_and_a_start_recorded_together_apply_in_order,
            a_refused_record_in_a_batch_records_nothing_of_it,
            starting_a_resume_marks_running_and_counts_the_attempt,
            resume_attempts_show_in_the_interrupted_list,
            credentials_store_replace_by_name_and_list_sorted,
            removing_a_credential_deletes_it_and_unknown_names_fail,
            replacing_credential_data_is_all_or_nothing,
            recording_connectors_lists_them_by_id_with_their_manifest,
            recording_a_connector_again_replaces_its_version,
            removing_a_connector_forgets_it_and_unknown_ids_fail,
            an_accepted_trigger_is_a_pending_execution_with_its_owner,
            a_schedule_slot_is_accepted_once,
            an_idempotency_key_returns_the_first_execution_until_it_expires,
            a_skipped_acceptance_is_recorded_skipped_with_its_reason,
            adopting_an_execution_is_a_compare_and_set_on_its_owner,
            a_pending_execution_is_claimed_once_and_marked_running_under_its_claimer,
            instances_register_renew_and_go,
            triggers_are_replaced_per_workflow_and_workflows_enable,
            listing_filters_by_trigger_type_and_pages_with_a_cursor,
        );
    };
    (@cases [sync] $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (store, _guard) = $make();
                $crate::store::conformance::$case(&store).await;
            }
        )*
    };
    (@cases [async] $make:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some((store, _guard)) = $make(stringify!($case)).await else { return };
                $crate::store::conformance::$case(&store).await;
            }
        )*
    };
}

/// A fixed instant plus `micros`: conformance never reads the clock.
pub fn at(micros: i64) -> Timestamp {
    Timestamp(1_795_000_000_000_000 + micros)
}

fn workflow(id: &str, name: &str, definition: &str, saved_at: i64) -> WorkflowDefinition {
    WorkflowDefinition {
        id: id.to_owned(),
        name: name.to_owned(),
        description: Some(format!("{name} description")),
        definition: definition.to_owned(),
        saved_at: at(saved_at),
    }
}

pub(crate) fn execution(id: &str, workflow_id: &str, started_at: i64) -> NewExecution {
    NewExecution {
        id: id.to_owned(),
        workflow_id: workflow_id.to_owned(),
        workflow_name: format!("{workflow_id}-name"),
        workflow_version: 1,
        trigger_id: None,
        trigger: json!({"type": "manual"}),
        input: json!({"path": "/tmp/in.txt"}),
        status: Status::Running,
        started_at: at(started_at),
        retry_of: None,
    }
}

pub(crate) fn step_start(execution_id: &str, step_id: &str, attempt: u32, started_at: i64) -> StepStart {
    StepStart {
        execution_id: execution_id.to_owned(),
        step_id: step_id.to_owned(),
        attempt,
        input: json!({"step": step_id, "attempt": attempt}),
        started_at: at(started_at),
    }
}

pub(crate) fn step_end(execution_id: &str, step_id: &str, status: Status, attempts: u32, completed_at: i64) -> StepEnd {
    StepEnd {
        execution_id: execution_id.to_owned(),
        step_id: step_id.to_owned(),
        status,
        attempts,
        output: Some(json!({"done": step_id})),
        error: None,
        completed_at: at(completed_at),
    }
}

pub(crate) fn finish(execution_id: &str, status: Status, completed_at: i64) -> ExecutionEnd {
    ExecutionEnd {
        execution_id: execution_id.to_owned(),
        status,
        error: None,
        context: None,
        completed_at: at(completed_at),
    }
}

/// Saves workflow `wf` (name `wf-name`) and creates execution `id` of it.
async fn seed_execution(store: &dyn Store, id: &str, started_at: i64) {
    seed_workflow(store, "wf").await;
    store.create_execution(execution(id, "wf", started_at)).await.expect("create execution");
}

pub(crate) async fn seed_workflow(store: &dyn Store, id: &str) {
    let name = format!("{id}-name");
    store.save_workflow(workflow(id, &name, "steps: []", 0)).await.expect("save workflow");
}

pub(crate) async fn load(store: &dyn Store, id: &str) -> ExecutionRecord {
    store.load_execution(id).await.expect("load execution").expect("execution exists")
}

fn ids(found: &[ExecutionSummary]) -> Vec<&str> {
    found.iter().map(|summary| summary.id.as_str()).collect()
}

pub async fn saving_a_workflow_assigns_version_one(store: &dyn Store) {
    let saved = store.save_workflow(workflow("w1", "backup", "steps: [a]", 5)).await.expect("save");
    assert_eq!(saved.version, 1);
    assert!(saved.is_enabled);
    assert_eq!((saved.created_at, saved.updated_at), (at(5), at(5)));
    assert_eq!(store.workflow("w1").await.expect("lookup"), Some(saved.clone()));
    assert_eq!(store.workflow_by_name("backup").await.expect("lookup"), Some(saved));
    assert_eq!(store.workflow_definition("w1", 1).await.expect("lookup").as_deref(), Some("steps: [a]"));
}

pub async fn saving_changed_definition_bumps_version_and_keeps_old_text(store: &dyn Store) {
    store.save_workflow(workflow("w1", "backup", "steps: [a]", 5)).await.expect("save v1");
    let second = store.save_workflow(workflow("w1", "backup", "steps: [a, b]", 9)).await.expect("save v2");
    assert_eq!(second.version, 2);
    assert_eq!((second.created_at, second.updated_at), (at(5), at(9)));
    assert_eq!(store.workflow("w1").await.expect("lookup").map(|w| w.definition).as_deref(), Some("steps: [a, b]"));
    assert_eq!(store.workflow_definition("w1", 1).await.expect("v1").as_deref(), Some("steps: [a]"));
    assert_eq!(store.workflow_definition("w1", 2).await.expect("v2").as_deref(), Some("steps: [a, b]"));
}

pub async fn saving_same_definition_again_changes_nothing(store: &dyn Store) {
    let first = store.save_workflow(workflow("w1", "backup", "steps: [a]", 5)).await.expect("save");
    let again = store.save_workflow(workflow("w1", "backup", "steps: [a]", 50)).await.expect("save again");
    assert_eq!(again, first);
    let renamed = store.save_workflow(workflow("w1", "nightly", "steps: [a]", 60)).await.expect("rename");
    assert_eq!((renamed.version, renamed.name.as_str(), renamed.updated_at), (1, "nightly", at(60)));
}

pub async fn looking_up_unknown_things_finds_nothing(store: &dyn Store) {
    assert_eq!(store.workflow("nope").await.expect("lookup"), None);
    assert_eq!(store.workflow_by_name("nope").await.expect("lookup"), None);
    assert_eq!(store.workflow_definition("nope", 1).await.expect("lookup"), None);
    assert_eq!(store.load_execution("nope").await.expect("lookup"), None);
    assert_eq!(store.read_log("nope").await.expect("lookup"), None);
    assert!(store.list_executions(&ExecutionFilter::default()).await.expect("list").is_empty());
}

pub async fn created_execution_loads_back_with_every_field(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    let new = NewExecution {
        trigger_id: Some("trigger-1".to_owned()),
        trigger: json!({"type": "webhook", "path": "/hooks/in"}),
        status: Status::Pending,
        retry_of: Some(RetryOf { execution_id: "e0".to_owned(), from_step: Some("copy".to_owned()) }),
        ..execution("e1", "wf", 7)
    };
    store.create_execution(new.clone()).await.expect("create");
    let loaded = load(store, "e1").await;
    let expected = ExecutionRecord {
        id: new.id,
        workflow_id: new.workflow_id,
        workflow_name: new.workflow_name,
        workflow_version: 1,
        trigger_id: new.trigger_id,
        trigger: new.trigger,
        input: new.input,
        status: Status::Pending,
        started_at: Some(at(7)),
        completed_at: None,
        error: None,
        context: None,
        owner: None,
        slot: None,
        retry_of: new.retry_of,
        resume_attempts: 0,
        steps: Vec::new(),
    };
    assert_eq!(loaded, expected);
}

pub async fn creating_execution_for_unknown_workflow_fails(store: &dyn Store) {
    let result = store.create_execution(execution("e1", "ghost", 1)).await;
    assert_eq!(result, Err(StoreError::UnknownWorkflow { id: "ghost".to_owned() }));
    assert_eq!(store.load_execution("e1").await.expect("lookup"), None);
}

pub async fn creating_execution_twice_fails_and_keeps_first(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let again = NewExecution { input: json!("second"), ..execution("e1", "wf", 2) };
    assert_eq!(store.create_execution(again).await, Err(StoreError::DuplicateExecution { id: "e1".to_owned() }));
    assert_eq!(load(store, "e1").await.started_at, Some(at(1)));
}

pub async fn invalid_writes_are_refused(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let bad_id = store.create_execution(execution("../etc/passwd", "wf", 1)).await;
    assert!(matches!(bad_id, Err(StoreError::Invalid { .. })), "{bad_id:?}");
    let finished_at_creation = NewExecution { status: Status::Success, ..execution("e2", "wf", 1) };
    assert!(matches!(store.create_execution(finished_at_creation).await, Err(StoreError::Invalid { .. })));
    let running_end = step_end("e1", "a", Status::Running, 1, 2);
    assert!(matches!(store.end_step(running_end).await, Err(StoreError::Invalid { .. })));
    let pending_finish = finish("e1", Status::Pending, 2);
    assert!(matches!(store.finish_execution(pending_finish).await, Err(StoreError::Invalid { .. })));
    let loaded = load(store, "e1").await;
    assert_eq!((loaded.status, loaded.steps.len()), (Status::Running, 0));
}

pub async fn step_start_then_end_records_input_output_and_attempts(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let _queued = store.start_step(step_start("e1", "fetch", 1, 10));
    let running = {
        store.flush().await.expect("flush");
        load(store, "e1").await.steps
    };
    assert_eq!(running.len(), 1);
    assert_eq!((running[0].status, running[0].attempts, running[0].completed_at), (Status::Running, 1, None));
    store.end_step(step_end("e1", "fetch", Status::Success, 1, 20)).await.expect("end");
    let steps = load(store, "e1").await.steps;
    let expected = StepRecord {
        step_id: "fetch".to_owned(),
        status: Status::Success,
        attempts: 1,
        started_at: Some(at(10)),
        completed_at: Some(at(20)),
        input: Some(json!({"step": "fetch", "attempt": 1})),
        output: Some(json!({"done": "fetch"})),
        error: None,
    };
    assert_eq!(steps, vec![expected]);
}

pub async fn step_end_without_start_records_a_skipped_step(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let skipped = StepEnd { output: None, ..step_end("e1", "notify", Status::Skipped, 0, 5) };
    store.end_step(skipped).await.expect("end");
    let steps = load(store, "e1").await.steps;
    assert_eq!(steps.len(), 1);
    let step = &steps[0];
    assert_eq!(
        (step.status, step.attempts, step.started_at, step.completed_at),
        (Status::Skipped, 0, None, Some(at(5)))
    );
    assert_eq!((&step.input, &step.output), (&None, &None));
}

pub async fn retry_keeps_first_start_and_replaces_previous_result(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let _first = store.start_step(step_start("e1", "call", 1, 10));
    let failed =
        StepEnd { error: Some("timeout".to_owned()), output: None, ..step_end("e1", "call", Status::Failed, 1, 11) };
    store.end_step(failed).await.expect("first end");
    store.start_step(step_start("e1", "call", 2, 20)).await.expect("second start");
    let retrying = load(store, "e1").await.steps;
    assert_eq!((retrying[0].status, retrying[0].attempts, retrying[0].error.as_deref()), (Status::Running, 2, None));
    assert_eq!((retrying[0].started_at, retrying[0].completed_at), (Some(at(10)), None));
    store.end_step(step_end("e1", "call", Status::Success, 2, 21)).await.expect("second end");
    let steps = load(store, "e1").await.steps;
    assert_eq!(steps.len(), 1);
    assert_eq!((steps[0].status, steps[0].attempts, steps[0].started_at), (Status::Success, 2, Some(at(10))));
    assert_eq!(steps[0].input, Some(json!({"step": "call", "attempt": 2})));
    // A resumed execution restarts a step at attempt 1: a new start time.
    store.start_step(step_start("e1", "call", 1, 30)).await.expect("resumed start");
    assert_eq!(load(store, "e1").await.steps[0].started_at, Some(at(30)));
}

pub async fn steps_load_in_the_order_first_recorded(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    for (offset, step) in ["zeta", "alpha", "mid"].into_iter().enumerate() {
        let _start = store.start_step(step_start("e1", step, 1, 10 + offset as i64));
    }
    let _retry = store.start_step(step_start("e1", "zeta", 2, 20));
    store.end_step(step_end("e1", "omega", Status::Skipped, 0, 21)).await.expect("end");
    let order: Vec<String> = load(store, "e1").await.steps.into_iter().map(|step| step.step_id).collect();
    assert_eq!(order, ["zeta", "alpha", "mid", "omega"]);
}

pub async fn finishing_records_status_error_and_context(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let end = ExecutionEnd {
        error: Some("step fetch failed: HTTP 500".to_owned()),
        context: Some(json!({"variables": {"n": 3}, "outputs": {"fetch": null}})),
        ..finish("e1", Status::Failed, 99)
    };
    store.finish_execution(end.clone()).await.expect("finish");
    let loaded = load(store, "e1").await;
    assert_eq!((loaded.status, loaded.completed_at), (Status::Failed, Some(at(99))));
    assert_eq!((loaded.error, loaded.context), (end.error, end.context));
}

pub async fn marking_running_again_reopens_a_finished_execution(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    store.create_execution(NewExecution { status: Status::Pending, ..execution("e1", "wf", 1) }).await.expect("create");
    store.mark_execution_running("e1", at(2)).await.expect("running");
    assert_eq!(load(store, "e1").await.status, Status::Running);
    let failed = ExecutionEnd { error: Some("boom".to_owned()), ..finish("e1", Status::Failed, 3) };
    store.finish_execution(failed).await.expect("finish");
    store.mark_execution_running("e1", at(4)).await.expect("resume");
    let loaded = load(store, "e1").await;
    assert_eq!((loaded.status, loaded.started_at), (Status::Running, Some(at(1))));
    assert_eq!((loaded.completed_at, loaded.error), (None, None));
}

pub async fn writes_for_unknown_execution_fail(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    let unknown = || Err(StoreError::UnknownExecution { id: "ghost".to_owned() });
    assert_eq!(store.start_step(step_start("ghost", "a", 1, 1)).await, unknown());
    assert_eq!(store.end_step(step_end("ghost", "a", Status::Success, 1, 2)).await, unknown());
    assert_eq!(store.mark_execution_running("ghost", at(3)).await, unknown());
    assert_eq!(store.finish_execution(finish("ghost", Status::Success, 4)).await, unknown());
}

pub async fn list_filters_by_workflow_and_status_newest_first(store: &dyn Store) {
    seed_workflow(store, "a").await;
    seed_workflow(store, "b").await;
    for (id, workflow_id, started) in [("e1", "a", 1), ("e2", "b", 2), ("e3", "a", 3), ("e4", "a", 4)] {
        store.create_execution(execution(id, workflow_id, started)).await.expect("create");
    }
    store.finish_execution(finish("e3", Status::Success, 5)).await.expect("finish");
    let all = store.list_executions(&ExecutionFilter::default()).await.expect("list");
    assert_eq!(ids(&all), ["e4", "e3", "e2", "e1"]);
    let of_a = ExecutionFilter { workflow_name: Some("a-name".to_owned()), ..ExecutionFilter::default() };
    assert_eq!(ids(&store.list_executions(&of_a).await.expect("list")), ["e4", "e3", "e1"]);
    let running_a = ExecutionFilter { status: Some(Status::Running), ..of_a };
    assert_eq!(ids(&store.list_executions(&running_a).await.expect("list")), ["e4", "e1"]);
    let e3 = all.iter().find(|summary| summary.id == "e3").expect("e3 listed");
    assert_eq!((e3.status, e3.duration_micros(), e3.workflow_id.as_str()), (Status::Success, Some(2), "a"));
}

pub async fn list_respects_limit(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    for n in 0..5 {
        store.create_execution(execution(&format!("e{n}"), "wf", n)).await.expect("create");
    }
    let two = ExecutionFilter { limit: 2, ..ExecutionFilter::default() };
    assert_eq!(ids(&store.list_executions(&two).await.expect("list")), ["e4", "e3"]);
}

pub async fn interrupted_executions_are_the_pending_and_running_ones(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    store.create_execution(NewExecution { status: Status::Pending, ..execution("p", "wf", 3) }).await.expect("p");
    store.create_execution(execution("r", "wf", 1)).await.expect("r");
    for (id, status) in [("s", Status::Success), ("f", Status::Failed), ("c", Status::Cancelled)] {
        store.create_execution(execution(id, "wf", 2)).await.expect("create");
        store.finish_execution(finish(id, status, 9)).await.expect("finish");
    }
    let interrupted = store.interrupted_executions().await.expect("interrupted");
    assert_eq!(ids(&interrupted), ["r", "p"], "oldest first");
}

pub async fn id_prefix_or_suffix_resolves_unique_and_reports_ambiguous_or_missing(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    for id in ["0193-aaaa", "0193-aabb", "0194-cccc"] {
        store.create_execution(execution(id, "wf", 1)).await.expect("create");
    }
    assert_eq!(store.resolve_execution_id("0194").await, Ok("0194-cccc".to_owned()));
    assert_eq!(store.resolve_execution_id("0193-aabb").await, Ok("0193-aabb".to_owned()));
    let ambiguous = store.resolve_execution_id("0193-aa").await;
    let candidates = vec!["0193-aaaa".to_owned(), "0193-aabb".to_owned()];
    assert_eq!(ambiguous, Err(LookupError::Ambiguous { prefix: "0193-aa".to_owned(), candidates }));
    assert_eq!(store.resolve_execution_id("0195").await, Err(LookupError::NotFound { prefix: "0195".to_owned() }));
    // The random end of an id is as good as its start.
    assert_eq!(store.resolve_execution_id("cccc").await, Ok("0194-cccc".to_owned()));
    assert_eq!(store.resolve_execution_id("abb").await, Ok("0193-aabb".to_owned()));
    for odd in ["", "%", "0193*", "0193_a%"] {
        assert!(matches!(store.resolve_execution_id(odd).await, Err(LookupError::NotFound { .. })), "{odd:?}");
    }
}

pub async fn json_values_round_trip_unchanged(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let output = json!({
        "text": "naïve ☃ \"quoted\"\nline\u{0000}end",
        "big": i64::MAX, "small": i64::MIN, "float": 0.1, "list": [null, true, [], {}],
        "zeta": 1, "alpha": 2,
    });
    let end = StepEnd { output: Some(output.clone()), ..step_end("e1", "s", Status::Success, 1, 2) };
    store.end_step(end).await.expect("end");
    let loaded = load(store, "e1").await.steps.remove(0).output.expect("output");
    assert_eq!(serde_json::to_string(&loaded).ok(), serde_json::to_string(&output).ok(), "same values, same key order");
}

pub async fn log_records_lifecycle_and_appended_lines_in_order(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let _start = store.start_step(step_start("e1", "fetch", 1, 10));
    store.append_log("e1", LogLine::warn(at(11), Some("fetch"), "retrying in 1s\nafter HTTP 503"));
    let failed = StepEnd { error: Some("HTTP 503".to_owned()), ..step_end("e1", "fetch", Status::Failed, 2, 12) };
    let _end = store.end_step(failed);
    store.finish_execution(finish("e1", Status::Failed, 13)).await.expect("finish");
    store.flush().await.expect("flush");
    let log = store.read_log("e1").await.expect("read").expect("a log exists");
    let expected = [
        "2026-11-18T11:06:40.000001Z INFO  execution created (running) for workflow wf-name version 1, trigger manual",
        "2026-11-18T11:06:40.000010Z INFO  [fetch] started (attempt 1)",
        "2026-11-18T11:06:40.000011Z WARN  [fetch] retrying in 1s\\nafter HTTP 503",
        "2026-11-18T11:06:40.000012Z ERROR [fetch] failed after 2 attempts: HTTP 503",
        "2026-11-18T11:06:40.000013Z ERROR execution failed",
    ];
    assert_eq!(log.lines().collect::<Vec<_>>(), expected);
}

pub async fn concurrent_step_ends_are_all_recorded(store: &dyn Store) {
    seed_execution(store, "e1", 1).await;
    let acks: Vec<_> =
        (0..64).map(|n| store.end_step(step_end("e1", &format!("s{n}"), Status::Success, 1, n))).collect();
    for ack in acks {
        ack.await.expect("end");
    }
    let steps = load(store, "e1").await.steps;
    assert_eq!(steps.len(), 64);
    assert!(steps.iter().all(|step| step.status == Status::Success));
}

fn credential(name: &str, data: &str, at_micros: i64) -> CredentialRecord {
    CredentialRecord {
        id: format!("id-{name}-{at_micros}"),
        name: name.to_owned(),
        provider: "api_key".to_owned(),
        data: data.to_owned(),
        created_at: at(at_micros),
        updated_at: at(at_micros),
    }
}

pub async fn credentials_store_replace_by_name_and_list_sorted(store: &dyn Store) {
    store.put_credential(credential("zeta", "v1:z", 1)).await.expect("put zeta");
    store.put_credential(credential("alpha", "v1:a", 2)).await.expect("put alpha");
    let replacement = CredentialRecord { provider: "basic".to_owned(), ..credential("zeta", "v1:z2", 3) };
    store.put_credential(replacement).await.expect("replace zeta");
    let all = store.credentials().await.expect("list");
    assert_eq!(all.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["alpha", "zeta"]);
    let zeta = store.credential("zeta").await.expect("read").expect("zeta stored");
    assert_eq!((zeta.id.as_str(), zeta.provider.as_str(), zeta.data.as_str()), ("id-zeta-1", "basic", "v1:z2"));
    assert_eq!((zeta.created_at, zeta.updated_at), (at(1), at(3)));
    assert_eq!(store.credential("missing").await.expect("read"), None);
}

pub async fn removing_a_credential_deletes_it_and_unknown_names_fail(store: &dyn Store) {
    store.put_credential(credential("api", "v1:x", 1)).await.expect("put");
    store.remove_credential("api").await.expect("remove");
    assert_eq!(store.credential("api").await.expect("read"), None);
    let again = store.remove_credential("api").await;
    assert_eq!(again, Err(StoreError::UnknownCredential { name: "api".to_owned() }));
}

pub async fn replacing_credential_data_is_all_or_nothing(store: &dyn Store) {
    store.put_credential(credential("a", "old-a", 1)).await.expect("put a");
    store.put_credential(credential("b", "old-b", 1)).await.expect("put b");
    let change = |name: &str, old: &str, new: &str| CredentialDataChange {
        name: name.to_owned(),
        old_data: old.to_owned(),
        new_data: new.to_owned(),
        updated_at: at(5),
    };
    let stale = store.replace_credential_data(vec![change("a", "old-a", "new-a"), change("b", "other", "new-b")]).await;
    assert_eq!(stale, Err(StoreError::CredentialChanged { name: "b".to_owned() }));
    let data = |all: Vec<CredentialRecord>| all.into_iter().map(|c| c.data).collect::<Vec<_>>();
    assert_eq!(data(store.credentials().await.expect("list")), ["old-a", "old-b"]);
    store
        .replace_credential_data(vec![change("a", "old-a", "new-a"), change("b", "old-b", "new-b")])
        .await
        .expect("replace");
    assert_eq!(data(store.credentials().await.expect("list")), ["new-a", "new-b"]);
    assert_eq!(store.credential("a").await.expect("read").map(|c| c.updated_at), Some(at(5)));
}

fn connector(id: &str, version: &str, installed_at: i64) -> ConnectorRecord {
    ConnectorRecord {
        id: id.to_owned(),
        name: format!("{id} tools"),
        version: version.to_owned(),
        manifest: json!({"id": id, "version": version, "executable": "run", "actions": [{"name": "go"}]}),
        is_enabled: true,
        installed_at: at(installed_at),
    }
}

pub async fn recording_connectors_lists_them_by_id_with_their_manifest(store: &dyn Store) {
    assert_eq!(store.connectors().await.expect("list"), Vec::new());
    store.record_connector(connector("zeta", "1.0.0", 1)).await.expect("record zeta");
    store.record_connector(connector("alpha", "0.3.1", 2)).await.expect("record alpha");
    let all = store.connectors().await.expect("list");
    assert_eq!(all, vec![connector("alpha", "0.3.1", 2), connector("zeta", "1.0.0", 1)]);
    let manifest = serde_json::to_string(&all[1].manifest).expect("manifest");
    assert_eq!(manifest, r#"{"id":"zeta","version":"1.0.0","executable":"run","actions":[{"name":"go"}]}"#);
}

pub async fn recording_a_connector_again_replaces_its_version(store: &dyn Store) {
    store.record_connector(connector("tools", "1.0.0", 1)).await.expect("record 1.0.0");
    store.record_connector(connector("tools", "2.0.0", 5)).await.expect("record 2.0.0");
    let all = store.connectors().await.expect("list");
    assert_eq!(all, vec![connector("tools", "2.0.0", 5)], "one version per id");
    store.record_connector(connector("tools", "2.0.0", 9)).await.expect("reinstall 2.0.0");
    assert_eq!(store.connectors().await.expect("list"), vec![connector("tools", "2.0.0", 9)]);
}

pub async fn removing_a_connector_forgets_it_and_unknown_ids_fail(store: &dyn Store) {
    store.record_connector(connector("keep", "1", 1)).await.expect("record keep");
    store.record_connector(connector("drop", "1", 2)).await.expect("record drop");
    store.remove_connector("drop").await.expect("remove");
    assert_eq!(store.connectors().await.expect("list"), vec![connector("keep", "1", 1)]);
    let again = store.remove_connector("drop").await;
    assert_eq!(again, Err(StoreError::UnknownConnector { id: "drop".to_owned() }));
}
