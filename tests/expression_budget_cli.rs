//! The expression budget of settings.json (`expressions`) holds at run time: a step whose expression would build
//! a value past it fails with an error quoting the expression, and the same workflow runs under the default.

use std::process::Command;

const GROWS: &str = r#"name: grows
inputs:
  seed:
    type: string
    default: "aaaaaaaaaaaaaaaa"
steps:
  - id: grow
    action: transform
    input:
      value: "${replace(replace(inputs.seed, 'a', inputs.seed), 'a', inputs.seed)}"
"#;

fn run(home: &std::path::Path, file: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(["run", file.to_str().unwrap()])
        .env("PILOT_HOME", home)
        .output()
        .unwrap()
}

#[test]
fn a_value_past_the_settings_budget_fails_its_step_naming_the_expression() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("grows.yaml");
    std::fs::write(&file, GROWS).unwrap();
    let default = run(home.path(), &file);
    assert_eq!(default.status.code(), Some(0), "4 KiB is well within the default budget");

    std::fs::write(home.path().join("settings.json"), r#"{"expressions": {"max_value_bytes": 2048}}"#).unwrap();
    let limited = run(home.path(), &file);
    assert_eq!(limited.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&limited.stdout);
    assert!(stdout.contains("expression budget") && stdout.contains("replace("), "{stdout}");
}
