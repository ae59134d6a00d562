//! The commands that talk to the daemon, end to end: a real `pilot serve --addr 127.0.0.1:0` on a temporary
//! PILOT_HOME (stopped with SIGTERM), then `pilot status`, `pilot workflows ...` and `pilot run NAME` against it;
//! what they do without one; and the systemd unit `pilot service install` writes.

mod support;

use serde_json::Value;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const HELLO: &str = "\
name: hello
inputs:
  who: {type: string, default: world}
  count: {type: int, default: 1}
triggers:
  - type: schedule
    cron: \"0 0 1 1 *\"
steps:
  - id: greet
    action: log
    input: {message: \"hello ${inputs.who} x${inputs.count}\"}
";
const FAILS: &str = "\
name: fails
steps:
  - id: read
    action: fs/read
    input: {path: /nonexistent/pilot-test/file}
";
const SLOW: &str = "\
name: slow
steps:
  - id: wait
    action: shell/exec
    input: {command: sleep, args: [\"30\"]}
";

fn pilot_command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pilot"));
    command.args(args).env("PILOT_HOME", home).env_remove("RUST_LOG");
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn pilot(home: &Path, args: &[&str]) -> Output {
    pilot_command(home, args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The command's stdout as JSON, after checking its exit status.
fn json_of(output: &Output, status: i32) -> Value {
    assert_eq!(
        output.status.code(),
        Some(status),
        "stdout: {}\nstderr: {}",
        text(&output.stdout),
        text(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}: {}", text(&output.stdout)))
}

/// A PILOT_HOME whose workflows folder holds hello, fails and slow.
fn home() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join("workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    for (name, yaml) in [("hello.yaml", HELLO), ("fails.yaml", FAILS), ("slow.yaml", SLOW)] {
        std::fs::write(workflows.join(name), yaml).unwrap();
    }
    dir
}

fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, signal) };
}

/// `pilot serve` on a port the system chooses; stopped with SIGTERM when dropped.
struct Daemon {
    child: Option<Child>,
    url: String,
}

impl Daemon {
    fn start(home: &Path) -> Daemon {
        let mut child = pilot_command(home, &["serve", "--addr", "127.0.0.1:0", "--json"]).spawn().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        if line.is_empty() {
            let output = child.wait_with_output().unwrap();
            panic!("pilot serve did not start: {}", text(&output.stderr));
        }
        let ready: Value = serde_json::from_str(&line).unwrap();
        Daemon { url: ready["url"].as_str().unwrap().to_owned(), child: Some(child) }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGTERM, then its exit status.
    fn stop(mut self) -> Option<i32> {
        let child = self.child.take().unwrap();
        signal(&child, libc::SIGTERM);
        child.wait_with_output().unwrap().status.code()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, libc::SIGTERM);
            let _ = child.wait();
        }
    }
}

fn latest_execution(home: &Path) -> Value {
    let listed = json_of(&pilot(home, &["executions", "list", "--limit", "1", "--json"]), 0);
    listed[0].clone()
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[test]
fn status_and_workflow_listings_come_from_the_running_daemon_with_each_triggers_next_fire() {
    let home = home();
    let daemon = Daemon::start(home.path());

    let status = json_of(&pilot(home.path(), &["status", "--json"]), 0);
    assert_eq!(status["running"], true);
    assert_eq!(status["url"], daemon.url.as_str());
    assert_eq!(status["pid"], daemon.pid());
    assert_eq!(status["health"]["status"], "ok");
    let hello = status["workflows"].as_array().unwrap().iter().find(|w| w["name"] == "hello").unwrap();
    let next = hello["triggers"][0]["next_fire"].as_str().expect("a schedule has a next fire time");
    assert!(next.ends_with("-01-01T00:00:00.000000Z"), "{next}");

    let shown = pilot(home.path(), &["status"]);
    let shown = text(&shown.stdout);
    assert!(shown.contains(&format!("running at {}", daemon.url)), "{shown}");
    assert!(shown.lines().any(|l| l.starts_with("hello") && l.contains("0 0 1 1 *") && l.contains("-01-01 00:00:00")));

    let listed = json_of(&pilot(home.path(), &["workflows", "list", "--json"]), 0);
    let mut names: Vec<&str> = listed.as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, ["fails", "hello", "slow"]);

    let detail = json_of(&pilot(home.path(), &["workflows", "show", "hello", "--json"]), 0);
    assert_eq!(detail["source"], HELLO);
    assert_eq!(detail["triggers"][0]["type"], "schedule");
    let shown = text(&pilot(home.path(), &["workflows", "show", "hello"]).stdout);
    assert!(shown.contains("enabled      yes") && shown.contains("0 0 1 1 *"), "{shown}");

    let unknown = pilot(home.path(), &["workflows", "show", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("no workflow named `nope`"), "{}", text(&unknown.stderr));

    assert_eq!(daemon.stop(), Some(0));
    let after = json_of(&pilot(home.path(), &["status", "--json"]), 0);
    assert_eq!(after["running"], false, "the lock file left behind is held by nobody");
}

#[test]
fn run_name_runs_in_the_daemon_and_exits_by_how_the_execution_ended() {
    let home = home();
    let daemon = Daemon::start(home.path());

    let ran = pilot(home.path(), &["run", "hello", "--var", "who=ada", "--var", "count=3"]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
    let (stdout, stderr) = (text(&ran.stdout), text(&ran.stderr));
    assert!(stderr.contains(&format!("queued in the daemon at {}", daemon.url)), "{stderr}");
    assert!(stderr.contains("hello ada x3"), "the live view shows the daemon's log lines: {stderr}");
    assert!(stderr.contains("✓ greet success"), "{stderr}");
    assert!(stdout.starts_with("execution ") && stdout.contains(" success in "), "{stdout}");
    let recorded = latest_execution(home.path());
    assert_eq!((&recorded["workflow"], &recorded["status"]), (&Value::from("hello"), &Value::from("success")));

    let remote = json_of(&pilot(home.path(), &["run", "hello", "--json"]), 0);
    let file = home.path().join("workflows/hello.yaml");
    let local = json_of(&pilot(home.path(), &["run", file.to_str().unwrap(), "--json"]), 0);
    assert_eq!(keys(&remote), keys(&local), "the same document as a local run");
    assert_eq!(keys(&remote["steps"][0]), keys(&local["steps"][0]));
    assert_eq!(remote["steps"][0]["input"], local["steps"][0]["input"]);

    let failed = pilot(home.path(), &["run", "fails"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert!(text(&failed.stdout).contains(" failed in "), "{}", text(&failed.stdout));
    let failed = json_of(&pilot(home.path(), &["run", "fails", "--json"]), 1);
    assert_eq!(failed["status"], "failed");
    assert!(failed["error"].as_str().unwrap().contains("read"), "{failed}");
    drop(daemon);
}

#[test]
fn inputs_the_daemon_refuses_and_unknown_or_disabled_workflows_run_nothing_and_exit_2() {
    let home = home();
    let _daemon = Daemon::start(home.path());

    let wrong = pilot(home.path(), &["run", "hello", "--var", "count=many"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("count"), "the daemon's 422 message: {}", text(&wrong.stderr));
    let wrong = json_of(&pilot(home.path(), &["run", "hello", "--input", "{\"count\": \"many\"}", "--json"]), 2);
    assert_eq!(wrong["exit_code"], 2);
    assert!(wrong["error"].as_str().unwrap().contains("count"), "{wrong}");

    let unknown = pilot(home.path(), &["run", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(text(&unknown.stderr).contains("no workflow named `nope`"), "{}", text(&unknown.stderr));

    let disabled = json_of(&pilot(home.path(), &["workflows", "disable", "hello", "--json"]), 0);
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["triggers"][0]["next_fire"], Value::Null, "a disabled schedule does not fire");
    let refused = pilot(home.path(), &["run", "hello"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("disabled"), "{}", text(&refused.stderr));

    let enabled = pilot(home.path(), &["workflows", "enable", "hello"]);
    assert_eq!(text(&enabled.stdout), "workflow hello enabled\n");
    assert_eq!(pilot(home.path(), &["run", "hello"]).status.code(), Some(0));
    let executions = json_of(&pilot(home.path(), &["executions", "list", "--json"]), 0);
    assert_eq!(executions.as_array().unwrap().len(), 1, "only the last run was accepted: {executions}");
}

#[test]
fn ctrl_c_cancels_the_execution_in_the_daemon_and_exits_130() {
    let home = home();
    let _daemon = Daemon::start(home.path());
    let run = pilot_command(home.path(), &["run", "slow"]).spawn().unwrap();
    support::wait_for_step_running(home.path(), "wait");
    signal(&run, libc::SIGINT);
    let output = run.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    assert!(text(&output.stderr).contains("cancelling execution"), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains(" cancelled"), "{}", text(&output.stdout));
    let recorded = latest_execution(home.path());
    assert_eq!((&recorded["workflow"], &recorded["status"]), (&Value::from("slow"), &Value::from("cancelled")));
}

#[test]
fn pilot_cancel_of_an_execution_the_daemon_runs_has_the_daemon_stop_it() {
    let home = home();
    let _daemon = Daemon::start(home.path());
    let run = pilot_command(home.path(), &["run", "slow"]).spawn().unwrap();
    support::wait_for_step_running(home.path(), "wait");
    let id = latest_execution(home.path())["id"].as_str().unwrap().to_owned();
    let cancelled = pilot(home.path(), &["cancel", &id]);
    assert_eq!(text(&cancelled.stdout), format!("execution {id} cancelled\n"), "{}", text(&cancelled.stderr));
    let output = run.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1), "cancelled elsewhere is a failed run: {}", text(&output.stderr));
    assert!(text(&output.stderr).contains("⊘ wait cancelled"), "the step itself stopped: {}", text(&output.stderr));
}

#[test]
fn without_a_daemon_a_name_fails_naming_pilot_serve_while_listings_read_the_folder() {
    let home = home();
    let refused = pilot(home.path(), &["run", "hello"]);
    assert_eq!(refused.status.code(), Some(2));
    let said = text(&refused.stderr);
    assert!(said.contains("no daemon is running") && said.contains("`pilot serve`"), "{said}");
    let file = home.path().join("workflows/hello.yaml");
    assert!(said.contains(&format!("pilot run {}", file.display())), "names the file to run instead: {said}");
    let refused = json_of(&pilot(home.path(), &["run", "hello", "--json"]), 2);
    assert_eq!(refused["exit_code"], 2);

    let status = pilot(home.path(), &["status"]);
    assert_eq!(status.status.code(), Some(0));
    assert!(text(&status.stdout).starts_with("daemon     not running"), "{}", text(&status.stdout));

    let listed = pilot(home.path(), &["workflows", "list", "--json"]);
    assert!(text(&listed.stderr).contains("no daemon answered"), "{}", text(&listed.stderr));
    let listed = json_of(&listed, 0);
    let hello = listed.as_array().unwrap().iter().find(|w| w["name"] == "hello").unwrap();
    assert_eq!((&hello["enabled"], &hello["triggers"][0]["next_fire"]), (&Value::Bool(true), &Value::Null));

    let disabled = pilot(home.path(), &["workflows", "disable", "hello"]);
    assert_eq!(text(&disabled.stdout), "workflow hello disabled\n", "{}", text(&disabled.stderr));
    assert_eq!(pilot(home.path(), &["workflows", "disable", "nope"]).status.code(), Some(2));

    let _daemon = Daemon::start(home.path());
    let shown = json_of(&pilot(home.path(), &["workflows", "show", "hello", "--json"]), 0);
    assert_eq!(shown["enabled"], false, "the daemon read the flag at its start");
}

#[test]
fn the_api_token_is_sent_when_one_exists() {
    let home = home();
    let created = pilot(home.path(), &["token", "create"]);
    assert_eq!(created.status.code(), Some(0));
    let _daemon = Daemon::start(home.path());
    assert_eq!(pilot(home.path(), &["run", "hello"]).status.code(), Some(0));

    std::fs::write(home.path().join("api-token"), "not-the-token").unwrap();
    let refused = pilot(home.path(), &["workflows", "list"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("Authorization: Bearer"), "{}", text(&refused.stderr));
}

fn unit_file(config: &Path) -> PathBuf {
    config.join("systemd/user/pilot.service")
}

#[test]
fn service_install_writes_a_user_unit_running_this_pilot_for_this_home() {
    let home = home();
    let config = tempfile::tempdir().unwrap();
    let install = |args: &[&str], path: &str| {
        let mut command = pilot_command(home.path(), args);
        command.env("XDG_CONFIG_HOME", config.path()).env("PATH", path);
        command.output().unwrap()
    };
    let written = json_of(&install(&["service", "install", "--no-start", "--json"], "/usr/bin:/bin"), 0);
    let unit = unit_file(config.path());
    assert_eq!(written, serde_json::json!({"unit_file": unit.display().to_string(), "started": false}));
    let text_of_unit = std::fs::read_to_string(&unit).unwrap();
    let program = std::fs::canonicalize(env!("CARGO_BIN_EXE_pilot")).unwrap();
    for line in [
        format!("ExecStart=\"{}\" serve", program.display()),
        format!("Environment=\"PILOT_HOME={}\"", home.path().display()),
        "Environment=\"PATH=/usr/bin:/bin\"".to_owned(),
        "Restart=on-failure".to_owned(),
        "WantedBy=default.target".to_owned(),
    ] {
        assert!(text_of_unit.lines().any(|l| l == line), "missing `{line}` in:\n{text_of_unit}");
    }

    // No systemctl on this PATH: it says so, and the unit stays written.
    let empty = tempfile::tempdir().unwrap();
    let failed = install(&["service", "install"], empty.path().to_str().unwrap());
    assert_eq!(failed.status.code(), Some(1));
    let said = text(&failed.stderr);
    assert!(said.contains("systemctl is not installed") && said.contains("enable --now pilot.service"), "{said}");
    assert!(unit.exists());

    let removed = install(&["service", "uninstall", "--no-stop"], "/usr/bin:/bin");
    assert_eq!(text(&removed.stdout), format!("removed {}\n", unit.display()));
    assert!(!unit.exists());
    let again = install(&["service", "uninstall", "--no-stop"], "/usr/bin:/bin");
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again.stdout).contains("nothing to remove"), "{}", text(&again.stdout));
}
