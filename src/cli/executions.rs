//! `pilot executions list [--workflow NAME] [--status S] [--limit N] [--json]` and
//! `pilot executions show ID [--json]`: what ran, from the execution store (`$PILOT_HOME/pilot.db`, or the
//! PostgreSQL store `--store` names).
//! An id may be any unique prefix or suffix; an unknown or ambiguous one exits 2.

use std::process::ExitCode;

use executor::store::{
    ExecutionFilter, ExecutionRecord, ExecutionSummary, LogFolder, LookupError, SqliteStore, Status, Store, StoreError,
    StoreOptions, rfc3339_micros, utc_seconds,
};

use super::exit;
use super::output::{out, outln};
use super::ui;
use server::home::PilotHome;
use server::store_location::StoreLocation;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ExecutionsArgs {
    #[command(subcommand)]
    pub command: ExecutionsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ExecutionsCommand {
    /// List executions, newest first.
    List(ListArgs),
    /// Show one execution and its steps.
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only executions of this workflow (its name).
    #[arg(long)]
    pub workflow: Option<String>,
    /// Only executions with this status.
    #[arg(long, value_parser = ["pending", "running", "success", "failed", "skipped", "cancelled"])]
    pub status: Option<String>,
    /// Only executions started by this kind of trigger: manual, schedule, webhook, file_watch, retry.
    #[arg(long, value_name = "TYPE")]
    pub trigger: Option<String>,
    /// The next page: executions listed after this one (give the last id of the previous page).
    #[arg(long, value_name = "ID")]
    pub after: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The execution id, or a unique prefix or suffix of it.
    pub id: String,
}

pub fn run(args: &ExecutionsArgs) -> ExitCode {
    with_store(|store| async move {
        match &args.command {
            ExecutionsCommand::List(list) => run_list(store.as_ref(), list).await,
            ExecutionsCommand::Show(show) => run_show(store.as_ref(), show).await,
        }
    })
}

/// Opens `$PILOT_HOME/pilot.db` (logs in `$PILOT_HOME/logs`) and runs `command` on a small tokio runtime.
pub(crate) fn with_store<F, Fut>(command: F) -> ExitCode
where
    F: FnOnce(Arc<dyn Store>) -> Fut,
    Fut: std::future::Future<Output = ExitCode>,
{
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return ui::fail(exit::FAILED, &format!("cannot start the async runtime: {error}")),
    };
    let home = PilotHome::from_env();
    let location = match super::store_location(&home) {
        Ok(location) => location,
        Err(message) => return ui::fail(exit::NOT_RUN, &message),
    };
    runtime.block_on(async move {
        let store = match open(&location).await {
            Ok(store) => store,
            Err(error) => return store_failed(&error),
        };
        let code = command(store.clone()).await;
        let _ = store.flush().await;
        code
    })
}

/// Opens the store; history stays readable from a read-only or damaged SQLite file.
async fn open(location: &StoreLocation) -> Result<Arc<dyn Store>, StoreError> {
    match server::store_location::open_store(location).await {
        Err(error @ (StoreError::ReadOnly { .. } | StoreError::Damaged { .. })) => {
            let StoreLocation::Sqlite { database, logs } = location else { return Err(error) };
            ui::warn(&error.to_string());
            let options = StoreOptions { logs: LogFolder::At(logs.clone()), ..StoreOptions::default() };
            Ok(Arc::new(SqliteStore::open_read_only(database, options)?))
        }
        opened => opened,
    }
}

pub(crate) fn store_failed(error: &StoreError) -> ExitCode {
    ui::fail(exit::FAILED, &error.to_string())
}

/// The full id for `prefix`, or the exit code after saying why there is none.
pub(crate) async fn resolve(store: &dyn Store, prefix: &str) -> Result<String, ExitCode> {
    match store.resolve_execution_id(prefix).await {
        Ok(id) => Ok(id),
        Err(LookupError::Store(error)) => Err(store_failed(&error)),
        Err(error) => Err(ui::fail(exit::NOT_RUN, &format!("{error} (`pilot executions list` shows the ids)"))),
    }
}

async fn run_list(store: &dyn Store, args: &ListArgs) -> ExitCode {
    let filter = ExecutionFilter {
        workflow_name: args.workflow.clone(),
        status: args.status.as_deref().and_then(Status::parse),
        trigger_type: args.trigger.clone(),
        after: args.after.clone(),
        limit: args.limit,
    };
    let found = match store.list_executions(&filter).await {
        Ok(found) => found,
        Err(error) => return store_failed(&error),
    };
    if !ui::json() {
        out!("{}", summary_table(&found));
        return ExitCode::SUCCESS;
    }
    let mut executions = Vec::with_capacity(found.len());
    for summary in &found {
        match store.load_execution(&summary.id).await {
            Ok(Some(execution)) => executions.push(execution.to_json()),
            Ok(None) => {} // Deleted between the two reads.
            Err(error) => return store_failed(&error),
        }
    }
    print_json(&serde_json::Value::Array(executions))
}

async fn run_show(store: &dyn Store, args: &ShowArgs) -> ExitCode {
    let id = match resolve(store, &args.id).await {
        Ok(id) => id,
        Err(code) => return code,
    };
    let execution = match store.load_execution(&id).await {
        Ok(Some(execution)) => execution,
        Ok(None) => return ui::fail(exit::NOT_RUN, &format!("execution {id} not found")),
        Err(error) => return store_failed(&error),
    };
    if ui::json() {
        return print_json(&execution.to_json());
    }
    out!("{}", execution_text(&execution));
    ExitCode::SUCCESS
}

fn print_json(value: &serde_json::Value) -> ExitCode {
    outln!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    ExitCode::SUCCESS
}

/// `1.234s`, `250ms`, `2m03s`, `1h02m`.
pub fn human_duration(micros: i64) -> String {
    let millis = micros.max(0) / 1000;
    match millis {
        0..1_000 => format!("{millis}ms"),
        1_000..60_000 => format!("{}.{:03}s", millis / 1000, millis % 1000),
        60_000..3_600_000 => format!("{}m{:02}s", millis / 60_000, millis / 1000 % 60),
        _ => format!("{}h{:02}m", millis / 3_600_000, millis / 60_000 % 60),
    }
}

fn between(start: Option<executor::store::Timestamp>, end: Option<executor::store::Timestamp>) -> String {
    match (start, end) {
        (Some(start), Some(end)) => human_duration(end.0 - start.0),
        _ => "-".to_owned(),
    }
}

/// Left-aligned columns separated by two spaces.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|title| title.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        format!("{}\n", padded.join("  ").trim_end())
    };
    let mut text = line(header.to_vec());
    for row in rows {
        text.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    text
}

pub fn summary_table(found: &[ExecutionSummary]) -> String {
    if found.is_empty() {
        return "no executions\n".to_owned();
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|execution| {
            vec![
                execution.id.clone(),
                execution.workflow_name.clone(),
                execution.status.to_string(),
                execution.started_at.map_or_else(|| "-".to_owned(), utc_seconds),
                between(execution.started_at, execution.completed_at),
            ]
        })
        .collect();
    table(&["ID", "WORKFLOW", "STATUS", "STARTED", "DURATION"], &rows)
}

/// Longest JSON shown per input or output in the text view; `--json` has everything.
const PREVIEW_CHARS: usize = 200;

fn preview(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

pub fn execution_text(execution: &ExecutionRecord) -> String {
    let time = |at: Option<executor::store::Timestamp>| at.map_or_else(|| "-".to_owned(), rfc3339_micros);
    let mut text = format!("execution  {}\n", execution.id);
    text.push_str(&format!("workflow   {} (version {})\n", execution.workflow_name, execution.workflow_version));
    text.push_str(&format!("status     {}\n", execution.status));
    text.push_str(&format!("started    {}\n", time(execution.started_at)));
    text.push_str(&format!("completed  {}\n", time(execution.completed_at)));
    text.push_str(&format!("duration   {}\n", between(execution.started_at, execution.completed_at)));
    if let Some(error) = &execution.error {
        text.push_str(&format!("error      {error}\n"));
    }
    if execution.steps.is_empty() {
        text.push_str("\nno steps recorded\n");
        return text;
    }
    let rows: Vec<Vec<String>> = execution
        .steps
        .iter()
        .map(|step| {
            vec![
                step.step_id.clone(),
                step.status.to_string(),
                step.attempts.to_string(),
                step.started_at.map_or_else(|| "-".to_owned(), utc_seconds),
                between(step.started_at, step.completed_at),
                step.error.clone().unwrap_or_default(),
            ]
        })
        .collect();
    text.push('\n');
    text.push_str(&table(&["STEP", "STATUS", "ATTEMPTS", "STARTED", "DURATION", "ERROR"], &rows));
    for step in &execution.steps {
        if step.input.is_none() && step.output.is_none() {
            continue;
        }
        text.push_str(&format!("\n{}\n", step.step_id));
        if let Some(input) = &step.input {
            text.push_str(&format!("  input   {}\n", preview(input)));
        }
        if let Some(output) = &step.output {
            text.push_str(&format!("  output  {}\n", preview(output)));
        }
    }
    text
}
