//! The seed's `daily-backup` example, run for real by the `pilot` binary: HOME and PILOT_HOME are temporary
//! folders; file ages are set with `File::set_modified`. Without a desktop the `notify` step fails (so does the
//! run); with a private D-Bus session bus holding a stand-in notification service, every step succeeds.

use executor::store::{SqliteStore, Status, Store, StoreOptions};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const HOUR: Duration = Duration::from_secs(3600);

fn write_file(path: &Path, content: &str, age: Duration) {
    std::fs::write(path, content).unwrap();
    set_age(path, age);
}

fn set_age(path: &Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

/// `pilot run examples/daily-backup.yaml --json`; `bus` is the D-Bus session bus address (none: no desktop).
fn run_backup(home: &Path, pilot_home: &Path, bus: Option<&str>) -> (Output, serde_json::Value) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/daily-backup.yaml");
    let mut command = Command::new(env!("CARGO_BIN_EXE_pilot"));
    command
        .arg("run")
        .arg(&example)
        .arg("--json")
        .env("HOME", home)
        .env("PILOT_HOME", pilot_home)
        // No other way to a desktop than the bus given, whatever machine runs the test.
        .env("XDG_RUNTIME_DIR", pilot_home)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    match bus {
        Some(address) => command.env("DBUS_SESSION_BUS_ADDRESS", address),
        None => command.env_remove("DBUS_SESSION_BUS_ADDRESS"),
    };
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("--json prints the execution ({err}); stderr: {stderr}"));
    (output, printed)
}

fn statuses(printed: &serde_json::Value) -> Vec<(String, String)> {
    let steps = printed["steps"].as_array().unwrap();
    steps.iter().map(|s| (s["id"].as_str().unwrap().to_owned(), s["status"].as_str().unwrap().to_owned())).collect()
}

fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(folder).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    names
}

#[test]
fn daily_backup_copies_exactly_the_docx_files_modified_in_the_last_day() {
    let home = tempfile::tempdir().unwrap();
    let pilot_home = tempfile::tempdir().unwrap();
    let documents = home.path().join("Documents");
    std::fs::create_dir(&documents).unwrap();
    write_file(&documents.join("report.docx"), "fresh report", HOUR);
    write_file(&documents.join("minutes.docx"), "fresh minutes", 20 * HOUR);
    write_file(&documents.join("archive.docx"), "old archive", 50 * HOUR);
    write_file(&documents.join("notes.txt"), "fresh but not docx", HOUR);

    let (output, printed) = run_backup(home.path(), pilot_home.path(), None);

    assert_eq!(names_in(&home.path().join("Backups")), ["minutes.docx", "report.docx"]);
    assert_eq!(std::fs::read_to_string(home.path().join("Backups/report.docx")).unwrap(), "fresh report");

    // The notification is unavailable without a desktop: that step fails (so the run exits 1), after the copies.
    assert_eq!(output.status.code(), Some(1), "stderr: {}", String::from_utf8_lossy(&output.stderr));
    let expected =
        [("list_files", "success"), ("filter_recent", "success"), ("copy_files", "success"), ("notify", "failed")];
    assert_eq!(statuses(&printed), expected.map(|(id, status)| (id.to_owned(), status.to_owned())));
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

/// Day two: a file backed up yesterday was changed today. `fs/copy` replaces yesterday's copy (as `cp` does), so
/// the scheduled backup succeeds again instead of stopping at the existing destination.
#[test]
fn daily_backup_run_again_the_next_day_replaces_the_changed_file_and_succeeds() {
    let home = tempfile::tempdir().unwrap();
    let pilot_home = tempfile::tempdir().unwrap();
    let desktop = Desktop::start();
    let bus = desktop.as_ref().map(|desktop| desktop.address.as_str());
    let documents = home.path().join("Documents");
    std::fs::create_dir(&documents).unwrap();
    write_file(&documents.join("report.docx"), "report, first draft", HOUR);
    write_file(&documents.join("minutes.docx"), "minutes", 20 * HOUR);

    let (first, first_printed) = run_backup(home.path(), pilot_home.path(), bus);
    assert_eq!(std::fs::read_to_string(home.path().join("Backups/report.docx")).unwrap(), "report, first draft");

    // A day later: the report was revised an hour ago; the minutes were not touched since yesterday.
    write_file(&documents.join("report.docx"), "report, second draft", HOUR);
    set_age(&documents.join("minutes.docx"), 44 * HOUR);
    let (second, second_printed) = run_backup(home.path(), pilot_home.path(), bus);

    assert_eq!(std::fs::read_to_string(home.path().join("Backups/report.docx")).unwrap(), "report, second draft");
    assert_eq!(std::fs::read_to_string(home.path().join("Backups/minutes.docx")).unwrap(), "minutes");
    assert_eq!(names_in(&home.path().join("Backups")), ["minutes.docx", "report.docx"], "no temporary file left");
    assert_ne!(first_printed["id"], second_printed["id"]);
    for (run, printed) in [(&first, &first_printed), (&second, &second_printed)] {
        let statuses = statuses(printed);
        assert_eq!(statuses[2], ("copy_files".to_owned(), "success".to_owned()), "{printed:#}");
        if desktop.is_none() {
            eprintln!("dbus-daemon is not installed: the notify step could not succeed, only the copies are checked");
            continue;
        }
        assert!(run.status.success(), "stderr: {}", String::from_utf8_lossy(&run.stderr));
        assert!(statuses.iter().all(|(_, status)| status == "success"), "{statuses:?}");
        assert_eq!(printed["status"], "success");
    }
    if let Some(desktop) = &desktop {
        assert_eq!(*desktop.bodies.lock().unwrap(), ["Backed up 2 files", "Backed up 1 files"]);
    }
}

/// A desktop for the `notify` step: a private `dbus-daemon` session bus (killed on drop) and a stand-in
/// `org.freedesktop.Notifications` service that records each notification's body.
struct Desktop {
    address: String,
    bodies: Arc<Mutex<Vec<String>>>,
    daemon: std::process::Child,
    _service: zbus::Connection,
    _runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Desktop {
    /// `None` when `dbus-daemon` is not installed.
    fn start() -> Option<Desktop> {
        let dir = tempfile::tempdir().unwrap();
        let listen = format!("--address=unix:path={}", dir.path().join("bus").display());
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address", &listen])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().unwrap()).read_line(&mut address).unwrap();
        let address = address.trim().to_owned();
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let service = StandInNotifications { bodies: Arc::clone(&bodies) };
        let connection = runtime.block_on(async {
            zbus::connection::Builder::address(address.as_str())
                .name("org.freedesktop.Notifications")
                .serve_at("/org/freedesktop/Notifications", service)
                .build()
                .await
                .unwrap()
        });
        Some(Desktop { address, bodies, daemon, _service: connection, _runtime: runtime, _dir: dir })
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

struct StandInNotifications {
    bodies: Arc<Mutex<Vec<String>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl StandInNotifications {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        _summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: std::collections::HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut bodies = self.bodies.lock().unwrap();
        bodies.push(body);
        bodies.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".to_owned()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("stand-in".into(), "pilot tests".into(), "1".into(), "1.2".into())
    }
}
