//! Encrypted credentials: the master key ([`key`]), sealing one credential ([`cipher`]), and the [`Vault`] over
//! the store's `credentials` table ([`vault`]).
//!
//! # Rotating the key, and crashes
//! `rotate-key` must never leave the database sealed with a key that is not saved anywhere. Order:
//! 1. decrypt every credential with the current key (any failure: stop, nothing changed);
//! 2. write the new key to `credentials/master.key.new` (mode 0600, synced): the journal of the rotation;
//! 3. re-encrypt everything in one store transaction (all or nothing);
//! 4. move the new key into place (rename over `master.key`, or save it in the keyring), then drop the journal.
//!
//! A crash before 3 commits leaves the data under the old key, which is still in place; a crash after leaves the
//! new key in `master.key.new`. The next [`open_vault`] sees the journal and keeps whichever key opens the stored
//! data ([`recover_interrupted_rotation`]). With `PILOT_MASTER_KEY` there is nothing to persist: the caller gives
//! the new key (`PILOT_NEW_MASTER_KEY`) and must switch the variable after the rotation.

pub mod cipher;
pub mod key;
pub mod vault;

pub use key::{KeyError, KeySettings, KeySource, LoadedKey, MasterKey};
pub use vault::{CredentialInfo, Provider, Vault, VaultError, is_valid_name, secret_text};

use compiler::plan::{Plan, SlotKind};
use connectors::Credential;
use expr_grammar::Timestamp;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::store::Store;

/// Loads the master key (creating one on first use), finishes an interrupted rotation, and opens the vault.
pub async fn open_vault(store: Arc<dyn Store>, settings: &KeySettings) -> Result<Vault, VaultError> {
    let loaded = key::load_or_create(settings)?;
    let mut vault = Vault::new(store, loaded.clone());
    recover_interrupted_rotation(&mut vault, settings, loaded).await?;
    Ok(vault)
}

/// If a rotation's journal (`master.key.new`) is left, keeps the key that opens the stored data.
pub async fn recover_interrupted_rotation(
    vault: &mut Vault,
    settings: &KeySettings,
    current: LoadedKey,
) -> Result<(), VaultError> {
    let pending_path = settings.pending_key_file();
    let Some(pending) = key::read_key_file(&pending_path)? else { return Ok(()) };
    if current.source != KeySource::Environment
        && vault.opens_with(&current.key).await? == Some(false)
        && vault.opens_with(&pending).await? == Some(true)
    {
        let promoted = persist_new_key(settings, &current.source, &pending)?;
        vault.replace_key(LoadedKey { key: pending, source: promoted });
        return Ok(());
    }
    remove_file(&pending_path)
}

/// `rotate-key`: a new key, every credential re-encrypted in one transaction, then the key persisted (see the
/// module docs for the order). `new_env_key` is required when the key comes from `PILOT_MASTER_KEY`.
pub async fn rotate(
    vault: &mut Vault,
    settings: &KeySettings,
    new_env_key: Option<MasterKey>,
    now: Timestamp,
) -> Result<usize, VaultError> {
    vault.decrypt_all().await?;
    let source = vault.key_source().clone();
    let (new_key, journal) = match (&source, new_env_key) {
        (KeySource::Environment, Some(key)) => (key, false),
        (KeySource::Environment, None) => {
            return Err(KeyError::File {
                path: settings.key_file(),
                reason: "the key comes from PILOT_MASTER_KEY: give the new one in PILOT_NEW_MASTER_KEY".into(),
            }
            .into());
        }
        (_, _) => (MasterKey::generate()?, true),
    };
    if journal {
        key::write_key_file(&settings.pending_key_file(), &new_key, true)?;
    }
    let count = vault.reencrypt(&new_key, now).await?;
    let source = if journal { persist_new_key(settings, &source, &new_key)? } else { source };
    vault.replace_key(LoadedKey { key: new_key, source });
    Ok(count)
}

/// Puts a new key where the old one lived and removes the journal.
fn persist_new_key(settings: &KeySettings, source: &KeySource, new_key: &MasterKey) -> Result<KeySource, VaultError> {
    let pending = settings.pending_key_file();
    match source {
        KeySource::Keyring => {
            key::save_to_keyring(new_key)?;
            remove_file(&pending)?;
            Ok(KeySource::Keyring)
        }
        KeySource::File(path) => {
            std::fs::rename(&pending, path)
                .map_err(|err| KeyError::File { path: path.clone(), reason: format!("replacing it: {err}") })?;
            sync_folder(&settings.folder);
            Ok(KeySource::File(path.clone()))
        }
        KeySource::Environment => Ok(KeySource::Environment),
    }
}

fn remove_file(path: &std::path::Path) -> Result<(), VaultError> {
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
            Err(KeyError::File { path: path.to_owned(), reason: format!("removing it: {err}") }.into())
        }
        _ => Ok(()),
    }
}

/// Makes a rename durable.
fn sync_folder(folder: &std::path::Path) {
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
}

/// The credential names a plan uses: `credential:` of its steps and `secrets.NAME` reads.
pub fn names_used(plan: &Plan) -> BTreeSet<String> {
    let mut names: BTreeSet<String> =
        plan.steps.iter().chain(&plan.on_failure).filter_map(|step| step.credential.clone()).collect();
    for slot in &plan.slots {
        if let SlotKind::Secret { name } = &slot.kind {
            names.insert(name.clone());
        }
    }
    names
}

/// What a run of `plan` gets: the credentials it names and the `secrets.NAME` values, decrypted. A name that is
/// not stored, or that does not decrypt, fails with an error naming it. The main secret of every other stored
/// credential that decrypts is added to the secrets too (under its own name, which no slot reads), only so that
/// it is redacted if it turns up anywhere.
pub async fn for_run(
    vault: &Vault,
    plan: &Plan,
) -> Result<(HashMap<String, Credential>, HashMap<String, String>), VaultError> {
    let used = names_used(plan);
    let mut credentials = HashMap::new();
    for name in &used {
        credentials.insert(name.clone(), vault.get(name).await?);
    }
    let mut secrets = HashMap::new();
    for slot in &plan.slots {
        if let SlotKind::Secret { name } = &slot.kind
            && let Some(credential) = credentials.get(name)
        {
            let text = secret_text(credential).ok_or_else(|| VaultError::InvalidData {
                name: name.clone(),
                provider: "unknown",
                reason: "it has no main secret for `secrets.` to read".into(),
            })?;
            secrets.insert(name.clone(), text);
        }
    }
    if !used.is_empty() {
        for name in vault.names().await? {
            if !credentials.contains_key(&name)
                && let Ok(credential) = vault.get(&name).await
                && let Some(text) = secret_text(&credential)
            {
                secrets.insert(name, text);
            }
        }
    }
    Ok((credentials, secrets))
}

#[cfg(test)]
mod tests;
