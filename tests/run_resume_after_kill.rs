//! Durability: `pilot run` is killed with SIGKILL while its middle step waits; `pilot resume` finishes the
//! execution, and every step's effect happened exactly once.

use executor::store::{ExecutionFilter, ExecutionRecord, SqliteStore, Status, Store, StoreOptions};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WORKFLOW: &str = r#"
name: kill-and-resume
inputs:
  dir:
    type: string
steps:
  - id: one
    action: fs/write
    input:
      path: "${inputs.dir}/ran.txt"
      content: "one\n"
      append: true
  - id: gate
    action: fs/watch
    input:
      path: "${inputs.dir}/gate"
      timeout: 5m
  - id: three
    action: fs/write
    input:
      path: "${inputs.dir}/ran.txt"
      content: "three after ${gate.kind}\n"
      append: true
"#;

const PATIENCE: Duration = Duration::from_secs(60);

fn pilot(pilot_home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pilot"));
    command.env("PILOT_HOME", pilot_home).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn only_execution(store: &SqliteStore, runtime: &tokio::runtime::Runtime) -> Option<ExecutionRecord> {
    let listed = runtime.block_on(store.list_executions(&ExecutionFilter::default())).ok()?;
    let summary = listed.first()?;
    runtime.block_on(store.load_execution(&summary.id)).ok()?
}

fn step_status(record: &ExecutionRecord, id: &str) -> Option<Status> {
    record.steps.iter().find(|s| s.step_id == id).map(|s| s.status)
}

#[test]
fn a_killed_run_resumes_and_every_step_runs_exactly_once() {
    let work = tempfile::tempdir().unwrap();
    let pilot_home = tempfile::tempdir().unwrap();
    std::fs::create_dir(work.path().join("gate")).unwrap();
    let file = work.path().join("kill.yaml");
    std::fs::write(&file, WORKFLOW).unwrap();
    let mut run = pilot(pilot_home.path())
        .arg("run")
        .arg(&file)
        .arg("--var")
        .arg(format!("dir={}", work.path().display()))
        .spawn()
        .unwrap();

    // Wait until the store shows `one` finished and `gate` running, then kill the process outright.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    let store = loop {
        assert!(started.elapsed() < PATIENCE, "the run never reached the gate");
        std::thread::sleep(Duration::from_millis(50));
        if let Ok(store) = SqliteStore::open(pilot_home.path().join("pilot.db"), StoreOptions::default()) {
            let record = only_execution(&store, &runtime);
            if record.as_ref().and_then(|r| step_status(r, "gate")) == Some(Status::Running) {
                assert_eq!(step_status(record.as_ref().unwrap(), "one"), Some(Status::Success));
                break store;
            }
        }
    };
    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();
    let interrupted = only_execution(&store, &runtime).unwrap();
    assert_eq!(interrupted.status, Status::Running, "a killed run leaves its execution running");
    assert_eq!(std::fs::read_to_string(work.path().join("ran.txt")).unwrap(), "one\n");

    // Resume; open the gate (again and again, as the resumed watch starts at some point) until it ends.
    let mut resume = pilot(pilot_home.path()).arg("resume").spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = resume.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < PATIENCE, "the resumed execution never finished");
        std::fs::write(work.path().join("gate/go"), "open").unwrap();
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = resume.wait_with_output().unwrap();
    assert!(status.success(), "resume failed: {}", String::from_utf8_lossy(&output.stdout));

    let lines = std::fs::read_to_string(work.path().join("ran.txt")).unwrap();
    let lines: Vec<&str> = lines.lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0], "one");
    assert!(lines[1].starts_with("three after "), "{lines:?}");
    let finished = only_execution(&store, &runtime).unwrap();
    assert_eq!(finished.id, interrupted.id, "the same execution was continued");
    assert_eq!(finished.status, Status::Success);
    let attempts: Vec<(&str, Status, u32)> =
        finished.steps.iter().map(|s| (s.step_id.as_str(), s.status, s.attempts)).collect();
    assert_eq!(attempts, [("one", Status::Success, 1), ("gate", Status::Success, 1), ("three", Status::Success, 1)]);
    assert_eq!(finished.steps[0].completed_at, interrupted.steps[0].completed_at, "`one` was not run again");
}
