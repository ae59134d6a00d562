use super::*;

fn columns(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut statement = conn.prepare(&format!("PRAGMA table_info({table})")).expect("table_info");
    statement.query_map([], |row| row.get::<_, String>(1)).expect("columns").map(|name| name.expect("name")).collect()
}

#[tokio::test]
async fn new_database_has_the_spec_tables_and_the_current_version() {
    let (store, folder) = fresh_store();
    drop(store);
    let conn = other_connection(&folder.path().join("pilot.db"));
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0)).expect("user_version");
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn.pragma_query_value(None, "journal_mode", |row| row.get(0)).expect("journal_mode");
    assert_eq!(mode, "wal");
    let spec_columns = [
        ("workflows", "id name description definition version is_enabled created_at updated_at"),
        ("triggers", "id workflow_id trigger_type config is_enabled"),
        ("executions", "id workflow_id trigger_id status started_at completed_at error context"),
        ("execution_steps", "id execution_id step_id status started_at completed_at input output error attempts"),
        ("credentials", "id name provider data created_at updated_at"),
        ("connectors", "id name version manifest is_enabled installed_at"),
    ];
    for (table, expected) in spec_columns {
        let found = columns(&conn, table);
        for column in expected.split(' ') {
            assert!(found.iter().any(|name| name == column), "{table}.{column} missing from {found:?}");
        }
    }
    let indexes: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .expect("prepare")
        .query_map([], |row| row.get(0))
        .expect("query")
        .map(|name| name.expect("name"))
        .collect();
    let expected = [
        "execution_steps_by_execution",
        "executions_by_owner",
        "executions_by_start",
        "executions_by_status",
        "executions_by_trigger_slot",
        "executions_by_workflow",
        "triggers_by_workflow",
    ];
    assert_eq!(indexes, expected);
}

#[tokio::test]
async fn listing_by_workflow_uses_its_index() {
    let (store, folder) = fresh_store();
    drop(store);
    let conn = other_connection(&folder.path().join("pilot.db"));
    let plan: String = conn
        .query_row(
            "EXPLAIN QUERY PLAN SELECT id FROM executions WHERE workflow_name = 'x' ORDER BY started_at DESC LIMIT 5",
            [],
            |row| row.get(3),
        )
        .expect("query plan");
    assert!(plan.contains("executions_by_workflow"), "{plan}");
}

#[tokio::test]
async fn version_one_database_is_migrated_keeping_its_rows() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    let old = other_connection(&path);
    old.execute_batch(crate::store::sqlite::schema::MIGRATIONS[0]).expect("version 1 schema");
    old.execute_batch(
        "PRAGMA user_version = 1;
         INSERT INTO workflows (id, name, definition, version, created_at, updated_at)
             VALUES ('wf', 'backup', 'steps: []', 3, 10, 20);
         INSERT INTO executions (id, workflow_id, status, started_at, completed_at)
             VALUES ('e1', 'wf', 'success', 100, 200);
         INSERT INTO execution_steps (id, execution_id, step_id, status, output)
             VALUES ('e1/copy', 'e1', 'copy', 'success', '{\"ok\":true}');",
    )
    .expect("version 1 rows");
    drop(old);
    let store = SqliteStore::open(&path, StoreOptions::default()).expect("open migrates");
    let execution = store.load_execution("e1").await.expect("load").expect("kept");
    assert_eq!((execution.workflow_name.as_str(), execution.status), ("backup", Status::Success));
    assert_eq!((execution.steps[0].attempts, execution.steps[0].output.clone()), (0, Some(json!({"ok": true}))));
    assert_eq!(store.workflow_definition("wf", 3).await.expect("definition").as_deref(), Some("steps: []"));
    assert_eq!(execution.resume_attempts, 0, "version 3 counts resumes from zero");
    drop(store);
    let version: i64 =
        other_connection(&path).pragma_query_value(None, "user_version", |row| row.get(0)).expect("user_version");
    assert_eq!(version, SCHEMA_VERSION);
}

#[test]
fn database_from_a_newer_pilot_is_refused_untouched() {
    let folder = tempfile::tempdir().expect("temporary folder");
    let path = folder.path().join("pilot.db");
    other_connection(&path).execute_batch("CREATE TABLE future (x); PRAGMA user_version = 99;").expect("future db");
    let before = std::fs::read(&path).expect("read");
    let error = SqliteStore::open(&path, StoreOptions::default()).expect_err("refused");
    assert_eq!(error, StoreError::NewerSchema { path: path.clone(), found: 99, supported: SCHEMA_VERSION });
    assert!(error.to_string().contains("upgrade Pilot"), "{error}");
    assert!(std::fs::read(&path).expect("read") == before, "the file was not modified");
}
