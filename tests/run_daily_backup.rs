//! The seed's `daily-backup` example, run for real by the `pilot` binary: HOME and PILOT_HOME are temporary
//! folders; file ages are set with `File::set_modified`.

use executor::store::{SqliteStore, Status, Store, StoreOptions};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

fn write_file(path: &Path, content: &str, age: Duration) {
    std::fs::write(path, content).unwrap();
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn daily_backup_copies_exactly_the_docx_files_modified_in_the_last_day() {
    let home = tempfile::tempdir().unwrap();
    let pilot_home = tempfile::tempdir().unwrap();
    let documents = home.path().join("Documents");
    std::fs::create_dir(&documents).unwrap();
    let hour = Duration::from_secs(3600);
    write_file(&documents.join("report.docx"), "fresh report", hour);
    write_file(&documents.join("minutes.docx"), "fresh minutes", 20 * hour);
    write_file(&documents.join("archive.docx"), "old archive", 50 * hour);
    write_file(&documents.join("notes.txt"), "fresh but not docx", hour);

    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/daily-backup.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_pilot"))
        .arg("run")
        .arg(&example)
        .arg("--json")
        .env("HOME", home.path())
        .env("PILOT_HOME", pilot_home.path())
        // No desktop session: the notification cannot be shown here, whatever machine runs the test.
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("--json prints the execution ({err}); stderr: {stderr}"));

    let mut copied: Vec<String> = std::fs::read_dir(home.path().join("Backups"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    copied.sort();
    assert_eq!(copied, ["minutes.docx", "report.docx"]);
    assert_eq!(std::fs::read_to_string(home.path().join("Backups/report.docx")).unwrap(), "fresh report");

    // The notification is unavailable without a desktop: that step fails (so the run exits 1), after the copies.
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    let statuses: Vec<(&str, &str)> = printed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        statuses,
        [("list_files", "success"), ("filter_recent", "success"), ("copy_files", "success"), ("notify", "failed")]
    );
    assert!(printed["steps"][3]["error"].as_str().unwrap().starts_with("not available here"), "{printed:#}");

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let store = SqliteStore::open(pilot_home.path().join("pilot.db"), StoreOptions::default()).unwrap();
    let id = printed["id"].as_str().unwrap();
    let record = runtime.block_on(store.load_execution(id)).unwrap().expect("the execution is in the store");
    assert_eq!(record.workflow_name, "daily-backup");
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.steps.len(), 4);
    assert_eq!(record.to_json(), printed, "--json prints the stored execution");
    let copies = record.steps[2].output.as_ref().unwrap().as_array().unwrap();
    assert_eq!(copies.len(), 2, "one copy output per recent file, in list order");
}
