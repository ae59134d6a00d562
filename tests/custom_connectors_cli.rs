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

#[test]
fn an_installed_connector_is_listed_checked_and_run() {
    let home = tempfile::tempdir().unwrap();
    let install = pilot(home.path(), &["connectors", "install", "examples/connectors/wordcount"]);
    assert!(install.status.success(), "{}", text(&install.stderr));
    assert!(text(&install.stdout).contains("installed wordcount 1.0.0"));

    let list = pilot(home.path(), &["connectors", "list"]);
    assert!(text(&list.stdout).contains("wordcount/count"), "{}", text(&list.stdout));

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
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("`fs/list` is built in"), "{}", text(&refused.stderr));

    assert!(pilot(home.path(), &["connectors", "install", "examples/connectors/wordcount"]).status.success());
    assert!(pilot(home.path(), &["connectors", "remove", "wordcount"]).status.success());
    let again = pilot(home.path(), &["connectors", "remove", "wordcount"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(text(&again.stderr).contains("no custom connector `wordcount`"));
}
