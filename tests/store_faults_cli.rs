//! Faults of the store are told, not hidden: a run whose end cannot be recorded says so in its JSON, a read-only
//! `PILOT_HOME` says it is read-only and still shows its history, and damage left by an unclean shutdown is
//! refused before anything is written, with `pilot doctor` to check, back up and repair.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

const WORKFLOW: &str = "name: faults\nsteps:\n  - id: hello\n    action: transform\n    input: {greeting: hello}\n";

fn pilot(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilot")).args(args).env("PILOT_HOME", home).output().expect("pilot starts")
}

/// `pilot` as an unprivileged user (a new user namespace), so that file permissions apply even to root.
fn pilot_unprivileged(home: &Path, args: &[&str]) -> Output {
    Command::new("unshare")
        .arg("--user")
        .arg(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .env("PILOT_HOME", home)
        .output()
        .expect("unshare (util-linux) runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn run_once(home: &Path, dir: &Path) -> Output {
    let file = dir.join("faults.yaml");
    std::fs::write(&file, WORKFLOW).unwrap();
    pilot(home, &["run", file.to_str().unwrap()])
}

#[test]
fn a_run_whose_end_cannot_be_recorded_says_so_in_its_json_and_on_stderr() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    assert!(run_once(home.path(), dir.path()).status.success());
    // The store refuses to record any execution's end, as a full disk would.
    let db = rusqlite::Connection::open(home.path().join("pilot.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER no_room BEFORE UPDATE OF completed_at ON executions WHEN NEW.completed_at IS NOT NULL
         BEGIN SELECT RAISE(ABORT, 'database or disk is full (injected)'); END;",
    )
    .unwrap();
    drop(db);
    let file = dir.path().join("faults.yaml");
    let run = pilot(home.path(), &["--json", "run", file.to_str().unwrap()]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let json: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON on stdout");
    let execution = if json.is_array() { json[0].clone() } else { json };
    assert_eq!(execution["status"], "failed", "{execution:#}");
    let error = execution["error"].as_str().unwrap_or_default();
    assert!(error.contains("could not record the end") && error.contains("disk is full (injected)"), "{error}");
    assert!(text(&run.stderr).contains("could not record the end"), "stderr: {}", text(&run.stderr));
}

#[test]
fn a_read_only_home_says_so_and_its_history_can_still_be_read() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let first = run_once(home.path(), dir.path());
    assert!(first.status.success(), "{}", text(&first.stderr));
    let read_only = |mode: u32| {
        for entry in [home.path().to_owned(), home.path().join("pilot.db"), home.path().join("logs")] {
            std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    read_only(0o555);
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let list = pilot_unprivileged(home.path(), &["executions", "list"]);
    let run = pilot_unprivileged(home.path(), &["run", dir.path().join("faults.yaml").to_str().unwrap()]);
    read_only(0o755);
    assert!(list.status.success(), "{}", text(&list.stderr));
    assert!(text(&list.stdout).contains("faults"), "{}", text(&list.stdout));
    assert!(text(&list.stderr).contains("read-only"), "{}", text(&list.stderr));
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert!(text(&run.stderr).contains("read-only"), "{}", text(&run.stderr));
}

/// Overwrites the first page of an index with noise; the damaged bytes.
fn damage_an_index(database: &Path) -> Vec<u8> {
    let db = rusqlite::Connection::open(database).unwrap();
    let root: i64 = db
        .query_row("SELECT rootpage FROM sqlite_master WHERE name = 'executions_by_start'", [], |row| row.get(0))
        .unwrap();
    drop(db);
    let mut bytes = std::fs::read(database).unwrap();
    let page_size = u16::from_be_bytes([bytes[16], bytes[17]]) as usize;
    let start = (root as usize - 1) * page_size;
    bytes[start..start + page_size].fill(0xA5);
    std::fs::write(database, &bytes).unwrap();
    bytes
}

#[test]
fn damage_after_an_unclean_shutdown_is_refused_before_writing_and_pilot_doctor_repairs_it() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..3 {
        assert!(run_once(home.path(), dir.path()).status.success());
    }
    let database = home.path().join("pilot.db");
    // What a `pilot` process killed with the store open leaves: its marker, with nobody holding its lock.
    std::fs::write(home.path().join("pilot.db.open").join("4242-0"), "").unwrap();
    let damaged = damage_an_index(&database);

    let refused = run_once(home.path(), dir.path());
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    let message = text(&refused.stderr);
    assert!(message.contains("is damaged") && message.contains("pilot doctor --repair"), "{message}");
    assert!(std::fs::read(&database).unwrap() == damaged, "nothing was written into the damaged file");

    let check = pilot(home.path(), &["doctor"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check.stdout));
    let backup = home.path().join("before-repair.db");
    assert!(pilot(home.path(), &["doctor", "--backup", backup.to_str().unwrap()]).status.success());
    let repair = pilot(home.path(), &["doctor", "--repair"]);
    assert!(repair.status.success(), "{}", text(&repair.stderr));
    assert!(text(&repair.stdout).contains("damaged file is kept"), "{}", text(&repair.stdout));
    assert!(pilot(home.path(), &["doctor"]).status.success());
    assert!(run_once(home.path(), dir.path()).status.success(), "runs again after the repair");
    let list = pilot(home.path(), &["--json", "executions", "list"]);
    let listed: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let count = listed.as_array().map(Vec::len).or_else(|| listed["executions"].as_array().map(Vec::len));
    assert_eq!(count, Some(4), "{listed:#}");
}
