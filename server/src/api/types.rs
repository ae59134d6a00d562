//! The JSON the API speaks. Each type is a schema in the OpenAPI document; the UI's TypeScript types are
//! generated from that document, never written by hand.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type Json = serde_json::Value;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`, or `stopping` while the daemon drains.
    pub status: String,
    pub version: String,
    /// This daemon's instance id (the owner of the executions it runs).
    pub instance: String,
    pub started_at: String,
    /// Accepted executions waiting for a free slot.
    pub waiting: usize,
    pub running: usize,
    pub workflows: usize,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TriggerSummary {
    /// Stable across restarts and edits that leave the trigger as it was.
    pub id: String,
    /// `schedule`, `webhook`, `file_watch` or `manual`.
    #[serde(rename = "type")]
    pub kind: String,
    /// One line: the cron and zone, the method and path, the watched folder.
    pub summary: String,
    /// The next time a schedule fires (RFC 3339), when it is one and is enabled.
    pub next_fire: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkflowSummary {
    pub name: String,
    pub description: Option<String>,
    /// The file it is loaded from.
    pub file: String,
    pub enabled: bool,
    pub triggers: Vec<TriggerSummary>,
    /// The earliest next fire of its schedules.
    pub next_fire: Option<String>,
    pub last_execution: Option<ExecutionSummary>,
    /// Why the file is not what runs (it stopped compiling, or it was refused), when so.
    pub problem: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkflowDetail {
    #[serde(flatten)]
    pub summary: WorkflowSummary,
    /// The file's current text, literal secrets masked.
    pub source: String,
    /// Diagnostics of the current text (and of the daemon: a refused duplicate).
    pub diagnostics: Vec<Diagnostic>,
}

/// A problem in a workflow file, with its place.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Diagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// `error` or `warning`.
    pub severity: String,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

impl From<compiler::render::JsonDiagnostic> for Diagnostic {
    fn from(d: compiler::render::JsonDiagnostic) -> Diagnostic {
        Diagnostic {
            file: d.file,
            line: d.line,
            column: d.column,
            end_line: d.end_line,
            end_column: d.end_column,
            severity: d.severity.as_str().to_owned(),
            code: d.code,
            message: d.message,
            hint: d.hint,
        }
    }
}

/// A workflow's YAML (or JSON) text, to check or to save.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WorkflowSource {
    pub source: String,
    /// The file name under `workflows/` to save it as; default `NAME.yaml`.
    pub file_name: Option<String>,
    /// On save, `false` saves a new workflow disabled: its triggers never start until it is enabled (how
    /// `scripts/start` puts the examples in place). Ignored by `check`, and for a workflow that already exists.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SavedWorkflow {
    pub name: String,
    pub file: String,
    /// Warnings of the saved text (errors refuse the save).
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    /// Whether it compiles (warnings allowed).
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
    /// The workflow as a graph for the editor, as far as it can be read even with errors.
    pub graph: Option<compiler::outline::Outline>,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct RunRequest {
    /// Values for the workflow's `inputs:`, checked against their types.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub inputs: serde_json::Map<String, Json>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RunAccepted {
    pub execution_id: String,
    /// `queued`; `existing` when an idempotency key or schedule slot already had this execution; `skipped`
    /// when the workflow's concurrency policy skipped it (it is recorded so).
    pub status: String,
}

impl From<crate::daemon::Accepted> for RunAccepted {
    fn from(accepted: crate::daemon::Accepted) -> RunAccepted {
        use crate::daemon::Accepted;
        let status = match &accepted {
            Accepted::Queued { .. } => "queued",
            Accepted::Existing { .. } => "existing",
            Accepted::Skipped { .. } => "skipped",
        };
        RunAccepted { execution_id: accepted.execution_id().to_owned(), status: status.to_owned() }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExecutionSummary {
    pub id: String,
    pub workflow: String,
    /// `pending`, `running`, `success`, `failed`, `skipped`, `cancelled` (or `unknown`).
    pub status: String,
    pub trigger_type: Option<String>,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExecutionPage {
    pub items: Vec<ExecutionSummary>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ExecutionDetail {
    pub id: String,
    pub workflow: String,
    pub workflow_version: i64,
    pub status: String,
    /// What started it (`type` and its data: a webhook's body, a schedule's `scheduled_at`), secrets masked.
    #[schema(value_type = Object)]
    pub trigger: Json,
    #[schema(value_type = Object)]
    pub input: Json,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub duration_ms: Option<i64>,
    pub error: Option<String>,
    /// The execution this one retries, and the step it re-ran from.
    pub retry_of: Option<String>,
    pub retry_from: Option<String>,
    pub steps: Vec<StepDetail>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StepDetail {
    pub id: String,
    pub status: String,
    pub attempts: u32,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub duration_ms: Option<i64>,
    /// The resolved input (a list of per-item inputs for a loop), secrets masked.
    #[schema(value_type = Option<serde_json::Value>)]
    pub input: Option<Json>,
    /// The step's result: any JSON value (`null` for a step that returns nothing).
    #[schema(value_type = Option<serde_json::Value>)]
    pub output: Option<Json>,
    pub error: Option<String>,
}

/// Which steps a retry runs again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryFrom {
    /// The steps that did not succeed, and everything depending on them.
    #[default]
    Failed,
    /// Every step.
    Start,
    /// `step` and everything depending on it.
    Step,
}

/// Which definition a retry runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetryVersion {
    /// The version that ran.
    #[default]
    Ran,
    /// The workflow as it is now.
    Current,
}

#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct RetryRequest {
    #[serde(default)]
    pub from: RetryFrom,
    /// With `from: step`.
    pub step: Option<String>,
    #[serde(default)]
    pub version: RetryVersion,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogEntry {
    pub at: String,
    pub level: String,
    pub step_id: Option<String>,
    pub message: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LogPage {
    pub lines: Vec<LogEntry>,
    /// Pass as `offset` to read on.
    pub next_offset: usize,
    /// Whether the execution has ended (no more lines will come).
    pub finished: bool,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CredentialInfo {
    pub name: String,
    pub provider: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ScheduledTrigger {
    pub workflow: String,
    pub trigger_id: String,
    pub next_fire: Option<String>,
}

/// A function of the expression language, for the editor's completion and help.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunctionInfo {
    pub name: String,
    /// `general`, `strings`, `collections`, `conversion`, `dates` or `paths`.
    pub group: String,
    /// `len(value: string | list | object) -> int`; `?` marks optional parameters.
    pub signature: String,
    pub description: String,
    /// An expression using the function.
    pub example: String,
}

impl From<expr_grammar::FunctionDoc> for FunctionInfo {
    fn from(doc: expr_grammar::FunctionDoc) -> FunctionInfo {
        FunctionInfo {
            name: doc.name,
            group: doc.group,
            signature: doc.signature,
            description: doc.description,
            example: doc.example,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CancelResult {
    pub execution_id: String,
    /// `cancelling` (it stops within seconds) or `cancelled` (it was queued, and is recorded so).
    pub status: String,
}
