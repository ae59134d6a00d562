//! Moving a store: the rows of an SQLite store copied into a PostgreSQL store (`pilot store migrate`).
//!
//! Each store owns its schema: the SQLite store exports its rows as stored ([`SqliteStore::export`], one read
//! transaction, so one consistent snapshot) and the PostgreSQL store imports them
//! ([`PostgresStore::begin_import`], one transaction, all or nothing). The rows between them are the plain
//! records below: text kept as text, JSON kept as its text (byte for byte), timestamps as microseconds. What is
//! copied: workflows and every version of them, triggers, executions, their steps and logs, credentials (still
//! encrypted: the master key is not in the store), connectors' rows and webhook idempotency keys. Not copied: the
//! daemon instances and their leases, which belong to the processes running on the old store.
//!
//! [`copy_to_postgres`] reads the executions in batches on a thread of its own while the previous batch is
//! written, counts every table on both sides before committing, and commits only if the counts agree.

use super::{CredentialRecord, StoreError, WorkflowRecord};

/// Rows per table: what was read from the source, or what the target holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableCounts {
    pub workflows: u64,
    pub workflow_versions: u64,
    pub triggers: u64,
    pub executions: u64,
    pub execution_steps: u64,
    /// Log lines (SQLite keeps them in `logs/<id>.log`, PostgreSQL one row per line in `execution_logs`).
    pub execution_logs: u64,
    pub credentials: u64,
    pub connectors: u64,
    pub idempotency_keys: u64,
}

impl TableCounts {
    /// Every table with its count, in the order they are copied.
    pub fn tables(&self) -> [(&'static str, u64); 9] {
        [
            ("workflows", self.workflows),
            ("workflow_versions", self.workflow_versions),
            ("triggers", self.triggers),
            ("credentials", self.credentials),
            ("connectors", self.connectors),
            ("executions", self.executions),
            ("execution_steps", self.execution_steps),
            ("execution_logs", self.execution_logs),
            ("idempotency_keys", self.idempotency_keys),
        ]
    }

    pub fn is_empty(&self) -> bool {
        self.tables().iter().all(|(_, count)| *count == 0)
    }
}

impl std::fmt::Display for TableCounts {
    /// The tables that have rows: `workflows 3, executions 1000, ...`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .tables()
            .iter()
            .filter(|(_, count)| *count > 0)
            .map(|(table, count)| format!("{table} {count}"))
            .collect();
        if parts.is_empty() { f.write_str("no rows") } else { f.write_str(&parts.join(", ")) }
    }
}

/// One row of `workflow_versions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowVersionRow {
    pub workflow_id: String,
    pub version: i64,
    pub definition: String,
    pub created_at: i64,
}

/// One row of `triggers` (`config` is JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRow {
    pub id: String,
    pub workflow_id: String,
    pub trigger_type: String,
    pub config: Option<String>,
    pub is_enabled: bool,
}

/// One row of `connectors` (`manifest` is JSON text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectorRow {
    pub id: String,
    pub name: String,
    pub version: String,
    pub manifest: String,
    pub is_enabled: bool,
    pub installed_at: i64,
}

/// One row of `idempotency_keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRow {
    pub scope: String,
    pub key: String,
    pub execution_id: String,
    pub created_at: i64,
}

/// One row of `executions`, as stored (`status` as its text, JSON columns as their text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRow {
    pub id: String,
    pub workflow_id: String,
    pub trigger_id: Option<String>,
    pub status: String,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub error: Option<String>,
    pub context: Option<String>,
    pub workflow_name: String,
    pub workflow_version: i64,
    pub input: Option<String>,
    pub trigger_info: Option<String>,
    pub resume_attempts: i32,
    pub owner: Option<String>,
    pub slot: Option<i64>,
    pub retry_of: Option<String>,
    pub retry_from: Option<String>,
}

/// One row of `execution_steps` (`id` is `<execution-id>/<step-id>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRow {
    pub id: String,
    pub execution_id: String,
    pub step_id: String,
    pub status: String,
    pub attempts: i32,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
}

/// An execution's whole log text (rendered lines, each ending in `\n` except perhaps a cut-short last one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionLog {
    pub execution_id: String,
    pub text: String,
}

impl ExecutionLog {
    /// The log's lines, line ends kept (concatenated they are the text again).
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.text.split_inclusive('\n')
    }
}

/// Everything but the executions: small tables, copied first (executions refer to workflows).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub workflows: Vec<WorkflowRecord>,
    pub workflow_versions: Vec<WorkflowVersionRow>,
    pub triggers: Vec<TriggerRow>,
    pub credentials: Vec<CredentialRecord>,
    pub connectors: Vec<ConnectorRow>,
    pub idempotency_keys: Vec<IdempotencyRow>,
}

/// Some executions with their steps (in the order they were first recorded) and logs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExecutionBatch {
    pub executions: Vec<ExecutionRow>,
    pub steps: Vec<StepRow>,
    pub logs: Vec<ExecutionLog>,
}

impl ExecutionBatch {
    pub fn log_lines(&self) -> u64 {
        self.logs.iter().map(|log| log.lines().count() as u64).sum()
    }
}

/// Why a copy stopped. Nothing is committed to the target in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("the target store {location} is not empty ({found}); nothing was copied")]
    NotEmpty { location: String, found: TableCounts },

    #[error(
        "the target store {location} is in use by {} (pilot serve with a live lease); stop {} first; nothing \
         was copied",
        nodes.join(", "),
        if nodes.len() == 1 { "it" } else { "them" }
    )]
    InUse { location: String, nodes: Vec<String> },

    #[error(
        "table {table}: {source_rows} rows read from the source but {target_rows} in the target; nothing was \
         committed"
    )]
    CountMismatch { table: &'static str, source_rows: u64, target_rows: u64 },
}

/// How [`copy_to_postgres`] behaves.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// Replace what the target holds (otherwise a non-empty target is refused).
    pub replace: bool,
    /// Executions per batch (read, and written with one statement per table).
    pub batch: usize,
    /// Now: leases that expire after it are live nodes.
    pub now: expr_grammar::Timestamp,
}

#[cfg(feature = "postgres")]
pub use copy::copy_to_postgres;

#[cfg(feature = "postgres")]
mod copy {
    use super::*;
    use crate::store::SqliteStore;
    use crate::store::postgres::PostgresStore;

    /// Copies every row of `source` into `target` in one transaction of the target, and commits once the
    /// target's count of every table equals the source's. Resolves to the counts copied.
    pub async fn copy_to_postgres(
        source: &SqliteStore,
        target: &PostgresStore,
        options: &CopyOptions,
    ) -> Result<TableCounts, CopyError> {
        let mut export = source.export()?;
        let import = target.begin_import(options.replace, options.now).await?;
        let catalog = export.catalog()?;
        import.write_catalog(&catalog).await?;
        let mut expected = export.counts()?;
        // The executions are read on a thread of their own, the next batch while this one is written.
        let (sender, mut batches) = tokio::sync::mpsc::channel::<Result<ExecutionBatch, StoreError>>(2);
        let batch_size = options.batch.max(1);
        let reader = std::thread::spawn(move || {
            loop {
                let next = export.next_executions(batch_size);
                let last = !matches!(&next, Ok(Some(_)));
                let sent = match next {
                    Ok(Some(batch)) => sender.blocking_send(Ok(batch)),
                    Ok(None) => return,
                    Err(err) => sender.blocking_send(Err(err)),
                };
                if last || sent.is_err() {
                    return;
                }
            }
        });
        let mut log_lines = 0;
        let mut written = Ok(());
        while let Some(batch) = batches.recv().await {
            let batch = match batch {
                Ok(batch) => batch,
                Err(err) => {
                    written = Err(err);
                    break;
                }
            };
            log_lines += batch.log_lines();
            if let Err(err) = import.write_executions(&batch).await {
                written = Err(err);
                break;
            }
        }
        drop(batches);
        let _ = reader.join();
        written?;
        expected.execution_logs = log_lines;
        let found = import.counts().await?;
        for ((table, source_rows), (_, target_rows)) in expected.tables().into_iter().zip(found.tables()) {
            if source_rows != target_rows {
                return Err(CopyError::CountMismatch { table, source_rows, target_rows });
            }
        }
        import.commit().await?;
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_the_tables_that_have_rows() {
        let counts = TableCounts { workflows: 2, executions: 1000, execution_logs: 7, ..TableCounts::default() };
        assert_eq!(counts.to_string(), "workflows 2, executions 1000, execution_logs 7");
        assert!(!counts.is_empty());
        assert_eq!(TableCounts::default().to_string(), "no rows");
    }

    #[test]
    fn a_log_splits_into_lines_that_keep_their_ends() {
        let log = ExecutionLog { execution_id: "a".to_owned(), text: "one\ntwo\ncut".to_owned() };
        assert_eq!(log.lines().collect::<Vec<_>>(), ["one\n", "two\n", "cut"]);
        assert_eq!(log.lines().collect::<String>(), log.text);
    }
}
