//! [`PostgresStore`]: the [`Store`] in a PostgreSQL database, which several `pilot serve` nodes can share. It
//! passes the same conformance suite as the SQLite and in-memory stores.
//!
//! - **Writes** go to one writer task per store with its own connection: batches of queued writes, one
//!   transaction each; a refused write is rolled back alone (`writer.rs`). Acks resolve after the commit.
//! - **Reads** use a deadpool-postgres pool, statements prepared once per connection (`read.rs`).
//! - **Schema**: versioned migrations (`schema.rs`), run under an advisory lock by whichever node starts first.
//! - **Logs** live in the store (`execution_logs`), written in the same transaction as the write they describe,
//!   so any node (and the UI behind it) reads the log of an execution another node ran.
//! - **Claiming**: [`Store::claim_execution`] turns one pending execution into a running one under the claiming
//!   node (a compare-and-set); [`PostgresStore::claim_pending`] takes the oldest pending execution another node
//!   accepted, with `FOR UPDATE SKIP LOCKED`, marking it running in the same statement. Either way one node wins.
//!   Accepting a pending execution notifies [`PENDING_CHANNEL`] on commit. A workflow's concurrency limit holds
//!   over every node: a claim counts the workflow's running executions under a per-workflow advisory lock.
//! - **Cluster bus** (`bus.rs`): one `LISTEN` connection per node ([`PostgresStore::listen`], reopened when lost)
//!   and [`PostgresStore::notify`]: pending work, live events, cancel requests.
//! - **Several nodes**: leases are written and compared on the database's clock; a take-over checks the old
//!   owner's lease in its statement; a store given its node ([`PostgresStore::fence_for`]) has its writes for
//!   executions another node owns refused; a batch that loses a deadlock is run again (`writer.rs`).
//! - **Secrets**: the URL's password is never shown: [`redact_url`] is what errors, logs and `Debug` print.

mod apply;
mod bus;
mod import;
mod read;
mod schema;
#[cfg(any(test, feature = "conformance"))]
pub mod test_server;
mod writer;

#[cfg(test)]
mod tests;

pub use bus::{BusMessage, CANCEL_CHANNEL, EVENTS_CHANNEL, LISTENER_NAME, MAX_PAYLOAD, PENDING_CHANNEL};
pub use import::PostgresImport;

use crate::store::connectors::ConnectorWrite;
use crate::store::credentials::CredentialWrite;
use crate::store::daemon::{DaemonAck, DaemonWrite};
use crate::store::queued::Write;
use crate::store::*;
use read::Reader;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// The schema version this build writes (`pilot_schema.version`).
pub const POSTGRES_SCHEMA_VERSION: i64 = schema::MIGRATIONS.len() as i64;

/// How the PostgreSQL store behaves.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections in the read pool.
    pub max_readers: usize,
    /// Group commit: at most this many queued writes share one transaction (1 disables it).
    pub max_batch: usize,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions { max_readers: 8, max_batch: 256 }
    }
}

/// The PostgreSQL store. Must be opened and used inside a tokio runtime (its writer is a task).
pub struct PostgresStore {
    location: PathBuf,
    config: tokio_postgres::Config,
    queue: mpsc::UnboundedSender<Write>,
    reader: Reader,
    commits: Arc<AtomicU64>,
    node: Arc<std::sync::OnceLock<String>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("url", &self.location).finish_non_exhaustive()
    }
}

/// Whether `text` names a PostgreSQL store (`postgres://` or `postgresql://`).
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// The URL with its password replaced by `***`. tokio-postgres reads everything before the first `@` as the user
/// and password, whatever it holds (`/`, `?`, `#`), so that is what is hidden; in the query only the values of
/// parameters known to hold no secret are shown (a `password` may also be spelt `pass%77ord`).
pub fn redact_url(url: &str) -> String {
    const SHOWN: [&str; 11] = [
        "host",
        "hostaddr",
        "port",
        "dbname",
        "user",
        "sslmode",
        "application_name",
        "connect_timeout",
        "target_session_attrs",
        "keepalives",
        "load_balance_hosts",
    ];
    let scheme_end = url.find("://").map_or(0, |index| index + 3);
    let (scheme, rest) = url.split_at(scheme_end);
    let rest = match rest.split_once('@') {
        Some((user_info, after)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{after}"),
            None => format!("{user_info}@{after}"),
        },
        None => rest.to_owned(),
    };
    let Some((base, query)) = rest.split_once('?') else { return format!("{scheme}{rest}") };
    let parts: Vec<String> = query
        .split('&')
        .map(|part| match part.split_once('=') {
            Some((name, value)) if SHOWN.contains(&name) => format!("{name}={value}"),
            Some((name, _)) => format!("{name}=***"),
            None => part.to_owned(),
        })
        .collect();
    format!("{scheme}{base}?{}", parts.join("&"))
}

/// A failed statement as a [`StoreError`], naming the store by its redacted URL. The server's message is kept
/// (it never repeats a password).
pub(crate) fn database_error(location: &std::path::Path, doing: &str, err: &tokio_postgres::Error) -> StoreError {
    let reason = match err.as_db_error() {
        Some(db) => match db.detail() {
            Some(detail) => format!("{}: {} ({detail})", db.severity(), db.message()),
            None => format!("{}: {}", db.severity(), db.message()),
        },
        None => err.to_string(),
    };
    StoreError::Database { path: location.to_owned(), doing: doing.to_owned(), reason }
}

pub(crate) fn pool_error(err: &deadpool_postgres::PoolError) -> String {
    match err {
        deadpool_postgres::PoolError::Backend(err) => match err.as_db_error() {
            Some(db) => db.message().to_owned(),
            None => err.to_string(),
        },
        other => other.to_string(),
    }
}

impl PostgresStore {
    /// Connects to the database at `url`, migrating it to this build's schema (refusing a newer one), and starts
    /// the writer task.
    pub async fn connect(url: &str, options: PostgresOptions) -> Result<PostgresStore, StoreError> {
        let location = PathBuf::from(redact_url(url));
        let config: tokio_postgres::Config =
            url.parse().map_err(|err: tokio_postgres::Error| StoreError::Database {
                path: location.clone(),
                doing: "reading the store URL".to_owned(),
                reason: err.to_string(),
            })?;
        let (mut client, connection) =
            config.connect(tokio_postgres::NoTls).await.map_err(|err| database_error(&location, "connecting", &err))?;
        tokio::spawn(connection);
        migrate(&mut client, &location).await?;
        let manager = deadpool_postgres::Manager::from_config(
            config.clone(),
            tokio_postgres::NoTls,
            deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Fast },
        );
        let pool =
            deadpool_postgres::Pool::builder(manager).max_size(options.max_readers.max(1)).build().map_err(|err| {
                StoreError::Database {
                    path: location.clone(),
                    doing: "creating the connection pool".to_owned(),
                    reason: err.to_string(),
                }
            })?;
        let commits = Arc::new(AtomicU64::new(0));
        let node = Arc::new(std::sync::OnceLock::new());
        let writer = writer::Writer {
            node: Arc::clone(&node),
            config: config.clone(),
            location: location.clone(),
            client: Some(client),
            cache: Default::default(),
            commits: Arc::clone(&commits),
            max_batch: options.max_batch.max(1),
        };
        let (queue, receiver) = mpsc::unbounded_channel();
        tokio::spawn(writer.run(receiver));
        Ok(PostgresStore {
            reader: Reader { pool, location: location.clone() },
            location,
            config,
            queue,
            commits,
            node,
        })
    }

    /// The store's URL without its password.
    pub fn location(&self) -> &std::path::Path {
        &self.location
    }

    /// Makes this store the one of daemon node `node` (its instance id), once: from then on its writes for an
    /// execution (steps, its end, a resume, log lines) are refused with [`StoreError::TakenOver`] when the
    /// execution's owner is another node, checked in the transaction of the write. False if a node was set before.
    pub fn fence_for(&self, node: &str) -> bool {
        self.node.set(node.to_owned()).is_ok()
    }

    /// Transactions committed so far by the writer task (to measure group commit).
    pub fn commit_count(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Claims the oldest pending execution of one of `workflows` (by name, each with its concurrency limit) that
    /// another node accepted (its own are already in its queue), or that a node left to any (its claim was refused
    /// at the limit), for `owner`. In one transaction, the row is locked with `FOR UPDATE SKIP LOCKED` (a row
    /// another node is claiming is passed over, not waited for), marked running under `owner`, and its log records
    /// it. The workflows without a limit are tried first; one with a limit only while fewer of its executions run
    /// on all nodes (counted under its advisory lock, as [`PostgresStore::claim_within_limit`] does). Its id and
    /// workflow; `None` when nothing can be claimed.
    pub async fn claim_pending(
        &self,
        owner: &str,
        workflows: &[(String, Option<u32>)],
        at: Timestamp,
    ) -> Result<Option<(String, String)>, StoreError> {
        let unlimited: Vec<String> =
            workflows.iter().filter(|(_, limit)| limit.is_none()).map(|(name, _)| name.clone()).collect();
        if !unlimited.is_empty()
            && let Some(claimed) = self.claim_oldest(owner, &unlimited, None, at).await?
        {
            return Ok(Some(claimed));
        }
        for (name, limit) in workflows {
            if let Some(limit) = limit
                && let Some(claimed) = self.claim_oldest(owner, std::slice::from_ref(name), Some(*limit), at).await?
            {
                return Ok(Some(claimed));
            }
        }
        Ok(None)
    }

    /// One claim of [`PostgresStore::claim_pending`]; with a limit, `workflows` is one workflow.
    async fn claim_oldest(
        &self,
        owner: &str,
        workflows: &[String],
        limit: Option<u32>,
        at: Timestamp,
    ) -> Result<Option<(String, String)>, StoreError> {
        let doing = "claiming a pending execution";
        let fail = |err: tokio_postgres::Error| database_error(&self.location, doing, &err);
        let mut client = self.reader.pool.get().await.map_err(|err| StoreError::Database {
            path: self.location.clone(),
            doing: doing.to_owned(),
            reason: pool_error(&err),
        })?;
        let tx = client.transaction().await.map_err(fail)?;
        if let (Some(limit), [workflow]) = (limit, workflows) {
            // Before any row lock, as in a claim by id: the same order everywhere, so no deadlock.
            tx.execute(apply::WORKFLOW_LOCK, &[workflow]).await.map_err(fail)?;
            let running: i64 = tx.query_one(apply::RUNNING_OF_WORKFLOW, &[workflow]).await.map_err(fail)?.get(0);
            if running >= i64::from(limit) {
                return Ok(None);
            }
        }
        let claimed = tx
            .query_opt(
                "UPDATE executions SET status = 'running', owner = $1, started_at = COALESCE(started_at, $2)
                 WHERE id = (SELECT id FROM executions
                             WHERE status = 'pending' AND workflow_name = ANY($3) AND owner IS DISTINCT FROM $1
                               -- A file change is run by the node that saw it: the file is on its disk.
                               AND (owner IS NULL OR trigger_type IS DISTINCT FROM 'file_watch')
                             ORDER BY started_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
                   -- Checked again on the row as updated: a claim committed since this statement's snapshot wins.
                   AND status = 'pending'
                 RETURNING id, workflow_name",
                &[&owner, &at.0, &workflows],
            )
            .await
            .map_err(fail)?;
        let Some(row) = claimed else { return Ok(None) };
        let (id, workflow): (String, String) = (row.get(0), row.get(1));
        let line = LogLine::info(at, None, format!("execution claimed by {owner}")).render();
        tx.execute("INSERT INTO execution_logs (execution_id, line) VALUES ($1, $2)", &[&id, &line])
            .await
            .map_err(fail)?;
        tx.commit().await.map_err(fail)?;
        Ok(Some((id, workflow)))
    }

    /// [`Store::claim_execution`] for a workflow with a concurrency limit: refused while `limit` of its
    /// executions run on all nodes (counted under a per-workflow advisory lock, so two nodes never both pass).
    /// A refused execution stays pending, left to any node (its owner cleared): whichever node has room when one
    /// ends claims it with [`PostgresStore::claim_pending`].
    pub fn claim_within_limit(&self, execution_id: &str, owner: &str, at: Timestamp, limit: u32) -> WriteAck<bool> {
        let write = DaemonWrite::Claim {
            execution_id: execution_id.to_owned(),
            owner: owner.to_owned(),
            at,
            limit: Some(limit),
        };
        self.queue(|ack| Write::Daemon(write, DaemonAck::Adopted(ack)))
    }

    /// The pending and running executions of a workflow on all nodes, oldest first: (id, status, owner).
    pub async fn active_executions(&self, workflow: &str) -> Result<Vec<(String, Status, Option<String>)>, StoreError> {
        let doing = "listing the active executions of a workflow";
        let client = self.reader.pool.get().await.map_err(|err| StoreError::Database {
            path: self.location.clone(),
            doing: doing.to_owned(),
            reason: pool_error(&err),
        })?;
        let rows = client
            .query(
                "SELECT id, status, owner FROM executions
                 WHERE workflow_name = $1 AND status IN ('pending', 'running') ORDER BY started_at, id",
                &[&workflow],
            )
            .await
            .map_err(|err| database_error(&self.location, doing, &err))?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let status: String = row.get(1);
                let status = if status == "pending" { Status::Pending } else { Status::Running };
                (row.get(0), status, row.get(2))
            })
            .collect())
    }

    fn queue<T>(&self, write: impl FnOnce(AckSender<T>) -> Write) -> WriteAck<T> {
        let (sender, ack) = WriteAck::channel();
        // If the writer is gone the write (and its sender) is dropped: the ack resolves to WriterStopped.
        let _ = self.queue.send(write(sender));
        ack
    }
}

/// Brings the schema to this build's version, one transaction per migration, under an advisory lock.
async fn migrate(client: &mut tokio_postgres::Client, location: &std::path::Path) -> Result<(), StoreError> {
    let fail = |doing: &str| {
        let doing = doing.to_owned();
        move |err: tokio_postgres::Error| database_error(location, &doing, &err)
    };
    let supported = POSTGRES_SCHEMA_VERSION;
    loop {
        let tx = client.transaction().await.map_err(fail("starting a migration"))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&schema::MIGRATION_LOCK])
            .await
            .map_err(fail("waiting for the migration lock"))?;
        tx.batch_execute("CREATE TABLE IF NOT EXISTS pilot_schema (version BIGINT NOT NULL)")
            .await
            .map_err(fail("reading the schema version"))?;
        let found: Option<i64> = tx
            .query_opt("SELECT version FROM pilot_schema", &[])
            .await
            .map_err(fail("reading the schema version"))?
            .map(|row| row.get(0));
        let version = found.unwrap_or(0);
        if version > supported {
            return Err(StoreError::NewerSchema { path: location.to_owned(), found: version, supported });
        }
        if version == supported {
            return tx.commit().await.map_err(fail("reading the schema version"));
        }
        let doing = format!("migrating the schema to version {}", version + 1);
        let migration = schema::MIGRATIONS[usize::try_from(version).unwrap_or(0)];
        tx.batch_execute(migration).await.map_err(fail(&doing))?;
        let bump = if found.is_some() {
            "UPDATE pilot_schema SET version = $1"
        } else {
            "INSERT INTO pilot_schema (version) VALUES ($1)"
        };
        tx.execute(bump, &[&(version + 1)]).await.map_err(fail(&doing))?;
        tx.commit().await.map_err(fail(&doing))?;
    }
}

#[async_trait::async_trait]
impl Store for PostgresStore {
    fn save_workflow(&self, workflow: WorkflowDefinition) -> WriteAck<WorkflowRecord> {
        self.queue(|ack| Write::SaveWorkflow(workflow, ack))
    }

    fn create_execution(&self, execution: NewExecution) -> WriteAck<()> {
        self.queue(|ack| Write::CreateExecution(execution, ack))
    }

    fn mark_execution_running(&self, execution_id: &str, at: Timestamp) -> WriteAck<()> {
        self.queue(|ack| Write::MarkRunning(execution_id.to_owned(), at, ack))
    }

    fn start_resume(&self, execution_id: &str, at: Timestamp) -> WriteAck<u32> {
        self.queue(|ack| Write::StartResume(execution_id.to_owned(), at, ack))
    }

    fn finish_execution(&self, end: ExecutionEnd) -> WriteAck<()> {
        self.queue(|ack| Write::FinishExecution(end, ack))
    }

    fn start_step(&self, start: StepStart) -> WriteAck<()> {
        self.queue(|ack| Write::StartStep(start, ack))
    }

    fn end_step(&self, end: StepEnd) -> WriteAck<()> {
        self.queue(|ack| Write::EndStep(end, ack))
    }

    fn record_steps(&self, ends: Vec<StepEnd>, start: Option<StepStart>) -> WriteAck<()> {
        self.queue(|ack| Write::Steps(ends, start, ack))
    }

    fn append_log(&self, execution_id: &str, line: LogLine) {
        let _ = self.queue.send(Write::Log(execution_id.to_owned(), line));
    }

    fn flush(&self) -> WriteAck<()> {
        self.queue(Write::Flush)
    }

    fn put_credential(&self, credential: CredentialRecord) -> WriteAck<()> {
        self.queue(|ack| Write::Credential(CredentialWrite::Put(credential), ack))
    }

    fn remove_credential(&self, name: &str) -> WriteAck<()> {
        self.queue(|ack| Write::Credential(CredentialWrite::Remove(name.to_owned()), ack))
    }

    fn replace_credential_data(&self, changes: Vec<CredentialDataChange>) -> WriteAck<()> {
        self.queue(|ack| Write::Credential(CredentialWrite::ReplaceData(changes), ack))
    }

    fn record_connector(&self, connector: ConnectorRecord) -> WriteAck<()> {
        self.queue(|ack| Write::Connector(ConnectorWrite::Record(connector), ack))
    }

    fn remove_connector(&self, id: &str) -> WriteAck<()> {
        self.queue(|ack| Write::Connector(ConnectorWrite::Remove(id.to_owned()), ack))
    }

    fn register_instance(&self, instance: InstanceRecord) -> WriteAck<()> {
        self.queue(|ack| Write::Daemon(DaemonWrite::RegisterInstance(instance), DaemonAck::Done(ack)))
    }

    fn renew_instance(&self, id: &str, at: Timestamp, lease: std::time::Duration) -> WriteAck<()> {
        let write = DaemonWrite::RenewInstance { id: id.to_owned(), at, lease };
        self.queue(|ack| Write::Daemon(write, DaemonAck::Done(ack)))
    }

    fn remove_instance(&self, id: &str) -> WriteAck<()> {
        self.queue(|ack| Write::Daemon(DaemonWrite::RemoveInstance(id.to_owned()), DaemonAck::Done(ack)))
    }

    fn accept_execution(&self, acceptance: Acceptance) -> WriteAck<Accepted> {
        self.queue(|ack| Write::Daemon(DaemonWrite::Accept(Box::new(acceptance)), DaemonAck::Accepted(ack)))
    }

    fn adopt_execution(&self, execution_id: &str, owner: &str, from: Option<&str>) -> WriteAck<bool> {
        let write = DaemonWrite::Adopt {
            execution_id: execution_id.to_owned(),
            owner: owner.to_owned(),
            from: from.map(str::to_owned),
        };
        self.queue(|ack| Write::Daemon(write, DaemonAck::Adopted(ack)))
    }

    fn claim_execution(&self, execution_id: &str, owner: &str, at: Timestamp) -> WriteAck<bool> {
        let write =
            DaemonWrite::Claim { execution_id: execution_id.to_owned(), owner: owner.to_owned(), at, limit: None };
        self.queue(|ack| Write::Daemon(write, DaemonAck::Adopted(ack)))
    }

    fn sync_triggers(&self, workflow_id: &str, triggers: Vec<TriggerRecord>) -> WriteAck<()> {
        let write = DaemonWrite::SyncTriggers { workflow_id: workflow_id.to_owned(), triggers };
        self.queue(|ack| Write::Daemon(write, DaemonAck::Done(ack)))
    }

    fn set_workflow_enabled(&self, workflow_id: &str, enabled: bool) -> WriteAck<()> {
        let write = DaemonWrite::SetWorkflowEnabled { workflow_id: workflow_id.to_owned(), enabled };
        self.queue(|ack| Write::Daemon(write, DaemonAck::Done(ack)))
    }

    async fn workflows(&self) -> Result<Vec<WorkflowRecord>, StoreError> {
        self.reader.workflows().await
    }

    async fn instances(&self) -> Result<Vec<InstanceRecord>, StoreError> {
        self.reader.instances().await
    }

    /// On the database's clock: `now` is not used.
    async fn live_instances(&self, _now: Timestamp) -> Result<Vec<String>, StoreError> {
        self.reader.live_instances().await
    }

    async fn triggers(&self) -> Result<Vec<TriggerRecord>, StoreError> {
        self.reader.triggers().await
    }

    async fn last_slot(&self, trigger_id: &str) -> Result<Option<Timestamp>, StoreError> {
        self.reader.last_slot(trigger_id).await
    }

    async fn connectors(&self) -> Result<Vec<ConnectorRecord>, StoreError> {
        self.reader.connectors().await
    }

    async fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        self.reader.credentials().await
    }

    async fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError> {
        self.reader.credential(name).await
    }

    async fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        self.reader.workflow(id).await
    }

    async fn workflow_by_name(&self, name: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        self.reader.workflow_by_name(name).await
    }

    async fn workflow_definition(&self, id: &str, version: i64) -> Result<Option<String>, StoreError> {
        self.reader.workflow_definition(id, version).await
    }

    async fn load_execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        self.reader.load_execution(id).await
    }

    async fn list_executions(&self, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>, StoreError> {
        self.reader.list_executions(filter).await
    }

    async fn interrupted_executions(&self) -> Result<Vec<ExecutionSummary>, StoreError> {
        self.reader.interrupted_executions().await
    }

    async fn execution_ids_matching(&self, part: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        if !is_valid_execution_id(part) {
            return Ok(Vec::new());
        }
        self.reader.ids_matching(part, limit).await
    }

    async fn read_log(&self, execution_id: &str) -> Result<Option<String>, StoreError> {
        self.reader.read_log(execution_id).await
    }
}
