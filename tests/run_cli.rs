//! `pilot run`, `cancel`, `retry` and `resume` end to end through the binary, with a temporary PILOT_HOME.

use executor::store::{ExecutionFilter, ExecutionRecord, SqliteStore, Status, Store, StoreOptions};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(60);

fn pilot(home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pilot"));
    command.env("PILOT_HOME", home).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn workflow_file(dir: &Path, name: &str, yaml: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, yaml).unwrap();
    path
}

struct StoreView {
    store: SqliteStore,
    runtime: tokio::runtime::Runtime,
}

impl StoreView {
    /// `None` while the database is still being created by the process under test.
    fn open(home: &Path) -> Option<StoreView> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Some(StoreView { store: SqliteStore::open(home.join("pilot.db"), StoreOptions::default()).ok()?, runtime })
    }

    fn latest(&self) -> Option<ExecutionRecord> {
        let listed = self.runtime.block_on(self.store.list_executions(&ExecutionFilter::default())).ok()?;
        self.runtime.block_on(self.store.load_execution(&listed.first()?.id)).ok()?
    }
}

/// Waits until the latest execution has `step` running.
fn wait_for_running_step(home: &Path, step: &str) -> (StoreView, ExecutionRecord) {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < PATIENCE, "step `{step}` never started");
        std::thread::sleep(Duration::from_millis(50));
        let Some(view) = StoreView::open(home) else { continue };
        if let Some(record) = view.latest()
            && record.steps.iter().any(|s| s.step_id == step && s.status == Status::Running)
        {
            return (view, record);
        }
    }
}

fn finish(child: Child) -> Output {
    child.wait_with_output().unwrap()
}

#[test]
fn a_workflow_that_does_not_compile_exits_2_with_the_diagnostics_and_runs_nothing() {
    let home = tempfile::tempdir().unwrap();
    let file = workflow_file(
        home.path(),
        "broken.yaml",
        "name: broken\nsteps:\n  - id: a\n    action: fs/lsit\n    input: {path: /tmp}\n",
    );
    let output = pilot(home.path()).arg("run").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("unknown action `fs/lsit`") && stderr.contains("broken.yaml:4:"), "{stderr}");
    assert!(stderr.contains("fs/list"), "the hint suggests the right name: {stderr}");
}

#[test]
fn a_missing_required_input_exits_2_naming_it() {
    let home = tempfile::tempdir().unwrap();
    let yaml = "name: greet\ninputs:\n  who:\n    type: string\nsteps:\n  - id: a\n    action: log\n    input: {message: \"hi ${inputs.who}\"}\n";
    let file = workflow_file(home.path(), "greet.yaml", yaml);
    let output = pilot(home.path()).arg("run").arg(&file).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("missing required input `who` (type string)"), "{}", text(&output.stderr));
    let output = pilot(home.path()).arg("run").arg(&file).args(["--var", "who=you", "--json"]).output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed["steps"][0]["input"], serde_json::json!({"message": "hi you"}));
}

const SLEEPY: &str = r#"
name: sleepy
steps:
  - id: nap
    action: sleep
    input: {duration: 1h}
  - id: after
    action: log
    needs: nap
    input: {message: "woke up"}
"#;

#[test]
fn pilot_cancel_stops_a_run_in_another_process() {
    let home = tempfile::tempdir().unwrap();
    let file = workflow_file(home.path(), "sleepy.yaml", SLEEPY);
    let run = pilot(home.path()).arg("run").arg(&file).spawn().unwrap();
    let (view, record) = wait_for_running_step(home.path(), "nap");
    let cancel = pilot(home.path()).args(["cancel", &record.id[..13]]).output().unwrap();
    assert_eq!(cancel.status.code(), Some(0), "{}", text(&cancel.stderr));
    assert_eq!(text(&cancel.stdout).trim(), format!("execution {} cancelled", record.id));
    let output = finish(run);
    assert_eq!(output.status.code(), Some(1), "a cancelled run exits 1");
    let record = view.latest().unwrap();
    assert_eq!(record.status, Status::Cancelled);
    assert_eq!(
        record.steps.iter().map(|s| (s.step_id.as_str(), s.status)).collect::<Vec<_>>(),
        [("nap", Status::Cancelled)]
    );
    let again = pilot(home.path()).args(["cancel", &record.id]).output().unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("already finished (cancelled)"));
}

#[test]
fn cancelling_an_interrupted_execution_marks_it_so_resume_leaves_it_alone() {
    let home = tempfile::tempdir().unwrap();
    let file = workflow_file(home.path(), "sleepy.yaml", SLEEPY);
    let mut run = pilot(home.path()).arg("run").arg(&file).spawn().unwrap();
    let (view, record) = wait_for_running_step(home.path(), "nap");
    run.kill().unwrap();
    run.wait().unwrap();
    let cancel = pilot(home.path()).args(["cancel", &record.id]).output().unwrap();
    assert_eq!(cancel.status.code(), Some(0), "{}", text(&cancel.stderr));
    assert_eq!(view.latest().unwrap().status, Status::Cancelled);
    let resume = pilot(home.path()).arg("resume").output().unwrap();
    assert_eq!(resume.status.code(), Some(0));
    assert_eq!(text(&resume.stdout).trim(), "nothing to resume");
}

#[test]
fn pilot_retry_reruns_the_failed_step_in_a_new_execution_reusing_the_first() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().display().to_string();
    let yaml = format!(
        r#"
name: needs-flag
steps:
  - id: first
    action: fs/write
    input: {{path: "{dir}/log.txt", content: "first\n", append: true}}
  - id: check
    action: fs/read
    input: {{path: "{dir}/flag.txt"}}
  - id: last
    action: fs/write
    input: {{path: "{dir}/log.txt", content: "last saw ${{check.content}}\n", append: true}}
"#
    );
    let file = workflow_file(home.path(), "flag.yaml", &yaml);
    let failed = pilot(home.path()).arg("run").arg(&file).arg("--json").output().unwrap();
    assert_eq!(failed.status.code(), Some(1));
    let failed: serde_json::Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(failed["steps"][1]["status"], "failed");

    std::fs::write(home.path().join("flag.txt"), "the flag").unwrap();
    let old_id = failed["id"].as_str().unwrap();
    let retried = pilot(home.path()).args(["retry", old_id, "--json"]).output().unwrap();
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    let retried: serde_json::Value = serde_json::from_slice(&retried.stdout).unwrap();
    assert_ne!(retried["id"], failed["id"]);
    assert_eq!(retried["status"], "success");
    assert_eq!(retried["steps"][0], failed["steps"][0], "`first` was reused, record and all");
    let log = std::fs::read_to_string(home.path().join("log.txt")).unwrap();
    assert_eq!(log, "first\nlast saw the flag\n", "`first` ran once in all");
}

#[test]
fn a_log_step_writes_its_message_to_the_execution_log_in_step_order() {
    let home = tempfile::tempdir().unwrap();
    let yaml = "name: say\nsteps:\n  - id: greet\n    action: log\n    input:\n      message: \"hello from ${1 + 1} steps\"\n      level: warn\n  - id: data\n    action: log\n    input:\n      message: {n: 3}\n";
    let file = workflow_file(home.path(), "say.yaml", yaml);
    let run = pilot(home.path()).arg("run").arg(&file).arg("--json").output().unwrap();
    assert_eq!(run.status.code(), Some(0), "{}{}", text(&run.stdout), text(&run.stderr));
    let execution: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let id = execution["id"].as_str().unwrap();

    let logs = pilot(home.path()).args(["logs", id]).output().unwrap();
    assert_eq!(logs.status.code(), Some(0), "{}", text(&logs.stderr));
    let log = text(&logs.stdout);
    let position = |needle: &str| log.find(needle).unwrap_or_else(|| panic!("no `{needle}` in:\n{log}"));
    let said = position("WARN  [greet] hello from 2 steps\n");
    assert!(position("[greet] started") < said && said < position("[greet] success"), "{log}");
    assert!(position("INFO  [data] {\"n\":3}\n") > position("[data] started"), "{log}");
    let file = home.path().join("logs").join(format!("{id}.log"));
    assert_eq!(std::fs::read_to_string(file).unwrap(), log, "`pilot logs` prints the log file");
}

#[test]
fn a_file_outside_the_workflows_folder_never_replaces_the_stored_definition_of_its_name() {
    let home = tempfile::tempdir().unwrap();
    let workflows = home.path().join("workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let managed = workflow_file(
        &workflows,
        "hello.yaml",
        "name: hello\nsteps:\n  - id: a\n    action: log\n    input:\n      message: managed\n",
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let copy = workflow_file(
        elsewhere.path(),
        "hello.yaml",
        "name: hello\nsteps:\n  - id: a\n    action: log\n    input:\n      message: a copy\n",
    );
    for file in [&managed, &copy] {
        let output = pilot(home.path()).args(["run", file.to_str().unwrap()]).output().unwrap();
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let db = rusqlite::Connection::open(home.path().join("pilot.db")).unwrap();
    let definition: String =
        db.query_row("SELECT definition FROM workflows WHERE id = 'hello'", [], |row| row.get(0)).unwrap();
    assert!(definition.contains("managed"), "the copy did not replace it: {definition}");
    let names: Vec<String> = db
        .prepare("SELECT workflow_name FROM executions")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(names, ["hello", "hello"], "both runs are recorded under the workflow's name");
}
