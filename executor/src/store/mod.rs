//! The execution store: workflows, executions, their steps, and a per-execution log.
//!
//! [`Store`] is the contract the engine codes against. Two implementations pass the same conformance suite
//! ([`conformance`], enabled by the `conformance` feature): [`SqliteStore`] (the real one, `$PILOT_HOME/pilot.db`)
//! and [`MemoryStore`] (for tests and benches).
//!
//! # Writes and durability
//! Write methods are synchronous: they queue the write and return a [`WriteAck`], which resolves once the write's
//! transaction has committed. Writes from one caller apply in call order, so a step start need not be awaited
//! before its step end is queued. The engine awaits a step end's ack before starting the step's dependents: a
//! step that any other step has seen finish is on disk. Reads are `async`.
//!
//! The trait is sync-queue + async-ack rather than all-`async` so that a caller can queue a best-effort write
//! (a step start, a log line) without waiting for a commit, and because it stays object safe (`Arc<dyn Store>`)
//! without boxing every write.
//!
//! # Log
//! The store writes the lifecycle lines itself, after the matching write committed: execution created / running /
//! finished, step started (attempt n) / ended (status, attempts, error). [`Store::append_log`] adds other events
//! (retries scheduled, connector messages). Everything logged must already be redacted.

mod ack;
#[cfg(any(test, feature = "conformance"))]
#[doc(hidden)]
pub mod conformance;
mod error;
mod log;
mod memory;
mod records;
mod sqlite;

pub use ack::{AckSender, WriteAck};
pub use error::{LookupError, StoreError};
pub use log::{ExecutionLogFiles, LogLevel, LogLine, is_valid_execution_id};
pub use memory::MemoryStore;
pub use records::{
    ExecutionEnd, ExecutionFilter, ExecutionRecord, ExecutionSummary, NewExecution, Status, StepEnd, StepRecord,
    StepStart, WorkflowDefinition, WorkflowRecord, new_execution_id, rfc3339_micros, utc_seconds,
};
pub use sqlite::{LogFolder, SCHEMA_VERSION, SqliteStore, StoreOptions};

pub use expr_grammar::Timestamp;

/// Where executions are recorded. See the module docs for the durability rules.
#[async_trait::async_trait]
pub trait Store: Send + Sync {
    /// Saves a workflow definition (insert, or update by id). The version starts at 1 and grows by one when the
    /// definition text changes; saving the same text again changes nothing. Resolves to the saved record.
    fn save_workflow(&self, workflow: WorkflowDefinition) -> WriteAck<WorkflowRecord>;

    /// Records a new execution. Fails with [`StoreError::UnknownWorkflow`] if its workflow was never saved and
    /// [`StoreError::DuplicateExecution`] if the id is taken.
    fn create_execution(&self, execution: NewExecution) -> WriteAck<()>;

    /// Marks an execution running (also when resuming a finished or interrupted one: clears its end time and
    /// error). Keeps the first `started_at`.
    fn mark_execution_running(&self, execution_id: &str, at: Timestamp) -> WriteAck<()>;

    /// Records the end of an execution: status, error, final context, end time.
    fn finish_execution(&self, end: ExecutionEnd) -> WriteAck<()>;

    /// Records that a step attempt began (status running).
    fn start_step(&self, start: StepStart) -> WriteAck<()>;

    /// Records that a step ended. When this fails because the database is full, the store also marks the
    /// execution failed if it still can.
    fn end_step(&self, end: StepEnd) -> WriteAck<()>;

    /// Appends an event to the execution's log (after every write queued before it).
    fn append_log(&self, execution_id: &str, line: LogLine);

    /// Resolves once every write queued before it has been committed (or failed).
    fn flush(&self) -> WriteAck<()>;

    /// The latest saved definition of a workflow.
    async fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError>;

    /// The most recently updated workflow with this name.
    async fn workflow_by_name(&self, name: &str) -> Result<Option<WorkflowRecord>, StoreError>;

    /// The definition text of one version of a workflow (to resume or retry exactly what ran).
    async fn workflow_definition(&self, id: &str, version: i64) -> Result<Option<String>, StoreError>;

    /// An execution with all its steps.
    async fn load_execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError>;

    /// Executions matching the filter, newest first.
    async fn list_executions(&self, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>, StoreError>;

    /// Executions still pending or running: after a crash, the ones to resume or fail. Oldest first.
    async fn interrupted_executions(&self) -> Result<Vec<ExecutionSummary>, StoreError>;

    /// Ids starting with `prefix`, at most `limit`, sorted.
    async fn execution_ids_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<String>, StoreError>;

    /// The execution's log text, `None` if nothing was logged for it.
    async fn read_log(&self, execution_id: &str) -> Result<Option<String>, StoreError>;

    /// The full id of the one execution whose id starts with `prefix` (a whole id works too).
    async fn resolve_execution_id(&self, prefix: &str) -> Result<String, LookupError> {
        let mut ids = self.execution_ids_with_prefix(prefix, 10).await?;
        if ids.iter().any(|id| id == prefix) {
            return Ok(prefix.to_owned());
        }
        match ids.len() {
            0 => Err(LookupError::NotFound { prefix: prefix.to_owned() }),
            1 => Ok(ids.remove(0)),
            _ => Err(LookupError::Ambiguous { prefix: prefix.to_owned(), candidates: ids }),
        }
    }
}
