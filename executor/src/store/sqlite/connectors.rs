//! The SQL of the installed-connector writes and reads (the spec's `connectors` table).

use super::apply::ApplyError;
use crate::store::StoreError;
use crate::store::connectors::{ConnectorRecord, ConnectorWrite};
use rusqlite::{Connection, params};

pub(crate) fn apply(conn: &Connection, write: &ConnectorWrite) -> Result<(), ApplyError> {
    match write {
        ConnectorWrite::Record(record) => record_one(conn, record),
        ConnectorWrite::Remove(id) => remove(conn, id),
    }
}

/// Runs in the write's savepoint: the old rows of the id go only if the new one goes in.
fn record_one(conn: &Connection, record: &ConnectorRecord) -> Result<(), ApplyError> {
    conn.prepare_cached("DELETE FROM connectors WHERE id = ?1")?.execute([&record.id])?;
    conn.prepare_cached(
        "INSERT INTO connectors (id, name, version, manifest, is_enabled, installed_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        record.id,
        record.name,
        record.version,
        record.manifest.to_string(),
        record.is_enabled,
        record.installed_at.0
    ])?;
    Ok(())
}

fn remove(conn: &Connection, id: &str) -> Result<(), ApplyError> {
    let removed = conn.prepare_cached("DELETE FROM connectors WHERE id = ?1")?.execute([id])?;
    if removed == 0 { Err(StoreError::UnknownConnector { id: id.to_owned() }.into()) } else { Ok(()) }
}

/// A row before its manifest is parsed (the reader turns bad JSON into an error naming the connector).
pub(crate) struct ConnectorRow {
    pub(crate) record: ConnectorRecord,
    pub(crate) manifest: String,
}

pub(crate) fn all(conn: &Connection) -> rusqlite::Result<Vec<ConnectorRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, name, version, manifest, COALESCE(is_enabled, 1), COALESCE(installed_at, 0)
         FROM connectors ORDER BY id, installed_at",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(ConnectorRow {
            record: ConnectorRecord {
                id: row.get(0)?,
                name: row.get(1)?,
                version: row.get(2)?,
                manifest: serde_json::Value::Null,
                is_enabled: row.get(4)?,
                installed_at: expr_grammar::Timestamp(row.get(5)?),
            },
            manifest: row.get(3)?,
        })
    })?;
    rows.collect()
}
