//! Damage, read-only files and unknown rows: noticed and told, never hiding the rest of the history.

use super::*;

/// Executions `e0`..`e{count}` with a step each, committed and closed cleanly.
async fn filled_database(path: &Path, count: usize) {
    let store = SqliteStore::open(path, StoreOptions::default()).expect("create");
    for n in 0..count {
        let id = format!("e{n}");
        seed(&store, &id).await;
        store.end_step(step_end(&id, "copy", json!({"n": n, "padding": "x".repeat(200)}))).await.expect("step");
    }
}

/// Leaves a marker as a process that died with the store open would.
fn simulate_unclean_shutdown(path: &Path) {
    let folder = shutdown::markers_folder(path);
    std::fs::create_dir_all(&folder).expect("markers folder");
    std::fs::write(folder.join("12345-0"), "").expect("stale marker");
}

/// Overwrites page `page` (1-based) with noise; the damaged bytes.
fn damage_page(path: &Path, page: usize) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("read");
    let page_size = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    let start = (page - 1) * page_size;
    assert!(start + page_size <= bytes.len(), "the file has no page {page}");
    bytes[start..start + page_size].fill(0xA5);
    std::fs::write(path, &bytes).expect("damage");
    bytes
}

/// Overwrites one page in the middle of the file (a table or index page, not the schema).
fn damage_a_middle_page(path: &Path) -> Vec<u8> {
    let size = std::fs::metadata(path).expect("size").len() as usize;
    damage_page(path, size / 4096 / 2 + 1)
}

/// The first page of a table or index.
fn root_page(path: &Path, name: &str) -> usize {
    let sql = "SELECT rootpage FROM sqlite_master WHERE name = ?1";
    other_connection(path).query_row(sql, [name], |row| row.get::<_, i64>(0)).expect("root page") as usize
}

#[tokio::test]
async fn a_status_this_build_does_not_know_reads_as_unknown_and_hides_nothing() {
    let (store, folder) = fresh_store();
    seed(&store, "known").await;
    seed(&store, "odd").await;
    store.end_step(step_end("odd", "a", json!(1))).await.expect("step");
    let other = other_connection(&folder.path().join("pilot.db"));
    other.execute_batch("UPDATE executions SET status = 'paused' WHERE id = 'odd'").expect("a newer status");
    other.execute_batch("UPDATE execution_steps SET status = 'waiting' WHERE execution_id = 'odd'").expect("step");
    let listed = store.list_executions(&ExecutionFilter::default()).await.expect("the list still reads");
    let statuses: Vec<_> = listed.iter().map(|summary| (summary.id.as_str(), summary.status)).collect();
    assert!(statuses.contains(&("odd", Status::Unknown)) && statuses.contains(&("known", Status::Running)));
    let odd = store.load_execution("odd").await.expect("loads").expect("exists");
    assert_eq!((odd.status, odd.steps[0].status), (Status::Unknown, Status::Unknown));
    let interrupted = store.interrupted_executions().await.expect("interrupted");
    assert_eq!(interrupted.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["known"]);
}

#[tokio::test]
async fn after_an_unclean_shutdown_a_damaged_file_is_refused_before_anything_is_written() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    filled_database(&path, 300).await;
    simulate_unclean_shutdown(&path);
    let damaged = damage_a_middle_page(&path);
    let error = SqliteStore::open(&path, StoreOptions::default()).expect_err("refused");
    assert!(matches!(&error, StoreError::Damaged { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("unclean shutdown") && message.contains("pilot doctor"), "{message}");
    assert!(std::fs::read(&path).expect("read") == damaged, "nothing was written to it");
    let again = SqliteStore::open(&path, StoreOptions::default()).expect_err("still refused on the next open");
    assert!(matches!(again, StoreError::Damaged { .. }), "{again:?}");
    let report = SqliteStore::check(&path).expect("checks");
    assert!(!report.is_sound() && report.unclean_shutdown, "{report:?}");
}

#[tokio::test]
async fn after_a_clean_close_the_file_is_not_checked_on_open() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    filled_database(&path, 300).await;
    damage_a_middle_page(&path);
    // No unclean shutdown: no check, so opening costs nothing more (the damage is met only where it is read).
    drop(SqliteStore::open(&path, StoreOptions::default()).expect("opens without a check"));
    assert!(!SqliteStore::check(&path).expect("checks").is_sound(), "the damage is there");
}

#[tokio::test]
async fn a_repair_rebuilds_the_file_and_keeps_the_damaged_one_aside() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    filled_database(&path, 300).await;
    simulate_unclean_shutdown(&path);
    // An index can be rebuilt from its table, so nothing is lost.
    let damaged = damage_page(&path, root_page(&path, "executions_by_start"));
    assert!(!SqliteStore::check(&path).expect("checks").is_sound());
    let report = SqliteStore::repair(&path).expect("repairs");
    assert!(std::fs::read(&report.damaged_copy).expect("kept") == damaged, "{report:?}");
    let check = SqliteStore::check(&path).expect("checks");
    assert!(check.is_sound() && !check.unclean_shutdown, "{check:?}");
    let store = SqliteStore::open(&path, StoreOptions::default()).expect("opens after the repair");
    let listed = store.list_executions(&ExecutionFilter { limit: 1000, ..ExecutionFilter::default() }).await;
    assert_eq!(listed.expect("lists").len(), 300);
    seed(&store, "after-repair").await;
}

#[tokio::test]
async fn a_table_page_that_cannot_be_read_makes_the_repair_fail_clearly_and_change_nothing() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    filled_database(&path, 300).await;
    let damaged = damage_page(&path, root_page(&path, "execution_steps"));
    let error = SqliteStore::repair(&path).expect_err("cannot rebuild");
    assert!(error.to_string().contains("copying table execution_steps"), "{error}");
    assert!(std::fs::read(&path).expect("read") == damaged, "the file was left as it was");
    assert!(!folder.path().join("pilot.db.rebuilt").exists());
}

#[tokio::test]
async fn a_backup_is_a_complete_copy_and_never_overwrites() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    filled_database(&path, 3).await;
    let copy = folder.path().join("backup.db");
    SqliteStore::backup(&path, &copy).expect("backs up");
    let store = SqliteStore::open_read_only(&copy, StoreOptions::default()).expect("the copy opens");
    let record = store.load_execution("e2").await.expect("reads").expect("copied");
    assert_eq!(record.steps[0].output.as_ref().map(|output| output["n"].clone()), Some(json!(2)));
    let again = SqliteStore::backup(&path, &copy).expect_err("the copy exists");
    assert!(again.to_string().contains("already exists"), "{again}");
}

#[tokio::test]
async fn a_store_opened_read_only_reads_history_and_refuses_writes_untouched() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    filled_database(&path, 2).await;
    let before = std::fs::read(&path).expect("read");
    let store = SqliteStore::open_read_only(&path, StoreOptions::default()).expect("opens");
    assert_eq!(store.list_executions(&ExecutionFilter::default()).await.expect("lists").len(), 2);
    let refused = store.end_step(step_end("e1", "more", json!(1))).await.expect_err("read-only");
    assert!(matches!(&refused, StoreError::ReadOnly { .. }), "{refused:?}");
    assert!(refused.to_string().contains("pilot executions"), "{refused}");
    drop(store);
    assert!(std::fs::read(&path).expect("read") == before, "the file was not changed");
    let missing = SqliteStore::open_read_only(folder.path().join("none.db"), StoreOptions::default());
    assert!(missing.expect_err("nothing to read").to_string().contains("no database yet"));
}
