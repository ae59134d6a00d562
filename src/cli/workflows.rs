//! `pilot workflows list`, `show NAME`, `enable NAME`, `disable NAME`: the workflows of `$PILOT_HOME/workflows/`
//! as the daemon runs them (whether each is enabled, its triggers and their next fire times, its last execution).
//!
//! With a daemon running, everything comes from it (`server::client`). Without one, `list` and `show` read the
//! folder and the store as the daemon would at its start (no next fire times), and `enable`/`disable` record the
//! flag in the store, which the daemon reads when it starts; a note on stderr says so. `--json` prints the API's
//! documents (`WorkflowSummary`, `WorkflowDetail`). Exit status: 0, or 2 for an unknown name or a daemon that
//! holds its lock but cannot be reached by `enable`/`disable` (`list` and `show` then read the folder), 1 when
//! the store fails.

use super::daemon::{block_on, call_failed, find, is_unreachable, print_json, when};
use super::exit;
use super::output::{out, outln};
use super::ui;
use executor::engine::{Clock, SystemClock};
use executor::store::{SqliteStore, StoreOptions};
use server::api::{WorkflowDetail, WorkflowSummary};
use server::client::DaemonClient;
use server::home::PilotHome;
use server::offline::Workflows;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct WorkflowsArgs {
    #[command(subcommand)]
    pub command: WorkflowsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum WorkflowsCommand {
    /// List the workflows: enabled or not, triggers, next fire, last execution, problems.
    List,
    /// Show one workflow: its triggers with their next fire times, its last execution, its diagnostics.
    Show(NameArg),
    /// Enable a workflow: its triggers fire, runs by name are accepted.
    Enable(NameArg),
    /// Disable a workflow: its triggers stop (its webhooks answer 409), runs by name are refused.
    Disable(NameArg),
}

#[derive(Debug, clap::Args)]
pub struct NameArg {
    /// The workflow's `name:`.
    pub name: String,
}

pub fn run(args: &WorkflowsArgs) -> ExitCode {
    let home = PilotHome::from_env();
    block_on(async move {
        let client = match find(&home) {
            Ok(client) => client,
            Err(code) => return code,
        };
        match &args.command {
            WorkflowsCommand::List => list(&home, client.as_ref()).await,
            WorkflowsCommand::Show(arg) => show(&home, client.as_ref(), &arg.name).await,
            WorkflowsCommand::Enable(arg) => set_enabled(&home, client.as_ref(), &arg.name, true).await,
            WorkflowsCommand::Disable(arg) => set_enabled(&home, client.as_ref(), &arg.name, false).await,
        }
    })
}

async fn list(home: &PilotHome, client: Option<&DaemonClient>) -> ExitCode {
    let listed = match client {
        Some(client) => match client.workflows().await {
            Ok(listed) => Some(listed),
            Err(err) if is_unreachable(&err) => {
                ui::warn(&format!("{err}; reading the workflows folder instead"));
                None
            }
            Err(err) => return call_failed(&err),
        },
        None => None,
    };
    let listed = match listed {
        Some(listed) => listed,
        None => {
            let Some((workflows, store)) = read_offline(home) else { return exit::code(exit::FAILED) };
            note(&format!("no daemon answered; read from {} (next fire times need `pilot serve`)", folder(home)));
            match workflows.summaries(&store).await {
                Ok(listed) => listed,
                Err(err) => return ui::fail(exit::FAILED, &err.to_string()),
            }
        }
    };
    if ui::json() {
        return print_json(&serde_json::json!(listed));
    }
    out!("{}", list_text(&listed));
    ExitCode::SUCCESS
}

async fn show(home: &PilotHome, client: Option<&DaemonClient>, name: &str) -> ExitCode {
    let detail = match client {
        Some(client) => match client.workflow(name).await {
            Ok(detail) => Some(detail),
            Err(err) if is_unreachable(&err) => {
                ui::warn(&format!("{err}; reading the workflows folder instead"));
                None
            }
            Err(err) => return call_failed(&err),
        },
        None => None,
    };
    let detail = match detail {
        Some(detail) => detail,
        None => {
            let Some((workflows, store)) = read_offline(home) else { return exit::code(exit::FAILED) };
            note(&format!("no daemon answered; read from {} (next fire times need `pilot serve`)", folder(home)));
            match workflows.detail(&store, name).await {
                Ok(Some(detail)) => detail,
                Ok(None) => return unknown(home, name),
                Err(err) => return ui::fail(exit::FAILED, &err.to_string()),
            }
        }
    };
    if ui::json() {
        return print_json(&serde_json::json!(detail));
    }
    out!("{}", detail_text(&detail));
    ExitCode::SUCCESS
}

async fn set_enabled(home: &PilotHome, client: Option<&DaemonClient>, name: &str, enabled: bool) -> ExitCode {
    let summary = match client {
        Some(client) => match client.set_enabled(name, enabled).await {
            Ok(summary) => summary,
            Err(err) => return call_failed(&err),
        },
        None => {
            let Some((workflows, store)) = read_offline(home) else { return exit::code(exit::FAILED) };
            match workflows.set_enabled(&store, name, enabled, SystemClock.now()).await {
                Ok(Some(summary)) => {
                    note("no daemon is running; recorded in the store, which `pilot serve` reads when it starts");
                    summary
                }
                Ok(None) => return unknown(home, name),
                Err(err) => return ui::fail(exit::FAILED, &err.to_string()),
            }
        }
    };
    if ui::json() {
        return print_json(&serde_json::json!(summary));
    }
    let state = if summary.enabled { "enabled" } else { "disabled" };
    outln!("workflow {} {state}", summary.name);
    ExitCode::SUCCESS
}

/// The workflows folder compiled, and the store (created if needed, as every command that records does).
fn read_offline(home: &PilotHome) -> Option<(Workflows, SqliteStore)> {
    let catalogue = super::toolbox(home).catalogue;
    if let Err(err) = home.ensure_layout() {
        ui::fail(exit::FAILED, &err.to_string());
        return None;
    }
    if let Err(message) = super::store_location(home).and_then(|location| location.sqlite_only("pilot workflows")) {
        ui::fail(exit::NOT_RUN, &format!("{message}; with a running daemon, `pilot workflows` asks it instead"));
        return None;
    }
    let options = StoreOptions { logs: executor::store::LogFolder::At(home.logs()), ..StoreOptions::default() };
    match SqliteStore::open(home.database(), options) {
        Ok(store) => Some((Workflows::read(home, &catalogue), store)),
        Err(err) => {
            ui::fail(exit::FAILED, &err.to_string());
            None
        }
    }
}

fn note(text: &str) {
    if !ui::quiet() {
        eprintln!("note: {text}");
    }
}

fn folder(home: &PilotHome) -> String {
    home.workflows().display().to_string()
}

fn unknown(home: &PilotHome, name: &str) -> ExitCode {
    ui::fail(exit::NOT_RUN, &format!("no workflow named `{name}` in {} (`pilot workflows list`)", folder(home)))
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn yes_no(yes: bool) -> &'static str {
    if yes { "yes" } else { "no" }
}

fn list_text(listed: &[WorkflowSummary]) -> String {
    if listed.is_empty() {
        return "no workflows\n".to_owned();
    }
    let rows: Vec<Vec<String>> = listed
        .iter()
        .map(|workflow| {
            let triggers: Vec<&str> = workflow.triggers.iter().map(|trigger| trigger.kind.as_str()).collect();
            let last = workflow.last_execution.as_ref().map_or_else(
                || "-".to_owned(),
                |last| format!("{} {}", last.status, last.started_at.as_deref().map_or_else(String::new, when)),
            );
            let name = if workflow.name.is_empty() {
                format!("({})", file_name(&workflow.file))
            } else {
                workflow.name.clone()
            };
            vec![
                name,
                yes_no(workflow.enabled).to_owned(),
                if triggers.is_empty() { "-".to_owned() } else { triggers.join(", ") },
                workflow.next_fire.as_deref().map_or_else(|| "-".to_owned(), when),
                last.trim_end().to_owned(),
            ]
        })
        .collect();
    let mut text = super::executions::table(&["NAME", "ENABLED", "TRIGGERS", "NEXT FIRE", "LAST EXECUTION"], &rows);
    for workflow in listed {
        if let Some(problem) = &workflow.problem {
            text.push_str(&format!("problem: {problem}\n"));
        }
    }
    text
}

fn detail_text(detail: &WorkflowDetail) -> String {
    let workflow = &detail.summary;
    let mut text = format!("workflow     {}\n", workflow.name);
    if let Some(description) = &workflow.description {
        text.push_str(&format!("description  {description}\n"));
    }
    text.push_str(&format!("file         {}\n", workflow.file));
    text.push_str(&format!("enabled      {}\n", yes_no(workflow.enabled)));
    if let Some(next) = &workflow.next_fire {
        text.push_str(&format!("next fire    {}\n", when(next)));
    }
    if let Some(last) = &workflow.last_execution {
        let started = last.started_at.as_deref().map_or_else(|| "-".to_owned(), when);
        text.push_str(&format!("last         {} {} (execution {})\n", last.status, started, last.id));
    }
    if let Some(problem) = &workflow.problem {
        text.push_str(&format!("problem      {problem}\n"));
    }
    if !workflow.triggers.is_empty() {
        let rows: Vec<Vec<String>> = workflow
            .triggers
            .iter()
            .map(|trigger| {
                vec![
                    trigger.kind.clone(),
                    trigger.summary.clone(),
                    trigger.next_fire.as_deref().map_or_else(|| "-".to_owned(), when),
                    trigger.id.clone(),
                ]
            })
            .collect();
        text.push('\n');
        text.push_str(&super::executions::table(&["TRIGGER", "WHAT", "NEXT FIRE", "ID"], &rows));
    }
    if !detail.diagnostics.is_empty() {
        text.push('\n');
        for diagnostic in &detail.diagnostics {
            text.push_str(&format!(
                "{}:{}:{}: {}[{}]: {}\n",
                diagnostic.file,
                diagnostic.line,
                diagnostic.column,
                diagnostic.severity,
                diagnostic.code,
                diagnostic.message
            ));
        }
    }
    text
}
