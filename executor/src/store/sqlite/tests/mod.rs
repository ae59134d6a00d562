//! SQLite-specific tests; the behaviour every store shares is the conformance suite run here first.

mod durability;
mod export;
mod failures;
mod group_commit;
mod recovery;
mod schema;

use super::*;
use crate::store::conformance::at;
use serde_json::json;

fn fresh_store() -> (SqliteStore, tempfile::TempDir) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let store = SqliteStore::open(folder.path().join("pilot.db"), StoreOptions::default()).expect("open store");
    (store, folder)
}

crate::store_conformance_tests!(fresh_store);

/// Saves workflow `wf` and creates a running execution `id` of it.
async fn seed(store: &dyn Store, id: &str) {
    let workflow = WorkflowDefinition {
        id: "wf".to_owned(),
        name: "nightly".to_owned(),
        description: None,
        definition: "steps: []".to_owned(),
        saved_at: at(0),
    };
    store.save_workflow(workflow).await.expect("save workflow");
    let execution = NewExecution {
        id: id.to_owned(),
        workflow_id: "wf".to_owned(),
        workflow_name: "nightly".to_owned(),
        workflow_version: 1,
        trigger_id: None,
        trigger: json!({"type": "manual"}),
        input: json!({}),
        status: Status::Running,
        started_at: at(1),
        retry_of: None,
    };
    store.create_execution(execution).await.expect("create execution");
}

fn step_end(execution_id: &str, step_id: &str, output: serde_json::Value) -> StepEnd {
    StepEnd {
        execution_id: execution_id.to_owned(),
        step_id: step_id.to_owned(),
        status: Status::Success,
        attempts: 1,
        output: Some(output),
        error: None,
        completed_at: at(10),
    }
}

/// A plain connection to the same file, as another process would have.
fn other_connection(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("open a second connection");
    conn.busy_timeout(std::time::Duration::from_secs(10)).expect("busy timeout");
    conn
}
