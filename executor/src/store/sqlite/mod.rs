//! [`SqliteStore`]: the [`Store`] in one SQLite file (`$PILOT_HOME/pilot.db`), with execution logs as files
//! beside it (`$PILOT_HOME/logs/<execution-id>.log`). See the parent module for the schema and the group commit.

mod apply;
mod connectors;
mod credentials;
mod daemon;
mod export;
mod log_thread;
mod open;
mod read;
mod recovery;
mod schema;
mod shutdown;
mod writer;

#[cfg(test)]
mod tests;

pub use export::SqliteExport;
pub use open::{LogFolder, StoreOptions};
pub use recovery::{CheckReport, RepairReport};

use crate::store::connectors::ConnectorWrite;
use crate::store::credentials::CredentialWrite;
use crate::store::daemon::{DaemonAck, DaemonWrite};
use crate::store::*;
use read::ReadPool;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use writer::{Write, Writer};

/// The schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = schema::MIGRATIONS.len() as i64;

/// The SQLite store. Writes go to one writer thread (group commit); reads use their own connections on tokio's
/// blocking pool, so reads must be awaited inside a tokio runtime. Dropping it waits for the queued writes to be
/// committed.
#[derive(Debug)]
pub struct SqliteStore {
    path: PathBuf,
    queue: Option<mpsc::Sender<Write>>,
    writer: Option<std::thread::JoinHandle<()>>,
    readers: Arc<ReadPool>,
    logs: Option<ExecutionLogFiles>,
    /// The log thread's queue and the thread (none when read-only or without logs).
    log_queue: Option<log_thread::LogQueue>,
    log_thread: Option<std::thread::JoinHandle<()>>,
    commits: Arc<AtomicU64>,
    /// Set by the writer when it met damage: the marker then stays, and the next open checks the file.
    damaged: Arc<AtomicBool>,
    marker: Option<shutdown::OpenMarker>,
    /// Opened with [`SqliteStore::open_read_only`]: every write fails with [`StoreError::ReadOnly`].
    read_only: bool,
}

fn log_files(path: &Path, logs: &LogFolder) -> Option<ExecutionLogFiles> {
    match logs {
        LogFolder::Disabled => None,
        LogFolder::At(folder) => Some(ExecutionLogFiles::new(folder)),
        LogFolder::NextToDatabase => Some(ExecutionLogFiles::new(
            path.parent().map_or_else(|| PathBuf::from("logs"), |folder| folder.join("logs")),
        )),
    }
}

impl SqliteStore {
    /// Opens (creating the folder and the file if needed) and migrates the database at `path`. After an unclean
    /// shutdown (see `shutdown`) the file is checked first, and a damaged one is refused
    /// ([`StoreError::Damaged`]) before anything is written to it. A read-only file or folder is
    /// [`StoreError::ReadOnly`]: [`SqliteStore::open_read_only`] can still read it.
    pub fn open(path: impl AsRef<Path>, options: StoreOptions) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_owned();
        if let Some(folder) = path.parent().filter(|folder| !folder.as_os_str().is_empty()) {
            open::create_folder(folder)?;
        }
        open::check_header(&path)?;
        open::check_writable(&path)?;
        let stale = shutdown::stale_markers(&path);
        let marker = shutdown::OpenMarker::create(&path)?;
        let conn = open::open_writer(&path, &options, !stale.is_empty())?;
        shutdown::remove(&stale);
        let logs = log_files(&path, &options.logs);
        let (log_queue, log_thread) = match &logs {
            Some(logs) => {
                open::create_folder(logs.folder())?;
                let (queue, thread) =
                    log_thread::LogQueue::start(logs.clone()).map_err(|err| StoreError::Database {
                        path: path.clone(),
                        doing: "starting the log thread".to_owned(),
                        reason: err.to_string(),
                    })?;
                (Some(queue), Some(thread))
            }
            None => (None, None),
        };
        let commits = Arc::new(AtomicU64::new(0));
        let damaged = Arc::new(AtomicBool::new(false));
        let writer = Writer {
            conn,
            path: path.clone(),
            busy_timeout: options.busy_timeout,
            logs: log_queue.clone(),
            commits: Arc::clone(&commits),
            damaged: Arc::clone(&damaged),
            max_batch: if options.group_commit { options.max_batch.max(1) } else { 1 },
        };
        let (queue, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("pilot-store-writer".to_owned())
            .spawn(move || writer.run(receiver))
            .map_err(|err| StoreError::Database {
                path: path.clone(),
                doing: "starting the writer thread".to_owned(),
                reason: err.to_string(),
            })?;
        let readers = Arc::new(ReadPool::new(path.clone(), options.busy_timeout, false));
        Ok(SqliteStore {
            path,
            queue: Some(queue),
            writer: Some(thread),
            readers,
            logs,
            log_queue,
            log_thread,
            commits,
            damaged,
            marker: Some(marker),
            read_only: false,
        })
    }

    /// Opens an existing database only to read it (`pilot executions`, `pilot logs` on a read-only or damaged
    /// store): nothing is created, migrated or written, and every write fails with [`StoreError::ReadOnly`].
    pub fn open_read_only(path: impl AsRef<Path>, options: StoreOptions) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref().to_owned();
        open::check_readable(&path)?;
        let readers = Arc::new(ReadPool::new(path.clone(), options.busy_timeout, true));
        Ok(SqliteStore {
            logs: log_files(&path, &options.logs),
            log_queue: None,
            log_thread: None,
            path,
            queue: None,
            writer: None,
            readers,
            commits: Arc::default(),
            damaged: Arc::default(),
            marker: None,
            read_only: true,
        })
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Starts an export of every row (`store::transfer`): a read connection of its own, in one read
    /// transaction. Its calls block: run them off the async threads.
    pub fn export(&self) -> Result<SqliteExport, StoreError> {
        let conn = self.readers.open_connection()?;
        SqliteExport::start(conn, self.path.clone(), self.readers.busy_timeout(), self.logs.clone())
    }

    /// Transactions committed so far by the writer thread (to measure group commit).
    pub fn commit_count(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    fn queue<T>(&self, write: impl FnOnce(AckSender<T>) -> Write) -> WriteAck<T> {
        if self.read_only {
            let doing = "it was opened for reading only".to_owned();
            return WriteAck::ready(Err(StoreError::ReadOnly { path: self.path.clone(), doing }));
        }
        let (sender, ack) = WriteAck::channel();
        if let Some(queue) = &self.queue {
            // If the writer is gone the write (and its sender) is dropped: the ack resolves to WriterStopped.
            let _ = queue.send(write(sender));
        }
        ack
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.queue.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        // The writer handed over its last lines as it ended; the log thread ends once they are written.
        self.log_queue.take();
        if let Some(log_thread) = self.log_thread.take() {
            let _ = log_thread.join();
        }
        if let Some(marker) = &mut self.marker
            && self.damaged.load(Ordering::Relaxed)
        {
            marker.keep();
        }
    }
}

#[async_trait::async_trait]
impl Store for SqliteStore {
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
        if let Some(queue) = &self.queue {
            let _ = queue.send(Write::Log(execution_id.to_owned(), line));
        }
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
        self.readers.run(|reader| reader.workflows()).await
    }

    async fn instances(&self) -> Result<Vec<InstanceRecord>, StoreError> {
        self.readers.run(|reader| reader.instances()).await
    }

    async fn triggers(&self) -> Result<Vec<TriggerRecord>, StoreError> {
        self.readers.run(|reader| reader.triggers()).await
    }

    async fn last_slot(&self, trigger_id: &str) -> Result<Option<Timestamp>, StoreError> {
        let trigger_id = trigger_id.to_owned();
        self.readers.run(move |reader| reader.last_slot(&trigger_id)).await
    }

    async fn connectors(&self) -> Result<Vec<ConnectorRecord>, StoreError> {
        self.readers.run(|reader| reader.connectors()).await
    }

    async fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        self.readers.run(|reader| reader.credentials()).await
    }

    async fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let name = name.to_owned();
        self.readers.run(move |reader| reader.credential(&name)).await
    }

    async fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let id = id.to_owned();
        self.readers.run(move |reader| reader.workflow(&id)).await
    }

    async fn workflow_by_name(&self, name: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let name = name.to_owned();
        self.readers.run(move |reader| reader.workflow_by_name(&name)).await
    }

    async fn workflow_definition(&self, id: &str, version: i64) -> Result<Option<String>, StoreError> {
        let id = id.to_owned();
        self.readers.run(move |reader| reader.workflow_definition(&id, version)).await
    }

    async fn load_execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let id = id.to_owned();
        self.readers.run(move |reader| reader.load_execution(&id)).await
    }

    async fn list_executions(&self, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>, StoreError> {
        let filter = filter.clone();
        self.readers.run(move |reader| reader.list_executions(&filter)).await
    }

    async fn interrupted_executions(&self) -> Result<Vec<ExecutionSummary>, StoreError> {
        self.readers.run(|reader| reader.interrupted_executions()).await
    }

    async fn execution_ids_matching(&self, part: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        if !is_valid_execution_id(part) {
            return Ok(Vec::new());
        }
        let part = part.to_owned();
        self.readers.run(move |reader| reader.ids_matching(&part, limit)).await
    }

    async fn read_log(&self, execution_id: &str) -> Result<Option<String>, StoreError> {
        let Some(logs) = self.logs.clone() else { return Ok(None) };
        if let Some(queue) = &self.log_queue {
            // Lines of every write acked before this read are written first.
            let _ = queue.settled().await;
        }
        let execution_id = execution_id.to_owned();
        tokio::task::spawn_blocking(move || logs.read(&execution_id)).await.unwrap_or_else(|err| {
            Err(StoreError::Log { path: self.path.clone(), reason: format!("reading the log failed: {err}") })
        })
    }
}
