//! The contract every `pilot` command keeps, end to end through the binary: exit statuses (one table, the one
//! `pilot --help` prints), `--json` on every command that reports something (also when it fails), results on
//! stdout and the rest on stderr, colour rules, the live view on a narrow terminal, and a brand-new `PILOT_HOME`
//! opened by many processes at once.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use support::pty;

fn pilot(home: &Path, args: &[&str]) -> Output {
    pilot_command(home, args).output().unwrap()
}

fn pilot_command(home: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pilot"));
    command.args(args).env("PILOT_HOME", home).env_remove("NO_COLOR").env_remove("RUST_LOG");
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SUCCEEDS: &str = "name: fine\nsteps:\n  - id: greet\n    action: log\n    input:\n      message: hello\n";
const FAILS: &str =
    "name: broken\nsteps:\n  - id: read\n    action: fs/read\n    input:\n      path: /nonexistent/pilot-test/file\n";
const INVALID: &str = "name: invalid\nsteps:\n  - id: greet\n    action: log\n    input:\n      mesage: hello\n";

/// A home with three workflow files beside it, and one finished execution in its store.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        for (name, yaml) in [("succeeds.yaml", SUCCEEDS), ("fails.yaml", FAILS), ("invalid.yaml", INVALID)] {
            std::fs::write(dir.path().join(name), yaml).unwrap();
        }
        let fixture = Fixture { dir };
        let ran = pilot(fixture.home(), &["run", fixture.file("succeeds.yaml").to_str().unwrap()]);
        assert_eq!(ran.status.code(), Some(0), "{}", text(&ran.stderr));
        fixture
    }

    fn home(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `@NAME` stands for the path of fixture file NAME.
    fn args(&self, args: &[&'static str]) -> Vec<String> {
        args.iter()
            .map(|arg| match arg.strip_prefix('@') {
                Some(name) => self.file(name).display().to_string(),
                None => (*arg).to_owned(),
            })
            .collect()
    }

    fn run(&self, args: &[&'static str]) -> Output {
        let args = self.args(args);
        pilot(self.home(), &args.iter().map(String::as_str).collect::<Vec<_>>())
    }
}

/// Every command, with the status the contract gives it: 0 success, 1 ran and failed, 2 nothing ran.
const STATUS_TABLE: &[(&[&str], i32)] = &[
    (&["run", "@succeeds.yaml"], 0),
    (&["run", "@fails.yaml"], 1),
    (&["run", "@invalid.yaml"], 2),
    (&["run", "@missing.yaml"], 2),
    (&["run", "@succeeds.yaml", "--input", "not json"], 2),
    (&["compile", "@succeeds.yaml"], 0),
    (&["compile", "@invalid.yaml"], 2),
    (&["compile", "@missing.yaml"], 2),
    (&["check", "@succeeds.yaml"], 0),
    (&["check", "@invalid.yaml"], 1),
    (&["check", "@missing.yaml"], 2),
    (&["schema"], 0),
    (&["explain", "E0101"], 0),
    (&["explain"], 0),
    (&["explain", "E9999"], 2),
    (&["executions", "list"], 0),
    (&["executions", "show", "ffffffff"], 2),
    (&["logs", "ffffffff"], 2),
    (&["connectors", "list"], 0),
    (&["connectors", "remove", "nothing-here"], 2),
    (&["connectors", "install", "@missing-folder"], 2),
    (&["resume"], 0),
    (&["resume", "ffffffff"], 2),
    (&["cancel", "ffffffff"], 2),
    (&["retry", "ffffffff"], 2),
    (&["credentials", "list"], 0),
    (&["credentials", "rm", "nothing_here"], 2),
    (&["credentials", "set", "9bad name", "--provider", "bearer"], 2),
    (&["doctor"], 0),
    (&["doctor", "--backup", "@missing-dir/x.db"], 1),
    (&["store", "migrate", "--to", "/srv/pilot.db"], 2),
    (&["status"], 0),
    (&["workflows", "list"], 0),
    (&["workflows", "show", "no-such-workflow"], 2),
    (&["serve", "--addr", "0.0.0.0:0"], 2),
    (&["completions", "bash"], 0),
    (&["man"], 0),
    (&["no-such-command"], 2),
    (&["run"], 2),
];

#[test]
fn every_command_exits_with_the_status_of_the_table() {
    let fixture = Fixture::new();
    for (args, expected) in STATUS_TABLE {
        let output = fixture.run(args);
        assert_eq!(output.status.code(), Some(*expected), "pilot {args:?}\nstderr: {}", text(&output.stderr));
    }
}

#[test]
fn the_help_prints_the_exit_statuses_and_pilot_home() {
    let output = pilot(Path::new("/nonexistent"), &["--help"]);
    let help = text(&output.stdout);
    for line in ["0    success", "1    the work ran and failed", "2    nothing ran", "130  interrupted", "PILOT_HOME"] {
        assert!(help.contains(line), "`{line}` missing from --help:\n{help}");
    }
}

/// Commands that report something, with `--json`: stdout is one JSON document whether they succeed or fail.
#[test]
fn with_json_every_reporting_command_prints_one_json_document() {
    let fixture = Fixture::new();
    for (args, expected) in STATUS_TABLE {
        if matches!(args[0], "completions" | "man" | "no-such-command") || args == &["run"] {
            continue; // Scripts, a manual page and clap's usage errors are not reports.
        }
        let mut with_json = args.to_vec();
        with_json.push("--json");
        let output = fixture.run(&with_json);
        assert_eq!(output.status.code(), Some(*expected), "pilot {with_json:?}: {}", text(&output.stderr));
        let stdout = text(&output.stdout);
        let document: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|err| panic!("pilot {with_json:?} printed no JSON ({err}):\n{stdout}"));
        if *expected == 2 && args[0] != "check" {
            assert!(document["error"].is_string(), "pilot {with_json:?}: {document}");
        }
    }
}

#[test]
fn run_json_of_a_workflow_that_does_not_compile_carries_its_diagnostics() {
    let fixture = Fixture::new();
    let output = fixture.run(&["run", "@invalid.yaml", "--json"]);
    assert_eq!(output.status.code(), Some(2));
    let document: serde_json::Value = serde_json::from_str(&text(&output.stdout)).unwrap();
    let typo = document["diagnostics"].as_array().unwrap().iter().find(|d| d["code"] == "E0211");
    assert_eq!(typo.map(|d| (d["line"].clone(), d["column"].clone())), Some((6.into(), 7.into())), "{document}");
    assert!(text(&output.stderr).contains("error[E0211]"), "people read them on stderr too");
}

#[test]
fn json_output_of_each_command_names_what_it_did() {
    let fixture = Fixture::new();
    let listed: serde_json::Value =
        serde_json::from_str(&text(&fixture.run(&["executions", "list", "--json"]).stdout)).unwrap();
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let logs = pilot(fixture.home(), &["logs", &id, "--json"]);
    let lines: serde_json::Value = serde_json::from_str(&text(&logs.stdout)).unwrap();
    let logged = lines.as_array().unwrap().iter().find(|line| line["step_id"] == "greet" && line["message"] == "hello");
    assert!(logged.is_some(), "the log action's line, with its step: {lines}");

    let explained: serde_json::Value =
        serde_json::from_str(&text(&fixture.run(&["explain", "E0101", "--json"]).stdout)).unwrap();
    assert_eq!(explained["code"], "E0101");
    assert!(explained["explanation"].as_str().unwrap().contains("Wrong:"));

    let cancelled = pilot(fixture.home(), &["cancel", &id, "--json"]);
    assert_eq!(cancelled.status.code(), Some(1), "it already finished");
    let answer: serde_json::Value = serde_json::from_str(&text(&cancelled.stdout)).unwrap();
    assert!(answer["error"].as_str().unwrap().contains("already finished"), "{answer}");

    let mut set = pilot_command(fixture.home(), &["credentials", "set", "hook", "--provider", "webhook", "--json"]);
    set.env("PILOT_MASTER_KEY", "a test master key of enough length").stdin(Stdio::piped());
    let mut child = set.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"s3cret-signing-key\n").unwrap();
    let stored = child.wait_with_output().unwrap();
    assert_eq!(stored.status.code(), Some(0), "{}", text(&stored.stderr));
    let stored: serde_json::Value = serde_json::from_str(&text(&stored.stdout)).unwrap();
    assert_eq!((stored["name"].as_str(), stored["provider"].as_str()), (Some("hook"), Some("hmac")));
    assert!(!stored.to_string().contains("s3cret"));
    let removed: serde_json::Value =
        serde_json::from_str(&text(&fixture.run(&["credentials", "rm", "hook", "--json"]).stdout)).unwrap();
    assert_eq!(removed, serde_json::json!({"name": "hook", "removed": true}));

    let installed = fixture.run(&["connectors", "install", "examples/connectors/wordcount", "--json"]);
    let installed: serde_json::Value = serde_json::from_str(&text(&installed.stdout)).unwrap();
    assert_eq!(installed["id"], "wordcount");
    let removed: serde_json::Value =
        serde_json::from_str(&text(&fixture.run(&["connectors", "remove", "wordcount", "--json"]).stdout)).unwrap();
    assert_eq!(removed, serde_json::json!({"id": "wordcount", "removed": true}));
}

#[test]
fn results_go_to_stdout_and_progress_to_stderr() {
    let fixture = Fixture::new();
    let output = fixture.run(&["run", "@succeeds.yaml"]);
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(stdout.starts_with("execution ") && stdout.contains(" success in "), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "only the result: {stdout}");
    assert!(stderr.contains("running fine") && stderr.contains("greet success"), "{stderr}");
    assert!(stderr.contains("INFO [greet] hello"), "log lines show as they are written: {stderr}");
    let quiet = fixture.run(&["run", "@succeeds.yaml", "-q"]);
    assert_eq!(text(&quiet.stderr), "", "--quiet shows no progress");
}

#[test]
fn an_execution_is_found_by_the_end_of_its_id() {
    let fixture = Fixture::new();
    let listed: serde_json::Value =
        serde_json::from_str(&text(&fixture.run(&["executions", "list", "--json"]).stdout)).unwrap();
    let id = listed[0]["id"].as_str().unwrap();
    let suffix = &id[id.len() - 8..];
    let shown = pilot(fixture.home(), &["executions", "show", suffix, "--json"]);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    let shown: serde_json::Value = serde_json::from_str(&text(&shown.stdout)).unwrap();
    assert_eq!(shown["id"], id);
}

#[test]
fn completions_and_the_manual_page_are_generated_from_the_commands() {
    let home = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish"] {
        let script = text(&pilot(home.path(), &["completions", shell]).stdout);
        assert!(script.contains("executions") && script.contains("credentials"), "{shell}: {script}");
    }
    let page = text(&pilot(home.path(), &["man"]).stdout);
    assert!(page.starts_with(".ie") || page.contains(".TH pilot"), "{page}");
}

#[test]
fn colour_follows_the_flag_and_no_color() {
    let fixture = Fixture::new();
    let forced = fixture.run(&["check", "@invalid.yaml", "--color", "always"]);
    assert!(text(&forced.stdout).contains("\x1b["), "--color always colours even a pipe");
    let piped = fixture.run(&["check", "@invalid.yaml"]);
    assert!(!text(&piped.stdout).contains('\x1b'), "auto: no colour into a pipe");

    // On a terminal: colour by default, none with NO_COLOR, for `check` (stdout) and `compile` (stderr).
    let invalid = fixture.file("invalid.yaml").display().to_string();
    for args in [["check", invalid.as_str()], ["compile", invalid.as_str()]] {
        let coloured = pty::run(pilot_command(fixture.home(), &args), 100, 40);
        assert!(coloured.contains("\x1b[1;31m") || coloured.contains("\x1b[31m"), "{args:?}: {coloured:?}");
        let mut plain = pilot_command(fixture.home(), &args);
        plain.env("NO_COLOR", "1");
        let plain = pty::run(plain, 100, 40);
        assert!(!plain.contains('\x1b'), "{args:?} with NO_COLOR: {plain:?}");
    }
}

/// Steps that take long enough to be drawn as spinners, long log lines and a loop, on a 30-column terminal.
const BUSY: &str = r#"name: busy
steps:
  - id: first_step_with_a_rather_long_name
    action: shell/exec
    input:
      command: sleep
      args: ["0.4"]
  - id: chatty
    action: log
    needs: [first_step_with_a_rather_long_name]
    input:
      message: "a log line much wider than the terminal it is shown on, which must wrap and not be redrawn"
  - id: each
    action: shell/exec
    loop: "${[1, 2, 3]}"
    needs: [chatty]
    input:
      command: sleep
      args: ["0.3"]
"#;

#[test]
fn the_live_view_leaves_a_clean_screen_on_a_narrow_terminal() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("busy.yaml");
    std::fs::write(&file, BUSY).unwrap();
    let columns = 30;
    let screen = pty::run(pilot_command(home.path(), &["run", file.to_str().unwrap()]), columns, 200);
    let mut parser = vt100::Parser::new(200, columns, 0);
    parser.process(screen.as_bytes());
    let shown = parser.screen().contents();
    let spinner_left = shown.chars().any(|c| ('⠁'..='⣿').contains(&c));
    assert!(!spinner_left, "no spinner line stays behind:\n{shown}");
    let joined: String = shown.lines().map(str::trim_end).collect();
    for finished in ["first_step_with_a_rather_long_name success", "chatty success", "each success"] {
        assert_eq!(joined.matches(finished).count(), 1, "`{finished}` once:\n{shown}");
    }
    assert_eq!(joined.matches("which must wrap and not be redrawn").count(), 1, "{shown}");
    assert!(joined.contains("execution ") && joined.contains("success in"), "{shown}");
}

#[test]
fn sixteen_processes_can_open_a_brand_new_home_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("succeeds.yaml");
    std::fs::write(&workflow, SUCCEEDS).unwrap();
    let home = dir.path().join("new-home");
    let children: Vec<_> =
        (0..16).map(|_| pilot_command(&home, &["run", workflow.to_str().unwrap(), "-q"]).spawn().unwrap()).collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    }
    let listed = pilot(&home, &["executions", "list", "--json"]);
    let listed: serde_json::Value = serde_json::from_str(&text(&listed.stdout)).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 16);
}

#[test]
fn ctrl_c_cancels_the_run_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let workflow = dir.path().join("slow.yaml");
    let yaml = "name: slow\nsteps:\n  - id: wait\n    action: shell/exec\n    input:\n      command: sleep\n      args: [\"30\"]\n";
    std::fs::write(&workflow, yaml).unwrap();
    let child = pilot_command(dir.path(), &["run", workflow.to_str().unwrap()]).spawn().unwrap();
    support::wait_for_step_running(dir.path(), "wait");
    // SAFETY: signalling our own child process.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("cancelled"), "{}", text(&output.stdout));
}
