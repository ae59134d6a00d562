//! `pilot resume` and `pilot cancel` leave alone an execution that a daemon still holds: one whose owner's lease
//! runs, as another `pilot serve` sharing the store has (here its rows are written through the store API, as that
//! node would). Once the lease has run out, the execution is an interrupted one like any other.

use executor::store::{
    Acceptance, InstanceRecord, LogFolder, NewExecution, SqliteStore, Status, Store, StoreOptions, Timestamp,
    new_execution_id,
};
use serde_json::{Value as Json, json};
use std::path::Path;
use std::process::{Command, Output, Stdio};

const WORKFLOW: &str = "name: greet
steps:
  - id: hello
    action: log
    input:
      message: hello
";

fn pilot(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .env("PILOT_HOME", home)
        .env_remove("PILOT_STORE")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run pilot")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn store(home: &Path) -> SqliteStore {
    let options = StoreOptions { logs: LogFolder::At(home.join("logs")), ..StoreOptions::default() };
    SqliteStore::open(home.join("pilot.db"), options).expect("open the store")
}

/// A pending execution of `greet` accepted by the daemon `node-b` on another machine, whose lease ends at `lease`.
async fn accepted_by_another_node(home: &Path, lease: Timestamp) -> String {
    let store = store(home);
    let workflow = store.workflow_by_name("greet").await.unwrap().expect("greet saved by pilot run");
    let node = InstanceRecord {
        id: "node-b".to_owned(),
        kind: "serve".to_owned(),
        pid: 4242,
        host: "other-machine".to_owned(),
        started_at: Timestamp(0),
        lease_expires_at: lease,
    };
    store.register_instance(node).await.unwrap();
    let id = new_execution_id();
    let execution = NewExecution {
        id: id.clone(),
        workflow_id: workflow.id.clone(),
        workflow_name: "greet".to_owned(),
        workflow_version: workflow.version,
        trigger_id: None,
        trigger: json!({"type": "manual"}),
        input: json!({}),
        status: Status::Pending,
        started_at: Timestamp(1_790_000_000_000_000),
        retry_of: None,
    };
    let acceptance =
        Acceptance { execution, owner: Some("node-b".to_owned()), slot: None, idempotency: None, skipped: None };
    store.accept_execution(acceptance).await.unwrap();
    id
}

/// A home where `pilot run` saved and ran `greet` once.
fn home_with_greet() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("greet.yaml");
    std::fs::write(&file, WORKFLOW).unwrap();
    let first = pilot(home.path(), &["run", file.to_str().unwrap()]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    home
}

async fn status_of(home: &Path, id: &str) -> Status {
    store(home).load_execution(id).await.unwrap().expect("stored").status
}

#[tokio::test]
async fn an_execution_a_live_daemon_holds_is_neither_resumed_nor_cancelled_here() {
    let home = home_with_greet();
    let held = accepted_by_another_node(home.path(), Timestamp(i64::MAX)).await;

    let resumed = pilot(home.path(), &["resume", "--json"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    assert_eq!(serde_json::from_slice::<Json>(&resumed.stdout).unwrap(), json!([]));
    let warning = text(&resumed.stderr);
    assert!(warning.contains(&format!("execution {held} is run by pilot serve node-b on other-machine")), "{warning}");
    assert_eq!(status_of(home.path(), &held).await, Status::Pending, "left to its daemon");

    let cancelled = pilot(home.path(), &["cancel", &held]);
    assert_eq!(cancelled.status.code(), Some(1), "{}", text(&cancelled.stderr));
    let refusal = text(&cancelled.stderr);
    assert!(refusal.contains("is run by pilot serve node-b on other-machine: cancel it through"), "{refusal}");
    assert_eq!(status_of(home.path(), &held).await, Status::Pending, "not cancelled behind its daemon's back");
}

#[tokio::test]
async fn once_its_daemons_lease_has_run_out_the_execution_is_resumed_here() {
    let home = home_with_greet();
    let orphan = accepted_by_another_node(home.path(), Timestamp(1)).await;

    let resumed = pilot(home.path(), &["resume", "--json"]);
    assert_eq!(resumed.status.code(), Some(0), "{}", text(&resumed.stderr));
    let report: Json = serde_json::from_slice(&resumed.stdout).unwrap();
    assert_eq!(report.as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(status_of(home.path(), &orphan).await, Status::Success);
}

#[tokio::test]
async fn once_its_daemons_lease_has_run_out_a_pending_execution_is_cancelled_here() {
    let home = home_with_greet();
    let orphan = accepted_by_another_node(home.path(), Timestamp(1)).await;

    let cancelled = pilot(home.path(), &["cancel", &orphan]);
    assert_eq!(cancelled.status.code(), Some(0), "{}", text(&cancelled.stderr));
    assert!(text(&cancelled.stdout).contains("cancelled (it was interrupted"), "{}", text(&cancelled.stdout));
    assert_eq!(status_of(home.path(), &orphan).await, Status::Cancelled);
}
