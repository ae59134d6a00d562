//! The workflows without the daemon: the files of `$PILOT_HOME/workflows/` read as the daemon reads them at its
//! start (the same catalog rules: a duplicate name or webhook path is refused), with the store's enabled flags and
//! last executions. The answers have the API's shapes; what only a running daemon knows (next fire times) is
//! absent. `pilot workflows` uses it when no daemon runs.

use crate::api::{
    Diagnostic, TriggerSummary, WorkflowDetail, WorkflowSummary, describe, literal_secrets, mask, unloaded_summary,
};
use crate::daemon::catalog::{Catalog, LoadedWorkflow, workflow_files};
use crate::home::PilotHome;
use connectors::catalogue::Catalogue;
use executor::store::{ExecutionFilter, Store, StoreError, WorkflowDefinition};
use std::collections::HashMap;

/// The workflows folder, read once.
pub struct Workflows {
    catalog: Catalog,
}

impl Workflows {
    /// Reads and compiles every workflow file (an unreadable folder reads as an empty one, as for the daemon).
    pub fn read(home: &PilotHome, catalogue: &Catalogue) -> Workflows {
        let mut catalog = Catalog::default();
        for file in workflow_files(&home.workflows()).unwrap_or_default() {
            catalog.update_file(&file, catalogue);
        }
        Workflows { catalog }
    }

    /// The workflow that would run under `name`.
    pub fn get(&self, name: &str) -> Option<&LoadedWorkflow> {
        self.catalog.get(name).map(|loaded| &**loaded)
    }

    /// Every workflow, then the files that define none, as `GET /api/v1/workflows` lists them.
    pub async fn summaries(&self, store: &dyn Store) -> Result<Vec<WorkflowSummary>, StoreError> {
        let enabled = enabled_flags(store).await?;
        let mut found = Vec::new();
        for loaded in self.catalog.running() {
            found.push(self.summary(store, loaded, &enabled).await?);
        }
        found.extend(self.catalog.unloaded_files().map(unloaded_summary));
        Ok(found)
    }

    /// One workflow with its source (literal secrets masked) and diagnostics; `None` when no file defines it.
    pub async fn detail(&self, store: &dyn Store, name: &str) -> Result<Option<WorkflowDetail>, StoreError> {
        let loaded = self.catalog.get(name);
        let file = match loaded {
            Some(loaded) => self.catalog.file(&loaded.path),
            None => self.catalog.file_of(name),
        };
        let Some(file) = file.cloned() else { return Ok(None) };
        let summary = match loaded {
            Some(loaded) => self.summary(store, loaded, &enabled_flags(store).await?).await?,
            None => unloaded_summary(&file),
        };
        let secrets = loaded.map(|loaded| literal_secrets(loaded)).unwrap_or_default();
        let source = std::fs::read_to_string(&file.path).unwrap_or_default();
        Ok(Some(WorkflowDetail {
            summary,
            source: mask(&source, &secrets),
            diagnostics: file.diagnostics.into_iter().map(Diagnostic::from).collect(),
        }))
    }

    /// Records a workflow enabled or disabled in the store (saving its definition first if the store has never
    /// seen it); the daemon reads the flag when it starts. `None` when no file defines a workflow of that name.
    pub async fn set_enabled(
        &self,
        store: &dyn Store,
        name: &str,
        enabled: bool,
        now: executor::store::Timestamp,
    ) -> Result<Option<WorkflowSummary>, StoreError> {
        let Some(loaded) = self.catalog.get(name) else { return Ok(None) };
        if !store.workflows().await?.iter().any(|record| record.id == loaded.workflow.id) {
            let workflow = &loaded.workflow;
            let definition = WorkflowDefinition {
                id: workflow.id.clone(),
                name: workflow.plan.workflow.name.clone(),
                description: workflow.plan.workflow.description.clone(),
                definition: workflow.source.to_string(),
                saved_at: now,
            };
            store.save_workflow(definition).await?;
        }
        store.set_workflow_enabled(&loaded.workflow.id, enabled).await?;
        let enabled = enabled_flags(store).await?;
        Ok(Some(self.summary(store, loaded, &enabled).await?))
    }

    async fn summary(
        &self,
        store: &dyn Store,
        loaded: &LoadedWorkflow,
        enabled: &HashMap<String, bool>,
    ) -> Result<WorkflowSummary, StoreError> {
        let filter =
            ExecutionFilter { workflow_name: Some(loaded.name.clone()), limit: 1, ..ExecutionFilter::default() };
        let last = store.list_executions(&filter).await?.into_iter().next();
        Ok(WorkflowSummary {
            name: loaded.name.clone(),
            description: loaded.workflow.plan.workflow.description.clone(),
            file: loaded.path.display().to_string(),
            // A workflow the store does not know yet is enabled, as the daemon has it.
            enabled: enabled.get(&loaded.workflow.id).copied().unwrap_or(true),
            triggers: loaded
                .triggers
                .iter()
                .map(|trigger| TriggerSummary {
                    id: trigger.id.clone(),
                    kind: trigger.kind().to_owned(),
                    summary: describe(&trigger.plan),
                    next_fire: None,
                })
                .collect(),
            next_fire: None,
            last_execution: last.as_ref().map(crate::api::summary_json),
            problem: self.catalog.file(&loaded.path).and_then(|file| file.problem.clone()),
        })
    }
}

/// Whether each saved workflow is enabled, by id.
async fn enabled_flags(store: &dyn Store) -> Result<HashMap<String, bool>, StoreError> {
    Ok(store.workflows().await?.into_iter().map(|record| (record.id, record.is_enabled)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use executor::store::MemoryStore;

    fn home_with(files: &[(&str, &str)]) -> (tempfile::TempDir, PilotHome) {
        let dir = tempfile::tempdir().unwrap();
        let home = PilotHome::at(dir.path());
        home.ensure_layout().unwrap();
        for (name, text) in files {
            std::fs::write(home.workflows().join(name), text).unwrap();
        }
        (dir, home)
    }

    const HELLO: &str = "name: hello\ntriggers:\n  - type: schedule\n    cron: \"0 3 * * *\"\nsteps:\n  - id: say\n    action: log\n    input: {message: hi}\n";

    #[tokio::test]
    async fn without_the_daemon_files_are_listed_as_the_daemon_would_load_them() {
        let (_dir, home) = home_with(&[
            ("a.yaml", HELLO),
            ("b.yaml", HELLO),
            ("broken.yaml", "name: broken\nsteps:\n  - id: a\n    action: fs/lsit\n"),
        ]);
        let store = MemoryStore::new();
        let listed = Workflows::read(&home, &Catalogue::builtin()).summaries(&store).await.unwrap();
        let rows: Vec<(&str, bool, bool)> =
            listed.iter().map(|w| (w.name.as_str(), w.enabled, w.problem.is_some())).collect();
        assert_eq!(rows, [("hello", true, false), ("hello", false, true), ("", false, true)]);
        assert!(listed[1].problem.as_deref().unwrap().contains("already defined by"), "{:?}", listed[1].problem);
        assert_eq!(listed[0].triggers[0].summary, "0 3 * * *");
        assert_eq!(listed[0].triggers[0].next_fire, None, "only a running daemon fires schedules");
    }

    #[tokio::test]
    async fn disabling_without_the_daemon_saves_the_workflow_and_its_flag() {
        let (_dir, home) = home_with(&[("hello.yaml", HELLO)]);
        let store = MemoryStore::new();
        let workflows = Workflows::read(&home, &Catalogue::builtin());
        let now = executor::store::Timestamp(1);
        let disabled = workflows.set_enabled(&store, "hello", false, now).await.unwrap().unwrap();
        assert!(!disabled.enabled);
        let saved = store.workflows().await.unwrap();
        assert_eq!((saved[0].id.as_str(), saved[0].is_enabled), ("hello", false));
        assert!(workflows.set_enabled(&store, "nope", false, now).await.unwrap().is_none());
        let detail = workflows.detail(&store, "hello").await.unwrap().unwrap();
        assert!(!detail.summary.enabled && detail.source == HELLO);
    }
}
