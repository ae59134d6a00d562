//! End to end: the built `pilot` binary's `check`, `schema` and `explain` commands, their output and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pilot(args: &[&str], home: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .env("PILOT_HOME", home)
        .env_remove("NO_COLOR")
        .output()
        .expect("run pilot")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compiler/tests/data").join(path)
}

const VALID: &str = "name: ok\nsteps:\n  - id: hello\n    action: log\n    input:\n      message: hi\n";
const WARNING_ONLY: &str = "name: empty\nsteps: []\n";
const UNKNOWN_KEY: &str =
    "name: typo\nsteps:\n  - id: hello\n    action: log\n    input:\n      message: hi\n    timeuot: 30s\n";

#[test]
fn a_valid_file_exits_zero_with_a_clean_summary() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ok.yaml");
    std::fs::write(&file, VALID).unwrap();
    let output = pilot(&["check", file.to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert_eq!(stdout(&output), "checked 1 file: no problems\n");
}

#[test]
fn warnings_alone_exit_zero_and_are_shown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("empty.yaml");
    std::fs::write(&file, WARNING_ONLY).unwrap();
    let output = pilot(&["check", file.to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("warning[W0101]: the workflow has no steps\n"), "{text}");
    assert!(text.ends_with("checked 1 file: 1 warning\n"), "{text}");
}

#[test]
fn errors_exit_one_with_the_rendered_diagnostic_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("typo.yaml");
    std::fs::write(&file, UNKNOWN_KEY).unwrap();
    let output = pilot(&["check", file.to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let expected = format!(
        "error[E0101]: unknown key `timeuot` in step `hello`
 --> {}:7:5
  |
7 |     timeuot: 30s
  |     ^^^^^^^ not a key of this mapping
  |
  = help: did you mean `timeout`?

checked 1 file: 1 error
",
        file.display()
    );
    assert_eq!(stdout(&output), expected);
}

#[test]
fn folders_are_searched_recursively_and_reported_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("b/nested");
    std::fs::create_dir_all(&nested).unwrap();
    std::fs::write(dir.path().join("c.yml"), UNKNOWN_KEY).unwrap();
    std::fs::write(nested.join("a.json"), r#"{"name": "j", "stepz": []}"#).unwrap();
    std::fs::write(dir.path().join("a.yaml"), WARNING_ONLY).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a workflow").unwrap();
    let output = pilot(&["check", dir.path().to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let a = text.find("a.yaml").expect("a.yaml reported");
    let nested_json = text.find("nested/a.json").expect("nested json reported");
    let c = text.find("c.yml").expect("c.yml reported");
    assert!(a < nested_json && nested_json < c, "{text}");
    assert!(!text.contains("notes.txt"));
    assert!(text.ends_with("checked 3 files: 3 errors, 1 warning\n"), "{text}");
}

#[test]
fn without_a_path_the_workflows_folder_of_pilot_home_is_checked() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("workflows")).unwrap();
    std::fs::write(home.path().join("workflows/backup.yaml"), VALID).unwrap();
    let output = pilot(&["check"], home.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stdout(&output), "checked 1 file: no problems\n");
}

#[test]
fn a_missing_path_exits_two_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let output = pilot(&["check", missing.to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let text = stdout(&output);
    assert!(text.contains(&format!("error[E0009]: cannot read {}", missing.display())), "{text}");
    assert!(text.ends_with("checked 1 file: 1 error\n"), "never `no problems` for a file not read: {text}");
}

#[test]
fn a_missing_path_is_an_error_in_the_json_too() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.yaml");
    let output = pilot(&["check", "--json", missing.to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(2));
    let diagnostics: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(diagnostics[0]["code"], "E0009");
    assert_eq!(diagnostics[0]["severity"], "error");
    assert_eq!(diagnostics[0]["file"], missing.display().to_string());
}

#[test]
fn a_bad_format_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = pilot(&["check", "--format", "xml"], dir.path());
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn json_format_gives_line_and_column_of_each_diagnostic() {
    let fixture = fixture("invalid/unknown_key.yaml");
    let dir = tempfile::tempdir().unwrap();
    let output = pilot(&["check", "--format", "json", fixture.to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(1));
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON output");
    let typo = list
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["message"].as_str().is_some_and(|m| m.contains("`inptu`")))
        .expect("the unknown key is reported");
    assert_eq!(typo["file"], fixture.display().to_string());
    assert_eq!((typo["line"].as_u64(), typo["column"].as_u64()), (Some(5), Some(5)));
    assert_eq!((typo["end_line"].as_u64(), typo["end_column"].as_u64()), (Some(5), Some(10)));
    assert_eq!(typo["severity"], "error");
    assert_eq!(typo["code"], "E0101");
    assert_eq!(typo["hint"], "did you mean `input`?");
}

#[test]
fn a_binary_file_is_an_error_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let output = pilot(&["check", fixture("invalid/binary.yaml").to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("error[E0002]"), "{}", stdout(&output));
}

#[test]
fn the_seed_example_checks_clean() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/daily-backup.yaml");
    let dir = tempfile::tempdir().unwrap();
    let output = pilot(&["check", example.to_str().unwrap()], dir.path());
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn explain_prints_the_long_text_and_refuses_unknown_codes() {
    let dir = tempfile::tempdir().unwrap();
    let output = pilot(&["explain", "e0101"], dir.path());
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("E0101: unknown key\n"), "{text}");
    assert!(text.contains("Wrong:") && text.contains("Right:"), "{text}");
    let unknown = pilot(&["explain", "E9999"], dir.path());
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no diagnostic code `E9999`"));
    let list = pilot(&["explain"], dir.path());
    assert!(stdout(&list).lines().any(|l| l.starts_with("E0104  duplicate key")));
}

#[test]
fn schema_is_json_with_the_step_keys_and_action_names() {
    let dir = tempfile::tempdir().unwrap();
    let output = pilot(&["schema"], dir.path());
    assert_eq!(output.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON schema");
    let step = &schema["$defs"]["Step"]["properties"];
    assert!(step["loop"].is_object() && step["if"].is_object() && step["needs"].is_object());
    let actions = step["action"]["enum"].as_array().expect("action enum");
    assert!(actions.iter().any(|a| a == "fs/list"));
    assert!(actions.iter().any(|a| a == "notification/desktop"));
}

#[test]
fn installed_custom_connectors_are_known_to_check() {
    let home = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workflow = root.join("examples/wordcount.yaml");
    let before = pilot(&["check", workflow.to_str().unwrap()], home.path());
    assert_eq!(before.status.code(), Some(1));
    assert!(stdout(&before).contains("unknown action `wordcount/count`"), "{}", stdout(&before));
    let connector = root.join("examples/connectors/wordcount");
    let install = pilot(&["connectors", "install", connector.to_str().unwrap()], home.path());
    assert_eq!(install.status.code(), Some(0), "{}", stderr(&install));
    let after = pilot(&["check", workflow.to_str().unwrap()], home.path());
    assert_eq!(after.status.code(), Some(0), "{}", stdout(&after));
    assert_eq!(stdout(&after), "checked 1 file: no problems\n");
}

#[test]
fn check_without_a_path_checks_settings_json_at_its_line() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("settings.json"), "{\n  \"ai\": {\n    \"timeout_secs\": 5\n  }\n}\n").unwrap();
    let output = pilot(&["check"], home.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("error[E0010]: unknown field `timeout_secs`"), "{text}");
    assert!(text.contains(&format!("{}:3:5", home.path().join("settings.json").display())), "{text}");

    std::fs::write(home.path().join("settings.json"), "{\"ai\": {\"timeout_seconds\": 5}}").unwrap();
    let fixed = pilot(&["check"], home.path());
    assert_eq!(fixed.status.code(), Some(0), "{}", stdout(&fixed));
    assert_eq!(stdout(&fixed), "checked 1 file: no problems\n");
}

#[test]
fn the_settings_schema_describes_every_section() {
    let home = tempfile::tempdir().unwrap();
    let output = pilot(&["schema", "--settings"], home.path());
    let schema: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(schema["properties"]["ai"].is_object() && schema["properties"]["smtp"].is_object(), "{schema}");
}

#[test]
fn an_unknown_credential_is_warned_about_before_any_is_stored() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("uses-a-credential.yaml");
    let yaml = "name: calls\nsteps:\n  - id: call\n    action: http/get\n    credential: github\n    input:\n      url: http://127.0.0.1:9/\n";
    std::fs::write(&file, yaml).unwrap();
    let output = pilot(&["check", file.to_str().unwrap()], home.path());
    assert_eq!(output.status.code(), Some(0), "a warning is no error: {}", stdout(&output));
    assert!(stdout(&output).contains("warning[W0201]"), "{}", stdout(&output));
    assert!(!home.path().join("pilot.db").exists(), "checking creates no store");
}
