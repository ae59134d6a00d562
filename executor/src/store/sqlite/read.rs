//! The read side: a small pool of read connections (WAL lets them read while the writer commits), used from
//! tokio's blocking pool so that no query runs on an async worker thread.

use super::apply::{load_workflow, workflow_from_row};
use super::open::{classify, open_reader};
use crate::store::{
    ExecutionFilter, ExecutionRecord, ExecutionSummary, RetryOf, Status, StepRecord, StoreError, WorkflowRecord,
};
use expr_grammar::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Idle connections kept for reuse; more are opened when reads overlap.
const MAX_IDLE_READERS: usize = 4;

#[derive(Debug)]
pub(crate) struct ReadPool {
    path: PathBuf,
    busy_timeout: Duration,
    read_only: bool,
    idle: Mutex<Vec<Connection>>,
}

impl ReadPool {
    pub(crate) fn new(path: PathBuf, busy_timeout: Duration, read_only: bool) -> ReadPool {
        ReadPool { path, busy_timeout, read_only, idle: Mutex::new(Vec::new()) }
    }

    /// A connection of its own, outside the pool (for a long read such as an export).
    pub(crate) fn open_connection(&self) -> Result<Connection, StoreError> {
        open_reader(&self.path, self.busy_timeout, self.read_only)
    }

    pub(crate) fn busy_timeout(&self) -> Duration {
        self.busy_timeout
    }

    /// Runs `read` on a pooled connection in tokio's blocking pool.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Reader<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            let taken = pool.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop();
            let conn = match taken {
                Some(conn) => conn,
                None => open_reader(&pool.path, pool.busy_timeout, pool.read_only)?,
            };
            let result = read(&Reader { conn: &conn, path: &pool.path, busy_timeout: pool.busy_timeout });
            let mut idle = pool.idle.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if idle.len() < MAX_IDLE_READERS {
                idle.push(conn);
            }
            result
        });
        task.await.unwrap_or_else(|err| {
            Err(StoreError::Database { path: self.path.clone(), doing: "reading".to_owned(), reason: err.to_string() })
        })
    }
}

/// A read connection with what its errors need to name.
pub(crate) struct Reader<'a> {
    conn: &'a Connection,
    path: &'a Path,
    busy_timeout: Duration,
}

/// An execution row before its JSON columns are parsed.
struct ExecutionRow {
    summary: ExecutionSummary,
    workflow_version: i64,
    trigger_id: Option<String>,
    trigger: Option<String>,
    input: Option<String>,
    context: Option<String>,
    slot: Option<i64>,
    retry_of: Option<String>,
    retry_from: Option<String>,
}

const SUMMARY_COLUMNS: &str =
    "id, workflow_id, workflow_name, status, started_at, completed_at, error, resume_attempts,
     owner, json_extract(trigger_info, '$.type')";

/// Tolerant: a status this build does not know reads as [`Status::Unknown`] instead of failing the whole read.
fn status_of(text: &str) -> Status {
    Status::parse_stored(text)
}

fn summary_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionSummary> {
    Ok(ExecutionSummary {
        id: row.get(0)?,
        workflow_id: row.get(1)?,
        workflow_name: row.get(2)?,
        status: status_of(&row.get::<_, String>(3)?),
        started_at: row.get::<_, Option<i64>>(4)?.map(Timestamp),
        completed_at: row.get::<_, Option<i64>>(5)?.map(Timestamp),
        error: row.get(6)?,
        resume_attempts: row.get(7)?,
        owner: row.get(8)?,
        trigger_type: row.get(9)?,
    })
}

impl Reader<'_> {
    fn fail(&self, doing: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
        let doing = doing.to_owned();
        move |err| classify(self.path, &doing, self.busy_timeout, &err)
    }

    fn json(
        &self,
        text: Option<String>,
        what: impl FnOnce() -> String,
    ) -> Result<Option<serde_json::Value>, StoreError> {
        let Some(text) = text else { return Ok(None) };
        serde_json::from_str(&text).map(Some).map_err(|err| StoreError::BadJson {
            path: self.path.to_owned(),
            what: what(),
            reason: err.to_string(),
        })
    }

    pub(crate) fn connectors(&self) -> Result<Vec<crate::store::ConnectorRecord>, StoreError> {
        let rows = super::connectors::all(self.conn).map_err(self.fail("reading the installed connectors"))?;
        rows.into_iter()
            .map(|row| {
                let mut record = row.record;
                let what = || format!("manifest of connector `{}`", record.id);
                record.manifest = self.json(Some(row.manifest), what)?.unwrap_or_default();
                Ok(record)
            })
            .collect()
    }

    pub(crate) fn credentials(&self) -> Result<Vec<crate::store::CredentialRecord>, StoreError> {
        super::credentials::all(self.conn).map_err(self.fail("reading the credentials"))
    }

    pub(crate) fn credential(&self, name: &str) -> Result<Option<crate::store::CredentialRecord>, StoreError> {
        super::credentials::by_name(self.conn, name).map_err(self.fail(&format!("reading credential `{name}`")))
    }

    pub(crate) fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        load_workflow(self.conn, id).map_err(self.fail(&format!("reading workflow {id}")))
    }

    pub(crate) fn workflow_by_name(&self, name: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let sql = "SELECT id, name, description, definition, COALESCE(version, 1), COALESCE(is_enabled, 1),
                          COALESCE(created_at, 0), COALESCE(updated_at, 0)
                   FROM workflows WHERE name = ?1 ORDER BY updated_at DESC, id DESC LIMIT 1";
        let read = || self.conn.prepare_cached(sql)?.query_row([name], workflow_from_row).optional();
        read().map_err(self.fail(&format!("reading workflow named {name}")))
    }

    pub(crate) fn workflow_definition(&self, id: &str, version: i64) -> Result<Option<String>, StoreError> {
        let sql = "SELECT definition FROM workflow_versions WHERE workflow_id = ?1 AND version = ?2";
        let read = || self.conn.prepare_cached(sql)?.query_row(params![id, version], |row| row.get(0)).optional();
        read().map_err(self.fail(&format!("reading version {version} of workflow {id}")))
    }

    pub(crate) fn load_execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let fail = self.fail(&format!("reading execution {id}"));
        // One read transaction: the execution and its steps from the same commit.
        let transaction = self.conn.unchecked_transaction().map_err(&fail)?;
        let Some(row) = self.execution_row(id).map_err(&fail)? else { return Ok(None) };
        let steps = self.steps(id)?;
        transaction.finish().map_err(&fail)?;
        let id = &row.summary.id;
        Ok(Some(ExecutionRecord {
            trigger: self.json(row.trigger, || format!("trigger of execution {id}"))?.unwrap_or_default(),
            input: self.json(row.input, || format!("input of execution {id}"))?.unwrap_or_default(),
            context: self.json(row.context, || format!("context of execution {id}"))?,
            id: row.summary.id.clone(),
            workflow_id: row.summary.workflow_id,
            workflow_name: row.summary.workflow_name,
            workflow_version: row.workflow_version,
            trigger_id: row.trigger_id,
            status: row.summary.status,
            started_at: row.summary.started_at,
            completed_at: row.summary.completed_at,
            error: row.summary.error,
            resume_attempts: row.summary.resume_attempts,
            owner: row.summary.owner,
            slot: row.slot.map(Timestamp),
            retry_of: row.retry_of.map(|execution_id| RetryOf { execution_id, from_step: row.retry_from }),
            steps,
        }))
    }

    fn execution_row(&self, id: &str) -> rusqlite::Result<Option<ExecutionRow>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, workflow_version, trigger_id, trigger_info, input, context, slot, retry_of,
                    retry_from
             FROM executions WHERE id = ?1"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let row = statement.query_row([id], |row| {
            Ok(ExecutionRow {
                summary: summary_from_row(row)?,
                workflow_version: row.get(10)?,
                trigger_id: row.get(11)?,
                trigger: row.get(12)?,
                input: row.get(13)?,
                context: row.get(14)?,
                slot: row.get(15)?,
                retry_of: row.get(16)?,
                retry_from: row.get(17)?,
            })
        });
        row.optional()
    }

    fn steps(&self, execution_id: &str) -> Result<Vec<StepRecord>, StoreError> {
        type StepRow = (StepRecord, Option<String>, Option<String>);
        let sql = "SELECT step_id, status, attempts, started_at, completed_at, input, output, error
                   FROM execution_steps WHERE execution_id = ?1 ORDER BY rowid";
        let read = || -> rusqlite::Result<Vec<StepRow>> {
            let mut statement = self.conn.prepare_cached(sql)?;
            let rows = statement.query_map([execution_id], |row| {
                let step = StepRecord {
                    step_id: row.get(0)?,
                    status: status_of(&row.get::<_, String>(1)?),
                    attempts: row.get(2)?,
                    started_at: row.get::<_, Option<i64>>(3)?.map(Timestamp),
                    completed_at: row.get::<_, Option<i64>>(4)?.map(Timestamp),
                    input: None,
                    output: None,
                    error: row.get(7)?,
                };
                Ok((step, row.get(5)?, row.get(6)?))
            })?;
            rows.collect()
        };
        let rows = read().map_err(self.fail(&format!("reading the steps of execution {execution_id}")))?;
        rows.into_iter()
            .map(|(mut step, input, output)| {
                let what = |part: &str| format!("{part} of step {} of execution {execution_id}", step.step_id);
                step.input = self.json(input, || what("input"))?;
                step.output = self.json(output, || what("output"))?;
                Ok(step)
            })
            .collect()
    }

    pub(crate) fn list_executions(&self, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>, StoreError> {
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let status = filter.status.map(Status::as_str);
        // Only the filters given, so that SQLite can pick the matching index.
        let mut clauses: Vec<&str> = Vec::new();
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::new();
        if let Some(name) = &filter.workflow_name {
            clauses.push("workflow_name = ?");
            values.push(name);
        }
        if let Some(status) = &status {
            clauses.push("status = ?");
            values.push(status);
        }
        if let Some(kind) = &filter.trigger_type {
            clauses.push("json_extract(trigger_info, '$.type') = ?");
            values.push(kind);
        }
        if let Some(after) = &filter.after {
            clauses.push("(started_at, id) < (SELECT started_at, id FROM executions WHERE id = ?)");
            values.push(after);
        }
        values.push(&limit);
        let filters = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let sql =
            format!("SELECT {SUMMARY_COLUMNS} FROM executions {filters} ORDER BY started_at DESC, id DESC LIMIT ?");
        let read = || -> rusqlite::Result<Vec<ExecutionSummary>> {
            let mut statement = self.conn.prepare_cached(&sql)?;
            let rows = statement.query_map(values.as_slice(), summary_from_row)?;
            rows.collect()
        };
        read().map_err(self.fail("listing executions"))
    }

    pub(crate) fn interrupted_executions(&self) -> Result<Vec<ExecutionSummary>, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM executions WHERE status IN ('pending', 'running')
             ORDER BY started_at, id"
        );
        let read = || -> rusqlite::Result<Vec<ExecutionSummary>> {
            let mut statement = self.conn.prepare_cached(&sql)?;
            let rows = statement.query_map([], summary_from_row)?;
            rows.collect()
        };
        read().map_err(self.fail("listing interrupted executions"))
    }

    pub(crate) fn workflows(&self) -> Result<Vec<WorkflowRecord>, StoreError> {
        let sql = "SELECT id, name, description, definition, COALESCE(version, 1), COALESCE(is_enabled, 1),
                          COALESCE(created_at, 0), COALESCE(updated_at, 0)
                   FROM workflows ORDER BY name, id";
        let read = || -> rusqlite::Result<Vec<WorkflowRecord>> {
            let mut statement = self.conn.prepare_cached(sql)?;
            let rows = statement.query_map([], workflow_from_row)?;
            rows.collect()
        };
        read().map_err(self.fail("listing workflows"))
    }

    pub(crate) fn instances(&self) -> Result<Vec<crate::store::InstanceRecord>, StoreError> {
        super::daemon::instances(self.conn).map_err(self.fail("reading the instances"))
    }

    pub(crate) fn triggers(&self) -> Result<Vec<crate::store::TriggerRecord>, StoreError> {
        let rows = super::daemon::triggers(self.conn).map_err(self.fail("reading the triggers"))?;
        rows.into_iter()
            .map(|(mut record, config)| {
                let what = || format!("config of trigger `{}`", record.id);
                record.config = self.json(config, what)?.unwrap_or_default();
                Ok(record)
            })
            .collect()
    }

    pub(crate) fn last_slot(&self, trigger_id: &str) -> Result<Option<Timestamp>, StoreError> {
        super::daemon::last_slot(self.conn, trigger_id)
            .map_err(self.fail(&format!("reading the slots of {trigger_id}")))
    }

    /// `prefix` must already be a valid id fragment (letters, digits, `-`, `_`): no GLOB wildcards.
    pub(crate) fn ids_matching(&self, part: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        // A whole id (what the engine and the API pass) is one look-up in the primary key. A fragment scans every
        // row (the suffix), which a person typing an id never notices but a daemon starting thousands would.
        let exact = "SELECT id FROM executions WHERE id = ?1";
        let sql = "SELECT id FROM executions WHERE id GLOB ?1 || '*' OR id GLOB '*' || ?1 ORDER BY id LIMIT ?2";
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let read = || -> rusqlite::Result<Vec<String>> {
            let whole: Option<String> =
                self.conn.prepare_cached(exact)?.query_row(params![part], |row| row.get(0)).optional()?;
            if let Some(id) = whole.filter(|_| limit > 0) {
                return Ok(vec![id]);
            }
            let mut statement = self.conn.prepare_cached(sql)?;
            let rows = statement.query_map(params![part, limit], |row| row.get(0))?;
            rows.collect()
        };
        read().map_err(self.fail(&format!("looking up executions whose id starts or ends with {part}")))
    }
}
