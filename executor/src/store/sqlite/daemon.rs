//! The SQL of the daemon's writes and reads: instances and leases, triggers, accepting a trigger as a queued
//! execution (see `store::daemon` for the rules).

use super::apply::{self, ApplyError};
use crate::store::daemon::{Acceptance, Accepted, DaemonAnswer, DaemonWrite, InstanceRecord, TriggerRecord};
use crate::store::{StoreError, Timestamp};
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) fn apply(conn: &Connection, write: &DaemonWrite) -> Result<DaemonAnswer, ApplyError> {
    match write {
        DaemonWrite::RegisterInstance(instance) => register(conn, instance).map(|()| DaemonAnswer::Done),
        DaemonWrite::RenewInstance { id, at, lease } => {
            let lease_expires_at = at.0.saturating_add(crate::store::daemon::lease_micros(*lease));
            let changed = conn
                .prepare_cached("UPDATE instances SET lease_expires_at = ?2 WHERE id = ?1")?
                .execute(params![id, lease_expires_at])?;
            if changed == 0 {
                return Err(StoreError::UnknownInstance { id: id.clone() }.into());
            }
            Ok(DaemonAnswer::Done)
        }
        DaemonWrite::RemoveInstance(id) => {
            conn.prepare_cached("DELETE FROM instances WHERE id = ?1")?.execute([id])?;
            Ok(DaemonAnswer::Done)
        }
        DaemonWrite::Accept(acceptance) => accept(conn, acceptance).map(DaemonAnswer::Accepted),
        DaemonWrite::Adopt { execution_id, owner, from } => {
            let changed = conn
                .prepare_cached(
                    "UPDATE executions SET owner = ?2
                     WHERE id = ?1 AND owner IS ?3 AND status IN ('pending', 'running')",
                )?
                .execute(params![execution_id, owner, from])?;
            Ok(DaemonAnswer::Adopted(changed > 0))
        }
        // One node on this store: its queue holds the limit.
        DaemonWrite::Claim { execution_id, owner, at, limit: _ } => {
            let changed = conn
                .prepare_cached(
                    "UPDATE executions SET status = 'running', owner = ?2, started_at = COALESCE(started_at, ?3)
                     WHERE id = ?1 AND status = 'pending'",
                )?
                .execute(params![execution_id, owner, at.0])?;
            Ok(DaemonAnswer::Adopted(changed > 0))
        }
        DaemonWrite::SyncTriggers { workflow_id, triggers } => {
            sync_triggers(conn, workflow_id, triggers).map(|()| DaemonAnswer::Done)
        }
        DaemonWrite::SetWorkflowEnabled { workflow_id, enabled } => {
            let changed = conn
                .prepare_cached("UPDATE workflows SET is_enabled = ?2 WHERE id = ?1")?
                .execute(params![workflow_id, enabled])?;
            if changed == 0 {
                return Err(StoreError::UnknownWorkflow { id: workflow_id.clone() }.into());
            }
            Ok(DaemonAnswer::Done)
        }
    }
}

fn register(conn: &Connection, instance: &InstanceRecord) -> Result<(), ApplyError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO instances (id, kind, pid, host, started_at, lease_expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        instance.id,
        instance.kind,
        instance.pid,
        instance.host,
        instance.started_at.0,
        instance.lease_expires_at.0
    ])?;
    Ok(())
}

/// One transaction (the write's savepoint): the slot and key checks, the row, its owner and slot, the key.
fn accept(conn: &Connection, acceptance: &Acceptance) -> Result<Accepted, ApplyError> {
    let execution = &acceptance.execution;
    if let Some(key) = &acceptance.idempotency {
        let found: Option<(String, i64)> = conn
            .prepare_cached("SELECT execution_id, created_at FROM idempotency_keys WHERE scope = ?1 AND key = ?2")?
            .query_row(params![key.scope, key.key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        if let Some((execution_id, created_at)) = found
            && created_at >= key.expired_before.0
        {
            return Ok(Accepted::Existing { execution_id });
        }
    }
    if let (Some(trigger_id), Some(slot)) = (&execution.trigger_id, acceptance.slot) {
        let found: Option<String> = conn
            .prepare_cached("SELECT id FROM executions WHERE trigger_id = ?1 AND slot = ?2")?
            .query_row(params![trigger_id, slot.0], |row| row.get(0))
            .optional()?;
        if let Some(execution_id) = found {
            return Ok(Accepted::Existing { execution_id });
        }
    }
    apply::create_execution(conn, execution)?;
    conn.prepare_cached("UPDATE executions SET owner = ?2, slot = ?3 WHERE id = ?1")?.execute(params![
        execution.id,
        acceptance.owner,
        acceptance.slot.map(|slot| slot.0)
    ])?;
    if let Some(reason) = &acceptance.skipped {
        conn.prepare_cached(
            "UPDATE executions SET status = 'skipped', error = ?2, completed_at = started_at WHERE id = ?1",
        )?
        .execute(params![execution.id, reason])?;
    }
    if let Some(key) = &acceptance.idempotency {
        conn.prepare_cached(
            "INSERT OR REPLACE INTO idempotency_keys (scope, key, execution_id, created_at) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![key.scope, key.key, execution.id, execution.started_at.0])?;
    }
    Ok(Accepted::New)
}

fn sync_triggers(conn: &Connection, workflow_id: &str, triggers: &[TriggerRecord]) -> Result<(), ApplyError> {
    conn.prepare_cached("DELETE FROM triggers WHERE workflow_id = ?1")?.execute([workflow_id])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO triggers (id, workflow_id, trigger_type, config, is_enabled) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for trigger in triggers {
        insert.execute(params![
            trigger.id,
            workflow_id,
            trigger.trigger_type,
            trigger.config.to_string(),
            trigger.is_enabled
        ])?;
    }
    Ok(())
}

pub(crate) fn instances(conn: &Connection) -> rusqlite::Result<Vec<InstanceRecord>> {
    let mut statement =
        conn.prepare_cached("SELECT id, kind, pid, host, started_at, lease_expires_at FROM instances ORDER BY id")?;
    let rows = statement.query_map([], |row| {
        Ok(InstanceRecord {
            id: row.get(0)?,
            kind: row.get(1)?,
            pid: row.get(2)?,
            host: row.get(3)?,
            started_at: Timestamp(row.get(4)?),
            lease_expires_at: Timestamp(row.get(5)?),
        })
    })?;
    rows.collect()
}

/// Trigger rows before their config is parsed.
pub(crate) fn triggers(conn: &Connection) -> rusqlite::Result<Vec<(TriggerRecord, Option<String>)>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, workflow_id, trigger_type, config, COALESCE(is_enabled, 1) FROM triggers ORDER BY workflow_id, id",
    )?;
    let rows = statement.query_map([], |row| {
        let record = TriggerRecord {
            id: row.get(0)?,
            workflow_id: row.get(1)?,
            trigger_type: row.get(2)?,
            config: serde_json::Value::Null,
            is_enabled: row.get(4)?,
        };
        Ok((record, row.get(3)?))
    })?;
    rows.collect()
}

pub(crate) fn last_slot(conn: &Connection, trigger_id: &str) -> rusqlite::Result<Option<Timestamp>> {
    conn.prepare_cached("SELECT MAX(slot) FROM executions WHERE trigger_id = ?1")?
        .query_row([trigger_id], |row| row.get::<_, Option<i64>>(0))
        .map(|slot| slot.map(Timestamp))
}
