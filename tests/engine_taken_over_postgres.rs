//! The engine on a daemon node's PostgreSQL store (fenced for its node): once another node takes an execution
//! over, this node stops it where it is and records nothing more of it, `on_failure` steps included.

use connectors::catalogue::Catalogue;
use connectors::registry::ConnectorRegistry;
use executor::engine::Context;
use executor::store::postgres::test_server::fresh_database;
use executor::store::postgres::{PostgresOptions, PostgresStore};
use executor::store::{Status, Store};
use executor::{Workflow, WorkflowEngine};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SLOW: &str = r#"
name: slow
steps:
  - id: first
    action: fs/write
    input: {path: "WORK/first.txt", content: "ran\n", append: true}
  - id: nap
    action: sleep
    needs: first
    input: {duration: 2s}
  - id: last
    action: fs/write
    needs: nap
    input: {path: "WORK/last.txt", content: "ran\n", append: true}
on_failure:
  - id: report
    action: fs/write
    input: {path: "WORK/failed.txt", content: "failed\n", append: true}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_taken_over_by_another_node_stops_here_without_recording_more() {
    let Some(database) = fresh_database("engine_taken_over").await else { return };
    let work = tempfile::tempdir().unwrap();
    let store = Arc::new(PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap());
    assert!(store.fence_for("node-a"));
    let catalogue = Arc::new(Catalogue::builtin());
    let engine = WorkflowEngine::new(store.clone(), Arc::new(ConnectorRegistry::builtin()), catalogue.clone());
    let yaml = SLOW.replace("WORK", &work.path().display().to_string());
    let workflow = Workflow::compile(&yaml, "slow.yaml", &catalogue).expect("compiles");
    let id = "01-taken-over".to_owned();
    let context = Context { execution_id: Some(id.clone()), ..Context::default() };
    let run = tokio::spawn(async move { engine.execute(&workflow, context).await });

    // Once it naps, node b takes it over.
    let other_node = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let started = Instant::now();
    loop {
        let record = other_node.load_execution(&id).await.unwrap();
        if record.is_some_and(|record| record.steps.iter().any(|step| step.step_id == "nap")) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "the execution never reached its nap");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(other_node.adopt_execution(&id, "node-b", None).await.unwrap(), "node b takes it over");

    let outcome = run.await.unwrap().expect("it started");
    let error = outcome.error.unwrap_or_default();
    // Stopped as taken over, not failed by a refused write (which would then run on_failure and try to finish).
    assert_eq!(outcome.status, Status::Cancelled, "{error}");
    assert!(error.starts_with(&format!("execution {id} was taken over by node node-b")), "{error}");
    assert!(!work.path().join("last.txt").exists(), "the step after the take-over did not run here");
    assert!(!work.path().join("failed.txt").exists(), "nor the on_failure steps");
    let record = other_node.load_execution(&id).await.unwrap().unwrap();
    assert_eq!((record.status, record.owner.as_deref()), (Status::Running, Some("node-b")), "left to node b");
    let steps: Vec<&str> = record.steps.iter().map(|step| step.step_id.as_str()).collect();
    assert_eq!(steps, ["first", "nap"]);
}
