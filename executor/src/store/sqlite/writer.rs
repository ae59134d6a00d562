//! The writer thread: the only owner of the write connection. It drains the write queue into batches; a batch is
//! one transaction, so every write queued while a commit is in flight shares the next commit (group commit).
//! Each write runs inside a savepoint, so a refused write fails alone and the rest of its batch still commits.
//! Acks are sent only after the commit; log lines are handed to the log thread (`log_thread.rs`) just before
//! the acks, and a flush waits until they are written.

use super::apply::{self, ApplyError};
use super::log_thread::LogQueue;
use super::open::classify;
pub(crate) use crate::store::queued::Write;
use crate::store::queued::{Done, Outcome};
use crate::store::{LogLine, StoreError};
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Duration;

/// Runs one write's SQL inside the current transaction.
fn apply_write(write: &Write, conn: &Connection) -> Result<Done, ApplyError> {
    match write {
        Write::SaveWorkflow(workflow, _) => apply::save_workflow(conn, workflow).map(Done::Workflow),
        Write::CreateExecution(new, _) => apply::create_execution(conn, new).map(|()| Done::Nothing),
        Write::MarkRunning(id, at, _) => apply::mark_running(conn, id, *at).map(|()| Done::Nothing),
        Write::StartResume(id, at, _) => apply::start_resume(conn, id, *at).map(Done::Count),
        Write::FinishExecution(end, _) => apply::finish_execution(conn, end).map(|()| Done::Nothing),
        Write::StartStep(start, _) => apply::start_step(conn, start).map(|()| Done::Nothing),
        Write::EndStep(end, _) => apply::end_step(conn, end).map(|()| Done::Nothing),
        Write::Steps(ends, start, _) => {
            for end in ends {
                apply::end_step(conn, end)?;
            }
            start.as_ref().map_or(Ok(()), |start| apply::start_step(conn, start)).map(|()| Done::Nothing)
        }
        Write::Credential(write, _) => super::credentials::apply(conn, write).map(|()| Done::Nothing),
        Write::Connector(write, _) => super::connectors::apply(conn, write).map(|()| Done::Nothing),
        Write::Daemon(write, _) => super::daemon::apply(conn, write).map(Done::Daemon),
        Write::Log(..) | Write::Flush(_) => Ok(Done::Nothing),
    }
}

/// Runs a statement that the writer runs for every transaction from the statement cache (no parsing each time).
fn run_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// How one attempt at a batch transaction ended.
enum Attempt {
    Committed(Vec<Option<Done>>),
    /// SQLite rolled the whole transaction back after a write failed: try again without that write.
    Aborted,
    Failed(StoreError),
}

pub(crate) struct Writer {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) busy_timeout: Duration,
    pub(crate) logs: Option<LogQueue>,
    pub(crate) commits: Arc<AtomicU64>,
    /// Set when a write met damage, so that the store leaves its open marker for the next open to check.
    pub(crate) damaged: Arc<std::sync::atomic::AtomicBool>,
    /// 1 disables group commit.
    pub(crate) max_batch: usize,
}

impl Writer {
    /// Runs until every sender is gone and the queue is empty.
    pub(crate) fn run(mut self, queue: Receiver<Write>) {
        while let Ok(first) = queue.recv() {
            let mut batch = vec![first];
            while batch.len() < self.max_batch {
                match queue.try_recv() {
                    Ok(write) => batch.push(write),
                    Err(_) => break,
                }
            }
            self.process(batch);
        }
    }

    fn process(&mut self, batch: Vec<Write>) {
        let mut outcomes = self.commit(&batch);
        if outcomes.iter().any(|outcome| matches!(outcome, Err(StoreError::Damaged { .. }))) {
            self.damaged.store(true, Ordering::Relaxed);
        }
        let mut extra_lines = Vec::new();
        self.fail_executions_for_lack_of_room(&batch, &outcomes, &mut extra_lines);
        self.write_logs(&batch, &outcomes, extra_lines);
        // A flush promises everything before it is on disk: the log lines too.
        if let Some(logs) = &self.logs
            && batch.iter().any(|write| matches!(write, Write::Flush(_)))
        {
            let _ = logs.settled().blocking_recv();
        }
        for (write, outcome) in batch.into_iter().zip(outcomes.drain(..)) {
            write.answer(outcome);
        }
    }

    fn fail<'a>(&'a self, doing: &'a str) -> impl Fn(rusqlite::Error) -> StoreError + 'a {
        move |err| classify(&self.path, doing, self.busy_timeout, &err)
    }

    fn commit(&mut self, batch: &[Write]) -> Vec<Outcome> {
        let mut refused: Vec<Option<StoreError>> = batch.iter().map(|_| None).collect();
        // Each retry has one more refused write, so this ends within `batch.len() + 1` attempts.
        let committed = loop {
            match self.try_transaction(batch, &mut refused) {
                Attempt::Aborted => continue,
                Attempt::Committed(done) => break Ok(done),
                Attempt::Failed(error) => break Err(error),
            }
        };
        match committed {
            Ok(done) => refused
                .into_iter()
                .zip(done)
                .map(|(refusal, done)| match refusal {
                    Some(error) => Err(error),
                    // `None` only for writes that do not touch the database (logs, flushes).
                    None => Ok(done.unwrap_or(Done::Nothing)),
                })
                .collect(),
            Err(error) => refused.into_iter().map(|refusal| Err(refusal.unwrap_or_else(|| error.clone()))).collect(),
        }
    }

    fn try_transaction(&mut self, batch: &[Write], refused: &mut [Option<StoreError>]) -> Attempt {
        let mut done: Vec<Option<Done>> = batch.iter().map(|_| None).collect();
        let pending =
            batch.iter().zip(refused.iter()).any(|(write, refusal)| write.touches_database() && refusal.is_none());
        if !pending {
            return Attempt::Committed(done);
        }
        let conn = &self.conn;
        if let Err(err) = run_cached(conn, "BEGIN IMMEDIATE") {
            return Attempt::Failed(self.fail("starting a transaction")(err));
        }
        for (index, write) in batch.iter().enumerate() {
            if refused[index].is_some() || !write.touches_database() {
                continue;
            }
            match self.apply_in_savepoint(write) {
                Ok(result) => done[index] = Some(result),
                Err(error) => {
                    refused[index] = Some(error);
                    if conn.is_autocommit() {
                        return Attempt::Aborted;
                    }
                    if let Err(err) = conn.execute_batch("ROLLBACK TO write; RELEASE write") {
                        let _ = conn.execute_batch("ROLLBACK");
                        return Attempt::Failed(self.fail("undoing a failed write")(err));
                    }
                }
            }
        }
        if let Err(err) = run_cached(conn, "COMMIT") {
            let _ = conn.execute_batch("ROLLBACK");
            return Attempt::Failed(self.fail(&format!("committing {} writes", batch.len()))(err));
        }
        self.commits.fetch_add(1, Ordering::Relaxed);
        Attempt::Committed(done)
    }

    fn apply_in_savepoint(&self, write: &Write) -> Result<Done, StoreError> {
        let to_error = |err: ApplyError| match err {
            ApplyError::Refused(error) => error,
            ApplyError::Sqlite(err) => self.fail(&write.describe())(err),
        };
        run_cached(&self.conn, "SAVEPOINT write").map_err(|err| to_error(err.into()))?;
        let done = apply_write(write, &self.conn).map_err(to_error)?;
        run_cached(&self.conn, "RELEASE write").map_err(|err| to_error(err.into()))?;
        Ok(done)
    }

    /// After a write failed for lack of room, marks its execution failed in a transaction of its own, if that
    /// still fits, so that the execution does not look forever running.
    fn fail_executions_for_lack_of_room(
        &mut self,
        batch: &[Write],
        outcomes: &[Outcome],
        lines: &mut Vec<(String, LogLine)>,
    ) {
        for (write, outcome) in batch.iter().zip(outcomes) {
            let (Err(error @ StoreError::Full { .. }), Some(execution_id), Some(at)) =
                (outcome, write.execution_id(), write.at())
            else {
                continue;
            };
            let message = format!("could not be recorded: {error}");
            let marked =
                self.conn.execute_batch("BEGIN IMMEDIATE").and_then(|()| match apply::fail_execution_for_lack_of_room(
                    &self.conn,
                    execution_id,
                    &message,
                    at,
                ) {
                    Ok(marked) => self.conn.execute_batch("COMMIT").map(|()| marked),
                    Err(err) => {
                        let _ = self.conn.execute_batch("ROLLBACK");
                        Err(err)
                    }
                });
            if matches!(marked, Ok(true)) {
                self.commits.fetch_add(1, Ordering::Relaxed);
                lines.push((execution_id.to_owned(), LogLine::error(at, None, format!("execution failed: {message}"))));
            }
        }
    }

    fn write_logs(&self, batch: &[Write], outcomes: &[Outcome], extra: Vec<(String, LogLine)>) {
        let Some(logs) = &self.logs else { return };
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut position: HashMap<String, usize> = HashMap::new();
        let mut push = |execution_id: &str, line: &LogLine| {
            let index = *position.entry(execution_id.to_owned()).or_insert_with(|| {
                texts.push((execution_id.to_owned(), String::new()));
                texts.len() - 1
            });
            texts[index].1.push_str(&line.render());
        };
        for (write, outcome) in batch.iter().zip(outcomes) {
            match outcome {
                Ok(_) => write.log_lines(&mut push),
                Err(error @ (StoreError::Full { .. } | StoreError::Locked { .. } | StoreError::Database { .. })) => {
                    if let (Some(execution_id), Some(at)) = (write.execution_id(), write.at()) {
                        push(execution_id, &LogLine::error(at, None, format!("store write failed: {error}")));
                    }
                }
                Err(_) => {}
            }
        }
        for (execution_id, line) in &extra {
            push(execution_id, line);
        }
        logs.append(texts);
    }
}
