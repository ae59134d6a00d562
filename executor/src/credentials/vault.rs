//! [`Vault`]: credentials encrypted at rest in the store's `credentials` table.
//!
//! `data` is JSON sealed with [`super::cipher`]; its shape depends on the provider:
//! - `api_key`: `{"api_key": "<the secret>"}`
//! - `basic`: `{"username": "...", "password": "..."}`
//! - `oauth2`: `{"access_token": "...", "refresh_token": "...", ...}` (any further string fields are kept)
//!
//! Connectors read `api_key` (or `token`), `username`/`password` and `access_token` (see connectors' http/auth.rs
//! and ai/). `${secrets.NAME}` reads a credential's main secret: `api_key`, `password` or `access_token`.

use super::cipher::{self, OpenError};
use super::key::{KeyError, KeySource, LoadedKey, MasterKey};
use crate::store::{CredentialDataChange, CredentialRecord, Store, StoreError};
use connectors::Credential;
use expr_grammar::Timestamp;
use serde_json::{Map, Value as Json};
use std::sync::Arc;

/// The three providers of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    ApiKey,
    Basic,
    OAuth2,
    /// A bearer token (HTTP `Authorization: Bearer`, Slack's bot token).
    Bearer,
    /// A signing secret (`notify/webhook` signatures, webhook triggers).
    Hmac,
    /// An SMTP login (`notify/email`).
    Smtp,
}

impl Provider {
    pub const ALL: [Provider; 6] =
        [Provider::ApiKey, Provider::Basic, Provider::OAuth2, Provider::Bearer, Provider::Hmac, Provider::Smtp];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::ApiKey => "api_key",
            Provider::Basic => "basic",
            Provider::OAuth2 => "oauth2",
            Provider::Bearer => "bearer",
            Provider::Hmac => "hmac",
            Provider::Smtp => "smtp",
        }
    }

    pub fn parse(text: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|provider| provider.as_str() == text)
    }

    /// The field `${secrets.NAME}` reads.
    pub fn main_field(self) -> &'static str {
        match self {
            Provider::ApiKey => "api_key",
            Provider::Basic | Provider::Smtp => "password",
            Provider::OAuth2 => "access_token",
            Provider::Bearer => "token",
            Provider::Hmac => "secret",
        }
    }

    /// The fields its data must hold as non-empty strings.
    pub fn required_fields(self) -> &'static [&'static str] {
        match self {
            Provider::Basic | Provider::Smtp => &["username", "password"],
            Provider::ApiKey => &["api_key"],
            Provider::OAuth2 => &["access_token"],
            Provider::Bearer => &["token"],
            Provider::Hmac => &["secret"],
        }
    }

    /// Whether its data has a user name beside the secret.
    pub fn has_username(self) -> bool {
        matches!(self, Provider::Basic | Provider::Smtp)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "cannot decrypt credential `{name}`: the master key does not match the one it was stored with (from \
         {key_source}); if that key is the right one, the stored data was altered"
    )]
    WrongKey { name: String, key_source: KeySource },
    #[error("credential `{name}` is damaged: {reason}")]
    Damaged { name: String, reason: String },
    #[error("no credential named `{name}` is stored (see `pilot credentials list`)")]
    NotFound { name: String },
    #[error(
        "`{name}` is not a valid credential name: use letters, digits, `_` and `-`, starting with a letter \
         (it is read as `secrets.{name}`)"
    )]
    InvalidName { name: String },
    #[error("credential `{name}` ({provider}): {reason}")]
    InvalidData { name: String, provider: &'static str, reason: String },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("credential `{name}`: {reason}")]
    Seal { name: String, reason: String },
}

/// What `list` shows: never the data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialInfo {
    pub name: String,
    pub provider: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Credentials over a store, with the master key that seals them.
pub struct Vault {
    store: Arc<dyn Store>,
    key: LoadedKey,
}

pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 128
}

/// Checks `data` against the provider's shape (an object whose required fields are non-empty strings).
pub fn check_data(name: &str, provider: Provider, data: &Json) -> Result<(), VaultError> {
    let invalid =
        |reason: String| VaultError::InvalidData { name: name.to_owned(), provider: provider.as_str(), reason };
    let Json::Object(fields) = data else { return Err(invalid("the data must be a JSON object".into())) };
    for field in provider.required_fields() {
        match fields.get(*field) {
            Some(Json::String(text)) if !text.is_empty() => {}
            Some(_) => return Err(invalid(format!("`{field}` must be a non-empty string"))),
            None => return Err(invalid(format!("`{field}` is missing"))),
        }
    }
    Ok(())
}

impl Vault {
    pub fn new(store: Arc<dyn Store>, key: LoadedKey) -> Vault {
        Vault { store, key }
    }

    pub fn key_source(&self) -> &KeySource {
        &self.key.source
    }

    /// Encrypts and stores `data` under `name` (replacing any credential of that name).
    pub async fn set(&self, name: &str, provider: Provider, data: &Json, now: Timestamp) -> Result<(), VaultError> {
        if !is_valid_name(name) {
            return Err(VaultError::InvalidName { name: name.to_owned() });
        }
        check_data(name, provider, data)?;
        let data = self.seal(&self.key.key, name, data)?;
        let record = CredentialRecord {
            id: uuid::Uuid::now_v7().to_string(),
            name: name.to_owned(),
            provider: provider.as_str().to_owned(),
            data,
            created_at: now,
            updated_at: now,
        };
        Ok(self.store.put_credential(record).await?)
    }

    /// One decrypted credential.
    pub async fn get(&self, name: &str) -> Result<Credential, VaultError> {
        let record =
            self.store.credential(name).await?.ok_or_else(|| VaultError::NotFound { name: name.to_owned() })?;
        self.open_record(&self.key.key, &record)
    }

    pub async fn list(&self) -> Result<Vec<CredentialInfo>, VaultError> {
        let records = self.store.credentials().await?;
        Ok(records
            .into_iter()
            .map(|r| CredentialInfo {
                name: r.name,
                provider: r.provider,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect())
    }

    pub async fn names(&self) -> Result<Vec<String>, VaultError> {
        Ok(self.list().await?.into_iter().map(|info| info.name).collect())
    }

    pub async fn remove(&self, name: &str) -> Result<(), VaultError> {
        match self.store.remove_credential(name).await {
            Err(StoreError::UnknownCredential { name }) => Err(VaultError::NotFound { name }),
            other => Ok(other?),
        }
    }

    /// Every credential decrypted with the current key; the first that does not open fails the whole call.
    pub async fn decrypt_all(&self) -> Result<Vec<Credential>, VaultError> {
        self.decrypt_all_with(&self.key.key).await
    }

    async fn decrypt_all_with(&self, key: &MasterKey) -> Result<Vec<Credential>, VaultError> {
        let records = self.store.credentials().await?;
        records.iter().map(|record| self.open_record(key, record)).collect()
    }

    /// Re-encrypts every credential with `new_key` in one transaction. The caller persists `new_key` around it
    /// (see `rotate` in the parent module for the order). Returns how many were re-encrypted.
    pub(crate) async fn reencrypt(&self, new_key: &MasterKey, now: Timestamp) -> Result<usize, VaultError> {
        let records = self.store.credentials().await?;
        let mut changes = Vec::with_capacity(records.len());
        for record in &records {
            let credential = self.open_record(&self.key.key, record)?;
            let new_data = self.seal(new_key, &record.name, &credential.data)?;
            changes.push(CredentialDataChange {
                name: record.name.clone(),
                old_data: record.data.clone(),
                new_data,
                updated_at: now,
            });
        }
        let count = changes.len();
        if count > 0 {
            self.store.replace_credential_data(changes).await?;
        }
        Ok(count)
    }

    /// Whether the stored credentials open with `key` (`None` when there are none to try).
    pub(crate) async fn opens_with(&self, key: &MasterKey) -> Result<Option<bool>, VaultError> {
        let records = self.store.credentials().await?;
        Ok(records.first().map(|record| cipher::open(key, &record.name, &record.data).is_ok()))
    }

    pub(crate) fn replace_key(&mut self, key: LoadedKey) {
        self.key = key;
    }

    fn seal(&self, key: &MasterKey, name: &str, data: &Json) -> Result<String, VaultError> {
        cipher::seal(key, name, data.to_string().as_bytes())
            .map_err(|err| VaultError::Seal { name: name.to_owned(), reason: err.to_string() })
    }

    fn open_record(&self, key: &MasterKey, record: &CredentialRecord) -> Result<Credential, VaultError> {
        let name = record.name.clone();
        let plain = cipher::open(key, &record.name, &record.data).map_err(|err| match err {
            OpenError::Authentication => {
                VaultError::WrongKey { name: name.clone(), key_source: self.key.source.clone() }
            }
            OpenError::Format(reason) => VaultError::Damaged { name: name.clone(), reason: reason.to_owned() },
        })?;
        // The plain text is never quoted in the error: a JSON parse error could echo part of it.
        let data: Json = serde_json::from_slice(&plain)
            .map_err(|_| VaultError::Damaged { name: name.clone(), reason: "its data is not JSON".into() })?;
        Ok(Credential { name, provider: record.provider.clone(), data })
    }
}

/// The text `${secrets.NAME}` stands for: the provider's main field, else the only string in the data.
pub fn secret_text(credential: &Credential) -> Option<String> {
    let field = Provider::parse(&credential.provider).map_or("api_key", Provider::main_field);
    if let Some(text) = credential.data.get(field).and_then(Json::as_str) {
        return Some(text.to_owned());
    }
    let strings: Vec<&str> =
        credential.data.as_object().map(Map::values).into_iter().flatten().filter_map(Json::as_str).collect();
    if let [only] = strings.as_slice() { Some((*only).to_owned()) } else { None }
}
