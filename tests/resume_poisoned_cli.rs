//! One poisoned execution never blocks the others: an execution whose every resume kills the `pilot` process
//! (a custom connector that kills its parent, as a crash would) is given up after a bounded number of tries and
//! recorded failed, and an unrelated interrupted execution still gets resumed.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Output};

/// `crasher/crash_parent {when}`: kills its parent (the `pilot` process) with SIGKILL if the file `when` exists.
const MANIFEST: &str = r#"{
  "id": "crasher",
  "name": "Crasher",
  "version": "1.0.0",
  "description": "Kills the pilot process that calls it, when a file exists (a test connector).",
  "executable": "crasher.py",
  "actions": [
    {
      "name": "crash_parent",
      "description": "Kills the calling process if the file exists",
      "effect": "write",
      "inputs": { "when": { "type": "string", "description": "A file whose existence means: crash" } },
      "output": "{crashed: bool}"
    }
  ]
}"#;

const PROGRAM: &str = r#"#!/usr/bin/env python3
import json, os, signal, sys, time
request = json.load(sys.stdin)
if os.path.exists(request["input"]["when"]):
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(5)
json.dump({"output": {"crashed": False}}, sys.stdout)
"#;

fn pilot(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .env("PILOT_HOME", home)
        .env("PILOT_MASTER_KEY", "resume-poisoned-test-key")
        .output()
        .expect("pilot starts")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn killed(output: &Output) -> bool {
    output.status.signal() == Some(9)
}

fn install_crasher(home: &Path, work: &Path) {
    let folder = work.join("crasher");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("manifest.json"), MANIFEST).unwrap();
    let program = folder.join("crasher.py");
    std::fs::write(&program, PROGRAM).unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    let install = pilot(home, &["connectors", "install", folder.to_str().unwrap()]);
    assert!(install.status.success(), "{}", text(&install.stderr));
}

/// (status, error) of each execution of a workflow, read with SQL.
fn executions_of(home: &Path, workflow: &str) -> Vec<(String, Option<String>)> {
    let db = rusqlite::Connection::open(home.join("pilot.db")).unwrap();
    let mut statement = db.prepare("SELECT status, error FROM executions WHERE workflow_name = ?1").unwrap();
    let rows = statement.query_map([workflow], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
    rows.map(|row| row.unwrap()).collect()
}

#[test]
fn an_execution_that_crashes_every_resume_is_given_up_and_the_others_still_resume() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    install_crasher(home.path(), dir);
    let first_run_only = dir.join("first-run-only");
    std::fs::write(&first_run_only, "").unwrap();
    std::fs::write(dir.join("always"), "").unwrap();
    let innocent = format!(
        "name: innocent\nsteps:\n  - id: maybe_crash\n    action: crasher/crash_parent\n    input: {{when: \"{}\"}}\n  \
         - id: done\n    action: fs/write\n    input: {{path: \"{}\", content: \"done\\n\"}}\n",
        first_run_only.display(),
        dir.join("innocent-done.txt").display()
    );
    let poison = format!(
        "name: poison\nsteps:\n  - id: crash\n    action: crasher/crash_parent\n    input: {{when: \"{}\"}}\n",
        dir.join("always").display()
    );
    for (name, yaml) in [("innocent", &innocent), ("poison", &poison)] {
        let file = dir.join(format!("{name}.yaml"));
        std::fs::write(&file, yaml).unwrap();
        let run = pilot(home.path(), &["run", file.to_str().unwrap()]);
        assert!(killed(&run), "the first run of {name} crashes: {:?} {}", run.status, text(&run.stderr));
    }
    std::fs::remove_file(&first_run_only).unwrap(); // From now on only `poison` crashes.

    let mut crashes = 0;
    let last = loop {
        let resume = pilot(home.path(), &["resume"]);
        if !killed(&resume) {
            break resume;
        }
        crashes += 1;
        assert!(crashes <= executor::engine::MAX_RESUME_ATTEMPTS, "pilot resume keeps crashing");
    };
    assert_eq!(crashes, executor::engine::MAX_RESUME_ATTEMPTS, "{}", text(&last.stderr));
    assert_eq!(last.status.code(), Some(1), "{}", text(&last.stderr));
    assert!(text(&last.stderr).contains("not resumed and is now recorded failed"), "{}", text(&last.stderr));

    assert_eq!(executions_of(home.path(), "innocent"), [("success".to_owned(), None)]);
    assert_eq!(std::fs::read_to_string(dir.join("innocent-done.txt")).unwrap(), "done\n");
    let poisoned = executions_of(home.path(), "poison");
    assert_eq!(poisoned.len(), 1);
    let (status, error) = &poisoned[0];
    assert_eq!(status, "failed");
    assert!(error.as_deref().is_some_and(|e| e.contains("last 3 resumes did not finish")), "{error:?}");
    let nothing_left = pilot(home.path(), &["resume"]);
    assert!(nothing_left.status.success(), "{}", text(&nothing_left.stderr));
    assert!(text(&nothing_left.stdout).contains("nothing to resume"), "{}", text(&nothing_left.stdout));
}
