//! What happens when the file, the lock or the disk is not as expected.

use super::*;
use std::time::Duration;

/// Deterministic noise (xorshift), so a failure can be reproduced.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn random_bytes_are_reported_as_not_a_database_and_left_untouched() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    std::fs::write(&path, noise(8192)).expect("write noise");
    let error = SqliteStore::open(&path, StoreOptions::default()).expect_err("refused");
    assert!(matches!(&error, StoreError::Corrupt { path: named, .. } if named == &path), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()) && message.contains("move it aside"), "{message}");
    assert!(std::fs::read(&path).expect("read") == noise(8192), "the file was not modified");
    let files: Vec<_> =
        std::fs::read_dir(folder.path()).expect("list").map(|entry| entry.expect("entry").file_name()).collect();
    assert_eq!(files, ["pilot.db"], "no journal or WAL was created beside it");
}

#[test]
fn damaged_database_behind_a_valid_header_is_reported_as_damaged() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    drop(SqliteStore::open(&path, StoreOptions::default()).expect("create"));
    let mut bytes = std::fs::read(&path).expect("read");
    let page_size = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    bytes[100..page_size].copy_from_slice(&noise(page_size - 100)); // The schema's page.
    std::fs::write(&path, &bytes).expect("damage");
    let error = SqliteStore::open(&path, StoreOptions::default()).expect_err("refused");
    assert!(matches!(&error, StoreError::Damaged { .. }), "{error:?}");
    assert!(error.to_string().contains("pilot doctor --repair"), "{error}");
    assert!(std::fs::read(&path).expect("read") == bytes, "the file was not modified");
}

#[tokio::test]
async fn write_blocked_by_another_process_beyond_the_timeout_fails_clearly() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    let options = StoreOptions { busy_timeout: Duration::from_millis(100), ..StoreOptions::default() };
    let store = SqliteStore::open(&path, options).expect("open");
    seed(&store, "e1").await;
    let other = other_connection(&path);
    other.execute_batch("BEGIN IMMEDIATE").expect("lock");
    let error = store.end_step(step_end("e1", "a", json!(1))).await.expect_err("locked");
    assert!(matches!(&error, StoreError::Locked { path: named, waited_ms: 100, .. } if named == &path), "{error:?}");
    assert!(error.to_string().contains("locked by another process"), "{error}");
    other.execute_batch("COMMIT").expect("unlock");
    store.end_step(step_end("e1", "a", json!(1))).await.expect("works once the lock is gone");
}

#[test]
fn opening_a_database_held_exclusively_fails_clearly() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    drop(SqliteStore::open(&path, StoreOptions::default()).expect("create"));
    let other = other_connection(&path);
    other.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;").expect("hold exclusively");
    let options = StoreOptions { busy_timeout: Duration::from_millis(100), ..StoreOptions::default() };
    let error = SqliteStore::open(&path, options).expect_err("locked");
    assert!(matches!(&error, StoreError::Locked { .. }), "{error:?}");
    assert!(error.to_string().contains(&path.display().to_string()), "{error}");
}

#[tokio::test]
async fn full_database_fails_the_write_marks_the_execution_failed_and_keeps_earlier_ones() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    let (store, _) = (SqliteStore::open(&path, StoreOptions::default()).expect("create"), ());
    seed(&store, "done").await;
    store.end_step(step_end("done", "a", json!({"kept": true}))).await.expect("end step");
    drop(store);
    let pages: i64 = other_connection(&path).pragma_query_value(None, "page_count", |row| row.get(0)).expect("pages");
    let pages = u64::try_from(pages).expect("a page count");
    let capped = StoreOptions { max_database_pages: Some(pages + 2), ..StoreOptions::default() };
    let store = SqliteStore::open(&path, capped).expect("reopen with a size cap");
    seed(&store, "big").await;
    let huge = json!("x".repeat(1 << 20));
    let error = store.end_step(step_end("big", "dump", huge)).await.expect_err("no room");
    assert!(matches!(&error, StoreError::Full { path: named, .. } if named == &path), "{error:?}");
    assert!(error.to_string().contains("free some space"), "{error}");
    let big = store.load_execution("big").await.expect("load").expect("exists");
    assert_eq!((big.status, big.steps.len()), (Status::Failed, 0));
    assert!(big.error.as_deref().is_some_and(|text| text.contains("is full")), "{:?}", big.error);
    let log = store.read_log("big").await.expect("log").expect("has a log");
    assert!(log.contains("ERROR store write failed") && log.contains("ERROR execution failed"), "{log}");
    drop(store);
    let reopened = SqliteStore::open(&path, StoreOptions::default()).expect("reopen without cap");
    let done = reopened.load_execution("done").await.expect("load").expect("earlier execution intact");
    assert_eq!(done.steps[0].output, Some(json!({"kept": true})));
    let check: String =
        other_connection(&path).query_row("PRAGMA integrity_check", [], |row| row.get(0)).expect("check");
    assert_eq!(check, "ok");
}

#[test]
fn missing_folders_are_created() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("home").join("nested").join("pilot.db");
    drop(SqliteStore::open(&path, StoreOptions::default()).expect("open"));
    assert!(path.exists());
    assert!(folder.path().join("home").join("nested").join("logs").is_dir());
}

#[test]
fn folder_that_cannot_be_created_is_named_in_the_error() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let blocker = folder.path().join("not-a-folder");
    std::fs::write(&blocker, "a file where a folder should be").expect("write");
    let error = SqliteStore::open(blocker.join("pilot.db"), StoreOptions::default()).expect_err("cannot create");
    assert!(matches!(&error, StoreError::CreateFolder { path, .. } if path == &blocker), "{error:?}");
    assert!(error.to_string().starts_with(&format!("cannot create folder {}", blocker.display())), "{error}");
}
