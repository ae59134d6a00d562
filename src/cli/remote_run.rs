//! `pilot run NAME`: when the argument is no file, it names a workflow of the running daemon, which runs it (so
//! it shows in the monitor with its triggered executions). This process follows it: the same live view as a local
//! run, from the daemon's events, and the execution polled as a safety net.
//!
//! `--var`/`--input` are sent as the run's inputs and checked by the daemon (`--var` values are typed by the
//! workflow's declared inputs, as for a file). Ctrl-C asks the daemon to cancel the execution and exits 130 once
//! it has ended (a second Ctrl-C stops following at once). `--json` prints the execution at the end in the shape
//! of a local `pilot run --json`. Exit status: 0 success, 1 failed, cancelled or skipped, 2 nothing ran (no
//! daemon, an unknown or disabled workflow, a wrong input), 130 Ctrl-C.

use super::daemon::{block_on, call_failed, find};
use super::exit;
use super::output::outln;
use super::progress::{View, short};
use super::run::RunArgs;
use super::runner::progress;
use super::ui;
use executor::engine::{Progress, ProgressEvent, add_var, parse_input_json};
use executor::store::{Status, Timestamp};
use server::api::ExecutionDetail;
use server::client::{ClientError, DaemonClient, EventStream, execution_json, is_finished};
use server::daemon::events::{Event, EventKind};
use server::home::PilotHome;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// How often the execution is asked for while following its events (events can be missed: a lagging client).
const POLL: Duration = Duration::from_secs(1);
/// How often the execution is asked for once its end was announced, until the store has it.
const SETTLE_POLL: Duration = Duration::from_millis(50);

/// Whether `pilot run ARG` means a workflow name: no such path, no `/`, no workflow file extension.
pub(crate) fn is_workflow_name(arg: &Path) -> bool {
    let looks_like_file = arg.components().count() > 1
        || matches!(arg.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"));
    !looks_like_file && !arg.as_os_str().is_empty() && !arg.exists()
}

pub(crate) fn run(args: &RunArgs) -> ExitCode {
    let name = args.file.to_string_lossy().into_owned();
    if args.timeout.is_some() {
        let message = format!(
            "--timeout is for running a file; `{name}` runs in the daemon, where its steps' `timeout:` applies"
        );
        return ui::fail(exit::NOT_RUN, &message);
    }
    let home = PilotHome::from_env();
    block_on(async move {
        // Before anything runs: from now on Ctrl-C cancels instead of killing this process.
        let mut interrupts = match signal(SignalKind::interrupt()) {
            Ok(interrupts) => interrupts,
            Err(err) => return ui::fail(exit::FAILED, &format!("cannot watch for Ctrl-C: {err}")),
        };
        let client = match find(&home) {
            Ok(Some(client)) => client,
            Ok(None) => return no_daemon(&home, &name),
            Err(code) => return code,
        };
        let inputs = match inputs(&client, &name, args).await {
            Ok(inputs) => inputs,
            Err(code) => return code,
        };
        run_in_daemon(&client, &name, inputs, &mut interrupts).await
    })
}

fn no_daemon(home: &PilotHome, name: &str) -> ExitCode {
    let catalogue = server::toolbox::Toolbox::load(home).catalogue;
    let file = server::offline::Workflows::read(home, &catalogue).get(name).map(|loaded| loaded.path.clone());
    let instead = match file {
        Some(path) => format!("or run its file in this process: `pilot run {}`", path.display()),
        None => "or give a workflow file: `pilot run FILE`".to_owned(),
    };
    let message = format!(
        "`{name}` is not a file, and no daemon is running for {} to run a workflow of that name: start it with \
         `pilot serve` ({instead})",
        home.root().display()
    );
    ui::fail(exit::NOT_RUN, &message)
}

/// `--input` then `--var`, typed by the workflow's declared inputs (compiled from the daemon's copy of its file).
async fn inputs(
    client: &DaemonClient,
    name: &str,
    args: &RunArgs,
) -> Result<serde_json::Map<String, serde_json::Value>, ExitCode> {
    let bad_input = |err: executor::engine::InputError| ui::fail(exit::NOT_RUN, &err.to_string());
    let mut inputs = match &args.input {
        Some(text) => parse_input_json(text).map_err(bad_input)?,
        None => serde_json::Map::new(),
    };
    if args.vars.is_empty() {
        return Ok(inputs);
    }
    let detail = client.workflow(name).await.map_err(|err| call_failed(&err))?;
    let catalogue = server::toolbox::Toolbox::load(&PilotHome::from_env()).catalogue;
    let (plan, _) = compiler::compile(&detail.source, &detail.summary.file, &catalogue);
    for assignment in &args.vars {
        match &plan {
            Some(plan) => add_var(plan, &mut inputs, assignment).map_err(bad_input)?,
            // Its file does not compile here (another connector set?): JSON when it reads as JSON, else text.
            None => {
                let (key, text) = assignment.split_once('=').unwrap_or((assignment, ""));
                let value = serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::from(text));
                inputs.insert(key.trim().to_owned(), value);
            }
        }
    }
    Ok(inputs)
}

async fn run_in_daemon(
    client: &DaemonClient,
    name: &str,
    inputs: serde_json::Map<String, serde_json::Value>,
    interrupts: &mut Signal,
) -> ExitCode {
    // Subscribed before the run is asked for, so no event of it is missed; without events, polling alone.
    let events = client.events(None, None).await.ok();
    let accepted = match client.run(name, inputs).await {
        Ok(accepted) => accepted,
        Err(err) => return call_failed(&err),
    };
    let id = accepted.execution_id;
    if !ui::json() && !ui::quiet() {
        eprintln!("{} in the daemon at {}: execution {id}", accepted.status, client.url());
    }
    let (sender, drawing) = progress(View::choose(), false);
    let mut follower = Follower { client, id: &id, events, sender, interrupted: false };
    let followed = follower.follow(interrupts).await;
    let interrupted = follower.interrupted;
    drop(follower);
    let _ = drawing.await;
    match followed {
        Ok(detail) => report(&detail, interrupted),
        Err(Followed::GaveUp) => {
            let message = format!("stopped following execution {id}; the daemon is cancelling it");
            ui::fail(exit::INTERRUPTED, &message)
        }
        Err(Followed::Lost(err)) => {
            let message =
                format!("lost execution {id} in the daemon ({err}); `pilot executions show {id}` tells how it ends");
            ui::fail(exit::FAILED, &message)
        }
    }
}

enum Followed {
    /// A second Ctrl-C: stop waiting for the cancellation.
    GaveUp,
    /// The daemon stopped answering.
    Lost(ClientError),
}

struct Follower<'a> {
    client: &'a DaemonClient,
    id: &'a str,
    events: Option<EventStream>,
    sender: tokio::sync::mpsc::UnboundedSender<ProgressEvent>,
    interrupted: bool,
}

impl Follower<'_> {
    /// Until the execution has ended: its events to the live view, Ctrl-C to the daemon.
    async fn follow(&mut self, interrupts: &mut Signal) -> Result<ExecutionDetail, Followed> {
        let mut poll = tokio::time::interval(POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = next_event(&mut self.events) => {
                    if self.take(event).await {
                        return self.client.wait_until_finished(self.id, SETTLE_POLL).await.map_err(Followed::Lost);
                    }
                }
                _ = poll.tick() => {
                    let detail = self.client.execution(self.id).await.map_err(Followed::Lost)?;
                    if is_finished(&detail.status) {
                        return Ok(detail);
                    }
                }
                _ = interrupts.recv() => {
                    if self.interrupted {
                        return Err(Followed::GaveUp);
                    }
                    self.interrupted = true;
                    self.cancel().await;
                }
            }
        }
    }

    /// Shows an event of this execution; answers whether it was its end. A lost stream leaves polling.
    async fn take(&mut self, event: Option<Result<Event, ClientError>>) -> bool {
        let event = match event {
            Some(Ok(event)) => event,
            Some(Err(_)) | None => {
                self.events = None;
                return false;
            }
        };
        if let EventKind::Lagged { .. } = event.kind {
            let last = self.events.as_ref().and_then(EventStream::last_event_id);
            self.events = self.client.events(None, last).await.ok();
            return false;
        }
        if event.execution_id != self.id {
            return false;
        }
        let finished = matches!(event.kind, EventKind::Finished { .. });
        if let Some(progress) = progress_of(event) {
            let _ = self.sender.send(progress);
        }
        finished
    }

    async fn cancel(&self) {
        if !ui::quiet() && !ui::json() {
            eprintln!("cancelling execution {} in the daemon", self.id);
        }
        match self.client.cancel(self.id).await {
            Ok(_) => {}
            // It ended meanwhile.
            Err(ClientError::Api { status: 409, .. }) => {}
            Err(err) => ui::warn(&format!("cannot cancel execution {}: {err}", self.id)),
        }
    }
}

async fn next_event(events: &mut Option<EventStream>) -> Option<Result<Event, ClientError>> {
    match events {
        Some(events) => events.next().await,
        None => std::future::pending().await,
    }
}

/// Says how it ended (the execution JSON with `--json`); the exit status for it, as a local run's.
fn report(detail: &ExecutionDetail, interrupted: bool) -> ExitCode {
    let status = Status::parse(&detail.status).unwrap_or(Status::Unknown);
    if ui::json() {
        outln!("{}", serde_json::to_string_pretty(&execution_json(detail)).unwrap_or_default());
    } else {
        let took = detail
            .duration_ms
            .map(|millis| format!(" in {}", short(Duration::from_millis(u64::try_from(millis).unwrap_or(0)))))
            .unwrap_or_default();
        match &detail.error {
            None => outln!("execution {} {status}{took}", detail.id),
            Some(error) => outln!("execution {} {status}{took}: {error}", detail.id),
        }
    }
    match status {
        Status::Success => ExitCode::SUCCESS,
        _ if interrupted => exit::code(exit::INTERRUPTED),
        _ => exit::code(exit::FAILED),
    }
}

/// A live event as the engine's progress event, for the same view as a local run's.
fn progress_of(event: Event) -> Option<ProgressEvent> {
    let status = |text: &str| Status::parse(text).unwrap_or(Status::Unknown);
    let progress = match event.kind {
        EventKind::Queued { .. } | EventKind::Lagged { .. } => return None,
        EventKind::Started { workflow, resumed } => Progress::Started { workflow, steps: Vec::new(), resumed },
        EventKind::StepStarted { step_id } => Progress::StepStarted { step_id, at: Timestamp(0) },
        EventKind::StepReused { step_id, status: text } => Progress::Reused { step_id, status: status(&text) },
        EventKind::StepRetrying { step_id, failed_attempt, delay_ms, error } => {
            Progress::StepRetrying { step_id, failed_attempt, delay: Duration::from_millis(delay_ms), error }
        }
        EventKind::LoopProgress { step_id, done, total } => Progress::LoopItems { step_id, done, total },
        EventKind::StepFinished { step_id, status: text, attempts, duration_ms, error } => Progress::StepFinished {
            step_id,
            status: status(&text),
            attempts,
            started_at: Timestamp(0),
            completed_at: Timestamp(i64::try_from(duration_ms.saturating_mul(1000)).unwrap_or(i64::MAX)),
            error,
        },
        EventKind::Log { step_id, level, message } => Progress::Log { step_id, level: log_level(&level), message },
        EventKind::Finished { status: text, error } => Progress::Finished { status: status(&text), error },
    };
    Some(ProgressEvent { execution_id: event.execution_id, event: progress })
}

fn log_level(text: &str) -> connectors::LogLevel {
    use connectors::LogLevel;
    match text {
        "DEBUG" => LogLevel::Debug,
        "WARN" => LogLevel::Warn,
        "ERROR" => LogLevel::Error,
        _ => LogLevel::Info,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_argument_is_a_name_only_when_it_cannot_be_a_file() {
        assert!(is_workflow_name(Path::new("daily-backup")));
        assert!(!is_workflow_name(Path::new("missing/daily-backup")), "a path: its read error is the answer");
        assert!(!is_workflow_name(Path::new("missing.yaml")));
        assert!(!is_workflow_name(Path::new("Cargo.toml")), "an existing file");
    }

    #[test]
    fn a_finished_step_event_keeps_its_duration_for_the_live_view() {
        let event = Event {
            id: 9,
            execution_id: "e1".into(),
            at: "t".into(),
            kind: EventKind::StepFinished {
                step_id: "copy".into(),
                status: "failed".into(),
                attempts: 2,
                duration_ms: 1500,
                error: Some("boom".into()),
            },
        };
        let progress = progress_of(event).unwrap();
        assert_eq!(progress.execution_id, "e1");
        let Progress::StepFinished { status, attempts, started_at, completed_at, .. } = progress.event else {
            panic!("{progress:?}")
        };
        assert_eq!((status, attempts, completed_at.0 - started_at.0), (Status::Failed, 2, 1_500_000));
    }
}
