//! `shell/exec` with real processes: arguments passed without a shell, shell mode, cwd, env, stdin, exit codes,
//! missing programs, and the whole process group killed on cancel and timeout.
#![cfg(unix)]

mod net_support;

use connectors::ActionError;
use connectors::shell::ShellConnector;
use expr_grammar::Value;
use net_support::*;
use serde_json::json;
use std::path::Path;

async fn exec(input: Value) -> Result<Value, ActionError> {
    run(&ShellConnector::new(), "shell/exec", input, &ctx()).await
}

#[tokio::test]
async fn arguments_are_passed_as_they_are_without_a_shell() {
    let output =
        exec(input(json!({"command": "printf", "args": ["%s|", "two words", "$HOME", "*", 3]}))).await.unwrap();
    assert_eq!(text_of(&output, "stdout"), "two words|$HOME|*|3|");
    assert_eq!(field(&output, "exit_code"), &Value::Int(0));
    assert_eq!(text_of(&output, "stderr"), "");
}

#[tokio::test]
async fn shell_mode_runs_sh_c_with_args_as_positional_parameters() {
    let output = exec(input(json!({"command": "echo \"$1-$2\" | tr a-z A-Z", "args": ["ab", "cd"], "shell": true})))
        .await
        .unwrap();
    assert_eq!(text_of(&output, "stdout"), "AB-CD\n");
}

#[tokio::test]
async fn cwd_env_and_stdin_reach_the_program() {
    let folder = tempfile::tempdir().unwrap();
    let script = r#"pwd; echo "$GREETING"; cat"#;
    let input = input(json!({
        "command": script,
        "shell": true,
        "cwd": folder.path().to_str().unwrap(),
        "env": {"GREETING": "hello from env"},
        "stdin": "line from stdin\n",
    }));
    let output = exec(input).await.unwrap();
    let cwd = folder.path().canonicalize().unwrap();
    assert_eq!(text_of(&output, "stdout"), format!("{}\nhello from env\nline from stdin\n", cwd.display()));
}

#[tokio::test]
async fn a_non_zero_exit_fails_with_the_code_and_the_end_of_stderr() {
    let script = "echo 'first line' >&2; echo 'the real reason' >&2; exit 3";
    let message = failure_message(exec(input(json!({"command": script, "shell": true}))).await);
    assert_eq!(
        message,
        "`echo 'first line' >&2; echo 'the real reason' >&2; exit 3` exited with code 3: first line\nthe real reason"
    );
}

#[tokio::test]
async fn the_failure_quotes_only_the_tail_of_a_long_stderr() {
    let script = "i=0; while [ $i -lt 300 ]; do echo \"noise $i\" >&2; i=$((i+1)); done; echo FINAL >&2; exit 1";
    let message = failure_message(exec(input(json!({"command": script, "shell": true}))).await);
    assert!(message.ends_with("FINAL"), "{message}");
    assert!(!message.contains("noise 0\n"), "{message}");
    assert!(message.contains("exited with code 1: …"), "{message}");
}

#[tokio::test]
async fn allow_failure_returns_the_exit_code_and_output() {
    let input = input(json!({"command": "echo out; echo err >&2; exit 5", "shell": true, "allow_failure": true}));
    let output = exec(input).await.unwrap();
    assert_eq!(output, Value::from_json(&json!({"exit_code": 5, "stdout": "out\n", "stderr": "err\n"})));
}

#[tokio::test]
async fn a_missing_program_is_named_in_the_error() {
    let message = failure_message(exec(input(json!({"command": "pilot-no-such-program-xyz"}))).await);
    assert_eq!(message, "command `pilot-no-such-program-xyz` not found in PATH");
    let message = failure_message(exec(input(json!({"command": "/nonexistent/dir/tool"}))).await);
    assert_eq!(message, "command `/nonexistent/dir/tool` not found: no such file");
}

#[tokio::test]
async fn a_missing_cwd_is_an_input_error() {
    let result = exec(input(json!({"command": "true", "cwd": "/nonexistent/pilot/dir"}))).await;
    match result {
        Err(ActionError::InvalidInput { field, message }) => {
            assert_eq!(field, "cwd");
            assert!(message.contains("/nonexistent/pilot/dir"), "{message}");
        }
        other => panic!("expected an input error, got {other:?}"),
    }
}

/// Starts `sh` that records its own pid and a sleeping grandchild's pid in `pids`, then sleeps.
fn family_script(pids: &Path) -> String {
    format!("sleep 300 & echo $! > '{0}.tmp'; echo $$ >> '{0}.tmp'; mv '{0}.tmp' '{0}'; sleep 300", pids.display())
}

async fn wait_for_pids(pids: &Path) -> Vec<i32> {
    for _ in 0..2000 {
        if let Ok(text) = std::fs::read_to_string(pids) {
            return text.lines().map(|line| line.trim().parse().expect("a pid")).collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("the script never wrote its pids");
}

/// Alive means the process exists and is not a zombie waiting to be reaped.
fn is_alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

/// SIGKILL is delivered at once, but the kernel takes a moment to tear a process down.
async fn wait_until_dead(pids: &[i32]) -> Vec<i32> {
    for _ in 0..2000 {
        if pids.iter().all(|pid| !is_alive(*pid)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    pids.iter().copied().filter(|pid| is_alive(*pid)).collect()
}

#[tokio::test]
async fn cancel_kills_the_program_and_its_children() {
    let folder = tempfile::tempdir().unwrap();
    let pids_file = folder.path().join("pids");
    let ctx = ctx();
    let connector = ShellConnector::new();
    let input = input(json!({"command": family_script(&pids_file), "shell": true}));
    let canceller = async {
        let pids = wait_for_pids(&pids_file).await;
        assert!(pids.iter().all(|pid| is_alive(*pid)), "both should be running before the cancel");
        ctx.cancel.cancel();
        pids
    };
    let (result, pids) = tokio::join!(run(&connector, "shell/exec", input, &ctx), canceller);
    assert_eq!(result, Err(ActionError::Cancelled));
    assert_eq!(pids.len(), 2);
    assert_eq!(wait_until_dead(&pids).await, Vec::<i32>::new(), "still alive after cancel");
}

#[tokio::test(start_paused = true)]
async fn timeout_kills_the_program_and_its_children() {
    // Paused time: the 5 minute limit passes as soon as the runtime is idle. The watcher blocks the runtime
    // (real time) until the script has written its pids, so the limit can only pass after that.
    let folder = tempfile::tempdir().unwrap();
    let pids_file = folder.path().join("pids");
    let input = input_with(json!({"command": family_script(&pids_file), "shell": true}), [("timeout", seconds(300))]);
    let watcher = async { read_pids_blocking(&pids_file) };
    let (result, pids) = tokio::join!(exec(input), watcher);
    let message = failure_message(result);
    assert!(message.ends_with("timed out after 5m and was killed"), "{message}");
    assert_eq!(pids.len(), 2);
    tokio::time::resume();
    assert_eq!(wait_until_dead(&pids).await, Vec::<i32>::new(), "still alive after timeout");
}

fn read_pids_blocking(pids: &Path) -> Vec<i32> {
    for _ in 0..2000 {
        if let Ok(text) = std::fs::read_to_string(pids) {
            return text.lines().map(|line| line.trim().parse().expect("a pid")).collect();
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    panic!("the script never wrote its pids");
}

/// The program's process group is reported while it runs, so that a later `pilot resume` can find what an
/// interrupted run left.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn the_program_s_process_group_is_reported_from_start_to_end() {
    use connectors::{ActionContext, ChildEvent, ChildRecorder};
    use std::sync::{Arc, Mutex};
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let children = ChildRecorder::new(move |event| {
        let (kind, record) = match event {
            ChildEvent::Started(record) => ("started", record),
            ChildEvent::Ended(record) => ("ended", record),
        };
        seen.lock().unwrap().push((kind, record.clone()));
    });
    let ctx = ActionContext { children, ..ctx() };
    let output = run(&ShellConnector::new(), "shell/exec", input(json!({"command": "echo $$", "shell": true})), &ctx)
        .await
        .unwrap();
    let shell_pid: u32 = text_of(&output, "stdout").trim().parse().unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(events.iter().map(|(kind, _)| *kind).collect::<Vec<_>>(), ["started", "ended"]);
    assert_eq!(events[0].1, events[1].1);
    assert_eq!(events[0].1.pgid, shell_pid, "the program leads its own group");
    assert!(events[0].1.start_time > 0 && !events[0].1.boot_id.is_empty(), "{:?}", events[0].1);
}

/// `/proc/PID/stat` field 22, the start time in clock ticks since boot.
#[cfg(target_os = "linux")]
fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat[stat.rfind(')').unwrap() + 1..].split_whitespace().nth(19).unwrap().parse().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_leftover_group_is_killed_only_if_its_leader_is_the_recorded_process() {
    use connectors::ChildRecord;
    use connectors::process::kill_leftover_group;
    use std::os::unix::process::CommandExt;
    let mut sleeper = std::process::Command::new("sleep").arg("300").process_group(0).spawn().unwrap();
    let pid = sleeper.id();
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap().trim().to_string();
    let recorded = ChildRecord { pgid: pid, start_time: start_time(pid), boot_id };

    // The same id with another start time is a process that reused the id: left alone.
    let reused = ChildRecord { start_time: recorded.start_time - 1, ..recorded.clone() };
    assert_eq!(kill_leftover_group(&reused), 0);
    // After a reboot nothing recorded before it can still run, whatever holds the id now.
    let other_boot = ChildRecord { boot_id: "another-boot".into(), ..recorded.clone() };
    assert_eq!(kill_leftover_group(&other_boot), 0);
    assert!(is_alive(pid as i32));

    assert_eq!(kill_leftover_group(&recorded), 1);
    assert!(!is_alive(pid as i32));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(sleeper.wait().unwrap().signal(), Some(9));
}
