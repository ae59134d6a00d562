//! Credential rows: the spec's `credentials` table. The store only keeps them; `data` arrives already encrypted
//! (see `crate::credentials`), so nothing here ever sees a secret in plain text.

use expr_grammar::Timestamp;

/// One stored credential. `data` is the vault's sealed text (version prefix, base64 of nonce and ciphertext).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialRecord {
    pub id: String,
    pub name: String,
    /// `api_key`, `basic` or `oauth2`.
    pub provider: String,
    pub data: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// One credential's re-encrypted data (`rotate-key`): applied only if the stored data is still `old_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialDataChange {
    pub name: String,
    pub old_data: String,
    pub new_data: String,
    pub updated_at: Timestamp,
}

/// A credential write, queued like any other write.
#[derive(Debug, Clone)]
pub(crate) enum CredentialWrite {
    /// Insert, or replace provider and data by name (keeping id and `created_at`).
    Put(CredentialRecord),
    Remove(String),
    /// All or nothing.
    ReplaceData(Vec<CredentialDataChange>),
}

impl CredentialWrite {
    pub(crate) fn describe(&self) -> String {
        match self {
            CredentialWrite::Put(record) => format!("storing credential `{}`", record.name),
            CredentialWrite::Remove(name) => format!("removing credential `{name}`"),
            CredentialWrite::ReplaceData(changes) => format!("re-encrypting {} credentials", changes.len()),
        }
    }

    pub(crate) fn at(&self) -> Option<Timestamp> {
        match self {
            CredentialWrite::Put(record) => Some(record.updated_at),
            CredentialWrite::Remove(_) => None,
            CredentialWrite::ReplaceData(changes) => changes.first().map(|change| change.updated_at),
        }
    }
}
