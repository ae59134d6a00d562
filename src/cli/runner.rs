//! What `pilot run`, `resume`, `retry` and `cancel` share: the engine over `$PILOT_HOME/pilot.db`, watching an
//! execution for cancellation, and printing how it ended.

use super::active::{ActiveRuns, Claim, runs_folder};
use super::progress::{View, render, short};
use crate::home::PilotHome;
use executor::engine::{EngineError, ProgressEvent};
use executor::store::{LogFolder, LookupError, SqliteStore, Status, Store, StoreOptions};
use executor::{ExecutionHandle, ExecutionOutcome, WorkflowEngine};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;

/// `println!` that ignores a closed stdout (`pilot run ... | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}
pub(crate) use say;

/// The execution failed or was cancelled (or something went wrong while running it).
pub(crate) const EXIT_FAILED: u8 = 1;
/// Nothing ran: the workflow does not compile, an input is wrong, or the execution id is unknown.
pub(crate) const EXIT_NOT_RUN: u8 = 2;

/// How often a running execution looks for a `pilot cancel` request.
const CANCEL_POLL: Duration = Duration::from_millis(100);

pub(crate) struct Runner {
    pub engine: Arc<WorkflowEngine>,
    pub store: Arc<SqliteStore>,
    pub active: ActiveRuns,
}

/// Creates the `$PILOT_HOME` layout if needed and opens the store and the engine.
pub(crate) fn open_runner() -> Result<Runner, String> {
    let home = PilotHome::from_env();
    home.ensure_layout().map_err(|err| err.to_string())?;
    // Built-ins plus installed custom connectors; problems were already reported when the workflow was checked.
    let toolbox = crate::toolbox::Toolbox::load(&home);
    let options = StoreOptions { logs: LogFolder::At(home.logs()), ..StoreOptions::default() };
    let store = Arc::new(SqliteStore::open(home.database(), options).map_err(|err| err.to_string())?);
    let engine =
        WorkflowEngine::new(store.clone() as Arc<dyn Store>, Arc::new(toolbox.registry), Arc::new(toolbox.catalogue));
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
        match open_runner() {
            Ok(runner) => command(runner).await,
            Err(err) => fail(&err),
        }
    })
}

pub(crate) fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_FAILED)
}

/// The exit code and message for an engine error.
pub(crate) fn engine_failed(err: &EngineError) -> ExitCode {
    eprintln!("error: {err}");
    match err {
        EngineError::Input(_)
        | EngineError::DoesNotCompile { .. }
        | EngineError::UnknownStep { .. }
        | EngineError::NothingToRetry { .. }
        | EngineError::Lookup(LookupError::NotFound { .. } | LookupError::Ambiguous { .. }) => {
            ExitCode::from(EXIT_NOT_RUN)
        }
        _ => ExitCode::from(EXIT_FAILED),
    }
}

/// A progress channel and the task drawing it.
pub(crate) fn progress(
    view: View,
    show_execution: bool,
) -> (UnboundedSender<ProgressEvent>, tokio::task::JoinHandle<()>) {
    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    (sender, tokio::spawn(render(receiver, view, show_execution)))
}

/// Waits for an execution, cancelling it on Ctrl-C or when `pilot cancel` asks (through the claim).
pub(crate) async fn supervise(engine: &WorkflowEngine, handle: ExecutionHandle, claim: &Claim) -> ExecutionOutcome {
    let id = handle.id.clone();
    let wait = handle.wait();
    tokio::pin!(wait);
    let cancel_asked = async {
        let mut poll = tokio::time::interval(CANCEL_POLL);
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => return,
                _ = poll.tick() => if claim.cancel_requested() { return },
            }
        }
    };
    tokio::select! {
        outcome = &mut wait => return outcome,
        _ = cancel_asked => {}
    }
    // Only fails when the execution has just ended on its own.
    let _ = engine.cancel(&id).await;
    wait.await
}

/// Prints how an execution ended (the execution JSON with `--json`) and returns the exit code for it.
pub(crate) async fn report(store: &SqliteStore, outcome: &ExecutionOutcome, json: bool) -> ExitCode {
    let code = if outcome.status == Status::Success { ExitCode::SUCCESS } else { ExitCode::from(EXIT_FAILED) };
    let record = match store.load_execution(&outcome.id).await {
        Ok(Some(record)) => record,
        Ok(None) => return fail(&format!("execution {} is missing from the store", outcome.id)),
        Err(err) => return fail(&err.to_string()),
    };
    if json {
        match serde_json::to_string_pretty(&record.to_json()) {
            Ok(text) => say!("{text}"),
            Err(err) => return fail(&format!("cannot render JSON: {err}")),
        }
        return code;
    }
    let took = match (record.started_at, record.completed_at) {
        (Some(start), Some(end)) => {
            format!(" in {}", short(Duration::from_micros(u64::try_from(end.0 - start.0).unwrap_or(0))))
        }
        _ => String::new(),
    };
    match &outcome.error {
        None => say!("execution {} {}{took}", outcome.id, outcome.status),
        Some(error) => say!("execution {} {}{took}: {error}", outcome.id, outcome.status),
    }
    code
}

/// Decrypts the credentials and `secrets.NAME` values the plan uses into the run's context. Opens the vault only
/// when the plan uses any, so workflows without secrets never need a master key.
pub(crate) async fn add_credentials(
    runner: &Runner,
    plan: &compiler::Plan,
    context: &mut executor::Context,
) -> Result<(), String> {
    if executor::credentials::names_used(plan).is_empty() {
        return Ok(());
    }
    let home = PilotHome::from_env();
    let (vault, _) = super::credentials::open_vault(&home, runner.store.clone() as Arc<dyn Store>).await?;
    let (credentials, secrets) = executor::credentials::for_run(&vault, plan).await.map_err(|err| err.to_string())?;
    context.credentials.extend(credentials);
    context.secrets.extend(secrets);
    Ok(())
}

/// For resume and retry, whose plan is compiled by the engine: every stored credential, decrypted, each also as
/// `secrets.NAME`. Nothing (and no master key needed) when none is stored.
pub(crate) async fn add_all_credentials(runner: &Runner, context: &mut executor::Context) -> Result<(), String> {
    let stored = runner.store.credentials().await.map_err(|err| err.to_string())?;
    if stored.is_empty() {
        return Ok(());
    }
    let home = PilotHome::from_env();
    let (vault, _) = super::credentials::open_vault(&home, runner.store.clone() as Arc<dyn Store>).await?;
    for credential in vault.decrypt_all().await.map_err(|err| err.to_string())? {
        if let Some(text) = executor::credentials::secret_text(&credential) {
            context.secrets.insert(credential.name.clone(), text);
        }
        context.credentials.insert(credential.name.clone(), credential);
    }
    Ok(())
}
