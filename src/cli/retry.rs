//! `pilot retry ID [--from STEP] [--json] [--timeout DURATION]`: runs a finished execution again from its failed
//! step (or from STEP), reusing the outputs of the steps before it.
//!
//! The retry is a *new* execution of the same workflow version with the same inputs and trigger data; its lineage
//! (`retry_of`: OLD and STEP) links it to the old one, which stays as it was. Re-run are the failed (or not run)
//! steps, STEP, and everything that depends on them; the other steps' records are copied.
//! Exit status as `pilot run`: 0 success, 1 failed, 2 when nothing ran (unknown id or step, nothing to retry),
//! 130 when Ctrl-C cancelled it.

use super::progress::View;
use super::run::parse_timeout;
use super::runner::{Runner, engine_failed, fail, progress, report, supervise, with_runner};
use executor::engine::Context;
use executor::store::new_execution_id;
use server::runs::Claim;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct RetryArgs {
    /// The execution to retry: its id or a unique prefix.
    pub id: String,
    /// Re-run from this step (and everything depending on it) instead of from the failed steps.
    #[arg(long, value_name = "STEP")]
    pub from: Option<String>,
    /// Fail the new execution when it has not ended after this long.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
}

pub fn run(args: &RetryArgs) -> ExitCode {
    with_runner(|runner| retry(runner, args))
}

async fn retry(runner: Runner, args: &RetryArgs) -> ExitCode {
    let id = new_execution_id();
    let claim: Claim = match runner.active.claim(&id) {
        Ok(Ok(claim)) => claim,
        Ok(Err(pid)) => return fail(&format!("execution {id} is already run by process {pid}")),
        Err(err) => return fail(&err.to_string()),
    };
    let (sender, drawing) = progress(View::choose(), false);
    let mut context = Context {
        progress: Some(sender),
        execution_id: Some(id),
        timeout: args.timeout,
        children: claim.child_recorder(),
        ..Context::default()
    };
    if let Err(err) = super::runner::add_all_credentials(&runner, &mut context).await {
        return fail(&err);
    }
    let handle = match runner.engine.retry(&args.id, args.from.as_deref(), context).await {
        Ok(handle) => handle,
        Err(err) => return engine_failed(&err),
    };
    let supervised = supervise(&runner.engine, handle, &claim).await;
    let _ = drawing.await;
    drop(claim);
    report(runner.store.as_ref(), &supervised).await
}
