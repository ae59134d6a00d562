//! Vault behaviour over the memory store, with key files in a temporary folder.

use super::*;
use crate::store::MemoryStore;
use serde_json::json;
use std::path::Path;

fn settings(folder: &Path) -> KeySettings {
    KeySettings { folder: folder.to_owned(), use_keyring: false, env_key: None }
}

/// base64 of 32 bytes (a raw key: no slow passphrase stretching in tests).
const RIGHT_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";
const WRONG_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

fn now() -> Timestamp {
    Timestamp(1_795_000_000_000_000)
}

async fn vault_with(store: &Arc<MemoryStore>, settings: &KeySettings) -> Vault {
    let store: Arc<dyn Store> = store.clone();
    open_vault(store, settings).await.expect("vault opens")
}

#[tokio::test]
async fn stored_data_is_sealed_and_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(MemoryStore::new());
    let vault = vault_with(&store, &settings(dir.path())).await;
    vault.set("api", Provider::ApiKey, &json!({"api_key": "sk-live-123456"}), now()).await.expect("set");
    let stored = store.credential("api").await.expect("read").expect("stored");
    assert!(stored.data.starts_with("v1:") && !stored.data.contains("sk-live"));
    let credential = vault.get("api").await.expect("get");
    assert_eq!((credential.provider.as_str(), credential.data), ("api_key", json!({"api_key": "sk-live-123456"})));
    assert_eq!(secret_text(&vault.get("api").await.expect("get")).as_deref(), Some("sk-live-123456"));
}

#[tokio::test]
async fn data_not_matching_the_provider_shape_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(MemoryStore::new());
    let vault = vault_with(&store, &settings(dir.path())).await;
    let error = vault.set("db", Provider::Basic, &json!({"username": "ann"}), now()).await.expect_err("no password");
    assert_eq!(error.to_string(), "credential `db` (basic): `password` is missing");
    let error = vault.set("9bad", Provider::ApiKey, &json!({"api_key": "x"}), now()).await.expect_err("bad name");
    assert!(error.to_string().starts_with("`9bad` is not a valid credential name"));
}

#[tokio::test]
async fn a_wrong_environment_key_fails_clearly_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(MemoryStore::new());
    let right = KeySettings { env_key: Some(RIGHT_KEY.into()), ..settings(dir.path()) };
    vault_with(&store, &right)
        .await
        .set("api", Provider::ApiKey, &json!({"api_key": "abcdef"}), now())
        .await
        .expect("set");
    let before = store.credentials().await.expect("list");
    let wrong = KeySettings { env_key: Some(WRONG_KEY.into()), ..settings(dir.path()) };
    let vault = vault_with(&store, &wrong).await;
    let error = vault.get("api").await.expect_err("wrong key");
    assert!(
        error.to_string().starts_with(
            "cannot decrypt credential `api`: the master key does not match the one it was stored with (from \
             PILOT_MASTER_KEY)"
        ),
        "{error}"
    );
    let rotation = rotate(&mut { vault }, &wrong, Some(MasterKey::from_bytes([3; 32])), now()).await;
    assert!(rotation.is_err());
    assert_eq!(store.credentials().await.expect("list"), before);
}

#[tokio::test]
async fn rotating_the_key_file_reencrypts_everything_and_replaces_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(MemoryStore::new());
    let settings = settings(dir.path());
    let mut vault = vault_with(&store, &settings).await;
    vault.set("a", Provider::ApiKey, &json!({"api_key": "aaaa-1"}), now()).await.expect("set a");
    vault.set("b", Provider::Basic, &json!({"username": "u", "password": "pw-22"}), now()).await.expect("set b");
    let old_file = std::fs::read(settings.key_file()).expect("key file");
    let old_data = store.credentials().await.expect("list");
    assert_eq!(rotate(&mut vault, &settings, None, now()).await.expect("rotate"), 2);
    assert_ne!(std::fs::read(settings.key_file()).expect("key file"), old_file);
    assert!(!settings.pending_key_file().exists());
    let new_data = store.credentials().await.expect("list");
    assert!(old_data.iter().zip(&new_data).all(|(old, new)| old.data != new.data));
    // A fresh process reads the new key file and opens everything.
    let reopened = vault_with(&store, &settings).await;
    assert_eq!(reopened.get("b").await.expect("b").data["password"], "pw-22");
}

#[tokio::test]
async fn a_rotation_interrupted_after_its_commit_is_finished_on_the_next_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(MemoryStore::new());
    let settings = settings(dir.path());
    let vault = vault_with(&store, &settings).await;
    vault.set("a", Provider::ApiKey, &json!({"api_key": "aaaa-1"}), now()).await.expect("set");
    // Steps 2 and 3 of a rotation, then a "crash" before the key file is replaced.
    let new_key = MasterKey::generate().expect("key");
    key::write_key_file(&settings.pending_key_file(), &new_key, true).expect("journal");
    vault.reencrypt(&new_key, now()).await.expect("re-encrypt");
    let reopened = vault_with(&store, &settings).await;
    assert_eq!(reopened.get("a").await.expect("opens after recovery").data["api_key"], "aaaa-1");
    assert!(!settings.pending_key_file().exists());
}

#[tokio::test]
async fn a_rotation_interrupted_before_its_commit_keeps_the_old_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(MemoryStore::new());
    let settings = settings(dir.path());
    let vault = vault_with(&store, &settings).await;
    vault.set("a", Provider::ApiKey, &json!({"api_key": "aaaa-1"}), now()).await.expect("set");
    key::write_key_file(&settings.pending_key_file(), &MasterKey::generate().expect("key"), true).expect("journal");
    let reopened = vault_with(&store, &settings).await;
    assert_eq!(reopened.get("a").await.expect("old key still opens").data["api_key"], "aaaa-1");
    assert!(!settings.pending_key_file().exists());
}
