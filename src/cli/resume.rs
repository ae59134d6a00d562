//! `pilot resume [ID] [--json]`: continues interrupted executions (their `pilot` process died: killed, crashed,
//! machine rebooted). Without an id, every interrupted execution that no live process is running. An execution a
//! daemon with a live lease holds (this machine's, or another node's on a shared store) is left to that daemon.
//!
//! Finished steps are never run again: their stored outputs are reloaded. A step that was running when the
//! process died is run again (at-least-once), unless it says `resume: fail`; then it is recorded failed and
//! the execution fails. Executions resumed before without finishing run one at a time, after the others, and
//! one that already had `MAX_RESUME_ATTEMPTS` is recorded failed instead (see `executor::engine::ResumeOrder`).
//! With `--json`, a JSON array of the resumed executions (`[]` when there was nothing to
//! resume). Exit status: 0 when every resumed execution succeeded (or there was nothing to resume), 1 when one
//! failed, 2 for an unknown id, 130 when Ctrl-C cancelled them.

use super::output::outln;
use super::progress::View;
use super::runner::{Runner, Supervised, engine_failed, fail, progress, report_all, supervise, with_runner};
use super::ui;
use executor::engine::{Context, ResumeOrder};
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
    let order = match id {
        Some(prefix) => match runner.store.resolve_execution_id(&prefix).await {
            Ok(id) => ResumeOrder { together: vec![id], one_at_a_time: Vec::new() },
            Err(err) => return engine_failed(&err.into()),
        },
        None => match runner.store.interrupted_executions().await {
            Ok(found) => ResumeOrder::of(&found),
            Err(err) => return fail(&err.to_string()),
        },
    };
    let mut with_credentials = Context::default();
    if let Err(err) = super::runner::add_all_credentials(&runner, &mut with_credentials).await {
        return fail(&err);
    }
    let runner = Arc::new(runner);
    let count = order.together.len() + order.one_at_a_time.len();
    let (sender, drawing) = progress(View::choose(), count > 1);
    let mut resumed = Resumed { outcomes: Vec::new(), code: ExitCode::SUCCESS };
    // Executions resumed before without finishing may be what stopped the process: each runs alone, last.
    let batches = std::iter::once(order.together).chain(order.one_at_a_time.into_iter().map(|id| vec![id]));
    for batch in batches {
        let context = Context { progress: Some(sender.clone()), ..with_credentials.clone() };
        resume_side_by_side(&runner, batch, &context, &mut resumed).await;
    }
    drop(sender);
    let Resumed { outcomes, code } = resumed;
    let _ = drawing.await;
    if outcomes.is_empty() && code == ExitCode::SUCCESS && !ui::json() {
        outln!("nothing to resume");
    }
    let reported = report_all(runner.store.as_ref(), &outcomes).await;
    if code == ExitCode::SUCCESS { reported } else { code }
}

struct Resumed {
    outcomes: Vec<Supervised>,
    code: ExitCode,
}

/// Resumes `ids` at the same time and waits for all of them to end.
async fn resume_side_by_side(runner: &Arc<Runner>, ids: Vec<String>, context: &Context, resumed: &mut Resumed) {
    let mut running = tokio::task::JoinSet::new();
    for id in ids {
        match super::runner::live_owner(runner.store.as_ref(), &id).await {
            Ok(Some(node)) => {
                ui::warn(&format!(
                    "execution {id} is run by pilot serve {} on {} (its lease holds): not resumed",
                    node.id, node.host
                ));
                continue;
            }
            Ok(None) => {}
            Err(err) => {
                resumed.code = fail(&err);
                continue;
            }
        }
        let claim = match runner.active.claim(&id) {
            Ok(Ok(claim)) => claim,
            Ok(Err(pid)) => {
                ui::warn(&format!("execution {id} is still running in process {pid}: not resumed"));
                continue;
            }
            Err(err) => {
                resumed.code = fail(&err.to_string());
                continue;
            }
        };
        if claim.leftovers_killed > 0 {
            eprintln!("execution {id}: killed {} process(es) its interrupted run left running", claim.leftovers_killed);
        }
        let context = Context { children: claim.child_recorder(), ..context.clone() };
        match runner.engine.resume(&id, context).await {
            Ok(handle) => {
                let runner = Arc::clone(runner);
                running.spawn(async move { supervise(&runner.engine, handle, &claim).await });
            }
            Err(err) => resumed.code = engine_failed(&err),
        }
    }
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok(outcome) => resumed.outcomes.push(outcome),
            Err(err) => resumed.code = fail(&format!("a resumed execution stopped: {err}")),
        }
    }
}
