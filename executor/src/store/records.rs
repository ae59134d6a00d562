//! What the store keeps: workflows, executions and their steps, as plain records.

use expr_grammar::Timestamp;
use serde_json::{Value as Json, json};

/// Status of an execution or of one step. Stored as its lower-case name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Running,
    Success,
    Failed,
    Skipped,
    Cancelled,
    /// Stored as a name this build does not know (written by a newer Pilot, or damaged). Read back so that one
    /// such row does not hide the rest of the history; never written. Counts as finished: nothing resumes it.
    Unknown,
}

impl Status {
    pub const ALL: [Status; 6] =
        [Status::Pending, Status::Running, Status::Success, Status::Failed, Status::Skipped, Status::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Running => "running",
            Status::Success => "success",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
            Status::Cancelled => "cancelled",
            Status::Unknown => "unknown",
        }
    }

    /// Parses a stored or user-typed status name (`pending`, `running`, ...).
    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// A stored status: [`Status::Unknown`] for a name this build does not know.
    pub fn parse_stored(text: &str) -> Status {
        Status::parse(text).unwrap_or(Status::Unknown)
    }

    /// Whether nothing more will happen to it (success, failed, skipped, cancelled).
    pub fn is_finished(self) -> bool {
        !matches!(self, Status::Pending | Status::Running)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A workflow definition to save. The store assigns the version.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowDefinition {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    /// The source text (YAML or JSON) exactly as read.
    pub definition: String,
    pub saved_at: Timestamp,
}

/// What saving a workflow does to its stored record.
pub(crate) enum WorkflowSave {
    /// The same name, description and text: the stored record stands.
    Unchanged(WorkflowRecord),
    /// The record to store.
    Store(WorkflowRecord),
}

/// Saving `new` over the stored record `existing`, the rule every store follows: the version starts at 1 and
/// grows by one when the definition text changes; a new name or description alone keeps it.
pub(crate) fn workflow_after_save(existing: Option<WorkflowRecord>, new: &WorkflowDefinition) -> WorkflowSave {
    match existing {
        None => WorkflowSave::Store(WorkflowRecord {
            id: new.id.clone(),
            name: new.name.clone(),
            description: new.description.clone(),
            definition: new.definition.clone(),
            version: 1,
            is_enabled: true,
            created_at: new.saved_at,
            updated_at: new.saved_at,
        }),
        Some(old) if old.definition == new.definition && old.name == new.name && old.description == new.description => {
            WorkflowSave::Unchanged(old)
        }
        Some(old) => WorkflowSave::Store(WorkflowRecord {
            version: if old.definition == new.definition { old.version } else { old.version + 1 },
            name: new.name.clone(),
            description: new.description.clone(),
            definition: new.definition.clone(),
            updated_at: new.saved_at,
            ..old
        }),
    }
}

/// A saved workflow. `version` starts at 1 and grows by one each time the definition text changes.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowRecord {
    pub id: String,
    pub name: String,
    pub description: Option<String>,
    pub definition: String,
    pub version: i64,
    pub is_enabled: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new execution. Its workflow must have been saved first.
#[derive(Debug, Clone, PartialEq)]
pub struct NewExecution {
    /// Chosen by the caller; [`new_execution_id`] gives a time-ordered one.
    pub id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    /// The workflow version that runs (see [`crate::store::Store::workflow_definition`]).
    pub workflow_version: i64,
    pub trigger_id: Option<String>,
    /// What started it, e.g. `{"type": "manual"}` or `{"type": "webhook", "path": "/hook"}` (redacted).
    pub trigger: Json,
    /// The run's inputs (redacted).
    pub input: Json,
    /// `Pending` or `Running`.
    pub status: Status,
    pub started_at: Timestamp,
    /// A retry's lineage: the execution it retries and the step it re-runs from (its trigger data stays the
    /// original's, so a retried webhook run still has its body).
    pub retry_of: Option<RetryOf>,
}

/// Which execution a retry re-runs, and from which step (`None`: from the failed steps).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryOf {
    pub execution_id: String,
    pub from_step: Option<String>,
}

/// The end of an execution (or a status change to a finished status).
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionEnd {
    pub execution_id: String,
    /// A finished status: success, failed, skipped or cancelled.
    pub status: Status,
    pub error: Option<String>,
    /// Variables and outputs at the end (redacted).
    pub context: Option<Json>,
    pub completed_at: Timestamp,
}

/// A step attempt begins. Recording it again for the same step (a retry, or a resumed execution) replaces the
/// step's earlier input, output, error and end time.
#[derive(Debug, Clone, PartialEq)]
pub struct StepStart {
    pub execution_id: String,
    pub step_id: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The resolved input (redacted).
    pub input: Json,
    pub started_at: Timestamp,
}

/// A step ends. Also valid without a [`StepStart`] (a step skipped by its `if:`).
#[derive(Debug, Clone, PartialEq)]
pub struct StepEnd {
    pub execution_id: String,
    pub step_id: String,
    pub status: Status,
    /// Attempts made in total (0 for a skipped step).
    pub attempts: u32,
    /// The output (redacted); `None` when the step produced none.
    pub output: Option<Json>,
    pub error: Option<String>,
    pub completed_at: Timestamp,
}

/// One step of an execution as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRecord {
    pub step_id: String,
    pub status: Status,
    pub attempts: u32,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub input: Option<Json>,
    pub output: Option<Json>,
    pub error: Option<String>,
}

/// An execution with its steps, in the order the steps were first recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionRecord {
    pub id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub workflow_version: i64,
    pub trigger_id: Option<String>,
    pub trigger: Json,
    pub input: Json,
    pub status: Status,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub error: Option<String>,
    pub context: Option<Json>,
    /// The daemon instance that runs it, if the daemon accepted it.
    pub owner: Option<String>,
    /// The schedule slot it was due for.
    pub slot: Option<Timestamp>,
    pub retry_of: Option<RetryOf>,
    /// How many times it was resumed (see [`crate::store::Store::start_resume`]).
    pub resume_attempts: u32,
    pub steps: Vec<StepRecord>,
}

/// An execution without its steps, as listed.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionSummary {
    pub id: String,
    pub workflow_id: String,
    pub workflow_name: String,
    pub status: Status,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    pub error: Option<String>,
    /// The daemon instance that runs it (accepted through the daemon); `None` for `pilot run`.
    pub owner: Option<String>,
    /// `manual`, `schedule`, `webhook`, `file_watch`, `retry`, ... (the `type` of its trigger data).
    pub trigger_type: Option<String>,
    pub resume_attempts: u32,
}

impl ExecutionSummary {
    /// Time from start to end, when both are known.
    pub fn duration_micros(&self) -> Option<i64> {
        Some(self.completed_at?.0 - self.started_at?.0)
    }
}

/// Which executions to list: newest first, at most `limit`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionFilter {
    pub workflow_name: Option<String>,
    pub status: Option<Status>,
    /// Only those whose trigger data has this `type`.
    pub trigger_type: Option<String>,
    /// A cursor: only executions listed after this one (older, or started at the same time with a smaller id).
    pub after: Option<String>,
    pub limit: usize,
}

impl Default for ExecutionFilter {
    fn default() -> Self {
        ExecutionFilter { workflow_name: None, status: None, trigger_type: None, after: None, limit: 20 }
    }
}

/// A new time-ordered execution id (UUID v7): ids sort by creation time.
pub fn new_execution_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// RFC 3339 in UTC to the microsecond: `2026-11-24T10:00:00.123456Z`.
pub fn rfc3339_micros(at: Timestamp) -> String {
    match chrono::DateTime::from_timestamp_micros(at.0) {
        Some(time) => time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
        None => format!("@{}us", at.0),
    }
}

/// A short UTC time for tables: `2026-11-24 10:00:00`.
pub fn utc_seconds(at: Timestamp) -> String {
    match chrono::DateTime::from_timestamp_micros(at.0) {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => format!("@{}us", at.0),
    }
}

fn optional_time(at: Option<Timestamp>) -> Json {
    at.map_or(Json::Null, |at| Json::String(rfc3339_micros(at)))
}

impl ExecutionRecord {
    /// The summary part of this execution.
    pub fn summary(&self) -> ExecutionSummary {
        ExecutionSummary {
            id: self.id.clone(),
            workflow_id: self.workflow_id.clone(),
            workflow_name: self.workflow_name.clone(),
            status: self.status,
            started_at: self.started_at,
            completed_at: self.completed_at,
            error: self.error.clone(),
            owner: self.owner.clone(),
            trigger_type: self.trigger.get("type").and_then(Json::as_str).map(str::to_owned),
            resume_attempts: self.resume_attempts,
        }
    }

    /// The `--json` shape shared by `pilot run --json` and `pilot executions show --json`:
    /// `{id, workflow, status, started_at, completed_at, error, steps: [{id, status, attempts, started_at,
    /// completed_at, input, output, error}]}`.
    pub fn to_json(&self) -> Json {
        let steps: Vec<Json> = self.steps.iter().map(StepRecord::to_json).collect();
        json!({
            "id": self.id,
            "workflow": self.workflow_name,
            "status": self.status.as_str(),
            "started_at": optional_time(self.started_at),
            "completed_at": optional_time(self.completed_at),
            "error": self.error,
            "steps": steps,
        })
    }
}

impl StepRecord {
    /// One element of the execution JSON's `steps` array.
    pub fn to_json(&self) -> Json {
        json!({
            "id": self.step_id,
            "status": self.status.as_str(),
            "attempts": self.attempts,
            "started_at": optional_time(self.started_at),
            "completed_at": optional_time(self.completed_at),
            "input": self.input.clone().unwrap_or(Json::Null),
            "output": self.output.clone().unwrap_or(Json::Null),
            "error": self.error,
        })
    }
}

/// Checks shared by every store, so that all of them refuse the same writes.
pub(crate) mod checks {
    use super::{ExecutionEnd, NewExecution, Status, StepEnd};
    use crate::store::StoreError;
    use crate::store::log::is_valid_execution_id;

    pub(crate) fn new_execution(execution: &NewExecution) -> Result<(), StoreError> {
        if !is_valid_execution_id(&execution.id) {
            let reason = format!("execution id `{}` must be 1 to 128 letters, digits, `-` or `_`", execution.id);
            return Err(StoreError::Invalid { reason });
        }
        if execution.status.is_finished() {
            let reason =
                format!("execution {} cannot be created {}: only pending or running", execution.id, execution.status);
            return Err(StoreError::Invalid { reason });
        }
        Ok(())
    }

    pub(crate) fn execution_end(end: &ExecutionEnd) -> Result<(), StoreError> {
        finished(end.status, || format!("execution {}", end.execution_id))
    }

    pub(crate) fn step_end(end: &StepEnd) -> Result<(), StoreError> {
        finished(end.status, || format!("step {} of execution {}", end.step_id, end.execution_id))
    }

    fn finished(status: Status, what: impl FnOnce() -> String) -> Result<(), StoreError> {
        if status.is_finished() && status != Status::Unknown {
            return Ok(());
        }
        Err(StoreError::Invalid { reason: format!("{} cannot end with status {status}", what()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_render_as_rfc3339_to_the_microsecond() {
        assert_eq!(rfc3339_micros(Timestamp(1_795_514_400_123_456)), "2026-11-24T10:00:00.123456Z");
        assert_eq!(rfc3339_micros(Timestamp(0)), "1970-01-01T00:00:00.000000Z");
        assert_eq!(utc_seconds(Timestamp(1_795_514_400_999_999)), "2026-11-24 10:00:00");
    }

    #[test]
    fn every_status_parses_back_from_its_name() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::parse("Success"), None);
        assert_eq!(Status::parse("unknown"), None, "never parsed from a user's filter");
        assert_eq!(Status::parse_stored("paused"), Status::Unknown);
        assert_eq!(Status::parse_stored("failed"), Status::Failed);
    }

    #[test]
    fn execution_json_has_exactly_the_contract_keys() {
        let execution = ExecutionRecord {
            id: "e1".to_owned(),
            workflow_id: "wf".to_owned(),
            workflow_name: "backup".to_owned(),
            workflow_version: 3,
            trigger_id: None,
            trigger: json!({"type": "manual"}),
            input: json!({"secret": "***"}),
            status: Status::Running,
            started_at: Some(Timestamp(1_795_514_400_000_001)),
            completed_at: None,
            error: None,
            context: Some(json!({"x": 1})),
            owner: None,
            slot: None,
            retry_of: None,
            resume_attempts: 2,
            steps: vec![StepRecord {
                step_id: "a".to_owned(),
                status: Status::Failed,
                attempts: 3,
                started_at: None,
                completed_at: Some(Timestamp(1_795_514_400_000_002)),
                input: None,
                output: None,
                error: Some("boom".to_owned()),
            }],
        };
        let expected = json!({
            "id": "e1", "workflow": "backup", "status": "running",
            "started_at": "2026-11-24T10:00:00.000001Z", "completed_at": null, "error": null,
            "steps": [{
                "id": "a", "status": "failed", "attempts": 3, "started_at": null,
                "completed_at": "2026-11-24T10:00:00.000002Z", "input": null, "output": null, "error": "boom"
            }]
        });
        assert_eq!(execution.to_json(), expected);
    }
}
