//! The execution store: workflows, executions, their steps, and a per-execution log; also the encrypted
//! credentials and the installed custom connectors.
//!
//! [`Store`] is the contract the engine codes against. Three implementations pass the same conformance suite
//! ([`conformance`], enabled by the `conformance` feature): [`SqliteStore`] (the default, `$PILOT_HOME/pilot.db`),
//! [`postgres::PostgresStore`] (a database several `pilot serve` nodes share; feature `postgres`, on by default;
//! its module docs say how it differs) and [`MemoryStore`] (for tests and benches).
//!
//! # Writes and durability
//! Write methods are synchronous: they queue the write and return a [`WriteAck`], which resolves once the write's
//! transaction has committed. Writes apply and commit in the order they were queued (one queue), so a step start
//! need not be awaited before its step end is queued. Reads are `async`.
//!
//! What the engine awaits, and for which step:
//! - the execution's creation (and [`Store::start_resume`] on resume), before any step runs;
//! - for a step with an effect (a `write` action, or `resume: fail`), its start, before its action runs. The
//!   engine queues that start with [`Store::record_steps`], together with the step ends it held since its last
//!   write: one transaction, so the end of step i and the start of step i+1 share one commit, and everything
//!   queued before it (the ends of every step it depends on) is committed with it or earlier;
//! - nothing for a step without an effect (`transform`, `filter`, reads, a skipped step): its start and end are
//!   queued, not awaited, and the next step starts at once. A crash can lose these records only; a resume then
//!   runs such steps again, which is harmless;
//! - every ack not awaited on the way, before the execution's end is recorded (a failed one fails the
//!   execution); then the execution's end.
//!
//! The trait is sync-queue + async-ack rather than all-`async` so that a caller can queue a best-effort write
//! (a step start, a log line) without waiting for a commit, and because it stays object safe (`Arc<dyn Store>`)
//! without boxing every write.
//!
//! # Log
//! The store writes the lifecycle lines itself, after the matching write committed: execution created / running /
//! finished, step started (attempt n) / ended (status, attempts, error). [`Store::append_log`] adds other events
//! (retries scheduled, connector messages). Everything logged must already be redacted.
//!
//! # Schema (SQLite, `PRAGMA user_version` = number of migrations applied)
//! Migration 1 is the spec's schema verbatim: `workflows`, `triggers`, `executions`, `execution_steps`,
//! `credentials`, `connectors`. Migration 2 adds what the engine needs: `execution_steps.attempts`;
//! `executions.workflow_name` / `workflow_version` / `input` (JSON) / `trigger_info` (JSON); a
//! `workflow_versions (workflow_id, version, definition, created_at)` table so that resume and retry run the exact
//! definition that ran; indexes `executions (workflow_name, started_at)`, `(status, started_at)`, `(started_at)`,
//! `execution_steps (execution_id, step_id)` unique, `triggers (workflow_id)`. Migration 3 adds `executions.resume_attempts` (see [`Store::start_resume`]). Each migration runs in one
//! transaction with its version bump. Timestamps are integer microseconds since the Unix epoch (UTC); JSON columns
//! are text; statuses are `pending|running|success|failed|skipped|cancelled`. A step's row id is
//! `<execution-id>/<step-id>` (execution ids are `[A-Za-z0-9_-]`, so it is unique); steps list in the order they
//! were first recorded (rowid). Connections run in WAL mode with `synchronous = FULL` (a commit is on disk when
//! it returns), `foreign_keys = ON` and a busy timeout (5 s by default).
//!
//! # Group commit (SQLite)
//! One writer thread owns the only write connection and drains a channel: it blocks for the first write, then
//! takes every write already queued (up to `max_batch`) into one `BEGIN IMMEDIATE` transaction and one commit.
//! Writes queued while a commit is in flight therefore share the next commit, so 64 concurrent step ends cost a
//! couple of fsyncs instead of 64, and concurrent executions share commits. Each write runs in its own savepoint: a refused write (unknown execution,
//! invalid status) is rolled back alone and answered with its error while the rest of its batch commits; if SQLite
//! aborts the whole transaction (disk full, I/O error) the batch is retried without the failed write. Acks are
//! sent only after the commit returned. Reads use separate connections from a small pool on tokio's blocking
//! threads, so they never wait for the writer (WAL). [`SqliteStore::commit_count`] counts commits for tests and
//! benches.
//!
//! # Failures
//! A file that is not a SQLite database is refused before SQLite opens it ([`StoreError::Corrupt`], file left
//! untouched, advice to move it aside); a newer schema is refused before anything is written; a lock held past
//! the busy timeout is [`StoreError::Locked`]; a full disk (or the `max_database_pages` cap) is
//! [`StoreError::Full`] for the failing write only, after which the store marks that write's execution failed if
//! that small update still fits. After an unclean shutdown (see `sqlite/shutdown.rs`) the file is checked before
//! anything is written, and damage found then or while writing is [`StoreError::Damaged`] (the next open checks
//! again); a read-only file is [`StoreError::ReadOnly`], and [`SqliteStore::open_read_only`] still reads it.
//! [`SqliteStore::check`], [`SqliteStore::backup`] and [`SqliteStore::repair`] serve `pilot doctor`. Missing
//! folders (the database's and `logs/`) are created, or [`StoreError::CreateFolder`] names the one that could
//! not be. A stored status this build does not know reads as [`Status::Unknown`].

mod ack;
#[cfg(any(test, feature = "conformance"))]
#[doc(hidden)]
pub mod conformance;
mod connectors;
mod credentials;
mod daemon;
mod error;
pub(crate) mod log;
mod memory;
#[cfg(feature = "postgres")]
pub mod postgres;
mod queued;
mod records;
mod sqlite;
pub mod transfer;

pub use ack::{AckSender, WriteAck};
pub use connectors::ConnectorRecord;
pub use credentials::{CredentialDataChange, CredentialRecord};
pub use daemon::{Acceptance, Accepted, IdempotencyKey, InstanceRecord, TriggerRecord};
pub use error::{LookupError, StoreError};
pub use log::{ExecutionLogFiles, LogLevel, LogLine, RenderedLine, is_valid_execution_id};
pub use memory::MemoryStore;
pub use records::{
    ExecutionEnd, ExecutionFilter, ExecutionRecord, ExecutionSummary, NewExecution, RetryOf, Status, StepEnd,
    StepRecord, StepStart, WorkflowDefinition, WorkflowRecord, new_execution_id, rfc3339_micros, utc_seconds,
};
pub use sqlite::{CheckReport, LogFolder, RepairReport, SCHEMA_VERSION, SqliteExport, SqliteStore, StoreOptions};

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

    /// Starts resuming an interrupted execution: marks it running (as [`Store::mark_execution_running`]) and
    /// counts one more resume attempt, in the same commit. Resolves to the attempts counted, this one included.
    fn start_resume(&self, execution_id: &str, at: Timestamp) -> WriteAck<u32>;

    /// Records the end of an execution: status, error, final context, end time.
    fn finish_execution(&self, end: ExecutionEnd) -> WriteAck<()>;

    /// Records that a step attempt began (status running).
    fn start_step(&self, start: StepStart) -> WriteAck<()>;

    /// Records that a step ended. When this fails because the database is full, the store also marks the
    /// execution failed if it still can.
    fn end_step(&self, end: StepEnd) -> WriteAck<()>;

    /// Records `ends` in order, then `start` if given, in one transaction: all or nothing, so the start is never
    /// committed without the ends queued with it. The engine queues the start of a step with an effect this way,
    /// together with the ends it held since the last commit, so that the step costs one commit.
    fn record_steps(&self, ends: Vec<StepEnd>, start: Option<StepStart>) -> WriteAck<()>;

    /// Appends an event to the execution's log (after every write queued before it).
    fn append_log(&self, execution_id: &str, line: LogLine);

    /// Resolves once every write queued before it has been committed (or failed).
    fn flush(&self) -> WriteAck<()>;

    /// Stores a credential (its `data` already encrypted): inserts it, or replaces provider, data and
    /// `updated_at` of the one with the same name (keeping its id and `created_at`).
    fn put_credential(&self, credential: CredentialRecord) -> WriteAck<()>;

    /// Removes a credential; [`StoreError::UnknownCredential`] if none has this name.
    fn remove_credential(&self, name: &str) -> WriteAck<()>;

    /// Replaces the data of several credentials in one transaction (`rotate-key`), each only if its data is still
    /// `old_data`: if any one changed or is gone, nothing changes ([`StoreError::CredentialChanged`]).
    fn replace_credential_data(&self, changes: Vec<CredentialDataChange>) -> WriteAck<()>;

    /// Records an installed custom connector, replacing the row of any connector with the same id (one version
    /// of a connector is installed at a time).
    fn record_connector(&self, connector: ConnectorRecord) -> WriteAck<()>;

    /// Forgets an installed connector (every row of its id); [`StoreError::UnknownConnector`] if none has it.
    fn remove_connector(&self, id: &str) -> WriteAck<()>;

    /// Registers (or replaces) a daemon instance with its lease (ownership rules: the `daemon` module docs). The
    /// lease lasts `lease_expires_at - started_at`; a store several machines share measures it from its own clock.
    fn register_instance(&self, instance: InstanceRecord) -> WriteAck<()>;

    /// Extends an instance's lease to `lease` from now: `at` (the caller's clock) on a store of one machine, the
    /// database's clock on a shared one. Fails if the instance is not registered.
    fn renew_instance(&self, id: &str, at: Timestamp, lease: std::time::Duration) -> WriteAck<()>;

    fn remove_instance(&self, id: &str) -> WriteAck<()>;

    /// Records an accepted trigger as one execution, in one transaction with its slot and idempotency key; or
    /// answers the execution that already holds the slot or the (unexpired) key, creating nothing.
    fn accept_execution(&self, acceptance: Acceptance) -> WriteAck<Accepted>;

    /// Makes `owner` the owner of a pending or running execution if its owner is still `from`; answers whether
    /// it did. A shared store also refuses while `from`'s lease is live on the database's clock (checked in the
    /// same statement).
    fn adopt_execution(&self, execution_id: &str, owner: &str, from: Option<&str>) -> WriteAck<bool>;

    /// Claims a pending execution for `owner`: marks it running under that owner if it is still pending, whoever
    /// accepted it. Answers whether it did: of several daemons claiming one execution, exactly one wins, so a daemon
    /// starts an execution only after claiming it (or after taking it over with [`Store::adopt_execution`]).
    fn claim_execution(&self, execution_id: &str, owner: &str, at: Timestamp) -> WriteAck<bool>;

    /// Replaces the triggers recorded for a workflow.
    fn sync_triggers(&self, workflow_id: &str, triggers: Vec<TriggerRecord>) -> WriteAck<()>;

    /// Enables or disables a saved workflow ([`StoreError::UnknownWorkflow`] if none has this id).
    fn set_workflow_enabled(&self, workflow_id: &str, enabled: bool) -> WriteAck<()>;

    /// Every saved workflow, by name.
    async fn workflows(&self) -> Result<Vec<WorkflowRecord>, StoreError>;

    /// Every registered instance, by id.
    async fn instances(&self) -> Result<Vec<InstanceRecord>, StoreError>;

    /// The ids of the instances whose lease has not run out, by id: at `now` (the caller's clock) on a store of one
    /// machine, at the database's own now on a shared one (so that nodes whose clocks differ agree).
    async fn live_instances(&self, now: Timestamp) -> Result<Vec<String>, StoreError> {
        let instances = self.instances().await?;
        Ok(instances
            .into_iter()
            .filter(|instance| instance.lease_expires_at > now)
            .map(|instance| instance.id)
            .collect())
    }

    /// Every recorded trigger, by workflow and id.
    async fn triggers(&self) -> Result<Vec<TriggerRecord>, StoreError>;

    /// The latest schedule slot an execution was accepted for by this trigger.
    async fn last_slot(&self, trigger_id: &str) -> Result<Option<Timestamp>, StoreError>;

    /// The installed connectors, by id.
    async fn connectors(&self) -> Result<Vec<ConnectorRecord>, StoreError>;

    /// Every stored credential, by name.
    async fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError>;

    /// One credential by name.
    async fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError>;

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

    /// Ids starting or ending with `part`, at most `limit`, sorted; only `part` itself when it is a whole id.
    async fn execution_ids_matching(&self, part: &str, limit: usize) -> Result<Vec<String>, StoreError>;

    /// The execution's log text, `None` if nothing was logged for it.
    async fn read_log(&self, execution_id: &str) -> Result<Option<String>, StoreError>;

    /// The full id of the one execution whose id starts or ends with `prefix` (a whole id works too). Ids are
    /// time-ordered UUIDs, so runs started close together share a long prefix; their last characters are random,
    /// and a few of them (the short form the CLI shows) are enough.
    async fn resolve_execution_id(&self, prefix: &str) -> Result<String, LookupError> {
        let mut ids = self.execution_ids_matching(prefix, 10).await?;
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
