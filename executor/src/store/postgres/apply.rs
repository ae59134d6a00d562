//! The SQL of each write, run by the writer task inside the write's savepoint.

use crate::store::connectors::{ConnectorRecord, ConnectorWrite};
use crate::store::credentials::{CredentialRecord, CredentialWrite};
use crate::store::daemon::{
    Acceptance, Accepted, DaemonAnswer, DaemonWrite, InstanceRecord, LONGEST_LEASE, TriggerRecord, lease_micros,
};
use crate::store::queued::{Done, Write};
use crate::store::records::{WorkflowSave, checks, workflow_after_save};
use crate::store::{
    ExecutionEnd, NewExecution, Status, StepEnd, StepStart, StoreError, WorkflowDefinition, WorkflowRecord,
};
use expr_grammar::Timestamp;
use std::collections::HashMap;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Row, Statement, Transaction};

/// Why a write did not apply.
pub(crate) enum ApplyError {
    /// Something the caller got wrong: answered as is.
    Refused(StoreError),
    /// The server failed the statement: classified by the writer with the store's (redacted) URL.
    Postgres(tokio_postgres::Error),
    /// Nothing of the write stays (its savepoint is rolled back), and this is its answer: an acceptance that lost
    /// a race for its slot or key to another node.
    Undone(Done),
}

impl From<tokio_postgres::Error> for ApplyError {
    fn from(err: tokio_postgres::Error) -> Self {
        ApplyError::Postgres(err)
    }
}

impl From<StoreError> for ApplyError {
    fn from(err: StoreError) -> Self {
        ApplyError::Refused(err)
    }
}

type Applied<T> = Result<T, ApplyError>;
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// The writer connection's prepared statements, by SQL text: each is parsed once per connection.
pub(crate) type StatementCache = HashMap<&'static str, Statement>;

/// A transaction (or savepoint) of the writer connection with its statement cache.
pub(crate) struct Sql<'b, 't> {
    pub(crate) tx: &'b Transaction<'t>,
    pub(crate) cache: &'b mut StatementCache,
}

impl Sql<'_, '_> {
    async fn statement(&mut self, sql: &'static str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(statement) = self.cache.get(sql) {
            return Ok(statement.clone());
        }
        let statement = self.tx.prepare(sql).await?;
        self.cache.insert(sql, statement.clone());
        Ok(statement)
    }

    pub(crate) async fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<u64, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        self.tx.execute(&statement, params).await
    }

    pub(crate) async fn query(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        self.tx.query(&statement, params).await
    }

    async fn query_opt(&mut self, sql: &'static str, params: Params<'_>) -> Result<Option<Row>, tokio_postgres::Error> {
        let statement = self.statement(sql).await?;
        self.tx.query_opt(&statement, params).await
    }
}

fn unknown_execution(id: &str) -> ApplyError {
    ApplyError::Refused(StoreError::UnknownExecution { id: id.to_owned() })
}

fn micros(at: Timestamp) -> i64 {
    at.0
}

fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Runs one queued write.
pub(crate) async fn apply(sql: &mut Sql<'_, '_>, write: &Write) -> Applied<Done> {
    match write {
        Write::SaveWorkflow(workflow, _) => save_workflow(sql, workflow).await.map(Done::Workflow),
        Write::CreateExecution(new, _) => create_execution(sql, new, None).await.map(|_| Done::Nothing),
        Write::MarkRunning(id, at, _) => mark_running(sql, id, *at).await.map(|()| Done::Nothing),
        Write::StartResume(id, at, _) => start_resume(sql, id, *at).await.map(Done::Count),
        Write::FinishExecution(end, _) => finish_execution(sql, end).await.map(|()| Done::Nothing),
        Write::StartStep(start, _) => start_step(sql, start).await.map(|()| Done::Nothing),
        Write::EndStep(end, _) => end_step(sql, end).await.map(|()| Done::Nothing),
        Write::Steps(ends, start, _) => {
            for end in ends {
                end_step(sql, end).await?;
            }
            if let Some(start) = start {
                start_step(sql, start).await?;
            }
            Ok(Done::Nothing)
        }
        Write::Credential(write, _) => credential(sql, write).await.map(|()| Done::Nothing),
        Write::Connector(write, _) => connector(sql, write).await.map(|()| Done::Nothing),
        Write::Daemon(write, _) => daemon(sql, write).await.map(Done::Daemon),
        Write::Log(..) | Write::Flush(_) => Ok(Done::Nothing),
    }
}

async fn save_workflow(sql: &mut Sql<'_, '_>, new: &WorkflowDefinition) -> Applied<WorkflowRecord> {
    let existing = sql
        .query_opt(
            "SELECT id, name, description, definition, version, is_enabled, created_at, updated_at
             FROM workflows WHERE id = $1 FOR UPDATE",
            &[&new.id],
        )
        .await?
        .map(|row| workflow_from_row(&row));
    let record = match workflow_after_save(existing, new) {
        WorkflowSave::Unchanged(stored) => return Ok(stored),
        WorkflowSave::Store(record) => record,
    };
    sql.execute(
        "INSERT INTO workflows (id, name, description, definition, version, is_enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
             definition = excluded.definition, version = excluded.version, updated_at = excluded.updated_at",
        &[
            &record.id,
            &record.name,
            &record.description,
            &record.definition,
            &record.version,
            &record.is_enabled,
            &micros(record.created_at),
            &micros(record.updated_at),
        ],
    )
    .await?;
    sql.execute(
        "INSERT INTO workflow_versions (workflow_id, version, definition, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
        &[&record.id, &record.version, &record.definition, &micros(record.updated_at)],
    )
    .await?;
    Ok(record)
}

/// Columns: id, name, description, definition, version, is_enabled, created_at, updated_at.
pub(crate) fn workflow_from_row(row: &Row) -> WorkflowRecord {
    WorkflowRecord {
        id: row.get(0),
        name: row.get(1),
        description: row.get(2),
        definition: row.get(3),
        version: row.get(4),
        is_enabled: row.get(5),
        created_at: Timestamp(row.get(6)),
        updated_at: Timestamp(row.get(7)),
    }
}

/// Inserts the execution row; with an acceptance, its owner, slot and skipped status too. Answers `false` when
/// another execution already holds the (trigger, slot) pair.
async fn create_execution(sql: &mut Sql<'_, '_>, new: &NewExecution, acceptance: Option<&Acceptance>) -> Applied<bool> {
    checks::new_execution(new)?;
    if sql.query_opt("SELECT 1 FROM workflows WHERE id = $1", &[&new.workflow_id]).await?.is_none() {
        return Err(StoreError::UnknownWorkflow { id: new.workflow_id.clone() }.into());
    }
    if sql.query_opt("SELECT 1 FROM executions WHERE id = $1", &[&new.id]).await?.is_some() {
        return Err(StoreError::DuplicateExecution { id: new.id.clone() }.into());
    }
    let skipped = acceptance.and_then(|acceptance| acceptance.skipped.as_ref());
    let status = if skipped.is_some() { Status::Skipped } else { new.status };
    let completed_at = skipped.map(|_| micros(new.started_at));
    let owner = acceptance.and_then(|acceptance| acceptance.owner.as_ref());
    let slot = acceptance.and_then(|acceptance| acceptance.slot).map(micros);
    let trigger_type = new.trigger.get("type").and_then(serde_json::Value::as_str);
    let inserted = sql
        .query_opt(
            "INSERT INTO executions (id, workflow_id, trigger_id, status, started_at, completed_at, error,
                 workflow_name, workflow_version, input, trigger_info, trigger_type, owner, slot, retry_of, retry_from)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (trigger_id, slot) WHERE slot IS NOT NULL DO NOTHING
             RETURNING 1",
            &[
                &new.id,
                &new.workflow_id,
                &new.trigger_id,
                &status.as_str(),
                &micros(new.started_at),
                &completed_at,
                &skipped,
                &new.workflow_name,
                &new.workflow_version,
                &new.input.to_string(),
                &new.trigger.to_string(),
                &trigger_type,
                &owner,
                &slot,
                &new.retry_of.as_ref().map(|retry| &retry.execution_id),
                &new.retry_of.as_ref().and_then(|retry| retry.from_step.as_ref()),
            ],
        )
        .await?;
    Ok(inserted.is_some())
}

async fn mark_running(sql: &mut Sql<'_, '_>, id: &str, at: Timestamp) -> Applied<()> {
    let changed = sql
        .execute(
            "UPDATE executions SET status = 'running', started_at = COALESCE(started_at, $2), completed_at = NULL,
                 error = NULL
             WHERE id = $1",
            &[&id, &micros(at)],
        )
        .await?;
    if changed == 0 { Err(unknown_execution(id)) } else { Ok(()) }
}

async fn start_resume(sql: &mut Sql<'_, '_>, id: &str, at: Timestamp) -> Applied<u32> {
    let row = sql
        .query_opt(
            "UPDATE executions SET status = 'running', started_at = COALESCE(started_at, $2), completed_at = NULL,
                 error = NULL, resume_attempts = resume_attempts + 1
             WHERE id = $1 RETURNING resume_attempts",
            &[&id, &micros(at)],
        )
        .await?;
    let attempts: i32 = row.ok_or_else(|| unknown_execution(id))?.get(0);
    Ok(u32::try_from(attempts).unwrap_or(0))
}

async fn finish_execution(sql: &mut Sql<'_, '_>, end: &ExecutionEnd) -> Applied<()> {
    checks::execution_end(end)?;
    let context = end.context.as_ref().map(serde_json::Value::to_string);
    let changed = sql
        .execute(
            "UPDATE executions SET status = $2, error = $3, context = $4, completed_at = $5 WHERE id = $1",
            &[&end.execution_id, &end.status.as_str(), &end.error, &context, &micros(end.completed_at)],
        )
        .await?;
    if changed == 0 { Err(unknown_execution(&end.execution_id)) } else { Ok(()) }
}

/// A foreign key failure on a step row means its execution is unknown.
async fn step_write(sql: &mut Sql<'_, '_>, execution_id: &str, text: &'static str, params: Params<'_>) -> Applied<()> {
    match sql.execute(text, params).await {
        Ok(_) => Ok(()),
        Err(err) if err.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => Err(unknown_execution(execution_id)),
        Err(err) => Err(err.into()),
    }
}

fn step_row_id(execution_id: &str, step_id: &str) -> String {
    format!("{execution_id}/{step_id}")
}

async fn start_step(sql: &mut Sql<'_, '_>, start: &StepStart) -> Applied<()> {
    // A retry (attempt > 1) keeps the first attempt's start, so the step's duration covers all its attempts.
    let text = "INSERT INTO execution_steps (id, execution_id, step_id, status, started_at, input, attempts)
                VALUES ($1, $2, $3, 'running', $4, $5, $6)
                ON CONFLICT (id) DO UPDATE SET status = 'running',
                    started_at = CASE WHEN excluded.attempts > 1 AND execution_steps.started_at IS NOT NULL
                                      THEN execution_steps.started_at ELSE excluded.started_at END,
                    input = excluded.input, attempts = excluded.attempts,
                    completed_at = NULL, output = NULL, error = NULL";
    let row_id = step_row_id(&start.execution_id, &start.step_id);
    let input = start.input.to_string();
    let params: Params<'_> =
        &[&row_id, &start.execution_id, &start.step_id, &micros(start.started_at), &input, &count(start.attempt)];
    step_write(sql, &start.execution_id, text, params).await
}

async fn end_step(sql: &mut Sql<'_, '_>, end: &StepEnd) -> Applied<()> {
    checks::step_end(end)?;
    let text = "INSERT INTO execution_steps (id, execution_id, step_id, status, completed_at, output, error, attempts)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (id) DO UPDATE SET status = excluded.status,
                    completed_at = excluded.completed_at, output = excluded.output, error = excluded.error,
                    attempts = excluded.attempts";
    let row_id = step_row_id(&end.execution_id, &end.step_id);
    let output = end.output.as_ref().map(serde_json::Value::to_string);
    let params: Params<'_> = &[
        &row_id,
        &end.execution_id,
        &end.step_id,
        &end.status.as_str(),
        &micros(end.completed_at),
        &output,
        &end.error,
        &count(end.attempts),
    ];
    step_write(sql, &end.execution_id, text, params).await
}

async fn credential(sql: &mut Sql<'_, '_>, write: &CredentialWrite) -> Applied<()> {
    match write {
        CredentialWrite::Put(record) => put_credential(sql, record).await,
        CredentialWrite::Remove(name) => {
            let removed = sql.execute("DELETE FROM credentials WHERE name = $1", &[name]).await?;
            if removed == 0 { Err(StoreError::UnknownCredential { name: name.clone() }.into()) } else { Ok(()) }
        }
        // The savepoint makes it all or nothing: one stale change undoes the ones before it.
        CredentialWrite::ReplaceData(changes) => {
            for change in changes {
                let changed = sql
                    .execute(
                        "UPDATE credentials SET data = $3, updated_at = $4 WHERE name = $1 AND data = $2",
                        &[&change.name, &change.old_data, &change.new_data, &micros(change.updated_at)],
                    )
                    .await?;
                if changed == 0 {
                    return Err(StoreError::CredentialChanged { name: change.name.clone() }.into());
                }
            }
            Ok(())
        }
    }
}

async fn put_credential(sql: &mut Sql<'_, '_>, record: &CredentialRecord) -> Applied<()> {
    sql.execute(
        "INSERT INTO credentials (id, name, provider, data, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (name) DO UPDATE SET provider = excluded.provider, data = excluded.data,
             updated_at = excluded.updated_at",
        &[
            &record.id,
            &record.name,
            &record.provider,
            &record.data,
            &micros(record.created_at),
            &micros(record.updated_at),
        ],
    )
    .await?;
    Ok(())
}

async fn connector(sql: &mut Sql<'_, '_>, write: &ConnectorWrite) -> Applied<()> {
    match write {
        ConnectorWrite::Record(record) => record_connector(sql, record).await,
        ConnectorWrite::Remove(id) => {
            let removed = sql.execute("DELETE FROM connectors WHERE id = $1", &[id]).await?;
            if removed == 0 { Err(StoreError::UnknownConnector { id: id.clone() }.into()) } else { Ok(()) }
        }
    }
}

async fn record_connector(sql: &mut Sql<'_, '_>, record: &ConnectorRecord) -> Applied<()> {
    sql.execute("DELETE FROM connectors WHERE id = $1", &[&record.id]).await?;
    sql.execute(
        "INSERT INTO connectors (id, name, version, manifest, is_enabled, installed_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &record.id,
            &record.name,
            &record.version,
            &record.manifest.to_string(),
            &record.is_enabled,
            &micros(record.installed_at),
        ],
    )
    .await?;
    Ok(())
}

async fn daemon(sql: &mut Sql<'_, '_>, write: &DaemonWrite) -> Applied<DaemonAnswer> {
    match write {
        DaemonWrite::RegisterInstance(instance) => register(sql, instance).await.map(|()| DaemonAnswer::Done),
        DaemonWrite::RenewInstance { id, lease, .. } => {
            // The database's clock, not the node's: nodes whose clocks differ agree on whose lease ran out.
            let changed = sql
                .execute(
                    "UPDATE instances SET lease_expires_at = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint + $2
                     WHERE id = $1",
                    &[id, &lease_micros(*lease)],
                )
                .await?;
            if changed == 0 {
                return Err(StoreError::UnknownInstance { id: id.clone() }.into());
            }
            Ok(DaemonAnswer::Done)
        }
        DaemonWrite::RemoveInstance(id) => {
            sql.execute("DELETE FROM instances WHERE id = $1", &[id]).await?;
            Ok(DaemonAnswer::Done)
        }
        DaemonWrite::Accept(acceptance) => accept(sql, acceptance).await.map(DaemonAnswer::Accepted),
        DaemonWrite::Adopt { execution_id, owner, from } => {
            // The lease is checked here, on the database's clock, not only in the caller's earlier read.
            let changed = sql
                .execute(
                    "UPDATE executions SET owner = $2
                     WHERE id = $1 AND owner IS NOT DISTINCT FROM $3 AND status IN ('pending', 'running')
                       AND NOT EXISTS (SELECT 1 FROM instances WHERE id = $3
                           AND lease_expires_at > (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)",
                    &[execution_id, owner, from],
                )
                .await?;
            Ok(DaemonAnswer::Adopted(changed > 0))
        }
        DaemonWrite::Claim { execution_id, owner, at, limit } => {
            if let Some(limit) = limit
                && !has_room(sql, execution_id, *limit).await?
            {
                // Left to whichever node has room when one ends (see `PostgresStore::claim_pending`).
                sql.execute("UPDATE executions SET owner = NULL WHERE id = $1 AND status = 'pending'", &[execution_id])
                    .await?;
                return Ok(DaemonAnswer::Adopted(false));
            }
            let changed = sql
                .execute(
                    "UPDATE executions SET status = 'running', owner = $2, started_at = COALESCE(started_at, $3)
                     WHERE id = $1 AND status = 'pending'",
                    &[execution_id, owner, &micros(*at)],
                )
                .await?;
            Ok(DaemonAnswer::Adopted(changed > 0))
        }
        DaemonWrite::SyncTriggers { workflow_id, triggers } => {
            sync_triggers(sql, workflow_id, triggers).await.map(|()| DaemonAnswer::Done)
        }
        DaemonWrite::SetWorkflowEnabled { workflow_id, enabled } => {
            let changed =
                sql.execute("UPDATE workflows SET is_enabled = $2 WHERE id = $1", &[workflow_id, enabled]).await?;
            if changed == 0 {
                return Err(StoreError::UnknownWorkflow { id: workflow_id.clone() }.into());
            }
            Ok(DaemonAnswer::Done)
        }
    }
}

/// Taken before counting a workflow's running executions to claim one more: claims of one workflow are serialised
/// over every node (released at the end of the transaction).
pub(super) const WORKFLOW_LOCK: &str = "SELECT pg_advisory_xact_lock(1885957236, hashtext($1))";
pub(super) const RUNNING_OF_WORKFLOW: &str =
    "SELECT count(*) FROM executions WHERE workflow_name = $1 AND status = 'running'";

/// Whether fewer than `limit` executions of the execution's workflow run, on all nodes, under the workflow's lock.
async fn has_room(sql: &mut Sql<'_, '_>, execution_id: &str, limit: u32) -> Applied<bool> {
    let Some(row) = sql.query_opt("SELECT workflow_name FROM executions WHERE id = $1", &[&execution_id]).await? else {
        return Ok(true); // Unknown: the claim itself changes nothing.
    };
    let workflow: String = row.get(0);
    sql.execute(WORKFLOW_LOCK, &[&workflow]).await?;
    let running: i64 = sql.query_opt(RUNNING_OF_WORKFLOW, &[&workflow]).await?.map_or(0, |row| row.get(0));
    Ok(running < i64::from(limit))
}

/// The lease runs for `lease_expires_at - started_at` from the database's now.
async fn register(sql: &mut Sql<'_, '_>, instance: &InstanceRecord) -> Applied<()> {
    let lease = instance.lease_expires_at.0.saturating_sub(instance.started_at.0).clamp(0, LONGEST_LEASE);
    sql.execute(
        "INSERT INTO instances (id, kind, pid, host, started_at, lease_expires_at)
         VALUES ($1, $2, $3, $4, $5, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint + $6)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, pid = excluded.pid, host = excluded.host,
             started_at = excluded.started_at, lease_expires_at = excluded.lease_expires_at",
        &[&instance.id, &instance.kind, &i64::from(instance.pid), &instance.host, &micros(instance.started_at), &lease],
    )
    .await?;
    Ok(())
}

/// The key and slot checks, the row with its owner and slot, the key: one savepoint. Another node may accept the
/// same slot or key at the same moment: the unique index and the key's primary key decide, and the loser's row
/// is undone and answered with the winner's execution.
async fn accept(sql: &mut Sql<'_, '_>, acceptance: &Acceptance) -> Applied<Accepted> {
    let execution = &acceptance.execution;
    if let Some(key) = &acceptance.idempotency {
        let found = sql
            .query_opt(
                "SELECT execution_id FROM idempotency_keys WHERE scope = $1 AND key = $2 AND created_at >= $3",
                &[&key.scope, &key.key, &micros(key.expired_before)],
            )
            .await?;
        if let Some(row) = found {
            return Ok(Accepted::Existing { execution_id: row.get(0) });
        }
    }
    if let (Some(trigger_id), Some(slot)) = (&execution.trigger_id, acceptance.slot) {
        let holder = slot_holder(sql, trigger_id, slot).await?;
        if let Some(execution_id) = holder {
            return Ok(Accepted::Existing { execution_id });
        }
    }
    if !create_execution(sql, execution, Some(acceptance)).await? {
        let (Some(trigger_id), Some(slot)) = (&execution.trigger_id, acceptance.slot) else {
            return Err(StoreError::Invalid { reason: "a slot conflict without a slot".to_owned() }.into());
        };
        let holder = slot_holder(sql, trigger_id, slot).await?.unwrap_or_default();
        return Ok(Accepted::Existing { execution_id: holder });
    }
    if let Some(key) = &acceptance.idempotency {
        let kept = sql
            .query_opt(
                "INSERT INTO idempotency_keys (scope, key, execution_id, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (scope, key) DO UPDATE SET execution_id = excluded.execution_id,
                     created_at = excluded.created_at
                 WHERE idempotency_keys.created_at < $5
                 RETURNING 1",
                &[&key.scope, &key.key, &execution.id, &micros(execution.started_at), &micros(key.expired_before)],
            )
            .await?;
        if kept.is_none() {
            // A node recorded this key (unexpired) since the check above: its execution is the answer.
            let winner = sql
                .query_opt(
                    "SELECT execution_id FROM idempotency_keys WHERE scope = $1 AND key = $2",
                    &[&key.scope, &key.key],
                )
                .await?
                .map(|row| row.get(0))
                .unwrap_or_default();
            return Err(ApplyError::Undone(Done::Daemon(DaemonAnswer::Accepted(Accepted::Existing {
                execution_id: winner,
            }))));
        }
    }
    Ok(Accepted::New)
}

async fn slot_holder(sql: &mut Sql<'_, '_>, trigger_id: &str, slot: Timestamp) -> Applied<Option<String>> {
    let row = sql
        .query_opt("SELECT id FROM executions WHERE trigger_id = $1 AND slot = $2", &[&trigger_id, &micros(slot)])
        .await?;
    Ok(row.map(|row| row.get(0)))
}

async fn sync_triggers(sql: &mut Sql<'_, '_>, workflow_id: &str, triggers: &[TriggerRecord]) -> Applied<()> {
    sql.execute("DELETE FROM triggers WHERE workflow_id = $1", &[&workflow_id]).await?;
    for trigger in triggers {
        sql.execute(
            "INSERT INTO triggers (id, workflow_id, trigger_type, config, is_enabled) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET workflow_id = excluded.workflow_id,
                 trigger_type = excluded.trigger_type, config = excluded.config, is_enabled = excluded.is_enabled",
            &[&trigger.id, &workflow_id, &trigger.trigger_type, &trigger.config.to_string(), &trigger.is_enabled],
        )
        .await?;
    }
    Ok(())
}
