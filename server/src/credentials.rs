//! The credentials a run needs, decrypted from the vault of `$PILOT_HOME`: one function for the CLI, the daemon
//! and the app. The vault (and so the master key) is opened only when something needs a credential, so workflows
//! without secrets never need a key.

use crate::home::PilotHome;
use connectors::Credential;
use executor::credentials::{self, KeySettings, Vault};
use executor::store::Store;
use std::collections::HashMap;
use std::sync::Arc;

/// Decrypted credentials (for `credential:`) and the secret text of each (for `${secrets.NAME}`), by name.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    pub credentials: HashMap<String, Credential>,
    pub texts: HashMap<String, String>,
}

impl Secrets {
    /// Adds them to a run's context.
    pub fn fill(&self, context: &mut executor::Context) {
        context.credentials.extend(self.credentials.iter().map(|(name, c)| (name.clone(), c.clone())));
        context.secrets.extend(self.texts.iter().map(|(name, text)| (name.clone(), text.clone())));
    }
}

/// The vault of `$PILOT_HOME`, with its master key (created on first use), and where the key comes from.
pub async fn open_vault(home: &PilotHome, store: Arc<dyn Store>) -> Result<(Vault, KeySettings), String> {
    let settings = KeySettings::from_env(home.credentials());
    let vault = credentials::open_vault(store, &settings).await.map_err(|err| err.to_string())?;
    Ok((vault, settings))
}

/// What `plan` uses (`credential:` and `secrets.NAME`); nothing, without opening the vault, when it uses none.
pub async fn for_plan(home: &PilotHome, store: Arc<dyn Store>, plan: &compiler::Plan) -> Result<Secrets, String> {
    if credentials::names_used(plan).is_empty() {
        return Ok(Secrets::default());
    }
    let (vault, _) = open_vault(home, store).await?;
    let (credentials, texts) = credentials::for_run(&vault, plan).await.map_err(|err| err.to_string())?;
    Ok(Secrets { credentials, texts })
}

/// Every stored credential (resume and retry recompile their plan inside the engine); nothing, without opening
/// the vault, when none is stored.
pub async fn all(home: &PilotHome, store: Arc<dyn Store>) -> Result<Secrets, String> {
    if store.credentials().await.map_err(|err| err.to_string())?.is_empty() {
        return Ok(Secrets::default());
    }
    let (vault, _) = open_vault(home, store).await?;
    let mut secrets = Secrets::default();
    for credential in vault.decrypt_all().await.map_err(|err| err.to_string())? {
        if let Some(text) = credentials::secret_text(&credential) {
            secrets.texts.insert(credential.name.clone(), text);
        }
        secrets.credentials.insert(credential.name.clone(), credential);
    }
    Ok(secrets)
}
