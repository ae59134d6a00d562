//! The export side of `pilot store migrate`: one snapshot, batches in creation order, rows as stored.

use super::*;

#[tokio::test]
async fn an_export_reads_one_snapshot_while_writes_go_on() {
    let (store, _folder) = fresh_store();
    for id in ["a1", "a2", "a3"] {
        seed(&store, id).await;
        store.end_step(step_end(id, "fetch", json!({"z": 1, "a": [id]}))).await.expect("step");
    }
    let mut export = store.export().expect("export");
    let counts = export.counts().expect("counts");
    assert_eq!((counts.workflows, counts.executions, counts.execution_steps), (1, 3, 3));

    // Written after the snapshot was taken: not part of this export.
    seed(&store, "late").await;
    let first = export.next_executions(2).expect("first batch").expect("two executions");
    let second = export.next_executions(2).expect("second batch").expect("one execution");
    assert_eq!(export.next_executions(2).expect("the end"), None);
    let ids: Vec<&str> = first.executions.iter().chain(&second.executions).map(|row| row.id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2", "a3"]);

    // Steps go with their execution's batch; JSON stays the text that was stored.
    assert_eq!(first.steps.iter().map(|step| step.id.as_str()).collect::<Vec<_>>(), ["a1/fetch", "a2/fetch"]);
    assert_eq!(second.steps[0].output.as_deref(), Some(r#"{"z":1,"a":["a3"]}"#));
    assert_eq!(second.executions[0].trigger_info.as_deref(), Some(r#"{"type":"manual"}"#));
    assert_eq!(export.catalog().expect("catalog").workflow_versions.len(), 1);
}
