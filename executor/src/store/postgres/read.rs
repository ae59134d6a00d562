//! The read side: queries on pooled connections (deadpool-postgres), each statement prepared once per connection.

use super::apply::workflow_from_row;
use crate::store::{
    ConnectorRecord, CredentialRecord, ExecutionFilter, ExecutionRecord, ExecutionSummary, InstanceRecord, RetryOf,
    Status, StepRecord, StoreError, TriggerRecord, WorkflowRecord,
};
use deadpool_postgres::{Object, Pool};
use expr_grammar::Timestamp;
use std::path::{Path, PathBuf};
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// A pool and what its errors name.
#[derive(Clone)]
pub(crate) struct Reader {
    pub(crate) pool: Pool,
    pub(crate) location: PathBuf,
}

const SUMMARY_COLUMNS: &str =
    "id, workflow_id, workflow_name, status, started_at, completed_at, error, resume_attempts, owner, trigger_type";

const WORKFLOW_COLUMNS: &str = "id, name, description, definition, version, is_enabled, created_at, updated_at";

fn summary_from_row(row: &Row) -> ExecutionSummary {
    ExecutionSummary {
        id: row.get(0),
        workflow_id: row.get(1),
        workflow_name: row.get(2),
        status: Status::parse_stored(row.get(3)),
        started_at: row.get::<_, Option<i64>>(4).map(Timestamp),
        completed_at: row.get::<_, Option<i64>>(5).map(Timestamp),
        error: row.get(6),
        resume_attempts: u32::try_from(row.get::<_, i32>(7)).unwrap_or(0),
        owner: row.get(8),
        trigger_type: row.get(9),
    }
}

fn json(
    location: &Path,
    text: Option<String>,
    what: impl FnOnce() -> String,
) -> Result<Option<serde_json::Value>, StoreError> {
    let Some(text) = text else { return Ok(None) };
    serde_json::from_str(&text).map(Some).map_err(|err| StoreError::BadJson {
        path: location.to_owned(),
        what: what(),
        reason: err.to_string(),
    })
}

impl Reader {
    fn fail(&self, doing: &str) -> impl Fn(tokio_postgres::Error) -> StoreError + '_ {
        let doing = doing.to_owned();
        move |err| super::database_error(&self.location, &doing, &err)
    }

    async fn client(&self, doing: &str) -> Result<Object, StoreError> {
        self.pool.get().await.map_err(|err| StoreError::Database {
            path: self.location.clone(),
            doing: doing.to_owned(),
            reason: super::pool_error(&err),
        })
    }

    async fn query(&self, doing: &str, sql: &str, params: Params<'_>) -> Result<Vec<Row>, StoreError> {
        let client = self.client(doing).await?;
        let statement = client.prepare_cached(sql).await.map_err(self.fail(doing))?;
        client.query(&statement, params).await.map_err(self.fail(doing))
    }

    async fn query_opt(&self, doing: &str, sql: &str, params: Params<'_>) -> Result<Option<Row>, StoreError> {
        Ok(self.query(doing, sql, params).await?.into_iter().next())
    }

    pub(crate) async fn workflows(&self) -> Result<Vec<WorkflowRecord>, StoreError> {
        let sql = format!("SELECT {WORKFLOW_COLUMNS} FROM workflows ORDER BY name, id");
        Ok(self.query("listing workflows", &sql, &[]).await?.iter().map(workflow_from_row).collect())
    }

    pub(crate) async fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let sql = format!("SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE id = $1");
        let doing = format!("reading workflow {id}");
        Ok(self.query_opt(&doing, &sql, &[&id]).await?.as_ref().map(workflow_from_row))
    }

    pub(crate) async fn workflow_by_name(&self, name: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let sql = format!(
            "SELECT {WORKFLOW_COLUMNS} FROM workflows WHERE name = $1 ORDER BY updated_at DESC, id DESC LIMIT 1"
        );
        let doing = format!("reading workflow named {name}");
        Ok(self.query_opt(&doing, &sql, &[&name]).await?.as_ref().map(workflow_from_row))
    }

    pub(crate) async fn workflow_definition(&self, id: &str, version: i64) -> Result<Option<String>, StoreError> {
        let sql = "SELECT definition FROM workflow_versions WHERE workflow_id = $1 AND version = $2";
        let doing = format!("reading version {version} of workflow {id}");
        Ok(self.query_opt(&doing, sql, &[&id, &version]).await?.map(|row| row.get(0)))
    }

    /// The execution and its steps in one repeatable-read transaction: both from the same commit.
    pub(crate) async fn load_execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        let doing = format!("reading execution {id}");
        let fail = self.fail(&doing);
        let mut client = self.client(&doing).await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(&fail)?;
        let execution_sql = format!(
            "SELECT {SUMMARY_COLUMNS}, workflow_version, trigger_id, trigger_info, input, context, slot, retry_of,
                    retry_from
             FROM executions WHERE id = $1"
        );
        let statement = tx.prepare_cached(&execution_sql).await.map_err(&fail)?;
        let Some(row) = tx.query_opt(&statement, &[&id]).await.map_err(&fail)? else { return Ok(None) };
        let steps_sql = "SELECT step_id, status, attempts, started_at, completed_at, input, output, error
                         FROM execution_steps WHERE execution_id = $1 ORDER BY seq";
        let statement = tx.prepare_cached(steps_sql).await.map_err(&fail)?;
        let step_rows = tx.query(&statement, &[&id]).await.map_err(&fail)?;
        tx.commit().await.map_err(&fail)?;
        let location = &self.location;
        let summary = summary_from_row(&row);
        let mut steps = Vec::with_capacity(step_rows.len());
        for step in &step_rows {
            let step_id: String = step.get(0);
            let what = |part: &str| format!("{part} of step {step_id} of execution {id}");
            steps.push(StepRecord {
                status: Status::parse_stored(step.get(1)),
                attempts: u32::try_from(step.get::<_, i32>(2)).unwrap_or(0),
                started_at: step.get::<_, Option<i64>>(3).map(Timestamp),
                completed_at: step.get::<_, Option<i64>>(4).map(Timestamp),
                input: json(location, step.get(5), || what("input"))?,
                output: json(location, step.get(6), || what("output"))?,
                error: step.get(7),
                step_id,
            });
        }
        let retry_of: Option<String> = row.get(16);
        Ok(Some(ExecutionRecord {
            trigger: json(location, row.get(12), || format!("trigger of execution {id}"))?.unwrap_or_default(),
            input: json(location, row.get(13), || format!("input of execution {id}"))?.unwrap_or_default(),
            context: json(location, row.get(14), || format!("context of execution {id}"))?,
            workflow_version: row.get(10),
            trigger_id: row.get(11),
            slot: row.get::<_, Option<i64>>(15).map(Timestamp),
            retry_of: retry_of.map(|execution_id| RetryOf { execution_id, from_step: row.get(17) }),
            id: summary.id,
            workflow_id: summary.workflow_id,
            workflow_name: summary.workflow_name,
            status: summary.status,
            started_at: summary.started_at,
            completed_at: summary.completed_at,
            error: summary.error,
            owner: summary.owner,
            resume_attempts: summary.resume_attempts,
            steps,
        }))
    }

    pub(crate) async fn list_executions(&self, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>, StoreError> {
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        let status = filter.status.map(Status::as_str);
        let mut clauses: Vec<String> = Vec::new();
        let mut values: Vec<&(dyn ToSql + Sync)> = Vec::new();
        if let Some(name) = &filter.workflow_name {
            values.push(name);
            clauses.push(format!("workflow_name = ${}", values.len()));
        }
        if let Some(status) = &status {
            values.push(status);
            clauses.push(format!("status = ${}", values.len()));
        }
        if let Some(kind) = &filter.trigger_type {
            values.push(kind);
            clauses.push(format!("trigger_type = ${}", values.len()));
        }
        if let Some(after) = &filter.after {
            values.push(after);
            let n = values.len();
            clauses.push(format!("(started_at, id) < (SELECT started_at, id FROM executions WHERE id = ${n})"));
        }
        values.push(&limit);
        let filters = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM executions {filters} ORDER BY started_at DESC NULLS LAST, id DESC LIMIT ${}",
            values.len()
        );
        Ok(self.query("listing executions", &sql, &values).await?.iter().map(summary_from_row).collect())
    }

    pub(crate) async fn interrupted_executions(&self) -> Result<Vec<ExecutionSummary>, StoreError> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM executions WHERE status IN ('pending', 'running')
             ORDER BY started_at NULLS FIRST, id"
        );
        let rows = self.query("listing interrupted executions", &sql, &[]).await?;
        Ok(rows.iter().map(summary_from_row).collect())
    }

    /// `part` is a valid id fragment (checked by the caller); `starts_with` and `right` need no escaping.
    pub(crate) async fn ids_matching(&self, part: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        let doing = format!("looking up executions whose id starts or ends with {part}");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        if limit > 0 && self.query_opt(&doing, "SELECT id FROM executions WHERE id = $1", &[&part]).await?.is_some() {
            return Ok(vec![part.to_owned()]);
        }
        let sql = "SELECT id FROM executions WHERE starts_with(id, $1) OR right(id, length($1)) = $1
                   ORDER BY id LIMIT $2";
        Ok(self.query(&doing, sql, &[&part, &limit]).await?.into_iter().map(|row| row.get(0)).collect())
    }

    pub(crate) async fn read_log(&self, execution_id: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT string_agg(line, '' ORDER BY seq) FROM execution_logs WHERE execution_id = $1";
        let doing = format!("reading the log of execution {execution_id}");
        Ok(self.query_opt(&doing, sql, &[&execution_id]).await?.and_then(|row| row.get(0)))
    }

    pub(crate) async fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        let sql = "SELECT id, name, provider, data, created_at, updated_at FROM credentials ORDER BY name";
        Ok(self.query("reading the credentials", sql, &[]).await?.iter().map(credential_from_row).collect())
    }

    pub(crate) async fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError> {
        let sql = "SELECT id, name, provider, data, created_at, updated_at FROM credentials WHERE name = $1";
        let doing = format!("reading credential `{name}`");
        Ok(self.query_opt(&doing, sql, &[&name]).await?.as_ref().map(credential_from_row))
    }

    pub(crate) async fn connectors(&self) -> Result<Vec<ConnectorRecord>, StoreError> {
        let sql = "SELECT id, name, version, manifest, is_enabled, installed_at FROM connectors
                   ORDER BY id, installed_at";
        let rows = self.query("reading the installed connectors", sql, &[]).await?;
        rows.iter()
            .map(|row| {
                let id: String = row.get(0);
                let manifest = json(&self.location, row.get(3), || format!("manifest of connector `{id}`"))?;
                Ok(ConnectorRecord {
                    name: row.get(1),
                    version: row.get(2),
                    manifest: manifest.unwrap_or_default(),
                    is_enabled: row.get(4),
                    installed_at: Timestamp(row.get(5)),
                    id,
                })
            })
            .collect()
    }

    pub(crate) async fn instances(&self) -> Result<Vec<InstanceRecord>, StoreError> {
        let sql = "SELECT id, kind, pid, host, started_at, lease_expires_at FROM instances ORDER BY id";
        let rows = self.query("reading the instances", sql, &[]).await?;
        Ok(rows
            .iter()
            .map(|row| InstanceRecord {
                id: row.get(0),
                kind: row.get(1),
                pid: u32::try_from(row.get::<_, i64>(2)).unwrap_or(0),
                host: row.get(3),
                started_at: Timestamp(row.get(4)),
                lease_expires_at: Timestamp(row.get(5)),
            })
            .collect())
    }

    /// The instances whose lease has not run out on the database's clock.
    pub(crate) async fn live_instances(&self) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT id FROM instances
                   WHERE lease_expires_at > (extract(epoch FROM clock_timestamp()) * 1000000)::bigint ORDER BY id";
        let rows = self.query("reading the live instances", sql, &[]).await?;
        Ok(rows.iter().map(|row| row.get(0)).collect())
    }

    pub(crate) async fn triggers(&self) -> Result<Vec<TriggerRecord>, StoreError> {
        let sql = "SELECT id, workflow_id, trigger_type, config, is_enabled FROM triggers ORDER BY workflow_id, id";
        let rows = self.query("reading the triggers", sql, &[]).await?;
        rows.iter()
            .map(|row| {
                let id: String = row.get(0);
                let config = json(&self.location, row.get(3), || format!("config of trigger `{id}`"))?;
                Ok(TriggerRecord {
                    workflow_id: row.get(1),
                    trigger_type: row.get(2),
                    config: config.unwrap_or_default(),
                    is_enabled: row.get(4),
                    id,
                })
            })
            .collect()
    }

    pub(crate) async fn last_slot(&self, trigger_id: &str) -> Result<Option<Timestamp>, StoreError> {
        let sql = "SELECT MAX(slot) FROM executions WHERE trigger_id = $1";
        let doing = format!("reading the slots of {trigger_id}");
        let row = self.query_opt(&doing, sql, &[&trigger_id]).await?;
        Ok(row.and_then(|row| row.get::<_, Option<i64>>(0)).map(Timestamp))
    }
}

fn credential_from_row(row: &Row) -> CredentialRecord {
    CredentialRecord {
        id: row.get(0),
        name: row.get(1),
        provider: row.get(2),
        data: row.get(3),
        created_at: Timestamp(row.get(4)),
        updated_at: Timestamp(row.get(5)),
    }
}
