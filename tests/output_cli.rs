//! Output into a reader that has gone (`pilot connectors list | head -1`): a quiet exit with status 141, as a Unix
//! tool stopped by SIGPIPE, never a panic.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `pilot ARGS` with stdout the write end of a pipe whose read end is already closed, so that every write
/// fails with a broken pipe (EPIPE).
fn pilot_into_closed_pipe(home: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .env("PILOT_HOME", home)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(writer)
        .output()
        .expect("pilot runs")
}

fn assert_quiet(output: &Output, command: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{command}: {stderr}");
    assert_eq!(output.status.code(), Some(141), "{command}: {stderr}");
}

#[test]
fn listing_connectors_into_a_closed_pipe_exits_quietly() {
    let home = tempfile::tempdir().unwrap();
    assert_quiet(&pilot_into_closed_pipe(home.path(), &["connectors", "list"]), "connectors list");
    assert_quiet(&pilot_into_closed_pipe(home.path(), &["connectors", "list", "--json"]), "connectors list --json");
}

#[test]
fn the_other_listing_commands_exit_quietly_into_a_closed_pipe() {
    let home = tempfile::tempdir().unwrap();
    for args in [
        &["check", "examples/hello.yaml"][..],
        &["schema"],
        &["explain"],
        &["explain", "E0101"],
        &["compile", "examples/hello.yaml", "--emit", "dot"],
        &["executions", "list"],
    ] {
        assert_quiet(&pilot_into_closed_pipe(home.path(), args), &args.join(" "));
    }
}
