//! What a run gets from its caller, and the progress events it reports back.

use crate::store::Status;
use connectors::{ChildRecorder, Credential};
use expr_grammar::Timestamp;
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;

/// The caller's side of one run (the spec's `Context`).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Values for the workflow's `inputs:`, typed by the plan (missing ones take their defaults).
    pub inputs: Map<String, Json>,
    /// Credentials that steps name with `credential:`. Their strings are redacted everywhere.
    pub credentials: HashMap<String, Credential>,
    /// Values of the workflow's secrets, by name. Redacted everywhere.
    pub secrets: HashMap<String, String>,
    pub trigger: TriggerInfo,
    /// Bounds the whole execution: when it passes, running steps are cancelled and the execution fails.
    pub timeout: Option<std::time::Duration>,
    /// Where to send progress events (the CLI's live view), if anywhere.
    pub progress: Option<ProgressSender>,
    /// The id a new execution gets (`start`, `retry`); a fresh time-ordered id when `None`. Lets a caller claim
    /// the id (the CLI writes its pid file) before the execution is visible in the store.
    pub execution_id: Option<String>,
    /// Where the run's actions report the process groups they start (the CLI keeps them beside its pid file, so
    /// that whoever resumes an interrupted execution can kill what it left running).
    pub children: ChildRecorder,
}

/// What started a run, stored with the execution and readable as `trigger` in expressions.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerInfo {
    pub trigger_id: Option<String>,
    /// `{"type": "manual"}`, `{"type": "schedule", "cron": ...}`, `{"type": "webhook", "body": ...}`.
    pub data: Json,
}

impl Default for TriggerInfo {
    fn default() -> Self {
        TriggerInfo::manual()
    }
}

impl TriggerInfo {
    pub fn manual() -> TriggerInfo {
        TriggerInfo { trigger_id: None, data: json!({"type": "manual"}) }
    }
}

/// One progress event of one execution.
#[derive(Debug, Clone, PartialEq)]
pub struct ProgressEvent {
    pub execution_id: String,
    pub event: Progress,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// The execution runs (or resumes); `steps` are its main steps in file order.
    Started {
        workflow: String,
        steps: Vec<String>,
        resumed: bool,
    },
    /// A step was already finished in an earlier run of this execution (resume) or reused (retry).
    Reused {
        step_id: String,
        status: Status,
    },
    StepStarted {
        step_id: String,
        at: Timestamp,
    },
    /// A loop step's progress: `done` of its `total` items have finished (reported at its start with 0).
    LoopItems {
        step_id: String,
        done: usize,
        total: usize,
    },
    /// A line was written to the execution's log (already redacted).
    Log {
        step_id: Option<String>,
        level: connectors::LogLevel,
        message: String,
    },
    /// An attempt failed and another follows after `delay`.
    StepRetrying {
        step_id: String,
        failed_attempt: u32,
        delay: std::time::Duration,
        error: String,
    },
    StepFinished {
        step_id: String,
        status: Status,
        attempts: u32,
        started_at: Timestamp,
        completed_at: Timestamp,
        error: Option<String>,
    },
    Finished {
        status: Status,
        error: Option<String>,
    },
}

pub type ProgressSender = tokio::sync::mpsc::UnboundedSender<ProgressEvent>;
