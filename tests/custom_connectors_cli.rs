//! `pilot connectors install`, then a workflow calling the custom actions is checked and run like built-ins.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pilot(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .env("PILOT_HOME", home)
        .env("PILOT_MASTER_KEY", "custom-connector-test-key")
        .current_dir(repo())
        .output()
        .expect("pilot runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `connectors` rows of `$PILOT_HOME/pilot.db`, read with SQL (not through the store under test).
fn connector_rows(home: &Path) -> Vec<(String, String, serde_json::Value)> {
    let db = rusqlite::Connection::open(home.join("pilot.db")).unwrap();
    let mut statement = db.prepare("SELECT id, version, manifest FROM connectors ORDER BY id").unwrap();
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get::<_, String>(2)?))).unwrap();
    rows.map(|row| row.unwrap())
        .map(|(id, version, manifest)| (id, version, serde_json::from_str(&manifest).unwrap()))
        .collect()
}

/// The `connectors` of `pilot connectors list --json`.
fn listed_connectors(home: &Path) -> Vec<serde_json::Value> {
    let list = pilot(home, &["connectors", "list", "--json"]);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    json["connectors"].as_array().expect("a connectors array").clone()
}

/// Hidden folders (`.ID.*`) an install or removal left behind.
fn leftovers(home: &Path) -> Vec<String> {
    let entries = std::fs::read_dir(home.join("connectors")).unwrap();
    entries
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn an_installed_connector_is_listed_checked_and_run() {
    let home = tempfile::tempdir().unwrap();
    let install = pilot(home.path(), &["connectors", "install", "examples/connectors/wordcount"]);
    assert!(install.status.success(), "{}", text(&install.stderr));
    assert!(text(&install.stdout).contains("installed wordcount 1.0.0"));

    let rows = connector_rows(home.path());
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (id, version, manifest) = &rows[0];
    assert_eq!((id.as_str(), version.as_str()), ("wordcount", "1.0.0"));
    assert_eq!((&manifest["id"], &manifest["actions"][0]["name"]), (&"wordcount".into(), &"count".into()));

    let list = pilot(home.path(), &["connectors", "list"]);
    let listed = text(&list.stdout);
    assert!(listed.contains("wordcount/count"), "{listed}");
    assert!(listed.contains("Installed custom connectors:\n  wordcount 1.0.0  Word count  (installed "), "{listed}");
    assert!(list.stderr.is_empty(), "no warnings: {}", text(&list.stderr));
    let listed = listed_connectors(home.path());
    assert_eq!((&listed[0]["id"], &listed[0]["version"]), (&"wordcount".into(), &"1.0.0".into()), "{listed:?}");

    let check = pilot(home.path(), &["check", "examples/wordcount.yaml"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", text(&check.stdout), text(&check.stderr));

    let run = pilot(home.path(), &["run", "examples/wordcount.yaml", "--json"]);
    assert_eq!(run.status.code(), Some(0), "{}{}", text(&run.stdout), text(&run.stderr));
    let execution: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    let count = execution["steps"].as_array().unwrap().iter().find(|step| step["id"] == "count").unwrap();
    assert!(count["output"]["words"].as_i64().unwrap() > 10, "{count}");
}

#[test]
fn custom_actions_are_type_checked_like_built_ins() {
    let home = tempfile::tempdir().unwrap();
    assert!(pilot(home.path(), &["connectors", "install", "examples/connectors/wordcount"]).status.success());
    let workflow = home.path().join("typo.yaml");
    std::fs::write(
        &workflow,
        "name: typo\nsteps:\n  - id: count\n    action: wordcount/count\n    input:\n      text: 42\n    output: counted\n  - id: say\n    action: log\n    input:\n      message: \"${counted.wrods}\"\n",
    )
    .unwrap();
    let check = pilot(home.path(), &["check", workflow.to_str().unwrap()]);
    let stdout = text(&check.stdout);
    assert_eq!(check.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("words"), "the hint names the right field: {stdout}");
}

#[test]
fn a_connector_that_clashes_with_a_built_in_is_refused_and_remove_uninstalls() {
    let home = tempfile::tempdir().unwrap();
    let source = home.path().join("fs-clash");
    std::fs::create_dir(&source).unwrap();
    std::fs::write(source.join("run"), "#!/bin/sh\n").unwrap();
    let manifest = r#"{"id": "fs", "name": "Fake", "version": "1", "executable": "run",
        "actions": [{"name": "list", "effect": "read", "output": "any"}]}"#;
    std::fs::write(source.join("manifest.json"), manifest).unwrap();
    let refused = pilot(home.path(), &["connectors", "install", source.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("`fs/list` is built in"), "{}", text(&refused.stderr));

    assert!(pilot(home.path(), &["connectors", "install", "examples/connectors/wordcount"]).status.success());
    assert_eq!(connector_rows(home.path()).len(), 1);
    assert!(pilot(home.path(), &["connectors", "remove", "wordcount"]).status.success());
    assert_eq!(connector_rows(home.path()), Vec::new(), "the row is gone");
    assert!(!home.path().join("connectors/wordcount").exists(), "the folder is gone");
    assert_eq!(listed_connectors(home.path()), Vec::<serde_json::Value>::new());
    assert_eq!(leftovers(home.path()), Vec::<String>::new());
    let again = pilot(home.path(), &["connectors", "remove", "wordcount"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("no custom connector `wordcount`"));
}

#[test]
fn an_install_that_cannot_be_recorded_leaves_the_folders_as_they_were() {
    let home = tempfile::tempdir().unwrap();
    assert!(pilot(home.path(), &["connectors", "install", "examples/connectors/wordcount"]).status.success());
    let db = rusqlite::Connection::open(home.path().join("pilot.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER refuse_installs BEFORE INSERT ON connectors BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;",
    )
    .unwrap();

    // A new connector: nothing of it stays.
    let source = home.path().join("echo-source");
    std::fs::create_dir(&source).unwrap();
    std::fs::write(source.join("run"), "#!/bin/sh\necho '{\"output\": null}'\n").unwrap();
    let manifest = r#"{"id": "echo", "name": "Echo", "version": "0.1.0", "executable": "run",
        "actions": [{"name": "say", "effect": "pure", "output": "null"}]}"#;
    std::fs::write(source.join("manifest.json"), manifest).unwrap();
    let refused = pilot(home.path(), &["connectors", "install", source.to_str().unwrap()]);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("connector `echo` was not installed:") && stderr.contains("refused by the test"),
        "{stderr}"
    );
    assert!(stderr.contains("pilot.db"), "the error names the database: {stderr}");
    assert!(!home.path().join("connectors/echo").exists());

    // A reinstall: the installed version stays, folder and row.
    let marker = home.path().join("connectors/wordcount/installed-before");
    std::fs::write(&marker, "").unwrap();
    let refused = pilot(home.path(), &["connectors", "install", "examples/connectors/wordcount"]);
    assert_eq!(refused.status.code(), Some(1), "{}", text(&refused.stderr));
    assert!(marker.exists(), "the previous folder is back");
    assert_eq!(connector_rows(home.path()).len(), 1);
    assert_eq!(leftovers(home.path()), Vec::<String>::new());
    let check = pilot(home.path(), &["check", "examples/wordcount.yaml"]);
    assert_eq!(check.status.code(), Some(0), "{}{}", text(&check.stdout), text(&check.stderr));
}

#[test]
fn every_example_checks_once_the_wordcount_connector_is_installed() {
    let home = tempfile::tempdir().unwrap();
    let install = pilot(home.path(), &["connectors", "install", "examples/connectors/wordcount"]);
    assert!(install.status.success(), "{}", text(&install.stderr));
    let check = pilot(home.path(), &["check", "examples/"]);
    let (stdout, stderr) = (text(&check.stdout), text(&check.stderr));
    assert_eq!(check.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("manifest.json") && !stderr.contains("manifest.json"), "{stdout}{stderr}");
    let workflows = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().extension().is_some_and(|extension| extension == "yaml"));
    assert!(stdout.contains(&format!("checked {} files", workflows.count())), "{stdout}");
}
