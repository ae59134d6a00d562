//! What `pilot run`, `resume`, `retry` and `cancel` share: the engine over `$PILOT_HOME/pilot.db`, watching an
//! execution for cancellation, and printing how it ended.

use super::exit;
use super::output::outln;
use super::progress::{View, render, short};
use super::ui;
use executor::engine::{Clock, EngineError, ProgressEvent, SystemClock};
use executor::store::{InstanceRecord, LookupError, Status, Store};
use executor::{ExecutionHandle, ExecutionOutcome, WorkflowEngine};
use server::home::PilotHome;
use server::runs::{ActiveRuns, Claim, runs_folder};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// How often a running execution looks for a `pilot cancel` request.
const CANCEL_POLL: Duration = Duration::from_millis(100);

pub(crate) struct Runner {
    pub engine: Arc<WorkflowEngine>,
    pub store: Arc<dyn Store>,
    pub active: ActiveRuns,
}

/// Creates the `$PILOT_HOME` layout if needed and opens the store and the engine.
pub(crate) async fn open_runner() -> Result<Runner, String> {
    let home = PilotHome::from_env();
    home.ensure_layout().map_err(|err| err.to_string())?;
    // Built-ins plus installed custom connectors; problems were already reported when the workflow was checked.
    let toolbox = server::toolbox::Toolbox::load(&home);
    let location = super::store_location(&home)?;
    let store = server::store_location::open_store(&location).await.map_err(|err| err.to_string())?;
    let engine = WorkflowEngine::new(store.clone(), Arc::new(toolbox.registry), Arc::new(toolbox.catalogue))
        .with_budget(super::expression_budget());
    Ok(Runner { engine: Arc::new(engine), store, active: ActiveRuns::at(runs_folder(home.root())) })
}

/// Runs `command` on a multi-threaded tokio runtime with the engine open.
pub(crate) fn with_runner<F, Fut>(command: F) -> ExitCode
where
    F: FnOnce(Runner) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("cannot start the async runtime: {err}")),
    };
    runtime.block_on(async move {
        match open_runner().await {
            Ok(runner) => {
                let store = runner.store.clone();
                let code = command(runner).await;
                // Best-effort writes (log lines) still queued are committed before the runtime stops.
                let _ = store.flush().await;
                code
            }
            Err(err) => fail(&err),
        }
    })
}

/// Something went wrong while running (the work started): says so and returns status 1.
/// The daemon that holds execution `id` when its lease still runs (on this machine or another one sharing the
/// store): such an execution is that daemon's to finish or cancel, never this process's. `None` when no live
/// daemon owns it (a `pilot run`'s, or one whose daemon died).
pub(crate) async fn live_owner(store: &dyn Store, id: &str) -> Result<Option<InstanceRecord>, String> {
    let Some(owner) = store.load_execution(id).await.map_err(|err| err.to_string())?.and_then(|record| record.owner)
    else {
        return Ok(None);
    };
    // Live on the store's clock (the database's, on a shared store).
    let live = store.live_instances(SystemClock.now()).await.map_err(|err| err.to_string())?;
    if !live.contains(&owner) {
        return Ok(None);
    }
    let instances = store.instances().await.map_err(|err| err.to_string())?;
    Ok(instances.into_iter().find(|instance| instance.id == owner))
}

pub(crate) fn fail(message: &str) -> ExitCode {
    ui::fail(exit::FAILED, message)
}

/// The exit code and message for an engine error: 2 when nothing ran, else 1.
pub(crate) fn engine_failed(err: &EngineError) -> ExitCode {
    let status = match err {
        EngineError::Input(_)
        | EngineError::DoesNotCompile { .. }
        | EngineError::UnknownStep { .. }
        | EngineError::NothingToRetry { .. }
        | EngineError::Lookup(LookupError::NotFound { .. } | LookupError::Ambiguous { .. }) => exit::NOT_RUN,
        _ => exit::FAILED,
    };
    ui::fail(status, &err.to_string())
}

/// A progress channel and the task drawing it.
pub(crate) fn progress(
    view: View,
    show_execution: bool,
) -> (UnboundedSender<ProgressEvent>, tokio::task::JoinHandle<()>) {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    (sender, tokio::spawn(render(receiver, view, show_execution)))
}

/// How a supervised execution ended, and whether Ctrl-C ended it (then the exit status is 130).
pub(crate) struct Supervised {
    pub outcome: ExecutionOutcome,
    pub interrupted: bool,
}

/// Waits for an execution, cancelling it on Ctrl-C or when `pilot cancel` asks (through the claim).
pub(crate) async fn supervise(engine: &WorkflowEngine, handle: ExecutionHandle, claim: &Claim) -> Supervised {
    let id = handle.id.clone();
    let wait = handle.wait();
    tokio::pin!(wait);
    let cancel_asked = async {
        let mut poll = tokio::time::interval(CANCEL_POLL);
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return true,
                _ = poll.tick() => if claim.cancel_requested() { return false },
            }
        }
    };
    let interrupted = tokio::select! {
        outcome = &mut wait => return Supervised { outcome, interrupted: false },
        interrupted = cancel_asked => interrupted,
    };
    // Only fails when the execution has just ended on its own.
    let _ = engine.cancel(&id).await;
    Supervised { outcome: wait.await, interrupted }
}

/// Prints how an execution ended (the execution JSON with `--json`) and returns the exit code for it:
/// 0 success, 130 when Ctrl-C cancelled it, else 1.
pub(crate) async fn report(store: &dyn Store, supervised: &Supervised) -> ExitCode {
    match ended(store, supervised).await {
        Ok((code, json)) => {
            if ui::json() {
                outln!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
            }
            code
        }
        Err(code) => code,
    }
}

/// [`report`] for several executions (`pilot resume`): a line each, or one JSON array. The worst status wins.
pub(crate) async fn report_all(store: &dyn Store, all: &[Supervised]) -> ExitCode {
    let mut documents = Vec::new();
    let mut worst = exit::SUCCESS;
    for supervised in all {
        let (code, json) = match ended(store, supervised).await {
            Ok(found) => found,
            Err(code) => (code, serde_json::Value::Null),
        };
        worst = worst.max(status_of(code));
        documents.push(json);
    }
    if ui::json() {
        outln!("{}", serde_json::to_string_pretty(&documents).unwrap_or_default());
    }
    exit::code(worst)
}

fn status_of(code: ExitCode) -> u8 {
    [exit::SUCCESS, exit::FAILED, exit::INTERRUPTED]
        .into_iter()
        .find(|s| exit::code(*s) == code)
        .unwrap_or(exit::FAILED)
}

/// The exit code and JSON of an ended execution; says how it ended unless `--json`.
async fn ended(store: &dyn Store, supervised: &Supervised) -> Result<(ExitCode, serde_json::Value), ExitCode> {
    let outcome = &supervised.outcome;
    let code = match outcome.status {
        Status::Success => ExitCode::SUCCESS,
        _ if supervised.interrupted => exit::code(exit::INTERRUPTED),
        _ => exit::code(exit::FAILED),
    };
    let record = match store.load_execution(&outcome.id).await {
        Ok(Some(record)) => record,
        Ok(None) => return Err(fail(&format!("execution {} is missing from the store", outcome.id))),
        Err(err) => return Err(fail(&err.to_string())),
    };
    if !ui::json() {
        let took = match (record.started_at, record.completed_at) {
            (Some(start), Some(end)) => {
                format!(" in {}", short(Duration::from_micros(u64::try_from(end.0 - start.0).unwrap_or(0))))
            }
            _ => String::new(),
        };
        match &outcome.error {
            None => outln!("execution {} {}{took}", outcome.id, outcome.status),
            Some(error) => outln!("execution {} {}{took}: {error}", outcome.id, outcome.status),
        }
    }
    Ok((code, execution_json(&record, outcome)))
}

/// The record as JSON; when the store could not record how the execution ended (a full disk), the outcome's
/// status and error, which the text output shows too, replace the stale ones.
fn execution_json(record: &executor::store::ExecutionRecord, outcome: &ExecutionOutcome) -> serde_json::Value {
    let mut json = record.to_json();
    if record.status != outcome.status || (record.error.is_none() && outcome.error.is_some()) {
        json["status"] = serde_json::Value::from(outcome.status.as_str());
        json["error"] = serde_json::Value::from(outcome.error.clone());
        if ui::json() {
            let error = outcome.error.as_deref().unwrap_or("its end could not be recorded");
            ui::warn(&format!("execution {} {}: {error}", outcome.id, outcome.status));
        }
    }
    json
}

/// Decrypts the credentials and `secrets.NAME` values the plan uses into the run's context. Opens the vault only
/// when the plan uses any, so workflows without secrets never need a master key.
pub(crate) async fn add_credentials(
    runner: &Runner,
    plan: &compiler::Plan,
    context: &mut executor::Context,
) -> Result<(), String> {
    let store = runner.store.clone() as Arc<dyn Store>;
    server::credentials::for_plan(&PilotHome::from_env(), store, plan).await?.fill(context);
    Ok(())
}

/// For resume and retry, whose plan is compiled by the engine: every stored credential, decrypted, each also as
/// `secrets.NAME`. Nothing (and no master key needed) when none is stored.
pub(crate) async fn add_all_credentials(runner: &Runner, context: &mut executor::Context) -> Result<(), String> {
    let store = runner.store.clone() as Arc<dyn Store>;
    server::credentials::all(&PilotHome::from_env(), store).await?.fill(context);
    Ok(())
}
