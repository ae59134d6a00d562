//! `pilot credentials set|list|rm|rotate-key`: encrypted credentials in `$PILOT_HOME/pilot.db`.
//!
//! A secret never comes from the command line (it would show in `ps` and the shell history): `set` reads it from
//! stdin when stdin is not a terminal, else prompts for it without echo (rpassword). What stdin holds per
//! provider: `oauth2`: a JSON object with at least `access_token`; every other provider: the secret itself
//! (`basic` and `smtp` take the user name from `--username`). The master key: see `executor::credentials::key`
//! (keyring, `PILOT_MASTER_KEY`, or `credentials/master.key`). With `--json`, each command prints one JSON object.

use super::exit;
use super::output::outln;
use super::ui;
use executor::credentials::{self, MasterKey, Provider};
use executor::store::{LogFolder, SqliteStore, Store, StoreOptions, Timestamp, rfc3339_micros};
use serde_json::{Value as Json, json};
use server::credentials::open_vault;
use server::home::PilotHome;
use server::store_location::StoreLocation;
use std::collections::BTreeSet;
use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;

/// Where `rotate-key` takes the new key from when the current one comes from `PILOT_MASTER_KEY`.
const ENV_NEW_MASTER_KEY: &str = "PILOT_NEW_MASTER_KEY";

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
    List,
    /// Remove a credential.
    Rm {
        /// The credential's name (as `pilot credentials list` shows it).
        name: String,
    },
    /// Generate a new master key and re-encrypt every credential with it.
    RotateKey,
}

#[derive(Debug, clap::Args)]
pub struct SetArgs {
    /// The name workflows use: `credential: NAME` or `${secrets.NAME}`.
    pub name: String,
    /// What kind of secret it is, which decides the actions that can use it.
    #[arg(long, value_enum)]
    pub provider: ProviderArg,
    /// The user name (providers `basic` and `smtp`); the password is read like any secret.
    #[arg(long)]
    pub username: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProviderArg {
    /// An API key (AI providers; HTTP sends it as a bearer token).
    #[value(name = "api_key")]
    ApiKey,
    /// A user name and password (HTTP basic auth).
    Basic,
    /// An OAuth2 token: a JSON object with `access_token` on stdin.
    Oauth2,
    /// A bearer token (HTTP `Authorization: Bearer`, Slack bot tokens).
    Bearer,
    /// A signing secret for webhooks (`notify/webhook`, webhook triggers).
    #[value(alias = "webhook")]
    Hmac,
    /// An SMTP login for `notify/email`: `--username` and the password.
    Smtp,
}

impl ProviderArg {
    fn provider(self) -> Provider {
        match self {
            ProviderArg::ApiKey => Provider::ApiKey,
            ProviderArg::Basic => Provider::Basic,
            ProviderArg::Oauth2 => Provider::OAuth2,
            ProviderArg::Bearer => Provider::Bearer,
            ProviderArg::Hmac => Provider::Hmac,
            ProviderArg::Smtp => Provider::Smtp,
        }
    }
}

pub fn run(args: &CredentialsArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return ui::fail(exit::FAILED, &format!("cannot start the async runtime: {err}")),
    };
    runtime.block_on(async {
        let result = match &args.command {
            CredentialsCommand::Set(set) => set_credential(set).await,
            CredentialsCommand::List => list().await,
            CredentialsCommand::Rm { name } => remove(name).await,
            CredentialsCommand::RotateKey => rotate_key().await,
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(Failure::Usage(message)) => ui::fail(exit::NOT_RUN, &message),
            Err(Failure::Failed(message)) => ui::fail(exit::FAILED, &message),
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

async fn open_store(home: &PilotHome) -> Result<Arc<dyn Store>, Failure> {
    home.ensure_layout()?;
    let location = super::store_location(home).map_err(Failure::Usage)?;
    Ok(server::store_location::open_store(&location).await?)
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
    let username = match (provider.has_username(), &args.username) {
        (true, None) => return Err(Failure::Usage(format!("provider `{}` needs --username", provider.as_str()))),
        (true, Some(name)) => Some(name.clone()),
        (false, Some(_)) => return Err(Failure::Usage("--username is only for providers `basic` and `smtp`".into())),
        (false, None) => None,
    };
    let prompt = match provider {
        Provider::OAuth2 => format!("OAuth2 token JSON for `{}`: ", args.name),
        Provider::Basic | Provider::Smtp => format!("Password for `{}`: ", args.name),
        other => format!("{} for `{}`: ", other.main_field().replace('_', " "), args.name),
    };
    let secret = read_secret(&prompt)?;
    if secret.is_empty() {
        return Err(Failure::Usage("the secret is empty (nothing on stdin)".into()));
    }
    let data = match provider {
        // serde_json's message gives a line and column, never the text, so it is safe to show.
        Provider::OAuth2 => serde_json::from_str::<Json>(&secret)
            .map_err(|err| Failure::Usage(format!("the oauth2 token is not a JSON object: {err}")))?,
        Provider::Basic | Provider::Smtp => json!({ "username": username, "password": secret }),
        other => json!({ other.main_field(): secret }),
    };
    let home = PilotHome::from_env();
    let (vault, _) = open_vault(&home, open_store(&home).await?).await?;
    vault.set(&args.name, provider, &data, now()).await?;
    let key_source = vault.key_source().to_string();
    said(
        json!({ "name": args.name, "provider": provider.as_str(), "key_source": key_source }),
        &format!("stored credential `{}` ({}), encrypted with the key from {key_source}", args.name, provider.as_str()),
    );
    Ok(())
}

/// Prints a command's result: the JSON object with `--json`, else the sentence.
fn said(document: Json, text: &str) {
    if ui::json() {
        outln!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
    } else {
        outln!("{text}");
    }
}

async fn list() -> Result<(), Failure> {
    let home = PilotHome::from_env();
    let store = open_store(&home).await?;
    // Listing needs no key: names, providers and dates are stored in the clear.
    let records = store.credentials().await?;
    if ui::json() {
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
        outln!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(());
    }
    if records.is_empty() {
        outln!("no credentials stored (add one with `pilot credentials set NAME --provider api_key`)");
    }
    for record in &records {
        outln!("{:<24} {:<8} updated {}", record.name, record.provider, rfc3339_micros(record.updated_at));
    }
    Ok(())
}

async fn remove(name: &str) -> Result<(), Failure> {
    let home = PilotHome::from_env();
    match open_store(&home).await?.remove_credential(name).await {
        Ok(()) => {
            said(json!({ "name": name, "removed": true }), &format!("removed credential `{name}`"));
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
    let (mut vault, settings) = open_vault(&home, open_store(&home).await?).await?;
    let new_env_key = std::env::var(ENV_NEW_MASTER_KEY).ok().filter(|v| !v.is_empty());
    let new_env_key = new_env_key.map(|text| MasterKey::from_env_text(&text));
    let count = credentials::rotate(&mut vault, &settings, new_env_key, now()).await?;
    let key_source = vault.key_source().to_string();
    let mut text = format!("re-encrypted {count} credentials; the new key is in {key_source}");
    if *vault.key_source() == credentials::KeySource::Environment {
        text.push_str(&format!("\nset PILOT_MASTER_KEY to the value of {ENV_NEW_MASTER_KEY} from now on"));
    }
    said(json!({ "re_encrypted": count, "key_source": key_source }), &text);
    Ok(())
}

/// The names of the stored credentials, for the compiler's unknown-name warning: none when there is no database
/// yet (no credential exists, so every name is unknown); `None` when it cannot be read (then no such warning).
pub(crate) fn stored_credential_names() -> Option<BTreeSet<String>> {
    let home = PilotHome::from_env();
    let location = super::store_location(&home).ok()?;
    if !location.is_postgres() && !home.database().exists() {
        return Some(BTreeSet::new());
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
    runtime.block_on(async {
        let store: Arc<dyn Store> = match &location {
            StoreLocation::Sqlite { database, .. } => {
                let options = StoreOptions { logs: LogFolder::Disabled, ..StoreOptions::default() };
                Arc::new(SqliteStore::open(database, options).ok()?)
            }
            StoreLocation::Postgres(_) => server::store_location::open_store(&location).await.ok()?,
        };
        let records = store.credentials().await.ok()?;
        Some(records.into_iter().map(|record| record.name).collect())
    })
}

/// The secret from stdin (all of it, without the final line break) or, on a terminal, typed without echo.
fn read_secret(prompt: &str) -> Result<String, Failure> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(rpassword::prompt_password(prompt)?);
    }
    let mut text = String::new();
    stdin.lock().read_to_string(&mut text)?;
    let trimmed = text.strip_suffix('\n').unwrap_or(&text);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}
