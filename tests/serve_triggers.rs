//! Schedules, file watches, edits of workflow files and disabled workflows, end to end through `pilot serve`.

mod serve_support;

use serde_json::{Value as Json, json};
use serve_support::Home;
use std::time::{Duration, Instant};

const TICKER: &str = r#"
name: ticker
description: one
triggers:
  - type: schedule
    cron: "* * * * * *"
    timezone: UTC
  - type: webhook
    path: /hooks/ticker
steps:
  - id: tick
    action: log
    input:
      message: "tick ${trigger.type}"
"#;

#[test]
fn a_per_second_schedule_fires_once_for_each_second_and_never_twice() {
    let home = Home::new();
    home.write_workflow("ticker.yaml", TICKER);
    let started = Instant::now();
    let daemon = home.serve();

    let fired = daemon.wait_until("three ticks", || {
        let slots = home.schedule_slots("ticker");
        (slots.len() >= 3).then_some(slots)
    });
    let elapsed = started.elapsed();
    assert!(
        fired.len() as u64 <= elapsed.as_secs() + 1,
        "{} slots in {elapsed:?}: a per-second schedule fires at most once a second",
        fired.len()
    );
    let trigger = &fired[0].0;
    assert!(trigger.starts_with("ticker:schedule:"), "{trigger}");
    for pair in fired.windows(2) {
        assert_eq!(pair[0].0, pair[1].0, "one trigger");
        assert_eq!(pair[1].1 - pair[0].1, 1_000_000, "consecutive whole seconds, none skipped or repeated: {fired:?}");
    }
    let first = daemon.executions("ticker").into_iter().last().unwrap();
    let first = daemon.wait_finished(first["id"].as_str().unwrap());
    assert_eq!(first["status"], "success");
    assert_eq!(first["trigger"]["type"], "schedule");
    assert_eq!(first["trigger"]["late"], false);
    assert!(daemon.stop().success(), "SIGTERM stops it cleanly");
    let slots = home.schedule_slots("ticker");
    let mut unique = slots.clone();
    unique.dedup();
    assert_eq!(unique, slots, "every (trigger, slot) once in the store");
}

/// The detail of every execution of `workflow`, oldest first.
fn details(daemon: &serve_support::Daemon, workflow: &str) -> Vec<Json> {
    let mut listed = daemon.executions(workflow);
    listed.reverse();
    listed.iter().map(|summary| daemon.wait_finished(summary["id"].as_str().unwrap())).collect()
}

#[test]
fn creating_a_matching_file_fires_the_file_watch_workflow_once() {
    let home = Home::new();
    let inbox = home.work_dir().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    home.write_workflow(
        "inbox.yaml",
        &format!(
            r#"
name: inbox
triggers:
  - type: file_watch
    path: {}
    pattern: "*.csv"
steps:
  - id: seen
    action: log
    input:
      message: "${{trigger.event.kind}} ${{trigger.event.path}}"
"#,
            inbox.display()
        ),
    );
    let daemon = home.serve();
    // The watch is armed by a task of its own: create files until one is seen.
    let mut round = 0;
    daemon.wait_until("the watch to see a file", || {
        round += 1;
        std::fs::write(inbox.join(format!("warm-up-{round}.csv")), "x").unwrap();
        std::thread::sleep(Duration::from_millis(200));
        (!daemon.executions("inbox").is_empty()).then_some(())
    });

    let report = inbox.join("report.csv");
    for row in 0..20 {
        std::fs::write(&report, format!("row {row}\n")).unwrap();
    }
    std::fs::write(inbox.join("notes.txt"), "not a csv").unwrap();
    // A later file is a barrier: its change is reported after everything before it.
    std::fs::write(inbox.join("zz-last.csv"), "last").unwrap();
    daemon.wait_until("the last file's execution", || {
        let runs = details(&daemon, "inbox");
        runs.iter().any(|run| run["trigger"]["event"]["path"].as_str().unwrap().ends_with("zz-last.csv")).then_some(())
    });

    let runs = details(&daemon, "inbox");
    let about = |name: &str| -> Vec<&Json> {
        runs.iter().filter(|run| run["trigger"]["event"]["path"].as_str().unwrap().ends_with(name)).collect()
    };
    let report_runs = about("report.csv");
    assert_eq!(report_runs.len(), 1, "a burst of writes is one execution: {report_runs:#?}");
    let run = report_runs[0];
    assert_eq!(run["status"], "success");
    assert_eq!(run["trigger"]["event"]["kind"], "create");
    assert_eq!(run["trigger"]["event"]["path"], report.display().to_string());
    assert_eq!(run["steps"][0]["input"]["message"], format!("create {}", report.display()));
    assert!(about("notes.txt").is_empty(), "a file not matching the pattern fires nothing");
    let others: Vec<&Json> =
        runs.iter().filter(|run| !run["trigger"]["event"]["path"].as_str().unwrap().contains("warm-up-")).collect();
    assert_eq!(others.len(), 2, "report.csv and zz-last.csv, once each: {others:#?}");
}

/// Waits until the daemon serves `name` with this `description:` (the loaded version's).
fn wait_for_description(daemon: &serve_support::Daemon, name: &str, description: &str) {
    daemon.wait_until(&format!("{name} to be reloaded"), || {
        let workflow = daemon.get(&format!("/api/v1/workflows/{name}")).json();
        (workflow["description"] == description).then_some(())
    });
}

#[test]
fn editing_a_workflow_file_while_serving_changes_what_runs_next() {
    let home = Home::new();
    let edited = TICKER.replace("* * * * * *", "0 0 1 1 *");
    home.write_workflow("ticker.yaml", &edited);
    let daemon = home.serve();
    let before = daemon.wait_finished(&daemon.trigger("/hooks/ticker", &json!({})));
    assert_eq!(before["steps"][0]["input"]["message"], "tick webhook");

    home.write_workflow(
        "ticker.yaml",
        &edited.replace("description: one", "description: two").replace("tick ${trigger.type}", "tock"),
    );
    wait_for_description(&daemon, "ticker", "two");
    let after = daemon.wait_finished(&daemon.trigger("/hooks/ticker", &json!({})));
    assert_eq!(after["status"], "success");
    assert_eq!(after["steps"][0]["input"]["message"], "tock", "the edit runs");
    assert!(after["workflow_version"].as_i64() > before["workflow_version"].as_i64(), "a new version: {after:#}");
}

#[test]
fn an_invalid_edit_keeps_the_old_version_running_and_its_diagnostic_is_served() {
    let home = Home::new();
    let good = TICKER.replace("* * * * * *", "0 0 1 1 *");
    home.write_workflow("ticker.yaml", &good);
    let daemon = home.serve();
    daemon.wait_finished(&daemon.trigger("/hooks/ticker", &json!({})));

    let broken = good.replace("description: one", "description: broken").replace("message:", "mesage:");
    let typo_line = broken.lines().position(|line| line.contains("mesage:")).unwrap() + 1;
    home.write_workflow("ticker.yaml", &broken);
    let served = daemon.wait_until("the broken edit's diagnostics", || {
        let workflow = daemon.get("/api/v1/workflows/ticker").json();
        (!workflow["diagnostics"].as_array().unwrap().is_empty()).then_some(workflow)
    });

    let diagnostics = served["diagnostics"].as_array().unwrap();
    let typo = diagnostics.iter().find(|d| d["code"] == "E0211").unwrap_or_else(|| panic!("{served:#}"));
    assert_eq!(typo["line"], typo_line);
    assert_eq!(typo["severity"], "error");
    assert!(typo["message"].as_str().unwrap().contains("mesage"), "{typo}");
    assert!(typo["file"].as_str().unwrap().ends_with("ticker.yaml"));
    assert!(served["problem"].as_str().unwrap().contains("last good version keeps running"), "{served:#}");
    assert_eq!(served["description"], "one", "the summary is the version that runs");
    assert!(served["source"].as_str().unwrap().contains("mesage"), "the source is the file as it is");

    let still = daemon.wait_finished(&daemon.trigger("/hooks/ticker", &json!({})));
    assert_eq!(still["status"], "success");
    assert_eq!(still["steps"][0]["input"]["message"], "tick webhook", "the old version runs");
}

#[test]
fn removing_a_workflow_file_while_serving_stops_its_triggers() {
    let home = Home::new();
    let file = home.write_workflow("ticker.yaml", TICKER);
    let daemon = home.serve();
    daemon.wait_until("a tick", || (!home.schedule_slots("ticker").is_empty()).then_some(()));

    std::fs::remove_file(file).unwrap();
    daemon
        .wait_until("the workflow to be gone", || (daemon.get("/api/v1/workflows/ticker").status == 404).then_some(()));
    assert_eq!(daemon.post_json("/hooks/ticker", &json!({})).status, 404, "its webhook is gone");
    let ticks = home.schedule_slots("ticker").len();
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(home.schedule_slots("ticker").len(), ticks, "its schedule stopped");
    assert!(daemon.get("/api/v1/scheduled").json().as_array().unwrap().is_empty());
}

#[test]
fn a_disabled_workflows_webhook_answers_409_and_its_schedule_does_not_fire() {
    let home = Home::new();
    home.write_workflow("ticker.yaml", TICKER);
    let daemon = home.serve();
    let disabled = daemon.post_json("/api/v1/workflows/ticker/disable", &json!({}));
    assert_eq!(disabled.status, 200, "{}", disabled.text());
    assert_eq!(disabled.json()["enabled"], false);
    let refused = daemon.post_json("/hooks/ticker", &json!({}));
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert!(refused.json()["error"]["message"].as_str().unwrap().contains("disabled"), "{}", refused.text());
    assert!(daemon.stop().success());

    // Disabled is remembered: after a restart its schedule is not started at all.
    let before = home.schedule_slots("ticker");
    let webhook_rows = home.execution_rows("ticker") - before.len();
    assert_eq!(webhook_rows, 0, "the refused webhook left no row");
    let daemon = home.serve();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(home.schedule_slots("ticker"), before, "no slot fires while disabled");
    assert_eq!(daemon.post_json("/hooks/ticker", &json!({})).status, 409);
    assert_eq!(daemon.get("/api/v1/workflows/ticker").json()["enabled"], false);

    let enabled = daemon.post_json("/api/v1/workflows/ticker/enable", &json!({}));
    assert_eq!(enabled.status, 200, "{}", enabled.text());
    daemon.wait_until("a slot after enabling", || (home.schedule_slots("ticker").len() > before.len()).then_some(()));
    assert_eq!(daemon.post_json("/hooks/ticker", &json!({})).status, 202);
}
