//! A workflow's `concurrency: {limit: 1, policy: ...}` end to end: each execution runs a program that notes its
//! start, waits for a gate file and notes its end, so the log file shows what ran when.

mod serve_support;

use serde_json::json;
use serve_support::{Daemon, Home, lines_of};
use std::path::{Path, PathBuf};
use std::time::Duration;

struct Gated {
    home: Home,
    log: PathBuf,
    gate: PathBuf,
}

/// A home with workflow `gated` of the given policy, its log file and its (closed) gate.
fn gated(policy: &str) -> Gated {
    let home = Home::new();
    let work = home.work_dir();
    let (log, gate) = (work.join("log"), work.join("gate"));
    let workflow = format!(
        r#"
name: gated
concurrency: {{limit: 1, policy: {policy}}}
triggers:
  - type: webhook
    path: /hooks/gated
inputs:
  n:
    type: string
steps:
  - id: work
    action: shell/exec
    input:
      shell: true
      command: "echo start ${{inputs.n}} >> {log}; while [ ! -e {gate} ]; do sleep 0.05; done; echo end ${{inputs.n}} >> {log}"
"#,
        log = log.display(),
        gate = gate.display()
    );
    home.write_workflow("gated.yaml", &workflow);
    Gated { home, log, gate }
}

fn wait_for_line(daemon: &Daemon, log: &Path, line: &str) {
    daemon.wait_until(&format!("`{line}` in the log"), || lines_of(log).iter().any(|l| l == line).then_some(()));
}

fn start(daemon: &Daemon, n: &str) -> serde_json::Value {
    let response = daemon.post_json("/hooks/gated", &json!({ "n": n }));
    assert_eq!(response.status, 202, "{}", response.text());
    response.json()
}

#[test]
fn policy_queue_makes_a_second_execution_wait_until_the_first_ends() {
    let Gated { home, log, gate } = gated("queue");
    let daemon = home.serve();
    let first = start(&daemon, "a");
    wait_for_line(&daemon, &log, "start a");
    let second = start(&daemon, "b");
    assert_eq!(second["status"], "queued");

    std::thread::sleep(Duration::from_secs(1));
    let waiting = daemon.execution(second["execution_id"].as_str().unwrap());
    assert_eq!(waiting["status"], "pending", "it waits while the first runs: {waiting:#}");
    assert_eq!(daemon.get("/api/v1/health").json()["waiting"], 1);

    std::fs::write(&gate, "").unwrap();
    for accepted in [&first, &second] {
        assert_eq!(daemon.wait_finished(accepted["execution_id"].as_str().unwrap())["status"], "success");
    }
    assert_eq!(lines_of(&log), ["start a", "end a", "start b", "end b"], "one after the other");
}

#[test]
fn policy_skip_records_the_second_execution_skipped_and_runs_nothing() {
    let Gated { home, log, gate } = gated("skip");
    let daemon = home.serve();
    let first = start(&daemon, "a");
    wait_for_line(&daemon, &log, "start a");

    let skipped = start(&daemon, "b");
    assert_eq!(skipped["status"], "skipped");
    let id = skipped["execution_id"].as_str().unwrap();
    let recorded = daemon.execution(id);
    assert_eq!(recorded["status"], "skipped", "{recorded:#}");
    assert!(recorded["error"].as_str().unwrap().contains("concurrency policy skip"), "{recorded:#}");
    assert!(recorded["steps"].as_array().unwrap().is_empty(), "none of its steps ran");

    std::fs::write(&gate, "").unwrap();
    assert_eq!(daemon.wait_finished(first["execution_id"].as_str().unwrap())["status"], "success");
    let later = start(&daemon, "c");
    assert_eq!(later["status"], "queued", "once the first ended there is room again");
    assert_eq!(daemon.wait_finished(later["execution_id"].as_str().unwrap())["status"], "success");
    assert_eq!(lines_of(&log), ["start a", "end a", "start c", "end c"]);
}

#[test]
fn policy_cancel_previous_cancels_the_running_execution_for_the_new_one() {
    let Gated { home, log, gate } = gated("cancel_previous");
    let daemon = home.serve();
    let first = start(&daemon, "a");
    wait_for_line(&daemon, &log, "start a");

    let second = start(&daemon, "b");
    assert_eq!(second["status"], "queued");
    let cancelled = daemon.wait_finished(first["execution_id"].as_str().unwrap());
    assert_eq!(cancelled["status"], "cancelled", "{cancelled:#}");
    wait_for_line(&daemon, &log, "start b");

    std::fs::write(&gate, "").unwrap();
    assert_eq!(daemon.wait_finished(second["execution_id"].as_str().unwrap())["status"], "success");
    assert_eq!(lines_of(&log), ["start a", "start b", "end b"], "the first was stopped before its end");
}
