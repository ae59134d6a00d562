//! `start_resume`: resuming marks the execution running and counts the attempt in the same write.

use super::*;

pub async fn starting_a_resume_marks_running_and_counts_the_attempt(store: &dyn Store) {
    seed_workflow(store, "wf").await;
    store.create_execution(NewExecution { status: Status::Pending, ..execution("e1", "wf", 1) }).await.expect("create");
    assert_eq!(load(store, "e1").await.resume_attempts, 0);
    assert_eq!(store.start_resume("e1", at(2)).await, Ok(1));
    let first = load(store, "e1").await;
    assert_eq!((first.status, first.started_at, first.resume_attempts), (Status::Running, Some(at(1)), 1));
    assert_eq!(store.start_resume("e1", at(3)).await, Ok(2));
    assert_eq!(load(store, "e1").await.resume_attempts, 2);
    let ghost = store.start_resume("ghost", at(4)).await;
    assert_eq!(ghost, Err(StoreError::UnknownExecution { id: "ghost".to_owned() }));
    let log = store.read_log("e1").await.expect("read log").expect("logged");
    assert_eq!(log.matches("execution resumed").count(), 2, "{log}");
}

pub async fn resume_attempts_show_in_the_interrupted_list(store: &dyn Store) {
    seed_execution(store, "never-resumed", 1).await;
    store.create_execution(execution("resumed-twice", "wf", 2)).await.expect("create");
    for attempt in 0..2 {
        store.start_resume("resumed-twice", at(10 + attempt)).await.expect("resume");
    }
    let interrupted = store.interrupted_executions().await.expect("interrupted");
    let counts: Vec<_> = interrupted.iter().map(|s| (s.id.as_str(), s.resume_attempts)).collect();
    assert_eq!(counts, [("never-resumed", 0), ("resumed-twice", 2)]);
}
