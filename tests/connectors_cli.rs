//! `pilot connectors list` end to end through the real binary.

use std::process::{Command, Output};

/// Runs `pilot ARGS` with an empty `PILOT_HOME` of its own, never the user's `~/.dooz/pilot`.
fn pilot(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("temporary PILOT_HOME");
    Command::new(env!("CARGO_BIN_EXE_pilot")).args(args).env("PILOT_HOME", home.path()).output().expect("run pilot")
}

#[test]
fn connectors_list_prints_every_action_signature() {
    let output = pilot(&["connectors", "list"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("  fs/list(path: string, pattern?: string, recursive?: bool) -> list<{"), "{text}");
    assert!(text.contains("  notify/desktop(title: string, body?: string, icon?: string, "), "{text}");
    assert!(text.contains("timeout?: duration) -> {id: any}  [write]"), "{text}");
    assert!(text.contains("\n26 actions."), "{text}");
}

#[test]
fn connectors_list_json_is_the_catalogue() {
    let output = pilot(&["connectors", "list", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    let actions = json["actions"].as_array().expect("an actions array");
    assert_eq!(actions.len(), 26);
    let list = actions.iter().find(|a| a["name"] == "fs/list").expect("fs/list");
    assert_eq!(list["effect"], "read");
    assert_eq!(list["inputs"][1]["name"], "pattern");
    assert_eq!(list["inputs"][1]["required"], false);
    assert_eq!(list["output"]["type"]["kind"], "list");
    let filter = actions.iter().find(|a| a["name"] == "filter").expect("filter");
    assert_eq!(filter["inputs"][1]["kind"], "item_condition");
    assert_eq!(filter["inputs"][1]["items_field"], "items");
}
