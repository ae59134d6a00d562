//! `pilot status`: whether the daemon of `$PILOT_HOME` runs (its address, process, version, queue) and each
//! trigger of each workflow with its next fire time.
//!
//! With `--json`: `{"running": true, "pilot_home", "url", "pid", "health": {...}, "workflows": [...]}` (the API's
//! `Health` and `WorkflowSummary` documents), or `{"running": false, "pilot_home"}`. Exit status: 0 whether or
//! not the daemon runs; 1 when a daemon holds the lock but does not answer (it hangs, or is still starting).

use super::daemon::{block_on, find, print_json, when};
use super::exit;
use super::output::{out, outln};
use super::ui;
use server::api::{Health, WorkflowSummary};
use server::client::DaemonClient;
use server::home::PilotHome;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct StatusArgs {}

pub fn run(_args: &StatusArgs) -> ExitCode {
    let home = PilotHome::from_env();
    block_on(async move {
        match find(&home) {
            Ok(Some(client)) => running(&home, &client).await,
            Ok(None) => not_running(&home),
            Err(code) => code,
        }
    })
}

fn not_running(home: &PilotHome) -> ExitCode {
    if ui::json() {
        return print_json(&serde_json::json!({ "running": false, "pilot_home": home.root().display().to_string() }));
    }
    outln!("daemon     not running (start it with `pilot serve`, or `pilot service install`)");
    outln!("home       {}", home.root().display());
    ExitCode::SUCCESS
}

async fn running(home: &PilotHome, client: &DaemonClient) -> ExitCode {
    let process = client.process();
    let unanswered = |err: server::client::ClientError| {
        let message = format!("process {} holds the daemon's lock, but: {err}", process.pid);
        ui::fail(exit::FAILED, &message)
    };
    let health = match client.health().await {
        Ok(health) => health,
        Err(err) => return unanswered(err),
    };
    let workflows = match client.workflows().await {
        Ok(workflows) => workflows,
        Err(err) => return unanswered(err),
    };
    if ui::json() {
        return print_json(&serde_json::json!({
            "running": true,
            "pilot_home": home.root().display().to_string(),
            "url": client.url(),
            "pid": process.pid,
            "health": health,
            "workflows": workflows,
        }));
    }
    out!("{}", status_text(home, client, &health, &workflows));
    ExitCode::SUCCESS
}

fn status_text(home: &PilotHome, client: &DaemonClient, health: &Health, workflows: &[WorkflowSummary]) -> String {
    let state = if health.status == "ok" { "running".to_owned() } else { health.status.clone() };
    let mut text = format!(
        "daemon     {state} at {} (process {}, version {}, since {})\n",
        client.url(),
        client.process().pid,
        health.version,
        when(&health.started_at)
    );
    text.push_str(&format!("queue      {} running, {} waiting\n", health.running, health.waiting));
    text.push_str(&format!("home       {}\n", home.root().display()));
    let rows: Vec<Vec<String>> = workflows
        .iter()
        .filter(|workflow| !workflow.name.is_empty())
        .flat_map(|workflow| {
            let enabled = if workflow.enabled { "yes" } else { "no" };
            let row = move |kind: &str, what: &str, next: Option<&str>| {
                let next = next.map_or_else(|| "-".to_owned(), when);
                vec![workflow.name.clone(), enabled.to_owned(), kind.to_owned(), what.to_owned(), next]
            };
            let mut rows: Vec<Vec<String>> = workflow
                .triggers
                .iter()
                .map(|trigger| row(&trigger.kind, &trigger.summary, trigger.next_fire.as_deref()))
                .collect();
            if rows.is_empty() {
                rows.push(row("-", "by name only (`pilot run NAME`)", None));
            }
            rows
        })
        .collect();
    text.push('\n');
    if rows.is_empty() {
        text.push_str(&format!("no workflows in {}\n", home.workflows().display()));
    } else {
        text.push_str(&super::executions::table(&["WORKFLOW", "ENABLED", "TRIGGER", "WHAT", "NEXT FIRE"], &rows));
    }
    for workflow in workflows {
        if let Some(problem) = &workflow.problem {
            text.push_str(&format!("problem: {problem}\n"));
        }
    }
    text
}
