//! The import side of moving a store (`store::transfer`): one transaction on a pooled connection, the copied
//! tables locked against other writers (readers go on), rows written with one `unnest` statement per table and
//! batch. Nothing is visible to other connections before [`PostgresImport::commit`]; dropped before it, the
//! connection is closed and the server rolls everything back.

use super::{PostgresStore, database_error, pool_error};
use crate::store::transfer::{Catalog, CopyError, ExecutionBatch, TableCounts};
use crate::store::{StoreError, Timestamp};
use std::path::PathBuf;
use tokio_postgres::types::ToSql;

/// The tables the copy writes, in an order where each one's references come before it.
const TABLES: &str = "workflows, workflow_versions, triggers, credentials, connectors, executions, execution_steps,
     execution_logs, idempotency_keys";

/// An import in progress. See the module docs.
pub struct PostgresImport {
    client: Option<deadpool_postgres::Object>,
    location: PathBuf,
}

impl std::fmt::Debug for PostgresImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresImport").field("url", &self.location).finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Starts importing into this store: refuses a store that live nodes use (a lease not expired at `now`),
    /// and one that holds any row of the copied tables unless `replace`, in which case they are emptied first
    /// (in the same transaction: if the import fails they keep their rows).
    pub async fn begin_import(&self, replace: bool, now: Timestamp) -> Result<PostgresImport, CopyError> {
        let doing = "starting the import";
        let client = self.reader.pool.get().await.map_err(|err| StoreError::Database {
            path: self.location.clone(),
            doing: doing.to_owned(),
            reason: pool_error(&err),
        })?;
        let import = PostgresImport { client: Some(client), location: self.location.clone() };
        import.execute(doing, "BEGIN", &[]).await?;
        import.execute("locking the tables", &format!("LOCK TABLE {TABLES} IN EXCLUSIVE MODE"), &[]).await?;
        let live = import
            .client()
            // Live by this machine's clock or the database's (which the nodes' leases are written on).
            .query(
                "SELECT id, host, pid FROM instances
                 WHERE lease_expires_at > LEAST($1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint)
                 ORDER BY id",
                &[&now.0],
            )
            .await
            .map_err(|err| database_error(&import.location, "reading the live nodes", &err))?;
        let location = self.location.display().to_string();
        if !live.is_empty() {
            let nodes = live
                .iter()
                .map(|row| {
                    format!(
                        "{} (host {}, pid {})",
                        row.get::<_, String>(0),
                        row.get::<_, String>(1),
                        row.get::<_, i64>(2)
                    )
                })
                .collect();
            import.rollback().await?;
            return Err(CopyError::InUse { location, nodes });
        }
        let found = import.counts().await?;
        if !found.is_empty() {
            if !replace {
                import.rollback().await?;
                return Err(CopyError::NotEmpty { location, found });
            }
            import.execute("emptying the target", &format!("TRUNCATE {TABLES} RESTART IDENTITY"), &[]).await?;
        }
        Ok(import)
    }
}

impl PostgresImport {
    fn client(&self) -> &deadpool_postgres::Object {
        self.client.as_ref().expect("an import's connection is there until it ends")
    }

    async fn execute(&self, doing: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let client = self.client();
        let result = if params.is_empty() {
            client.batch_execute(sql).await.map(|()| 0)
        } else {
            client.execute(sql, params).await
        };
        result.map_err(|err| database_error(&self.location, doing, &err))
    }

    /// Rows per copied table (log lines for `execution_logs`), as this transaction sees them.
    pub async fn counts(&self) -> Result<TableCounts, StoreError> {
        let sql = "SELECT (SELECT COUNT(*) FROM workflows), (SELECT COUNT(*) FROM workflow_versions),
                          (SELECT COUNT(*) FROM triggers), (SELECT COUNT(*) FROM executions),
                          (SELECT COUNT(*) FROM execution_steps), (SELECT COUNT(*) FROM execution_logs),
                          (SELECT COUNT(*) FROM credentials), (SELECT COUNT(*) FROM connectors),
                          (SELECT COUNT(*) FROM idempotency_keys)";
        let row = self
            .client()
            .query_one(sql, &[])
            .await
            .map_err(|err| database_error(&self.location, "counting the rows", &err))?;
        let count = |index: usize| u64::try_from(row.get::<_, i64>(index)).unwrap_or(0);
        Ok(TableCounts {
            workflows: count(0),
            workflow_versions: count(1),
            triggers: count(2),
            executions: count(3),
            execution_steps: count(4),
            execution_logs: count(5),
            credentials: count(6),
            connectors: count(7),
            idempotency_keys: count(8),
        })
    }

    /// Writes the workflows, their versions, triggers, credentials, connectors and idempotency keys.
    pub async fn write_catalog(&self, catalog: &Catalog) -> Result<(), StoreError> {
        let workflows = &catalog.workflows;
        let ids: Vec<&str> = workflows.iter().map(|w| w.id.as_str()).collect();
        let names: Vec<&str> = workflows.iter().map(|w| w.name.as_str()).collect();
        let descriptions: Vec<Option<&str>> = workflows.iter().map(|w| w.description.as_deref()).collect();
        let definitions: Vec<&str> = workflows.iter().map(|w| w.definition.as_str()).collect();
        let versions: Vec<i64> = workflows.iter().map(|w| w.version).collect();
        let enabled: Vec<bool> = workflows.iter().map(|w| w.is_enabled).collect();
        let created: Vec<i64> = workflows.iter().map(|w| w.created_at.0).collect();
        let updated: Vec<i64> = workflows.iter().map(|w| w.updated_at.0).collect();
        self.execute(
            "copying workflows",
            "INSERT INTO workflows (id, name, description, definition, version, is_enabled, created_at, updated_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::bool[],
                                  $7::int8[], $8::int8[])",
            &[&ids, &names, &descriptions, &definitions, &versions, &enabled, &created, &updated],
        )
        .await?;

        let rows = &catalog.workflow_versions;
        let ids: Vec<&str> = rows.iter().map(|v| v.workflow_id.as_str()).collect();
        let versions: Vec<i64> = rows.iter().map(|v| v.version).collect();
        let definitions: Vec<&str> = rows.iter().map(|v| v.definition.as_str()).collect();
        let created: Vec<i64> = rows.iter().map(|v| v.created_at).collect();
        self.execute(
            "copying workflow versions",
            "INSERT INTO workflow_versions (workflow_id, version, definition, created_at)
             SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::int8[])",
            &[&ids, &versions, &definitions, &created],
        )
        .await?;

        let rows = &catalog.triggers;
        let ids: Vec<&str> = rows.iter().map(|t| t.id.as_str()).collect();
        let workflow_ids: Vec<&str> = rows.iter().map(|t| t.workflow_id.as_str()).collect();
        let types: Vec<&str> = rows.iter().map(|t| t.trigger_type.as_str()).collect();
        let configs: Vec<Option<&str>> = rows.iter().map(|t| t.config.as_deref()).collect();
        let enabled: Vec<bool> = rows.iter().map(|t| t.is_enabled).collect();
        self.execute(
            "copying triggers",
            "INSERT INTO triggers (id, workflow_id, trigger_type, config, is_enabled)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[])",
            &[&ids, &workflow_ids, &types, &configs, &enabled],
        )
        .await?;

        let rows = &catalog.credentials;
        let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
        let names: Vec<&str> = rows.iter().map(|c| c.name.as_str()).collect();
        let providers: Vec<&str> = rows.iter().map(|c| c.provider.as_str()).collect();
        let data: Vec<&str> = rows.iter().map(|c| c.data.as_str()).collect();
        let created: Vec<i64> = rows.iter().map(|c| c.created_at.0).collect();
        let updated: Vec<i64> = rows.iter().map(|c| c.updated_at.0).collect();
        self.execute(
            "copying credentials",
            "INSERT INTO credentials (id, name, provider, data, created_at, updated_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[])",
            &[&ids, &names, &providers, &data, &created, &updated],
        )
        .await?;

        let rows = &catalog.connectors;
        let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
        let names: Vec<&str> = rows.iter().map(|c| c.name.as_str()).collect();
        let versions: Vec<&str> = rows.iter().map(|c| c.version.as_str()).collect();
        let manifests: Vec<&str> = rows.iter().map(|c| c.manifest.as_str()).collect();
        let enabled: Vec<bool> = rows.iter().map(|c| c.is_enabled).collect();
        let installed: Vec<i64> = rows.iter().map(|c| c.installed_at).collect();
        self.execute(
            "copying connectors",
            "INSERT INTO connectors (id, name, version, manifest, is_enabled, installed_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::int8[])",
            &[&ids, &names, &versions, &manifests, &enabled, &installed],
        )
        .await?;

        let rows = &catalog.idempotency_keys;
        let scopes: Vec<&str> = rows.iter().map(|k| k.scope.as_str()).collect();
        let keys: Vec<&str> = rows.iter().map(|k| k.key.as_str()).collect();
        let executions: Vec<&str> = rows.iter().map(|k| k.execution_id.as_str()).collect();
        let created: Vec<i64> = rows.iter().map(|k| k.created_at).collect();
        self.execute(
            "copying idempotency keys",
            "INSERT INTO idempotency_keys (scope, key, execution_id, created_at)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[])",
            &[&scopes, &keys, &executions, &created],
        )
        .await?;
        Ok(())
    }

    /// Writes a batch of executions, then their steps (in the batch's order) and log lines.
    pub async fn write_executions(&self, batch: &ExecutionBatch) -> Result<(), StoreError> {
        let rows = &batch.executions;
        let text = |get: fn(&crate::store::transfer::ExecutionRow) -> Option<&String>| -> Vec<Option<&str>> {
            rows.iter().map(|row| get(row).map(String::as_str)).collect()
        };
        let ids: Vec<&str> = rows.iter().map(|e| e.id.as_str()).collect();
        let workflow_ids: Vec<&str> = rows.iter().map(|e| e.workflow_id.as_str()).collect();
        let trigger_ids = text(|e| e.trigger_id.as_ref());
        let statuses: Vec<&str> = rows.iter().map(|e| e.status.as_str()).collect();
        let started: Vec<Option<i64>> = rows.iter().map(|e| e.started_at).collect();
        let completed: Vec<Option<i64>> = rows.iter().map(|e| e.completed_at).collect();
        let errors = text(|e| e.error.as_ref());
        let contexts = text(|e| e.context.as_ref());
        let workflow_names: Vec<&str> = rows.iter().map(|e| e.workflow_name.as_str()).collect();
        let workflow_versions: Vec<i64> = rows.iter().map(|e| e.workflow_version).collect();
        let inputs = text(|e| e.input.as_ref());
        let trigger_infos = text(|e| e.trigger_info.as_ref());
        // PostgreSQL keeps the trigger's type in a column of its own, for the listing filter.
        let trigger_types: Vec<Option<String>> =
            rows.iter().map(|e| e.trigger_info.as_deref().and_then(trigger_type)).collect();
        let resume_attempts: Vec<i32> = rows.iter().map(|e| e.resume_attempts).collect();
        let owners = text(|e| e.owner.as_ref());
        let slots: Vec<Option<i64>> = rows.iter().map(|e| e.slot).collect();
        let retry_ofs = text(|e| e.retry_of.as_ref());
        let retry_froms = text(|e| e.retry_from.as_ref());
        self.execute(
            "copying executions",
            "INSERT INTO executions (id, workflow_id, trigger_id, status, started_at, completed_at, error, context,
                 workflow_name, workflow_version, input, trigger_info, trigger_type, resume_attempts, owner, slot,
                 retry_of, retry_from)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::int8[],
                 $7::text[], $8::text[], $9::text[], $10::int8[], $11::text[], $12::text[], $13::text[],
                 $14::int4[], $15::text[], $16::int8[], $17::text[], $18::text[])",
            &[
                &ids,
                &workflow_ids,
                &trigger_ids,
                &statuses,
                &started,
                &completed,
                &errors,
                &contexts,
                &workflow_names,
                &workflow_versions,
                &inputs,
                &trigger_infos,
                &trigger_types,
                &resume_attempts,
                &owners,
                &slots,
                &retry_ofs,
                &retry_froms,
            ],
        )
        .await?;

        let steps = &batch.steps;
        let step_text = |get: fn(&crate::store::transfer::StepRow) -> Option<&String>| -> Vec<Option<&str>> {
            steps.iter().map(|row| get(row).map(String::as_str)).collect()
        };
        let ids: Vec<&str> = steps.iter().map(|s| s.id.as_str()).collect();
        let execution_ids: Vec<&str> = steps.iter().map(|s| s.execution_id.as_str()).collect();
        let step_ids: Vec<&str> = steps.iter().map(|s| s.step_id.as_str()).collect();
        let statuses: Vec<&str> = steps.iter().map(|s| s.status.as_str()).collect();
        let attempts: Vec<i32> = steps.iter().map(|s| s.attempts).collect();
        let started: Vec<Option<i64>> = steps.iter().map(|s| s.started_at).collect();
        let completed: Vec<Option<i64>> = steps.iter().map(|s| s.completed_at).collect();
        let inputs = step_text(|s| s.input.as_ref());
        let outputs = step_text(|s| s.output.as_ref());
        let errors = step_text(|s| s.error.as_ref());
        // `seq` (the order steps were first recorded) is given in the batch's order.
        self.execute(
            "copying execution steps",
            "INSERT INTO execution_steps (id, execution_id, step_id, status, attempts, started_at, completed_at,
                 input, output, error)
             SELECT id, execution_id, step_id, status, attempts, started_at, completed_at, input, output, error
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::int8[], $7::int8[],
                 $8::text[], $9::text[], $10::text[])
                 WITH ORDINALITY AS steps (id, execution_id, step_id, status, attempts, started_at, completed_at,
                     input, output, error, n)
             ORDER BY n",
            &[&ids, &execution_ids, &step_ids, &statuses, &attempts, &started, &completed, &inputs, &outputs, &errors],
        )
        .await?;

        let mut log_ids = Vec::new();
        let mut log_lines = Vec::new();
        for log in &batch.logs {
            for line in log.lines() {
                log_ids.push(log.execution_id.as_str());
                log_lines.push(line);
            }
        }
        self.execute(
            "copying execution logs",
            "INSERT INTO execution_logs (execution_id, line)
             SELECT id, line FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS lines (id, line, n) ORDER BY n",
            &[&log_ids, &log_lines],
        )
        .await?;
        Ok(())
    }

    /// Commits the import.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        self.execute("committing the import", "COMMIT", &[]).await?;
        self.client.take();
        Ok(())
    }

    /// Undoes the import (and hands the connection back to the pool).
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        self.execute("rolling back the import", "ROLLBACK", &[]).await?;
        self.client.take();
        Ok(())
    }
}

impl Drop for PostgresImport {
    fn drop(&mut self) {
        // Neither committed nor rolled back: close the connection instead of pooling it mid-transaction; the
        // server then rolls the transaction back.
        if let Some(client) = self.client.take() {
            drop(deadpool_postgres::Object::take(client));
        }
    }
}

/// The `type` of a trigger's JSON data.
fn trigger_type(trigger_info: &str) -> Option<String> {
    let info: serde_json::Value = serde_json::from_str(trigger_info).ok()?;
    info.get("type")?.as_str().map(str::to_owned)
}
