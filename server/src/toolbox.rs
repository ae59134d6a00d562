//! The actions this installation knows: the built-ins plus the custom connectors installed under
//! `$PILOT_HOME/connectors/ID/`. Every command that checks or runs workflows starts here, so a custom action is
//! type-checked and run exactly like a built-in one.

use crate::home::PilotHome;
use connectors::catalogue::Catalogue;
use connectors::custom::{ProcessConnector, installed};
use connectors::registry::ConnectorRegistry;
use std::sync::Arc;

pub struct Toolbox {
    pub catalogue: Catalogue,
    pub registry: ConnectorRegistry,
    /// Installed connectors that could not be loaded, each with its folder and reason. They are left out.
    pub problems: Vec<String>,
}

impl Toolbox {
    pub fn load(home: &PilotHome) -> Toolbox {
        let mut toolbox =
            Toolbox { catalogue: Catalogue::builtin(), registry: ConnectorRegistry::builtin(), problems: Vec::new() };
        for found in installed(&home.connectors()) {
            match found {
                Ok((dir, manifest)) => match ProcessConnector::new(dir.clone(), manifest) {
                    Ok(connector) => toolbox.add(connector),
                    Err(reason) => toolbox.problems.push(format!("{}: {reason}", dir.display())),
                },
                Err(err) => toolbox.problems.push(err.to_string()),
            }
        }
        toolbox
    }

    /// Adds a connector's actions to both the catalogue and the registry, or to neither.
    fn add(&mut self, connector: ProcessConnector) {
        let id = connector.manifest().id.clone();
        let mut catalogue = self.catalogue.clone();
        for def in connectors::Connector::actions(&connector) {
            if let Err(err) = catalogue.add(def) {
                self.problems.push(format!("connector `{id}`: {err}"));
                return;
            }
        }
        match self.registry.register(Arc::new(connector)) {
            Ok(()) => self.catalogue = catalogue,
            Err(err) => self.problems.push(format!("connector `{id}`: {err}")),
        }
    }
}
