//! Durability of `pilot serve`: stopped (killed with SIGKILL, or by SIGTERM with a drain time that runs out)
//! while one execution runs and others wait in the queue, then started again. Every accepted execution completes,
//! no finished step runs twice (each step appends a line to a file: its effect is counted), and no schedule slot
//! fires twice.

mod serve_support;

use serde_json::json;
use serve_support::{Daemon, Home, lines_of};
use std::path::Path;

/// Workflow `batch`, one execution at a time: each appends `N one` to `effects`, waits for `gate`, appends
/// `N three`.
fn write_batch(home: &Home, effects: &Path, gate: &Path) {
    home.write_workflow(
        "batch.yaml",
        &format!(
            r#"
name: batch
concurrency: {{limit: 1}}
triggers:
  - type: webhook
    path: /hooks/batch
inputs:
  n:
    type: string
steps:
  - id: one
    action: fs/write
    input:
      path: {effects}
      content: "${{inputs.n}} one\n"
      append: true
  - id: gate
    action: shell/exec
    input:
      shell: true
      command: "while [ ! -e {gate} ]; do sleep 0.05; done"
  - id: three
    action: fs/write
    input:
      path: {effects}
      content: "${{inputs.n}} three\n"
      append: true
"#,
            effects = effects.display(),
            gate = gate.display()
        ),
    );
}

/// Starts `batch` once per name; returns the ids once the first waits at its gate and the others in the queue.
fn start_batch(daemon: &Daemon, names: &[&str]) -> Vec<String> {
    let ids: Vec<String> = names.iter().map(|n| daemon.trigger("/hooks/batch", &json!({ "n": n }))).collect();
    daemon.wait_for_execution(&ids[0], "to wait at its gate", |execution| {
        execution["steps"].as_array().unwrap().iter().any(|step| step["id"] == "gate" && step["status"] == "running")
    });
    for waiting in &ids[1..] {
        assert_eq!(daemon.execution(waiting)["status"], "pending", "limit 1: the others wait");
    }
    ids
}

#[test]
fn after_sigkill_a_restart_completes_every_accepted_execution_and_repeats_no_finished_step() {
    let home = Home::new();
    let work = home.work_dir();
    let (effects, gate) = (work.join("effects"), work.join("gate"));
    write_batch(&home, &effects, &gate);
    home.write_workflow(
        "ticker.yaml",
        "name: ticker\ntriggers:\n  - type: schedule\n    cron: \"* * * * * *\"\n    timezone: UTC\n\
         steps:\n  - id: tick\n    action: log\n    input:\n      message: tick\n",
    );
    let daemon = home.serve();
    let names = ["a", "b", "c", "d"];
    let ids = start_batch(&daemon, &names);
    daemon.wait_until("a few ticks", || (home.schedule_slots("ticker").len() >= 2).then_some(()));
    daemon.kill();
    assert_eq!(lines_of(&effects), ["a one"], "what happened before the kill");

    std::fs::write(&gate, "").unwrap();
    let daemon = home.serve();
    for id in &ids {
        let execution = daemon.wait_finished(id);
        assert_eq!(execution["status"], "success", "{execution:#}");
    }
    let expected: Vec<String> = names.iter().flat_map(|n| [format!("{n} one"), format!("{n} three")]).collect();
    assert_eq!(lines_of(&effects), expected, "each step's effect once, the executions one after the other");
    let resumed = daemon.execution(&ids[0]);
    let one = resumed["steps"].as_array().unwrap().iter().find(|step| step["id"] == "one").unwrap();
    assert_eq!(one["attempts"], 1, "the finished step was not run again");

    let before_restart = home.schedule_slots("ticker").len();
    daemon.wait_until("ticks after the restart", || {
        (home.schedule_slots("ticker").len() >= before_restart + 2).then_some(())
    });
    assert!(daemon.stop().success());
    let slots = home.schedule_slots("ticker");
    let mut unique = slots.clone();
    unique.dedup();
    assert_eq!(unique, slots, "no (trigger, slot) twice across the kill and the restart");
}

#[test]
fn executions_left_at_a_clean_stop_run_at_the_next_start() {
    let home = Home::new();
    let work = home.work_dir();
    let (effects, gate) = (work.join("effects"), work.join("gate"));
    write_batch(&home, &effects, &gate);
    let daemon = home.serve_with(&["--addr", "127.0.0.1:0", "--drain", "200ms"], &[]);
    let ids = start_batch(&daemon, &["a", "b", "c"]);

    // The drain time runs out with `a` at its gate: it is left running, `b` and `c` pending.
    assert_eq!(daemon.stop().code(), Some(0), "a clean stop, even with work left");
    assert_eq!(lines_of(&effects), ["a one"]);
    let status = |id: &str| -> String {
        home.store().query_row("SELECT status FROM executions WHERE id = ?1", [id], |row| row.get(0)).unwrap()
    };
    assert_eq!([status(&ids[0]), status(&ids[1]), status(&ids[2])], ["running", "pending", "pending"]);

    std::fs::write(&gate, "").unwrap();
    let daemon = home.serve();
    for id in &ids {
        assert_eq!(daemon.wait_finished(id)["status"], "success");
    }
    assert_eq!(lines_of(&effects), ["a one", "a three", "b one", "b three", "c one", "c three"]);
    // `a` was resumed; `b` and `c` started for the first time: a restart used up no resume attempt of theirs.
    let attempts = |id: &str| -> i64 {
        home.store().query_row("SELECT resume_attempts FROM executions WHERE id = ?1", [id], |row| row.get(0)).unwrap()
    };
    assert_eq!([attempts(&ids[0]), attempts(&ids[1]), attempts(&ids[2])], [1, 0, 0]);
}
