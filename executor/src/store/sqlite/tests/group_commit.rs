use super::*;
use std::sync::Arc;

/// Holds the database's write lock from another connection, so that the writer thread waits in `BEGIN` while the
/// test queues writes; releasing it lets the writer go on. Makes "arrived while busy" deterministic.
struct WriteLockHolder(rusqlite::Connection);

impl WriteLockHolder {
    fn take(path: &Path) -> WriteLockHolder {
        let conn = other_connection(path);
        conn.execute_batch("BEGIN IMMEDIATE").expect("take the write lock");
        WriteLockHolder(conn)
    }

    fn release(self) {
        self.0.execute_batch("COMMIT").expect("release the write lock");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_step_ends_share_commits() {
    let (store, folder) = fresh_store();
    let store = Arc::new(store);
    seed(store.as_ref(), "e1").await;
    let before = store.commit_count();
    let lock = WriteLockHolder::take(&folder.path().join("pilot.db"));
    let queued = Arc::new(tokio::sync::Barrier::new(65));
    let writers: Vec<_> = (0..64)
        .map(|n| {
            let (store, queued) = (Arc::clone(&store), Arc::clone(&queued));
            tokio::spawn(async move {
                let ack = store.end_step(step_end("e1", &format!("step{n}"), json!(n)));
                queued.wait().await;
                ack.await
            })
        })
        .collect();
    queued.wait().await;
    lock.release();
    for writer in writers {
        writer.await.expect("writer task").expect("step end committed");
    }
    let commits = store.commit_count() - before;
    assert!((1..=2).contains(&commits), "64 step ends took {commits} commits");
    assert_eq!(store.load_execution("e1").await.expect("load").expect("exists").steps.len(), 64);
}

#[tokio::test]
async fn without_group_commit_each_write_commits_alone() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let options = StoreOptions { group_commit: false, ..StoreOptions::default() };
    let store = SqliteStore::open(folder.path().join("pilot.db"), options).expect("open");
    seed(&store, "e1").await;
    let before = store.commit_count();
    let acks: Vec<_> = (0..16).map(|n| store.end_step(step_end("e1", &format!("s{n}"), json!(n)))).collect();
    for ack in acks {
        ack.await.expect("end step");
    }
    assert_eq!(store.commit_count() - before, 16);
}

#[tokio::test]
async fn a_refused_write_fails_alone_and_its_batch_still_commits() {
    let (store, folder) = fresh_store();
    seed(&store, "e1").await;
    let before = store.commit_count();
    let lock = WriteLockHolder::take(&folder.path().join("pilot.db"));
    let good_before = store.end_step(step_end("e1", "a", json!(1)));
    let refused = store.end_step(step_end("ghost", "a", json!(2)));
    let good_after = store.end_step(step_end("e1", "b", json!(3)));
    lock.release();
    assert_eq!(good_before.await, Ok(()));
    assert_eq!(refused.await, Err(StoreError::UnknownExecution { id: "ghost".to_owned() }));
    assert_eq!(good_after.await, Ok(()));
    assert!(store.commit_count() - before <= 2);
    let steps = store.load_execution("e1").await.expect("load").expect("exists").steps;
    assert_eq!(steps.iter().map(|step| step.step_id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
}

#[tokio::test]
async fn ends_and_a_start_recorded_together_take_one_commit() {
    let (store, _folder) = fresh_store();
    seed(&store, "e1").await;
    let before = store.commit_count();
    let ends = vec![step_end("e1", "a", json!(1)), step_end("e1", "b", json!(2))];
    let start = StepStart {
        execution_id: "e1".to_owned(),
        step_id: "c".to_owned(),
        attempt: 1,
        input: json!({}),
        started_at: at(11),
    };
    store.record_steps(ends, Some(start)).await.expect("recorded");
    assert_eq!(store.commit_count() - before, 1);
    assert_eq!(store.load_execution("e1").await.expect("load").expect("exists").steps.len(), 3);
}
