//! The export side of moving a store (`store::transfer`): every row as stored, read in one read transaction so
//! that the counts, the catalog and every batch of executions come from the same snapshot (WAL keeps it while
//! writers go on). Logs are read from the log files of the executions exported.

use super::open::classify;
use crate::store::transfer::{
    Catalog, ConnectorRow, ExecutionBatch, ExecutionLog, ExecutionRow, IdempotencyRow, StepRow, TableCounts,
    TriggerRow, WorkflowVersionRow,
};
use crate::store::{ExecutionLogFiles, StoreError};
use rusqlite::{Connection, params};
use std::path::PathBuf;
use std::time::Duration;

/// An open export: a read connection inside its transaction. Move it to a thread of its own: every call blocks.
#[derive(Debug)]
pub struct SqliteExport {
    conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
    logs: Option<ExecutionLogFiles>,
    /// The rowid of the last execution exported.
    after: i64,
}

const EXECUTION_COLUMNS: &str = "rowid, id, workflow_id, trigger_id, status, started_at, completed_at, error, context,
     workflow_name, workflow_version, input, trigger_info, resume_attempts, owner, slot, retry_of, retry_from";

const STEP_COLUMNS: &str =
    "id, execution_id, step_id, status, attempts, started_at, completed_at, input, output, error";

impl SqliteExport {
    pub(crate) fn start(
        conn: Connection,
        path: PathBuf,
        busy_timeout: Duration,
        logs: Option<ExecutionLogFiles>,
    ) -> Result<SqliteExport, StoreError> {
        // A deferred transaction takes its snapshot at the first read (the counts), and keeps it to the end.
        conn.execute_batch("BEGIN").map_err(|err| classify(&path, "starting the export", busy_timeout, &err))?;
        Ok(SqliteExport { conn, path, busy_timeout, logs, after: 0 })
    }

    fn fail(&self, doing: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        let doing = doing.to_owned();
        move |err| classify(&self.path, &doing, self.busy_timeout, &err)
    }

    /// Rows per table, log lines excepted (they are counted as the logs are read).
    pub fn counts(&self) -> Result<TableCounts, StoreError> {
        let count = |table: &str| -> Result<u64, StoreError> {
            let sql = format!("SELECT COUNT(*) FROM {table}");
            let rows: i64 =
                self.conn.query_row(&sql, [], |row| row.get(0)).map_err(self.fail(&format!("counting {table}")))?;
            Ok(u64::try_from(rows).unwrap_or(0))
        };
        Ok(TableCounts {
            workflows: count("workflows")?,
            workflow_versions: count("workflow_versions")?,
            triggers: count("triggers")?,
            executions: count("executions")?,
            execution_steps: count("execution_steps")?,
            execution_logs: 0,
            credentials: count("credentials")?,
            connectors: count("connectors")?,
            idempotency_keys: count("idempotency_keys")?,
        })
    }

    /// Everything but the executions.
    pub fn catalog(&self) -> Result<Catalog, StoreError> {
        let read = || -> rusqlite::Result<Catalog> {
            let workflows = self
                .conn
                .prepare(
                    "SELECT id, name, description, definition, COALESCE(version, 1), COALESCE(is_enabled, 1),
                            COALESCE(created_at, 0), COALESCE(updated_at, 0)
                     FROM workflows ORDER BY rowid",
                )?
                .query_map([], super::apply::workflow_from_row)?
                .collect::<rusqlite::Result<_>>()?;
            let workflow_versions = self
                .conn
                .prepare(
                    "SELECT workflow_id, version, definition, created_at FROM workflow_versions
                     ORDER BY workflow_id, version",
                )?
                .query_map([], |row| {
                    Ok(WorkflowVersionRow {
                        workflow_id: row.get(0)?,
                        version: row.get(1)?,
                        definition: row.get(2)?,
                        created_at: row.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let triggers = self
                .conn
                .prepare(
                    "SELECT id, workflow_id, trigger_type, config, COALESCE(is_enabled, 1) FROM triggers ORDER BY rowid",
                )?
                .query_map([], |row| {
                    Ok(TriggerRow {
                        id: row.get(0)?,
                        workflow_id: row.get(1)?,
                        trigger_type: row.get(2)?,
                        config: row.get(3)?,
                        is_enabled: row.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let connectors = self
                .conn
                .prepare(
                    "SELECT id, name, version, manifest, COALESCE(is_enabled, 1), COALESCE(installed_at, 0)
                     FROM connectors ORDER BY id, version",
                )?
                .query_map([], |row| {
                    Ok(ConnectorRow {
                        id: row.get(0)?,
                        name: row.get(1)?,
                        version: row.get(2)?,
                        manifest: row.get(3)?,
                        is_enabled: row.get(4)?,
                        installed_at: row.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let idempotency_keys = self
                .conn
                .prepare("SELECT scope, key, execution_id, created_at FROM idempotency_keys ORDER BY scope, key")?
                .query_map([], |row| {
                    Ok(IdempotencyRow {
                        scope: row.get(0)?,
                        key: row.get(1)?,
                        execution_id: row.get(2)?,
                        created_at: row.get(3)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            let credentials = super::credentials::all(&self.conn)?;
            Ok(Catalog { workflows, workflow_versions, triggers, credentials, connectors, idempotency_keys })
        };
        read().map_err(self.fail("reading the workflows, triggers, credentials and connectors"))
    }

    /// The next `limit` executions (in the order they were created) with their steps and logs; `None` after
    /// the last.
    pub fn next_executions(&mut self, limit: usize) -> Result<Option<ExecutionBatch>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = format!("SELECT {EXECUTION_COLUMNS} FROM executions WHERE rowid > ?1 ORDER BY rowid LIMIT ?2");
        let read = || -> rusqlite::Result<Vec<(i64, ExecutionRow)>> {
            self.conn.prepare_cached(&sql)?.query_map(params![self.after, limit], execution_from_row)?.collect()
        };
        let rows = read().map_err(self.fail("reading executions"))?;
        let Some(last) = rows.last().map(|(rowid, _)| *rowid) else { return Ok(None) };
        let sql = format!(
            "SELECT {STEP_COLUMNS} FROM execution_steps
             WHERE execution_id IN (SELECT id FROM executions WHERE rowid > ?1 AND rowid <= ?2) ORDER BY rowid"
        );
        let read = || -> rusqlite::Result<Vec<StepRow>> {
            self.conn.prepare_cached(&sql)?.query_map(params![self.after, last], step_from_row)?.collect()
        };
        let steps = read().map_err(self.fail("reading execution steps"))?;
        let executions: Vec<ExecutionRow> = rows.into_iter().map(|(_, row)| row).collect();
        let mut logs = Vec::new();
        if let Some(files) = &self.logs {
            for execution in &executions {
                if let Some(text) = files.read(&execution.id)? {
                    logs.push(ExecutionLog { execution_id: execution.id.clone(), text });
                }
            }
        }
        self.after = last;
        Ok(Some(ExecutionBatch { executions, steps, logs }))
    }
}

fn execution_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, ExecutionRow)> {
    Ok((
        row.get(0)?,
        ExecutionRow {
            id: row.get(1)?,
            workflow_id: row.get(2)?,
            trigger_id: row.get(3)?,
            status: row.get(4)?,
            started_at: row.get(5)?,
            completed_at: row.get(6)?,
            error: row.get(7)?,
            context: row.get(8)?,
            workflow_name: row.get(9)?,
            workflow_version: row.get(10)?,
            input: row.get(11)?,
            trigger_info: row.get(12)?,
            resume_attempts: row.get(13)?,
            owner: row.get(14)?,
            slot: row.get(15)?,
            retry_of: row.get(16)?,
            retry_from: row.get(17)?,
        },
    ))
}

fn step_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<StepRow> {
    Ok(StepRow {
        id: row.get(0)?,
        execution_id: row.get(1)?,
        step_id: row.get(2)?,
        status: row.get(3)?,
        attempts: row.get(4)?,
        started_at: row.get(5)?,
        completed_at: row.get(6)?,
        input: row.get(7)?,
        output: row.get(8)?,
        error: row.get(9)?,
    })
}
