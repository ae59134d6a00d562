use super::*;

#[tokio::test]
async fn acknowledged_step_end_is_visible_to_another_connection() {
    let (store, folder) = fresh_store();
    seed(&store, "e1").await;
    store.end_step(step_end("e1", "fetch", json!({"n": 1}))).await.expect("end step");
    let other = other_connection(&folder.path().join("pilot.db"));
    let (status, output): (String, String) = other
        .query_row(
            "SELECT status, output FROM execution_steps WHERE execution_id = 'e1' AND step_id = 'fetch'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("the acknowledged row is committed");
    assert_eq!((status.as_str(), output.as_str()), ("success", r#"{"n":1}"#));
}

#[tokio::test]
async fn executions_survive_closing_and_reopening() {
    let (store, folder) = fresh_store();
    seed(&store, "e1").await;
    let _unawaited = store.start_step(StepStart {
        execution_id: "e1".to_owned(),
        step_id: "a".to_owned(),
        attempt: 1,
        input: json!({"x": 1}),
        started_at: at(5),
    });
    drop(store); // Waits for the queued writes.
    let reopened = SqliteStore::open(folder.path().join("pilot.db"), StoreOptions::default()).expect("reopen");
    let execution = reopened.load_execution("e1").await.expect("load").expect("still there");
    assert_eq!(execution.steps.len(), 1);
    assert_eq!((execution.steps[0].status, execution.steps[0].input.clone()), (Status::Running, Some(json!({"x": 1}))));
    assert_eq!(reopened.interrupted_executions().await.expect("interrupted").len(), 1);
}

#[tokio::test]
async fn logs_go_to_one_file_per_execution_next_to_the_database() {
    let (store, folder) = fresh_store();
    seed(&store, "e1").await;
    store.append_log("e1", LogLine::info(at(2), None, "token=*** accepted"));
    store.flush().await.expect("flush");
    let text = std::fs::read_to_string(folder.path().join("logs").join("e1.log")).expect("log file");
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(text.ends_with("2026-11-18T11:06:40.000002Z INFO  token=*** accepted\n"), "{text}");
    assert_eq!(store.read_log("e1").await.expect("read log"), Some(text));
}

#[tokio::test]
async fn the_log_lines_of_an_acknowledged_write_are_read_back_at_once() {
    // Log files are written by a thread of their own, after the commit: a read through the store waits for them.
    let (store, _folder) = fresh_store();
    seed(&store, "e1").await;
    for step in ["a", "b", "c"] {
        let start = StepStart {
            execution_id: "e1".to_owned(),
            step_id: step.to_owned(),
            attempt: 1,
            input: json!({}),
            started_at: at(5),
        };
        store.start_step(start).await.expect("start step");
        let log = store.read_log("e1").await.expect("read log").expect("a log");
        assert!(log.lines().last().is_some_and(|line| line.contains(&format!("[{step}]"))), "{log}");
    }
}

#[tokio::test]
async fn logs_can_be_disabled() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let options = StoreOptions { logs: LogFolder::Disabled, ..StoreOptions::default() };
    let store = SqliteStore::open(folder.path().join("pilot.db"), options).expect("open");
    seed(&store, "e1").await;
    assert_eq!(store.read_log("e1").await.expect("read log"), None);
    assert!(!folder.path().join("logs").exists());
}
