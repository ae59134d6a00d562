//! `pilot credentials set|list|rm|rotate-key`: encrypted credentials in `$PILOT_HOME/pilot.db`.
//!
//! A secret never comes from the command line (it would show in `ps` and the shell history): `set` reads it from
//! stdin when stdin is not a terminal, else prompts for it without echo. What stdin holds per provider:
//! `api_key`: the key; `basic`: the password (the user name is `--username`); `oauth2`: a JSON object with at
//! least `access_token`. The master key: see `executor::credentials::key` (keyring, `PILOT_MASTER_KEY`, or
//! `credentials/master.key`).

use super::runner::{fail, say};
use crate::home::PilotHome;
use executor::credentials::{self, KeySettings, MasterKey, Provider, Vault};
use executor::store::{LogFolder, SqliteStore, Store, StoreOptions, Timestamp, rfc3339_micros};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;

/// Where `rotate-key` takes the new key from when the current one comes from `PILOT_MASTER_KEY`.
const ENV_NEW_MASTER_KEY: &str = "PILOT_NEW_MASTER_KEY";
const EXIT_USAGE: u8 = 2;

#[derive(Debug, clap::Args)]
pub struct CredentialsArgs {
    #[command(subcommand)]
    pub command: CredentialsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum CredentialsCommand {
    /// Store (or replace) a credential; the secret is read from stdin or prompted for, never from arguments.
    Set(SetArgs),
    /// List the stored credentials: names, providers and dates only.
    List {
        /// Print a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Remove a credential.
    Rm { name: String },
    /// Generate a new master key and re-encrypt every credential with it.
    RotateKey,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The name workflows use: `credential: NAME` or `${secrets.NAME}`.
    pub name: String,
    #[arg(long, value_enum)]
    pub provider: ProviderArg,
    /// The user name (provider `basic`); the password is read like any secret.
    #[arg(long)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    #[value(name = "api_key")]
    ApiKey,
    Basic,
    Oauth2,
}

impl ProviderArg {
    fn provider(self) -> Provider {
        match self {
            ProviderArg::ApiKey => Provider::ApiKey,
            ProviderArg::Basic => Provider::Basic,
            ProviderArg::Oauth2 => Provider::OAuth2,
        }
    }
}

pub fn run(args: &CredentialsArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return fail(&format!("cannot start the async runtime: {err}")),
    };
    runtime.block_on(async {
        let result = match &args.command {
            CredentialsCommand::Set(set) => set_credential(set).await,
            CredentialsCommand::List { json } => list(*json).await,
            CredentialsCommand::Rm { name } => remove(name).await,
            CredentialsCommand::RotateKey => rotate_key().await,
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure::Usage(message)) => {
                eprintln!("error: {message}");
                ExitCode::from(EXIT_USAGE)
            }
            Err(Failure::Failed(message)) => fail(&message),
        }
    })
}

enum Failure {
    Usage(String),
    Failed(String),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(err: E) -> Self {
        Failure::Failed(err.to_string())
    }
}

fn open_store(home: &PilotHome) -> Result<Arc<dyn Store>, Failure> {
    home.ensure_layout()?;
    let options = StoreOptions { logs: LogFolder::At(home.logs()), ..StoreOptions::default() };
    Ok(Arc::new(SqliteStore::open(home.database(), options)?))
}

/// The vault of `$PILOT_HOME`, with its master key (created on first use).
pub(crate) async fn open_vault(home: &PilotHome, store: Arc<dyn Store>) -> Result<(Vault, KeySettings), String> {
    let settings = KeySettings::from_env(home.credentials());
    let vault = credentials::open_vault(store, &settings).await.map_err(|err| err.to_string())?;
    Ok((vault, settings))
}

fn now() -> Timestamp {
    let micros = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros());
    Timestamp(i64::try_from(micros).unwrap_or(i64::MAX))
}

async fn set_credential(args: &SetArgs) -> Result<(), Failure> {
    let provider = args.provider.provider();
    if !credentials::is_valid_name(&args.name) {
        return Err(Failure::Usage(format!(
            "`{}` is not a valid credential name: use letters, digits, `_` and `-`, starting with a letter",
            args.name
        )));
    }
    let username = match (provider, &args.username) {
        (Provider::Basic, None) => return Err(Failure::Usage("provider `basic` needs --username".into())),
        (Provider::Basic, Some(name)) => Some(name.clone()),
        (_, Some(_)) => return Err(Failure::Usage("--username is only for provider `basic`".into())),
        (_, None) => None,
    };
    let prompt = match provider {
        Provider::ApiKey => format!("API key for `{}`: ", args.name),
        Provider::Basic => format!("Password for `{}`: ", args.name),
        Provider::OAuth2 => format!("OAuth2 token JSON for `{}`: ", args.name),
    };
    let secret = read_secret(&prompt)?;
    if secret.is_empty() {
        return Err(Failure::Usage("the secret is empty (nothing on stdin)".into()));
    }
    let data = match provider {
        Provider::ApiKey => json!({ "api_key": secret }),
        Provider::Basic => json!({ "username": username, "password": secret }),
        // serde_json's message gives a line and column, never the text, so it is safe to show.
        Provider::OAuth2 => serde_json::from_str::<Json>(&secret)
            .map_err(|err| Failure::Usage(format!("the oauth2 token is not a JSON object: {err}")))?,
    };
    let home = PilotHome::from_env();
    let (vault, _) = open_vault(&home, open_store(&home)?).await?;
    vault.set(&args.name, provider, &data, now()).await?;
    say!(
        "stored credential `{}` ({}), encrypted with the key from {}",
        args.name,
        provider.as_str(),
        vault.key_source()
    );
    Ok(())
}

async fn list(json: bool) -> Result<(), Failure> {
    let home = PilotHome::from_env();
    let store = open_store(&home)?;
    // Listing needs no key: names, providers and dates are stored in the clear.
    let records = store.credentials().await?;
    if json {
        let list: Vec<Json> = records
            .iter()
            .map(|r| {
                json!({
                    "name": r.name,
                    "provider": r.provider,
                    "created_at": rfc3339_micros(r.created_at),
                    "updated_at": rfc3339_micros(r.updated_at),
                })
            })
            .collect();
        say!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if records.is_empty() {
        say!("no credentials stored (add one with `pilot credentials set NAME --provider api_key`)");
    }
    for record in &records {
        say!("{:<24} {:<8} updated {}", record.name, record.provider, rfc3339_micros(record.updated_at));
    }
    Ok(())
}

async fn remove(name: &str) -> Result<(), Failure> {
    let home = PilotHome::from_env();
    match open_store(&home)?.remove_credential(name).await {
        Ok(()) => {
            say!("removed credential `{name}`");
            Ok(())
        }
        Err(executor::store::StoreError::UnknownCredential { .. }) => {
            Err(Failure::Usage(format!("no credential named `{name}` is stored (see `pilot credentials list`)")))
        }
        Err(err) => Err(err.into()),
    }
}

async fn rotate_key() -> Result<(), Failure> {
    let home = PilotHome::from_env();
    let (mut vault, settings) = open_vault(&home, open_store(&home)?).await?;
    let new_env_key = std::env::var(ENV_NEW_MASTER_KEY).ok().filter(|v| !v.is_empty());
    let new_env_key = new_env_key.map(|text| MasterKey::from_env_text(&text));
    let count = credentials::rotate(&mut vault, &settings, new_env_key, now()).await?;
    say!("re-encrypted {count} credentials; the new key is in {}", vault.key_source());
    if *vault.key_source() == credentials::KeySource::Environment {
        say!("set PILOT_MASTER_KEY to the value of {ENV_NEW_MASTER_KEY} from now on");
    }
    Ok(())
}

/// The names of the stored credentials, for the compiler's unknown-name warning; `None` when there is no
/// database yet or it cannot be read (then no such warning is given).
pub(crate) fn stored_credential_names() -> Option<BTreeSet<String>> {
    let home = PilotHome::from_env();
    if !home.database().exists() {
        return None;
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    runtime.block_on(async {
        let options = StoreOptions { logs: LogFolder::Disabled, ..StoreOptions::default() };
        let store = SqliteStore::open(home.database(), options).ok()?;
        let records = store.credentials().await.ok()?;
        Some(records.into_iter().map(|record| record.name).collect())
    })
}

/// The secret from stdin (all of it, without the final line break) or, on a terminal, typed without echo.
fn read_secret(prompt: &str) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    let mut text = String::new();
    if stdin.is_terminal() {
        eprint!("{prompt}");
        let _echo_off = EchoOff::new();
        stdin.read_line(&mut text)?;
        eprintln!();
    } else {
        stdin.lock().read_to_string(&mut text)?;
    }
    let trimmed = text.strip_suffix('\n').unwrap_or(&text);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}

/// Turns terminal echo off on stdin until dropped.
struct EchoOff {
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn new() -> EchoOff {
        // SAFETY: termios is plain data; tcgetattr/tcsetattr only read/write the struct we pass for fd 0.
        unsafe {
            let mut current: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(libc::STDIN_FILENO, &mut current) != 0 {
                return EchoOff { saved: None };
            }
            let mut quiet = current;
            quiet.c_lflag &= !libc::ECHO;
            quiet.c_lflag |= libc::ECHONL;
            if libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &quiet) != 0 {
                return EchoOff { saved: None };
            }
            EchoOff { saved: Some(current) }
        }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            // SAFETY: restores the attributes read in `new` on the same fd.
            unsafe {
                libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, saved);
            }
        }
    }
}
