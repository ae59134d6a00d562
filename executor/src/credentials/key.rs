//! The master key and where it lives. Sources, in order:
//! 1. the OS keyring (service `dooz-pilot`, entry `master-key`), where one is available. On a headless machine
//!    the keyring crate answers "No default store has been set": that means "unavailable", never an error.
//!    Skipped when `PILOT_KEYRING=off`.
//! 2. `PILOT_MASTER_KEY`: base64 (standard) of exactly 32 bytes is the key itself; any other text is a passphrase,
//!    stretched with PBKDF2-HMAC-SHA256, 600 000 iterations, the fixed salt [`PASSPHRASE_SALT`] (fixed so the same
//!    passphrase gives the same key on every machine; the passphrase must carry the entropy).
//! 3. the key file `$PILOT_HOME/credentials/master.key` (base64 of 32 bytes), created with mode 0600 on first use.
//!    An existing key file that the group or others can read is refused.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::rand::{SecureRandom, SystemRandom};
use std::io::Write as _;
use std::num::NonZeroU32;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub const ENV_MASTER_KEY: &str = "PILOT_MASTER_KEY";
pub const ENV_KEYRING: &str = "PILOT_KEYRING";
pub const PASSPHRASE_SALT: &[u8] = b"dooz-pilot/credentials/master-key/v1";
pub const PASSPHRASE_ITERATIONS: u32 = 600_000;
const KEYRING_SERVICE: &str = "dooz-pilot";
const KEYRING_ENTRY: &str = "master-key";

/// 32 secret bytes. Neither `Debug` nor `Display` shows them; they are zeroed on drop.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> MasterKey {
        MasterKey(bytes)
    }

    pub fn generate() -> Result<MasterKey, KeyError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok(MasterKey(bytes))
    }

    /// `PILOT_MASTER_KEY`'s text: base64 of 32 bytes, else a passphrase.
    pub fn from_env_text(text: &str) -> MasterKey {
        if let Ok(decoded) = BASE64.decode(text.trim())
            && let Ok(bytes) = <[u8; 32]>::try_from(decoded.as_slice())
        {
            return MasterKey(bytes);
        }
        let mut bytes = [0u8; 32];
        let iterations = NonZeroU32::new(PASSPHRASE_ITERATIONS).unwrap_or(NonZeroU32::MIN);
        ring::pbkdf2::derive(
            ring::pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            PASSPHRASE_SALT,
            text.as_bytes(),
            &mut bytes,
        );
        MasterKey(bytes)
    }

    pub(crate) fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    pub(crate) fn to_base64(&self) -> String {
        BASE64.encode(self.0)
    }

    fn from_base64(text: &str) -> Option<MasterKey> {
        let decoded = BASE64.decode(text.trim()).ok()?;
        <[u8; 32]>::try_from(decoded.as_slice()).ok().map(MasterKey)
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        // black_box keeps the zeroing from being optimised away as a dead store.
        self.0 = [0; 32];
        std::hint::black_box(&self.0);
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// Where the master key came from (named in errors, and where `rotate-key` writes the new one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Keyring,
    Environment,
    File(PathBuf),
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Keyring => write!(f, "the OS keyring"),
            KeySource::Environment => write!(f, "{ENV_MASTER_KEY}"),
            KeySource::File(path) => write!(f, "the key file {}", path.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the system random source failed")]
    Random,
    #[error(
        "the key file {} can be read by other users (mode {mode:o}): run `chmod 600 {}` if nobody else could have \
         read it, else rotate the key",
        path.display(),
        path.display()
    )]
    ReadableByOthers { path: PathBuf, mode: u32 },
    #[error("the key file {}: {reason}", path.display())]
    File { path: PathBuf, reason: String },
    #[error("the OS keyring: {reason}")]
    Keyring { reason: String },
}

/// The key in use and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedKey {
    pub key: MasterKey,
    pub source: KeySource,
}

/// Where to look for the key.
#[derive(Debug, Clone)]
pub struct KeySettings {
    /// `$PILOT_HOME/credentials`.
    pub folder: PathBuf,
    pub use_keyring: bool,
    /// `PILOT_MASTER_KEY`'s value, if set.
    pub env_key: Option<String>,
}

impl KeySettings {
    /// From the process environment.
    pub fn from_env(folder: PathBuf) -> KeySettings {
        let keyring_off = std::env::var(ENV_KEYRING).is_ok_and(|v| matches!(v.as_str(), "off" | "0" | "false"));
        let env_key = std::env::var(ENV_MASTER_KEY).ok().filter(|v| !v.is_empty());
        KeySettings { folder, use_keyring: !keyring_off, env_key }
    }

    pub fn key_file(&self) -> PathBuf {
        self.folder.join("master.key")
    }

    /// A new key written here by `rotate-key` before the re-encryption commits (see `vault::rotate`).
    pub fn pending_key_file(&self) -> PathBuf {
        self.folder.join("master.key.new")
    }
}

/// Finds the master key, creating one (in the keyring if there is one, else in the key file) on first use.
pub fn load_or_create(settings: &KeySettings) -> Result<LoadedKey, KeyError> {
    if settings.use_keyring
        && let Some(entry) = keyring_entry()
    {
        match entry.get_password() {
            Ok(text) => {
                if let Some(key) = MasterKey::from_base64(&text) {
                    return Ok(LoadedKey { key, source: KeySource::Keyring });
                }
            }
            Err(keyring::Error::NoEntry) if settings.env_key.is_none() && !settings.key_file().exists() => {
                let key = MasterKey::generate()?;
                entry.set_password(&key.to_base64()).map_err(|e| KeyError::Keyring { reason: e.to_string() })?;
                return Ok(LoadedKey { key, source: KeySource::Keyring });
            }
            Err(_) => {}
        }
    }
    if let Some(text) = &settings.env_key {
        return Ok(LoadedKey { key: MasterKey::from_env_text(text), source: KeySource::Environment });
    }
    let path = settings.key_file();
    let key = match read_key_file(&path)? {
        Some(key) => key,
        None => {
            let key = MasterKey::generate()?;
            write_key_file(&path, &key, false)?;
            key
        }
    };
    Ok(LoadedKey { key, source: KeySource::File(path) })
}

/// The keyring entry, or `None` when no keyring is usable here ("No default store has been set").
fn keyring_entry() -> Option<keyring::Entry> {
    keyring::Entry::new(KEYRING_SERVICE, KEYRING_ENTRY).ok()
}

pub(crate) fn save_to_keyring(key: &MasterKey) -> Result<(), KeyError> {
    let entry = keyring_entry().ok_or_else(|| KeyError::Keyring { reason: "no keyring is available".into() })?;
    entry.set_password(&key.to_base64()).map_err(|e| KeyError::Keyring { reason: e.to_string() })
}

/// The key in `path`, `None` if there is no such file. Refuses a file others can read.
pub fn read_key_file(path: &Path) -> Result<Option<MasterKey>, KeyError> {
    let file_error = |reason: String| KeyError::File { path: path.to_owned(), reason };
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(file_error(err.to_string())),
    };
    let mode = metadata.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(KeyError::ReadableByOthers { path: path.to_owned(), mode });
    }
    let text = std::fs::read_to_string(path).map_err(|err| file_error(err.to_string()))?;
    MasterKey::from_base64(&text).map(Some).ok_or_else(|| file_error("it does not hold base64 of 32 bytes".into()))
}

/// Writes a key file with mode 0600 (created so, never widened) and syncs it. `replace` allows overwriting.
pub fn write_key_file(path: &Path, key: &MasterKey, replace: bool) -> Result<(), KeyError> {
    let file_error = |err: std::io::Error| KeyError::File { path: path.to_owned(), reason: err.to_string() };
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(file_error)?;
        let _ = std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700));
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).mode(0o600);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).map_err(file_error)?;
    file.set_permissions(std::fs::Permissions::from_mode(0o600)).map_err(file_error)?;
    file.write_all(format!("{}\n", key.to_base64()).as_bytes()).map_err(file_error)?;
    file.sync_all().map_err(file_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(folder: &Path) -> KeySettings {
        KeySettings { folder: folder.to_owned(), use_keyring: false, env_key: None }
    }

    #[test]
    fn a_key_file_is_created_with_mode_0600_and_reused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_create(&settings(dir.path())).expect("create");
        let mode = std::fs::metadata(dir.path().join("master.key")).expect("file").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = load_or_create(&settings(dir.path())).expect("reuse");
        assert_eq!(first.key.bytes(), second.key.bytes());
        assert_eq!(second.source, KeySource::File(dir.path().join("master.key")));
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        load_or_create(&settings(dir.path())).expect("create");
        let path = dir.path().join("master.key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        let error = load_or_create(&settings(dir.path())).expect_err("refused");
        assert!(error.to_string().contains("can be read by other users (mode 644)"), "{error}");
    }

    #[test]
    fn the_environment_key_wins_over_the_key_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let raw = BASE64.encode([7u8; 32]);
        let loaded =
            load_or_create(&KeySettings { env_key: Some(raw), ..settings(dir.path()) }).expect("environment key");
        assert_eq!(loaded.source, KeySource::Environment);
        assert_eq!(loaded.key.bytes(), &[7u8; 32]);
        assert!(!dir.path().join("master.key").exists());
    }

    #[test]
    fn a_passphrase_derives_the_same_key_every_time() {
        // One derivation each (600 000 iterations are slow in a debug build).
        let first = MasterKey::from_env_text("correct horse battery staple");
        let expected = {
            let mut bytes = [0u8; 32];
            let iterations = NonZeroU32::new(PASSPHRASE_ITERATIONS).expect("non-zero");
            let passphrase = b"correct horse battery staple";
            ring::pbkdf2::derive(ring::pbkdf2::PBKDF2_HMAC_SHA256, iterations, PASSPHRASE_SALT, passphrase, &mut bytes);
            bytes
        };
        assert_eq!(first.bytes(), &expected);
        assert_ne!(first.bytes(), &[0u8; 32]);
        assert_eq!(format!("{first:?}"), "MasterKey(***)");
    }
}
