//! The SQL of the credential writes and reads.

use super::apply::ApplyError;
use crate::store::StoreError;
use crate::store::credentials::{CredentialDataChange, CredentialRecord, CredentialWrite};
use expr_grammar::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

pub(crate) fn apply(conn: &Connection, write: &CredentialWrite) -> Result<(), ApplyError> {
    match write {
        CredentialWrite::Put(record) => put(conn, record),
        CredentialWrite::Remove(name) => remove(conn, name),
        CredentialWrite::ReplaceData(changes) => changes.iter().try_for_each(|change| replace_data(conn, change)),
    }
}

fn put(conn: &Connection, record: &CredentialRecord) -> Result<(), ApplyError> {
    conn.prepare_cached(
        "INSERT INTO credentials (id, name, provider, data, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (name) DO UPDATE SET provider = excluded.provider, data = excluded.data,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        record.id,
        record.name,
        record.provider,
        record.data,
        record.created_at.0,
        record.updated_at.0
    ])?;
    Ok(())
}

fn remove(conn: &Connection, name: &str) -> Result<(), ApplyError> {
    let removed = conn.prepare_cached("DELETE FROM credentials WHERE name = ?1")?.execute([name])?;
    if removed == 0 { Err(StoreError::UnknownCredential { name: name.to_owned() }.into()) } else { Ok(()) }
}

/// The whole write runs in one savepoint, so one refused change rolls back the changes before it too.
fn replace_data(conn: &Connection, change: &CredentialDataChange) -> Result<(), ApplyError> {
    let changed = conn
        .prepare_cached("UPDATE credentials SET data = ?3, updated_at = ?4 WHERE name = ?1 AND data = ?2")?
        .execute(params![change.name, change.old_data, change.new_data, change.updated_at.0])?;
    if changed == 0 { Err(StoreError::CredentialChanged { name: change.name.clone() }.into()) } else { Ok(()) }
}

const COLUMNS: &str = "id, name, provider, data, COALESCE(created_at, 0), COALESCE(updated_at, 0)";

fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<CredentialRecord> {
    Ok(CredentialRecord {
        id: row.get(0)?,
        name: row.get(1)?,
        provider: row.get(2)?,
        data: row.get(3)?,
        created_at: Timestamp(row.get(4)?),
        updated_at: Timestamp(row.get(5)?),
    })
}

pub(crate) fn all(conn: &Connection) -> rusqlite::Result<Vec<CredentialRecord>> {
    let mut statement = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM credentials ORDER BY name"))?;
    let rows = statement.query_map([], from_row)?;
    rows.collect()
}

pub(crate) fn by_name(conn: &Connection, name: &str) -> rusqlite::Result<Option<CredentialRecord>> {
    conn.prepare_cached(&format!("SELECT {COLUMNS} FROM credentials WHERE name = ?1"))?
        .query_row([name], from_row)
        .optional()
}
