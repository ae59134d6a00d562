//! The writer task: the only user of the write connection. It drains the write queue into batches; a batch is one
//! transaction, so the writes queued while a commit is in flight share the next commit (group commit, as in the
//! SQLite store). A refused write is rolled back alone and the rest of its batch commits: the batch is first
//! applied without savepoints (the common case), and only when a write is refused applied again with one per write. The log lines of the committed writes go into `execution_logs` in the same transaction (one
//! statement per batch), so a log line exists exactly when its write does. Acks are sent after the commit.
//!
//! **Retries.** A batch that loses a deadlock (40P01) or a serialization conflict (40001) to another node's
//! transaction is rolled back whole by the server; it is run again whole, up to five times, after a short jittered
//! pause, before its writes are answered with the error.
//!
//! **Fencing.** On a daemon node's store ([`super::PostgresStore::fence_for`]) each batch first reads the owner of
//! the executions it writes, locking their rows `FOR SHARE` (one statement): the writes for an execution another
//! node owns are refused ([`StoreError::TakenOver`]) and the rest of the batch commits.

use super::apply::{self, ApplyError, Sql, StatementCache};
use crate::store::daemon::{Accepted, DaemonAnswer};
use crate::store::queued::{Done, Outcome, Write};
use crate::store::{LogLine, StoreError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_postgres::{Client, Config, NoTls};

pub(crate) struct Writer {
    pub(crate) config: Config,
    /// The store's URL without its password, for error messages.
    pub(crate) location: PathBuf,
    pub(crate) client: Option<Client>,
    pub(crate) cache: StatementCache,
    pub(crate) commits: Arc<AtomicU64>,
    /// 1 disables group commit.
    pub(crate) max_batch: usize,
    /// The daemon node this store writes for, once set: its writes for executions another node owns are refused.
    pub(crate) node: Arc<OnceLock<String>>,
}

/// The channel other nodes' idle loops listen on; notified when a pending execution is accepted.
pub const PENDING_CHANNEL: &str = "pilot_pending";

impl Writer {
    /// Runs until every sender is gone and the queue is empty.
    pub(crate) async fn run(mut self, mut queue: UnboundedReceiver<Write>) {
        while let Some(first) = queue.recv().await {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match queue.try_recv() {
                    Ok(write) => batch.push(write),
                    Err(_) => break,
                }
            }
            let outcomes = self.commit(&batch).await;
            for (write, outcome) in batch.into_iter().zip(outcomes) {
                write.answer(outcome);
            }
        }
    }

    fn fail(&self, doing: &str, err: &tokio_postgres::Error) -> StoreError {
        super::database_error(&self.location, doing, err)
    }

    /// The write connection, reconnecting when the last one was lost.
    async fn connected(&mut self) -> Result<(), StoreError> {
        if self.client.as_ref().is_some_and(|client| !client.is_closed()) {
            return Ok(());
        }
        self.cache.clear();
        let (client, connection) =
            self.config.connect(NoTls).await.map_err(|err| self.fail("connecting the writer", &err))?;
        tokio::spawn(connection);
        self.client = Some(client);
        Ok(())
    }

    async fn commit(&mut self, batch: &[Write]) -> Vec<Outcome> {
        let needs_database = batch.iter().any(|write| !matches!(write, Write::Flush(_)));
        if !needs_database {
            return batch.iter().map(|_| Ok(Done::Nothing)).collect();
        }
        if let Err(error) = self.connected().await {
            return batch.iter().map(|_| Err(error.clone())).collect();
        }
        let Writer { client, cache, location, node, .. } = self;
        let Some(client) = client.as_mut() else {
            return batch.iter().map(|_| Err(StoreError::WriterStopped)).collect();
        };
        let fenced = Batch { writes: batch, node: node.get().map(String::as_str) };
        let mut attempt = 1;
        let result = loop {
            match transaction(client, cache, location, &fenced).await {
                // Another node's transaction won a deadlock or a serialization conflict: the batch is run again
                // whole, after a short pause that differs between nodes.
                Err(err) if is_retryable(&err) && attempt < BATCH_ATTEMPTS => {
                    tracing::debug!("retrying a batch of {} writes: {err}", batch.len());
                    tokio::time::sleep(retry_pause(attempt)).await;
                    attempt += 1;
                }
                result => break result,
            }
        };
        match result {
            Ok(outcomes) => {
                self.commits.fetch_add(1, Ordering::Relaxed);
                outcomes
            }
            Err(err) if is_retryable(&err) => {
                let error = self.fail(&format!("committing {} writes ({attempt} attempts)", batch.len()), &err);
                batch.iter().map(|_| Err(error.clone())).collect()
            }
            Err(err) => {
                // The connection is suspect (lost, or ended by the server): the next batch opens a new one.
                self.client = None;
                let error = self.fail(&format!("committing {} writes", batch.len()), &err);
                batch.iter().map(|_| Err(error.clone())).collect()
            }
        }
    }
}

/// How many times a batch runs before a deadlock or serialization failure is answered to its writes.
const BATCH_ATTEMPTS: u32 = 5;

/// Whether a failed transaction may succeed run again: it lost a deadlock (40P01) or a serialization conflict
/// (40001) to another transaction, and was rolled back whole.
pub(crate) fn is_retryable(err: &tokio_postgres::Error) -> bool {
    use tokio_postgres::error::SqlState;
    err.code()
        .is_some_and(|code| *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE)
}

/// 10-20 ms times the attempt, the jitter taken from the clock's nanoseconds (nodes that collided part ways).
fn retry_pause(attempt: u32) -> std::time::Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    std::time::Duration::from_micros(u64::from(attempt) * (10_000 + u64::from(nanos % 10_000)))
}

/// The log lines of the committed writes, in order, and whether a new pending execution was accepted.
#[derive(Default)]
struct Committed {
    log_ids: Vec<String>,
    log_lines: Vec<String>,
    accepted_pending: bool,
}

impl Committed {
    fn applied(&mut self, write: &Write, done: &Done) {
        let mut push = |execution_id: &str, line: &LogLine| {
            self.log_ids.push(execution_id.to_owned());
            self.log_lines.push(line.render());
        };
        match done {
            // Nothing was created: no "execution created" line for an id that does not exist.
            Done::Daemon(DaemonAnswer::Accepted(Accepted::Existing { .. })) => {}
            Done::Daemon(DaemonAnswer::Accepted(Accepted::New)) => {
                self.accepted_pending = true;
                write.log_lines(&mut push);
            }
            _ => write.log_lines(&mut push),
        }
    }

    /// Writes the log lines (one statement), notifies, commits.
    async fn commit(
        self,
        tx: tokio_postgres::Transaction<'_>,
        cache: &mut StatementCache,
    ) -> Result<(), tokio_postgres::Error> {
        if !self.log_lines.is_empty() {
            let mut sql = Sql { tx: &tx, cache };
            sql.execute(
                "INSERT INTO execution_logs (execution_id, line)
                 SELECT id, line FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS lines (id, line, n) ORDER BY n",
                &[&self.log_ids, &self.log_lines],
            )
            .await?;
        }
        if self.accepted_pending {
            // Delivered on commit only: a node woken by it finds the row.
            tx.execute("SELECT pg_notify($1, '')", &[&PENDING_CHANNEL]).await?;
        }
        tx.commit().await
    }
}

/// One batch in one transaction; an error here (a lost connection) fails the whole batch. First every write is
/// applied straight; only if one is refused is the batch rolled back and applied again with a savepoint per write,
/// so that the refused one fails alone. Savepoints cost two round trips a write, and refusals are rare.
async fn transaction(
    client: &mut Client,
    cache: &mut StatementCache,
    location: &std::path::Path,
    batch: &Batch<'_>,
) -> Result<Vec<Outcome>, tokio_postgres::Error> {
    if let Some(outcomes) = all_or_nothing(client, cache, batch).await? {
        return Ok(outcomes);
    }
    one_savepoint_each(client, cache, location, batch).await
}

/// The batch without savepoints; `None` (rolled back) when a write was refused.
async fn all_or_nothing(
    client: &mut Client,
    cache: &mut StatementCache,
    batch: &Batch<'_>,
) -> Result<Option<Vec<Outcome>>, tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let taken_over = batch.taken_over(&mut Sql { tx: &tx, cache: &mut *cache }).await?;
    let mut committed = Committed::default();
    let mut outcomes = Vec::with_capacity(batch.writes.len());
    for write in batch.writes {
        if let Some(refusal) = refusal(&taken_over, write) {
            outcomes.push(Err(refusal));
            continue;
        }
        let done = match write {
            Write::Flush(_) | Write::Log(..) => Done::Nothing,
            _ => match apply::apply(&mut Sql { tx: &tx, cache: &mut *cache }, write).await {
                Ok(done) => done,
                // Not the write's fault: the whole batch is run again.
                Err(ApplyError::Postgres(err)) if is_retryable(&err) => return Err(err),
                Err(_) => {
                    tx.rollback().await?;
                    return Ok(None);
                }
            },
        };
        committed.applied(write, &done);
        outcomes.push(Ok(done));
    }
    committed.commit(tx, cache).await?;
    Ok(Some(outcomes))
}

/// The batch with a savepoint per write: a refused write is rolled back alone.
async fn one_savepoint_each(
    client: &mut Client,
    cache: &mut StatementCache,
    location: &std::path::Path,
    batch: &Batch<'_>,
) -> Result<Vec<Outcome>, tokio_postgres::Error> {
    let mut tx = client.transaction().await?;
    let taken_over = batch.taken_over(&mut Sql { tx: &tx, cache: &mut *cache }).await?;
    let mut committed = Committed::default();
    let mut outcomes = Vec::with_capacity(batch.writes.len());
    for write in batch.writes {
        if let Some(refusal) = refusal(&taken_over, write) {
            outcomes.push(Err(refusal));
            continue;
        }
        match write {
            Write::Flush(_) => {
                outcomes.push(Ok(Done::Nothing));
                continue;
            }
            Write::Log(..) => {
                committed.applied(write, &Done::Nothing);
                outcomes.push(Ok(Done::Nothing));
                continue;
            }
            _ => {}
        }
        let savepoint = tx.savepoint("write").await?;
        let result = apply::apply(&mut Sql { tx: &savepoint, cache: &mut *cache }, write).await;
        let outcome = match result {
            Ok(done) => {
                savepoint.commit().await?;
                committed.applied(write, &done);
                Ok(done)
            }
            Err(ApplyError::Refused(error)) => {
                savepoint.rollback().await?;
                Err(error)
            }
            Err(ApplyError::Undone(done)) => {
                savepoint.rollback().await?;
                Ok(done)
            }
            Err(ApplyError::Postgres(err)) if is_retryable(&err) => return Err(err),
            Err(ApplyError::Postgres(err)) => {
                savepoint.rollback().await?;
                Err(super::database_error(location, &write.describe(), &err))
            }
        };
        outcomes.push(outcome);
    }
    committed.commit(tx, cache).await?;
    Ok(outcomes)
}

/// A batch of writes, and the node they are written for (if the store is a daemon node's).
struct Batch<'a> {
    writes: &'a [Write],
    node: Option<&'a str>,
}

impl Batch<'_> {
    /// The executions written by this batch that another node owns (id -> owner). Their rows are locked `FOR SHARE`
    /// until the batch commits, so a take-over (an update of the owner) either committed before this check (the
    /// writes are refused) or waits for the batch.
    async fn taken_over(&self, sql: &mut Sql<'_, '_>) -> Result<HashMap<String, String>, tokio_postgres::Error> {
        let Some(node) = self.node else { return Ok(HashMap::new()) };
        let mut ids: Vec<&str> = self.writes.iter().filter_map(fenced_execution).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        ids.sort_unstable();
        ids.dedup();
        let rows =
            sql.query("SELECT id, owner FROM executions WHERE id = ANY($1) ORDER BY id FOR SHARE", &[&ids]).await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let owner: Option<String> = row.get(1);
                owner.filter(|owner| owner != node).map(|owner| (row.get(0), owner))
            })
            .collect())
    }
}

/// The execution a write records something of (its log lines included), for the fencing check.
fn fenced_execution(write: &Write) -> Option<&str> {
    match write {
        Write::Log(id, _) => Some(id),
        other => other.execution_id(),
    }
}

/// The refusal of a write for an execution another node took over.
fn refusal(taken_over: &HashMap<String, String>, write: &Write) -> Option<StoreError> {
    let id = fenced_execution(write)?;
    let owner = taken_over.get(id)?;
    Some(StoreError::TakenOver { id: id.to_owned(), owner: owner.clone() })
}
