//! `pilot cancel ID`: cancels a running execution, also one running in another `pilot` process.
//!
//! The process running it is asked through `$PILOT_HOME/run/<id>.cancel` (see `active`): it cancels its running
//! steps (each action's cancellation token fires), records the execution `cancelled` and exits 1. This command
//! waits up to 10 seconds for that. One the daemon runs or queues is cancelled by the daemon (`POST .../cancel`).
//! On a PostgreSQL store, one another node runs is cancelled by that node, asked through `NOTIFY pilot_cancel`.
//! An interrupted execution (no process holds it) is marked `cancelled` in the store directly, so that `pilot
//! resume` leaves it alone. With `--json`: `{"execution_id", "status", "stopped"}`, where `stopped` is false while
//! its process is still stopping. Exit status: 0 when cancelled (or asked to), 1 when it had already finished, 2
//! for an unknown id.

use super::exit;
use super::output::outln;
use super::runner::{Runner, engine_failed, fail, with_runner};
use super::ui;
use executor::store::{ExecutionEnd, Status};
use server::runs::Owner;
use std::process::ExitCode;
use std::time::Duration;

const WAIT_FOR_STOP: Duration = Duration::from_secs(10);

#[derive(Debug, clap::Args)]
pub struct CancelArgs {
    /// The execution id, or a unique prefix of it.
    pub id: String,
}

pub fn run(args: &CancelArgs) -> ExitCode {
    with_runner(|runner| cancel(runner, args.id.clone()))
}

async fn cancel(runner: Runner, prefix: String) -> ExitCode {
    let id = match runner.store.resolve_execution_id(&prefix).await {
        Ok(id) => id,
        Err(err) => return engine_failed(&err.into()),
    };
    let status = match current_status(&runner, &id).await {
        Ok(status) => status,
        Err(code) => return code,
    };
    if status.is_finished() {
        return ui::fail(exit::FAILED, &format!("execution {id} already finished ({status})"));
    }
    match runner.active.owner(&id) {
        Owner::Process(pid) => ask_owner(&runner, &id, pid).await,
        Owner::Nobody => match ask_daemon(&runner, &id).await {
            Some(code) => code,
            None => match super::runner::live_owner(runner.store.as_ref(), &id).await {
                // Another daemon runs it (one sharing the store): it alone may end it, asked through the bus.
                Ok(Some(node)) => match ask_node(&runner, &id, &node).await {
                    Some(code) => code,
                    None => ui::fail(
                        exit::FAILED,
                        &format!(
                            "execution {id} is run by pilot serve {} on {}: cancel it through that daemon's API \
                             (POST /api/v1/executions/{id}/cancel)",
                            node.id, node.host
                        ),
                    ),
                },
                Ok(None) => cancel_interrupted(&runner, &id, status).await,
                Err(err) => fail(&err),
            },
        },
    }
}

/// When the daemon runs (or queues) it, the daemon cancels it; `None` when no daemon runs or it does not hold it.
async fn ask_daemon(runner: &Runner, id: &str) -> Option<ExitCode> {
    let client = server::client::DaemonClient::connect(&server::home::PilotHome::from_env()).ok()?;
    match client.cancel(id).await {
        Ok(_) => Some(wait_for_end(runner, id, &format!("asked the daemon to cancel execution {id}")).await),
        Err(server::client::ClientError::Api { status: 409, message, .. }) => Some(ui::fail(exit::FAILED, &message)),
        Err(_) => None,
    }
}

/// On a PostgreSQL store: asks the node that runs the execution to cancel it (`NOTIFY pilot_cancel`, as a node
/// does); `None` when the store is not one or the request cannot be sent.
async fn ask_node(runner: &Runner, id: &str, node: &executor::store::InstanceRecord) -> Option<ExitCode> {
    use executor::store::postgres::{CANCEL_CHANNEL, PostgresOptions, PostgresStore};
    let home = server::home::PilotHome::from_env();
    let server::store_location::StoreLocation::Postgres(url) = super::store_location(&home).ok()? else {
        return None;
    };
    let store =
        PostgresStore::connect(&url, PostgresOptions { max_readers: 1, ..PostgresOptions::default() }).await.ok()?;
    store.notify(&[(CANCEL_CHANNEL, id.to_owned())]).await.ok()?;
    let asked = format!("asked pilot serve {} on {} to cancel execution {id}", node.id, node.host);
    Some(wait_for_end(runner, id, &asked).await)
}

async fn current_status(runner: &Runner, id: &str) -> Result<Status, ExitCode> {
    match runner.store.load_execution(id).await {
        Ok(Some(record)) => Ok(record.status),
        Ok(None) => Err(fail(&format!("execution {id} is missing from the store"))),
        Err(err) => Err(fail(&err.to_string())),
    }
}

async fn ask_owner(runner: &Runner, id: &str, pid: u32) -> ExitCode {
    if let Err(err) = runner.active.request_cancel(id) {
        return fail(&err.to_string());
    }
    wait_for_end(runner, id, &format!("asked process {pid} to cancel execution {id}")).await
}

/// Waits up to [`WAIT_FOR_STOP`] for the execution to be recorded finished; says how it ended.
async fn wait_for_end(runner: &Runner, id: &str, asked: &str) -> ExitCode {
    let deadline = tokio::time::Instant::now() + WAIT_FOR_STOP;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        match current_status(runner, id).await {
            Ok(status) if status.is_finished() => {
                return said(id, status, true, &format!("execution {id} {status}"));
            }
            Ok(_) => {}
            Err(code) => return code,
        }
    }
    said(id, Status::Running, false, &format!("{asked}; it is still stopping"))
}

/// Prints the outcome (a line, or the JSON object with `--json`); status 0.
fn said(id: &str, status: Status, stopped: bool, text: &str) -> ExitCode {
    if ui::json() {
        let document = serde_json::json!({ "execution_id": id, "status": status.as_str(), "stopped": stopped });
        outln!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
    } else {
        outln!("{text}");
    }
    ExitCode::SUCCESS
}

async fn cancel_interrupted(runner: &Runner, id: &str, status: Status) -> ExitCode {
    // A pending one may be claimed by a node of a shared store at this very moment: cancelled only once claimed here.
    if status == Status::Pending {
        match runner.store.claim_execution(id, "pilot-cancel", now()).await {
            Ok(true) => {}
            Ok(false) => {
                return ui::fail(
                    exit::FAILED,
                    &format!("execution {id} was started by a node just now: run `pilot cancel {id}` again"),
                );
            }
            Err(err) => return fail(&err.to_string()),
        }
    }
    let end = ExecutionEnd {
        execution_id: id.to_string(),
        status: Status::Cancelled,
        error: Some("cancelled while interrupted (its process was gone)".to_string()),
        context: None,
        completed_at: now(),
    };
    match runner.store.finish_execution(end).await {
        Ok(()) => said(
            id,
            Status::Cancelled,
            true,
            &format!("execution {id} cancelled (it was interrupted: no process was running it)"),
        ),
        Err(err) => fail(&err.to_string()),
    }
}

fn now() -> expr_grammar::Timestamp {
    use executor::engine::{Clock, SystemClock};
    SystemClock.now()
}
