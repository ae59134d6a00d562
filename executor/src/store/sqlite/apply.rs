//! The SQL of each write, run by the writer thread inside the current transaction.

use crate::store::records::{WorkflowSave, checks, workflow_after_save};
use crate::store::{ExecutionEnd, NewExecution, StepEnd, StepStart, StoreError, WorkflowDefinition, WorkflowRecord};
use expr_grammar::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

/// A write failed: either something the caller got wrong (already a [`StoreError`]) or a SQLite error that the
/// writer classifies with the database path.
pub(crate) enum ApplyError {
    Refused(StoreError),
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for ApplyError {
    fn from(err: rusqlite::Error) -> Self {
        ApplyError::Sqlite(err)
    }
}

impl From<StoreError> for ApplyError {
    fn from(err: StoreError) -> Self {
        ApplyError::Refused(err)
    }
}

type Applied<T> = Result<T, ApplyError>;

fn json_text(value: &serde_json::Value) -> String {
    value.to_string()
}

fn unknown_execution(id: &str) -> ApplyError {
    ApplyError::Refused(StoreError::UnknownExecution { id: id.to_owned() })
}

/// Maps a foreign key failure on a step row to "unknown execution".
fn step_write(conn: &Connection, execution_id: &str, sql: &str, params: impl rusqlite::Params) -> Applied<()> {
    match conn.prepare_cached(sql)?.execute(params) {
        Ok(_) => Ok(()),
        Err(err) if err.sqlite_extended_error_code() == Some(rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY) => {
            Err(unknown_execution(execution_id))
        }
        Err(err) => Err(err.into()),
    }
}

/// The row id: execution ids cannot contain `/`, so it is unique exactly when (execution, step) is.
fn step_row_id(execution_id: &str, step_id: &str) -> String {
    format!("{execution_id}/{step_id}")
}

pub(crate) fn save_workflow(conn: &Connection, new: &WorkflowDefinition) -> Applied<WorkflowRecord> {
    let existing = load_workflow(conn, &new.id)?;
    let record = match workflow_after_save(existing, new) {
        WorkflowSave::Unchanged(stored) => return Ok(stored),
        WorkflowSave::Store(record) => record,
    };
    conn.prepare_cached(
        "INSERT INTO workflows (id, name, description, definition, version, is_enabled, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
             definition = excluded.definition, version = excluded.version, updated_at = excluded.updated_at",
    )?
    .execute(params![
        record.id,
        record.name,
        record.description,
        record.definition,
        record.version,
        record.is_enabled,
        record.created_at.0,
        record.updated_at.0
    ])?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO workflow_versions (workflow_id, version, definition, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![record.id, record.version, record.definition, record.updated_at.0])?;
    Ok(record)
}

/// Reads one workflow row; shared with the read side.
pub(crate) fn load_workflow(conn: &Connection, id: &str) -> rusqlite::Result<Option<WorkflowRecord>> {
    conn.prepare_cached(
        "SELECT id, name, description, definition, COALESCE(version, 1), COALESCE(is_enabled, 1),
                COALESCE(created_at, 0), COALESCE(updated_at, 0)
         FROM workflows WHERE id = ?1",
    )?
    .query_row([id], workflow_from_row)
    .optional()
}

pub(crate) fn workflow_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<WorkflowRecord> {
    Ok(WorkflowRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        definition: row.get(3)?,
        version: row.get(4)?,
        is_enabled: row.get(5)?,
        created_at: Timestamp(row.get(6)?),
        updated_at: Timestamp(row.get(7)?),
    })
}

pub(crate) fn create_execution(conn: &Connection, new: &NewExecution) -> Applied<()> {
    checks::new_execution(new)?;
    let exists = |sql: &str, id: &str| -> rusqlite::Result<bool> {
        Ok(conn.prepare_cached(sql)?.query_row([id], |_| Ok(())).optional()?.is_some())
    };
    if !exists("SELECT 1 FROM workflows WHERE id = ?1", &new.workflow_id)? {
        return Err(StoreError::UnknownWorkflow { id: new.workflow_id.clone() }.into());
    }
    if exists("SELECT 1 FROM executions WHERE id = ?1", &new.id)? {
        return Err(StoreError::DuplicateExecution { id: new.id.clone() }.into());
    }
    conn.prepare_cached(
        "INSERT INTO executions (id, workflow_id, trigger_id, status, started_at, workflow_name, workflow_version,
                                 input, trigger_info, retry_of, retry_from)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        new.id,
        new.workflow_id,
        new.trigger_id,
        new.status.as_str(),
        new.started_at.0,
        new.workflow_name,
        new.workflow_version,
        json_text(&new.input),
        json_text(&new.trigger),
        new.retry_of.as_ref().map(|retry| &retry.execution_id),
        new.retry_of.as_ref().and_then(|retry| retry.from_step.as_ref()),
    ])?;
    Ok(())
}

pub(crate) fn mark_running(conn: &Connection, id: &str, at: Timestamp) -> Applied<()> {
    let changed = conn
        .prepare_cached(
            "UPDATE executions SET status = 'running', started_at = COALESCE(started_at, ?2), completed_at = NULL,
                 error = NULL
             WHERE id = ?1",
        )?
        .execute(params![id, at.0])?;
    if changed == 0 { Err(unknown_execution(id)) } else { Ok(()) }
}

pub(crate) fn finish_execution(conn: &Connection, end: &ExecutionEnd) -> Applied<()> {
    checks::execution_end(end)?;
    let changed = conn
        .prepare_cached("UPDATE executions SET status = ?2, error = ?3, context = ?4, completed_at = ?5 WHERE id = ?1")?
        .execute(params![
            end.execution_id,
            end.status.as_str(),
            end.error,
            end.context.as_ref().map(json_text),
            end.completed_at.0
        ])?;
    if changed == 0 { Err(unknown_execution(&end.execution_id)) } else { Ok(()) }
}

/// Marks an execution running and counts a resume attempt; the attempts counted so far.
pub(crate) fn start_resume(conn: &Connection, id: &str, at: Timestamp) -> Applied<u32> {
    let attempts = conn
        .prepare_cached(
            "UPDATE executions SET status = 'running', started_at = COALESCE(started_at, ?2), completed_at = NULL,
                 error = NULL, resume_attempts = resume_attempts + 1
             WHERE id = ?1 RETURNING resume_attempts",
        )?
        .query_row(params![id, at.0], |row| row.get(0))
        .optional()?;
    attempts.ok_or_else(|| unknown_execution(id))
}

/// Best effort after a write failed for lack of room: an in-place status update usually still fits.
pub(crate) fn fail_execution_for_lack_of_room(
    conn: &Connection,
    id: &str,
    error: &str,
    at: Timestamp,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE executions SET status = 'failed', error = ?2, completed_at = ?3
             WHERE id = ?1 AND status IN ('pending', 'running')",
        )?
        .execute(params![id, error, at.0])?;
    Ok(changed > 0)
}

pub(crate) fn start_step(conn: &Connection, start: &StepStart) -> Applied<()> {
    // A retry (attempt > 1) keeps the first attempt's start, so the step's duration covers all its attempts.
    let sql = "INSERT INTO execution_steps (id, execution_id, step_id, status, started_at, input, attempts)
               VALUES (?1, ?2, ?3, 'running', ?4, ?5, ?6)
               ON CONFLICT (id) DO UPDATE SET status = 'running',
                   started_at = CASE WHEN excluded.attempts > 1 AND started_at IS NOT NULL THEN started_at
                                     ELSE excluded.started_at END,
                   input = excluded.input, attempts = excluded.attempts,
                   completed_at = NULL, output = NULL, error = NULL";
    let row_id = step_row_id(&start.execution_id, &start.step_id);
    let params =
        params![row_id, start.execution_id, start.step_id, start.started_at.0, json_text(&start.input), start.attempt];
    step_write(conn, &start.execution_id, sql, params)
}

pub(crate) fn end_step(conn: &Connection, end: &StepEnd) -> Applied<()> {
    checks::step_end(end)?;
    let sql = "INSERT INTO execution_steps (id, execution_id, step_id, status, completed_at, output, error, attempts)
               VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
               ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                   completed_at = excluded.completed_at, output = excluded.output, error = excluded.error,
                   attempts = excluded.attempts";
    let row_id = step_row_id(&end.execution_id, &end.step_id);
    let params = params![
        row_id,
        end.execution_id,
        end.step_id,
        end.status.as_str(),
        end.completed_at.0,
        end.output.as_ref().map(json_text),
        end.error,
        end.attempts
    ];
    step_write(conn, &end.execution_id, sql, params)
}
