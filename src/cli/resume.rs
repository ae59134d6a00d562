//! `pilot resume [ID] [--json]`: continues interrupted executions (their `pilot` process died: killed, crashed,
//! machine rebooted). Without an id, every interrupted execution that no live process is running.
//!
//! Finished steps are never run again: their stored outputs are reloaded. A step that was running when the
//! process died is run again (at-least-once), unless it says `resume: fail`; then it is recorded failed and
//! the execution fails. With `--json`, a JSON array of the resumed executions (`[]` when there was nothing to
//! resume). Exit status: 0 when every resumed execution succeeded (or there was nothing to resume), 1 when one
//! failed, 2 for an unknown id, 130 when Ctrl-C cancelled them.

use super::output::outln;
use super::progress::View;
use super::runner::{Runner, engine_failed, fail, progress, report_all, supervise, with_runner};
use super::ui;
use executor::engine::Context;
use executor::store::Store;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    /// The execution id (or a unique prefix). Without it, every interrupted execution.
    pub id: Option<String>,
}

pub fn run(args: &ResumeArgs) -> ExitCode {
    with_runner(|runner| resume(runner, args.id.clone()))
}

async fn resume(runner: Runner, id: Option<String>) -> ExitCode {
    let ids = match id {
        Some(prefix) => match runner.store.resolve_execution_id(&prefix).await {
            Ok(id) => vec![id],
            Err(err) => return engine_failed(&err.into()),
        },
        None => match runner.store.interrupted_executions().await {
            Ok(found) => found.into_iter().map(|summary| summary.id).collect(),
            Err(err) => return fail(&err.to_string()),
        },
    };
    let mut with_credentials = Context::default();
    if let Err(err) = super::runner::add_all_credentials(&runner, &mut with_credentials).await {
        return fail(&err);
    }
    let runner = Arc::new(runner);
    let (sender, drawing) = progress(View::choose(), ids.len() > 1);
    let mut running = tokio::task::JoinSet::new();
    let mut code = ExitCode::SUCCESS;
    for id in ids {
        let claim = match runner.active.claim(&id) {
            Ok(Ok(claim)) => claim,
            Ok(Err(pid)) => {
                ui::warn(&format!("execution {id} is still running in process {pid}: not resumed"));
                continue;
            }
            Err(err) => {
                code = fail(&err.to_string());
                continue;
            }
        };
        if claim.leftovers_killed > 0 {
            eprintln!("execution {id}: killed {} process(es) its interrupted run left running", claim.leftovers_killed);
        }
        let context =
            Context { progress: Some(sender.clone()), children: claim.child_recorder(), ..with_credentials.clone() };
        match runner.engine.resume(&id, context).await {
            Ok(handle) => {
                let runner = Arc::clone(&runner);
                running.spawn(async move { supervise(&runner.engine, handle, &claim).await });
            }
            Err(err) => code = engine_failed(&err),
        }
    }
    drop(sender);
    let mut outcomes = Vec::new();
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok(outcome) => outcomes.push(outcome),
            Err(err) => code = fail(&format!("a resumed execution stopped: {err}")),
        }
    }
    let _ = drawing.await;
    if outcomes.is_empty() && code == ExitCode::SUCCESS && !ui::json() {
        outln!("nothing to resume");
    }
    let reported = report_all(&runner.store, &outcomes).await;
    if code == ExitCode::SUCCESS { reported } else { code }
}
