//! `pilot executions list|show` and `pilot logs` end to end: a store seeded through the store API in a temporary
//! `PILOT_HOME`, then the real binary.

use std::path::Path;
use std::process::{Command, Output};

use executor::store::{
    ExecutionEnd, LogFolder, LogLine, NewExecution, SqliteStore, Status, StepEnd, StepStart, Store, StoreOptions,
    Timestamp, WorkflowDefinition,
};
use serde_json::json;

/// 2026-11-24T10:00:00Z plus `micros`.
fn at(micros: i64) -> Timestamp {
    Timestamp(1_795_514_400_000_000 + micros)
}

fn pilot(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilot")).args(args).env("PILOT_HOME", home).output().expect("run pilot")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn open(home: &Path) -> SqliteStore {
    let options = StoreOptions { logs: LogFolder::At(home.join("logs")), ..StoreOptions::default() };
    SqliteStore::open(home.join("pilot.db"), options).expect("open store")
}

async fn save_workflow(store: &SqliteStore, id: &str) {
    let workflow = WorkflowDefinition {
        id: id.to_owned(),
        name: id.to_owned(),
        description: None,
        definition: "name: x".to_owned(),
        saved_at: at(0),
    };
    store.save_workflow(workflow).await.expect("save workflow");
}

async fn create(store: &SqliteStore, id: &str, workflow: &str, started: i64) {
    let execution = NewExecution {
        id: id.to_owned(),
        workflow_id: workflow.to_owned(),
        workflow_name: workflow.to_owned(),
        workflow_version: 1,
        trigger_id: None,
        trigger: json!({"type": "manual"}),
        input: json!({}),
        status: Status::Running,
        started_at: at(started),
        retry_of: None,
    };
    store.create_execution(execution).await.expect("create execution");
}

async fn finish(store: &SqliteStore, id: &str, status: Status, error: Option<&str>, completed: i64) {
    let end = ExecutionEnd {
        execution_id: id.to_owned(),
        status,
        error: error.map(str::to_owned),
        context: None,
        completed_at: at(completed),
    };
    store.finish_execution(end).await.expect("finish execution");
}

/// `backup`: 0193-a1 succeeded in 1.5 s with steps `read` and `notify` (skipped); `sync`: 0193-b2 failed,
/// 0194-c3 still running.
async fn seed_executions(store: &SqliteStore) {
    save_workflow(store, "backup").await;
    save_workflow(store, "sync").await;
    create(store, "0193-a1", "backup", 0).await;
    let start = StepStart {
        execution_id: "0193-a1".to_owned(),
        step_id: "read".to_owned(),
        attempt: 1,
        input: json!({"path": "/data/in.txt", "token": "***"}),
        started_at: at(100),
    };
    let _queued = store.start_step(start);
    store.append_log("0193-a1", LogLine::warn(at(150), Some("read"), "slow disk"));
    let read_end = StepEnd {
        execution_id: "0193-a1".to_owned(),
        step_id: "read".to_owned(),
        status: Status::Success,
        attempts: 2,
        output: Some(json!({"size": 42})),
        error: None,
        completed_at: at(900_123),
    };
    store.end_step(read_end).await.expect("end read");
    let notify = StepEnd {
        execution_id: "0193-a1".to_owned(),
        step_id: "notify".to_owned(),
        status: Status::Skipped,
        attempts: 0,
        output: None,
        error: None,
        completed_at: at(900_200),
    };
    store.end_step(notify).await.expect("end notify");
    finish(store, "0193-a1", Status::Success, None, 1_500_000).await;
    create(store, "0193-b2", "sync", 10_000_000).await;
    finish(store, "0193-b2", Status::Failed, Some("step upload failed: HTTP 500"), 10_250_000).await;
    create(store, "0194-c3", "sync", 20_000_000).await;
}

fn seeded_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("temporary PILOT_HOME");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let store = open(home.path());
    runtime.block_on(seed_executions(&store));
    drop(store);
    home
}

#[test]
fn list_prints_a_table_newest_first() {
    let home = seeded_home();
    let output = pilot(home.path(), &["executions", "list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = "\
ID       WORKFLOW  STATUS   STARTED              DURATION
0194-c3  sync      running  2026-11-24 10:00:20  -
0193-b2  sync      failed   2026-11-24 10:00:10  250ms
0193-a1  backup    success  2026-11-24 10:00:00  1.500s
";
    assert_eq!(stdout(&output), expected);
}

#[test]
fn list_filters_by_workflow_status_and_limit() {
    let home = seeded_home();
    let ids = |args: &[&str]| -> Vec<String> {
        let output = pilot(home.path(), args);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output).lines().skip(1).filter_map(|line| line.split_whitespace().next().map(str::to_owned)).collect()
    };
    assert_eq!(ids(&["executions", "list", "--workflow", "sync"]), ["0194-c3", "0193-b2"]);
    assert_eq!(ids(&["executions", "list", "--status", "failed"]), ["0193-b2"]);
    assert_eq!(ids(&["executions", "list", "--limit", "1"]), ["0194-c3"]);
    let none = pilot(home.path(), &["executions", "list", "--workflow", "nope"]);
    assert_eq!(stdout(&none), "no executions\n");
}

#[test]
fn list_rejects_an_unknown_status() {
    let home = seeded_home();
    let output = pilot(home.path(), &["executions", "list", "--status", "done"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("possible values: pending, running, success, failed, skipped, cancelled"));
}

#[test]
fn show_json_has_the_contract_shape() {
    let home = seeded_home();
    let output = pilot(home.path(), &["executions", "show", "0193-a1", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let shown: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let expected = json!({
        "id": "0193-a1",
        "workflow": "backup",
        "status": "success",
        "started_at": "2026-11-24T10:00:00.000000Z",
        "completed_at": "2026-11-24T10:00:01.500000Z",
        "error": null,
        "steps": [
            {
                "id": "read", "status": "success", "attempts": 2,
                "started_at": "2026-11-24T10:00:00.000100Z", "completed_at": "2026-11-24T10:00:00.900123Z",
                "input": {"path": "/data/in.txt", "token": "***"}, "output": {"size": 42}, "error": null
            },
            {
                "id": "notify", "status": "skipped", "attempts": 0,
                "started_at": null, "completed_at": "2026-11-24T10:00:00.900200Z",
                "input": null, "output": null, "error": null
            }
        ]
    });
    assert_eq!(shown, expected);
    let keys: Vec<&String> = shown.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["id", "workflow", "status", "started_at", "completed_at", "error", "steps"]);
}

#[test]
fn list_json_is_an_array_of_executions_in_the_show_shape() {
    let home = seeded_home();
    let output = pilot(home.path(), &["executions", "list", "--json", "--workflow", "backup"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let listed: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    let shown = pilot(home.path(), &["executions", "show", "0193-a1", "--json"]);
    let shown: serde_json::Value = serde_json::from_str(&stdout(&shown)).expect("JSON");
    assert_eq!(listed, json!([shown]));
}

#[test]
fn show_accepts_a_unique_prefix_and_prints_steps() {
    let home = seeded_home();
    let output = pilot(home.path(), &["executions", "show", "0193-b"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.starts_with("execution  0193-b2\nworkflow   sync (version 1)\nstatus     failed\n"), "{text}");
    assert!(text.contains("error      step upload failed: HTTP 500\n"), "{text}");
    let full = stdout(&pilot(home.path(), &["executions", "show", "0193-a"]));
    assert!(full.contains("STEP    STATUS   ATTEMPTS  STARTED              DURATION  ERROR\n"), "{full}");
    assert!(full.contains("read    success  2         2026-11-24 10:00:00  900ms\n"), "{full}");
    assert!(
        full.contains("\nread\n  input   {\"path\":\"/data/in.txt\",\"token\":\"***\"}\n  output  {\"size\":42}\n"),
        "{full}"
    );
}

#[test]
fn unknown_or_ambiguous_id_exits_2_with_a_clear_message() {
    let home = seeded_home();
    let unknown = pilot(home.path(), &["executions", "show", "0200"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no execution has an id starting or ending with `0200`"), "{}", stderr(&unknown));
    let ambiguous = pilot(home.path(), &["executions", "show", "0193"]);
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(stderr(&ambiguous).contains("matches several executions (0193-a1, 0193-b2)"), "{}", stderr(&ambiguous));
    let logs = pilot(home.path(), &["logs", "nope"]);
    assert_eq!(logs.status.code(), Some(2));
    assert!(stdout(&logs).is_empty());
}

#[test]
fn logs_prints_the_execution_log() {
    let home = seeded_home();
    let output = pilot(home.path(), &["logs", "0193-a"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let expected = "\
2026-11-24T10:00:00.000000Z INFO  execution created (running) for workflow backup version 1, trigger manual
2026-11-24T10:00:00.000100Z INFO  [read] started (attempt 1)
2026-11-24T10:00:00.000150Z WARN  [read] slow disk
2026-11-24T10:00:00.900123Z INFO  [read] success after 2 attempts
2026-11-24T10:00:00.900200Z INFO  [notify] skipped
2026-11-24T10:00:01.500000Z INFO  execution success
";
    assert_eq!(stdout(&output), expected);
}

#[test]
fn empty_home_lists_nothing_and_gets_its_database() {
    let home = tempfile::tempdir().expect("temporary PILOT_HOME");
    let output = pilot(home.path(), &["executions", "list"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "no executions\n");
    assert!(home.path().join("pilot.db").is_file());
}

#[test]
fn corrupted_database_exits_1_naming_the_file() {
    let home = tempfile::tempdir().expect("temporary PILOT_HOME");
    let database = home.path().join("pilot.db");
    std::fs::write(&database, vec![0xA5; 4096]).expect("write junk");
    let output = pilot(home.path(), &["executions", "list"]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains(&database.display().to_string()) && message.contains("move it aside"), "{message}");
    assert_eq!(std::fs::read(&database).expect("read"), vec![0xA5; 4096], "left untouched");
}
