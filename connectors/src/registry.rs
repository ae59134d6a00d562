//! Which connector runs which action, by canonical action name (`notification/x` is `notify/x`).
//!
//! A connector's `execute` receives the canonical action name in full (`fs/list`, `transform`).
//! `filter` has no connector: the executor runs it (it needs the compiled condition).

use std::collections::HashMap;
use std::sync::Arc;

use expr_grammar::Value;

use crate::catalogue::{Catalogue, canonical_name};
use crate::{ActionContext, ActionError, Connector};

/// Why an action cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("`{action}` is not available in this build: no connector implements it")]
    NotAvailable { action: String },
    #[error("`filter` is run by the executor, not by a connector")]
    RunByExecutor,
    #[error("unknown action `{action}`")]
    Unknown { action: String },
    #[error("action `{action}` is already run by connector `{connector}`")]
    AlreadyRegistered { action: String, connector: String },
}

impl From<RegistryError> for ActionError {
    fn from(err: RegistryError) -> ActionError {
        ActionError::Unavailable { reason: err.to_string() }
    }
}

/// Maps canonical action names to the connector that runs them.
#[derive(Clone, Default)]
pub struct ConnectorRegistry {
    by_action: HashMap<String, Arc<dyn Connector>>,
}

impl std::fmt::Debug for ConnectorRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut actions: Vec<&str> = self.by_action.keys().map(String::as_str).collect();
        actions.sort_unstable();
        f.debug_struct("ConnectorRegistry").field("actions", &actions).finish()
    }
}

impl ConnectorRegistry {
    pub fn empty() -> Self {
        ConnectorRegistry::default()
    }

    /// Every built-in connector this build implements.
    pub fn builtin() -> Self {
        let mut registry = ConnectorRegistry::empty();
        let builtins: Vec<Arc<dyn Connector>> = vec![
            Arc::new(crate::core::CoreConnector::new()),
            Arc::new(crate::fs::FsConnector::new()),
            Arc::new(crate::http::HttpConnector::new()),
            Arc::new(crate::notify::NotifyConnector::from_environment()),
            Arc::new(crate::shell::ShellConnector::new()),
            Arc::new(crate::ai::AiConnector::from_environment()),
            // Further built-in connectors: one line each, here.
        ];
        for connector in builtins {
            if let Err(err) = registry.register(connector) {
                // Built-in action names are unique in the catalogue; a clash is a programming error.
                unreachable!("built-in connectors clash: {err}");
            }
        }
        registry
    }

    /// Registers every action `connector.actions()` declares. Refuses an action another connector already runs
    /// (nothing is registered then).
    pub fn register(&mut self, connector: Arc<dyn Connector>) -> Result<(), RegistryError> {
        let names: Vec<String> =
            connector.actions().into_iter().map(|def| canonical_name(&def.name).into_owned()).collect();
        if let Some((action, existing)) = names.iter().find_map(|name| self.by_action.get_key_value(name)) {
            return Err(RegistryError::AlreadyRegistered {
                action: action.clone(),
                connector: existing.id().to_string(),
            });
        }
        for name in names {
            self.by_action.insert(name, connector.clone());
        }
        Ok(())
    }

    /// The connector that runs `action` (or its alias).
    pub fn get(&self, action: &str) -> Result<&Arc<dyn Connector>, RegistryError> {
        let canonical = canonical_name(action);
        if let Some(connector) = self.by_action.get(canonical.as_ref()) {
            return Ok(connector);
        }
        Err(match canonical.as_ref() {
            "filter" => RegistryError::RunByExecutor,
            name if Catalogue::builtin().lookup(name).is_ok() => RegistryError::NotAvailable { action: name.into() },
            _ => RegistryError::Unknown { action: action.to_string() },
        })
    }

    /// Runs `action` on its connector, passing the canonical name.
    pub async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        let connector = self.get(action)?;
        connector.execute(&canonical_name(action), input, ctx).await
    }

    /// The canonical names of the actions that can run, sorted.
    pub fn actions(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.by_action.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_runs_core_and_fs_actions() {
        let registry = ConnectorRegistry::builtin();
        assert_eq!(registry.get("fs/list").map(|c| c.id().to_string()), Ok("fs".to_string()));
        assert_eq!(registry.get("transform").map(|c| c.id().to_string()), Ok("core".to_string()));
    }

    #[test]
    fn missing_filter_and_unknown_actions_say_why() {
        let registry = ConnectorRegistry::empty();
        let err = registry.get("notification/desktop").err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("`notify/desktop` is not available in this build: no connector implements it"));
        assert_eq!(registry.get("filter").err(), Some(RegistryError::RunByExecutor));
        assert_eq!(registry.get("nope/x").err(), Some(RegistryError::Unknown { action: "nope/x".into() }));
    }

    #[test]
    fn a_second_connector_for_the_same_action_is_refused() {
        let mut registry = ConnectorRegistry::builtin();
        let err = registry.register(Arc::new(crate::fs::FsConnector::new()));
        assert!(matches!(err, Err(RegistryError::AlreadyRegistered { ref connector, .. }) if connector == "fs"));
    }
}
