//! The workflows the daemon runs: one per file of `$PILOT_HOME/workflows/` (`.yaml`, `.yml`, `.json`), known by
//! its `name:`.
//!
//! Rules, applied whenever a file is added, changed or removed:
//! - A file that compiles is the workflow's new version (it takes effect for the next execution).
//! - A file that stops compiling keeps its last good version running; its diagnostics are kept for the API.
//! - Two files with the same `name:`: the earlier path in sorted order keeps it, the later is refused with a
//!   diagnostic. Two workflows with the same webhook path (and method): the same rule.
//! - A removed file's workflow stops (its triggers with it).

use compiler::TriggerPlan;
use compiler::render::{JsonDiagnostic, to_json};
use connectors::catalogue::Catalogue;
use executor::Workflow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One trigger of a loaded workflow, with its stable id.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedTrigger {
    /// `NAME:TYPE:HASH` of the trigger's configuration: the same across restarts and edits that leave it as it
    /// was (a schedule's slots stay its own), different when it changes.
    pub id: String,
    pub plan: TriggerPlan,
}

impl LoadedTrigger {
    pub fn kind(&self) -> &'static str {
        trigger_type(&self.plan)
    }
}

/// A runnable workflow: the last version of its file that compiled.
#[derive(Debug, Clone)]
pub struct LoadedWorkflow {
    pub name: String,
    pub path: PathBuf,
    pub workflow: Workflow,
    pub triggers: Vec<LoadedTrigger>,
}

/// A workflow file as last read, and what became of it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileState {
    pub path: PathBuf,
    /// The workflow it defines (from its current or last good text).
    pub name: Option<String>,
    /// Diagnostics of its current text, and the daemon's own (a refused duplicate); empty when all is well.
    pub diagnostics: Vec<JsonDiagnostic>,
    /// Why it is not what runs, in one sentence, if so.
    pub problem: Option<String>,
}

#[derive(Debug, Default)]
pub struct Catalog {
    /// The last good version of each file.
    good: BTreeMap<PathBuf, Arc<LoadedWorkflow>>,
    files: BTreeMap<PathBuf, FileState>,
    /// What runs, by name, after the duplicate rules.
    running: BTreeMap<String, Arc<LoadedWorkflow>>,
}

impl Catalog {
    /// Reads and compiles one file (added or changed). Returns whether what runs changed.
    pub fn update_file(&mut self, path: &Path, catalogue: &Catalogue) -> bool {
        let display = path.display().to_string();
        let source = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return self.remove_file(path),
            Err(error) => {
                let state = self.files.entry(path.to_owned()).or_insert_with(|| FileState::new(path));
                state.problem = Some(format!("cannot read {display}: {error}"));
                return false;
            }
        };
        let (text, diagnostics, compiled) = match compiler::front_end::decode(&source) {
            Ok(text) => match Workflow::compile(text, &display, catalogue) {
                Ok(workflow) => (text.to_owned(), Vec::new(), Some(workflow)),
                Err(diagnostics) => (text.to_owned(), diagnostics, None),
            },
            Err(diagnostic) => (String::from_utf8_lossy(&source).into_owned(), vec![diagnostic], None),
        };
        let mut state = FileState::new(path);
        state.diagnostics = to_json(&display, &text, &diagnostics);
        match compiled {
            Some(workflow) => {
                let name = workflow.plan.workflow.name.clone();
                let triggers = trigger_ids(&name, &workflow.plan.triggers);
                let loaded = LoadedWorkflow { name: name.clone(), path: path.to_owned(), workflow, triggers };
                state.name = Some(name);
                self.good.insert(path.to_owned(), Arc::new(loaded));
            }
            None => {
                state.name = self.good.get(path).map(|good| good.name.clone());
                if state.name.is_some() {
                    state.problem = Some(format!("{display} does not compile; its last good version keeps running"));
                } else {
                    state.problem = Some(format!("{display} does not compile; it is not loaded"));
                }
            }
        }
        self.files.insert(path.to_owned(), state);
        self.settle()
    }

    /// Forgets a removed file. Returns whether what runs changed.
    pub fn remove_file(&mut self, path: &Path) -> bool {
        self.files.remove(path);
        self.good.remove(path);
        self.settle()
    }

    /// The workflows that run, by name.
    pub fn running(&self) -> impl Iterator<Item = &Arc<LoadedWorkflow>> {
        self.running.values()
    }

    pub fn get(&self, name: &str) -> Option<&Arc<LoadedWorkflow>> {
        self.running.get(name)
    }

    /// Every file and its state, by path.
    pub fn files(&self) -> impl Iterator<Item = &FileState> {
        self.files.values()
    }

    /// Files whose workflow does not run: they do not compile, or were refused.
    pub fn unloaded_files(&self) -> impl Iterator<Item = &FileState> {
        self.files().filter(|file| {
            file.name.as_ref().is_none_or(|name| self.get(name).is_none_or(|loaded| loaded.path != file.path))
        })
    }

    pub fn file(&self, path: &Path) -> Option<&FileState> {
        self.files.get(path)
    }

    /// The state of the file that defines (or last defined) `name`.
    pub fn file_of(&self, name: &str) -> Option<&FileState> {
        self.files.values().find(|file| file.name.as_deref() == Some(name))
    }

    /// Applies the duplicate rules to the good versions; returns whether what runs changed.
    fn settle(&mut self) -> bool {
        let mut running: BTreeMap<String, Arc<LoadedWorkflow>> = BTreeMap::new();
        let mut webhook_owner: BTreeMap<(String, String), String> = BTreeMap::new();
        let mut refusals: Vec<(PathBuf, String)> = Vec::new();
        // BTreeMap order is path order: the earlier path wins a name or a webhook path.
        for (path, loaded) in &self.good {
            if let Some(first) = running.get(&loaded.name) {
                let reason = format!(
                    "workflow name `{}` is already defined by {}; this file is not loaded",
                    loaded.name,
                    first.path.display()
                );
                refusals.push((path.clone(), reason));
                continue;
            }
            let clash = webhooks(loaded).find_map(|key| webhook_owner.get(&key).map(|owner| (key.1, owner.clone())));
            if let Some((webhook_path, owner)) = clash {
                let reason = format!(
                    "webhook path `{webhook_path}` is already served for workflow `{owner}`; this file is not loaded"
                );
                refusals.push((path.clone(), reason));
                continue;
            }
            for key in webhooks(loaded) {
                webhook_owner.insert(key, loaded.name.clone());
            }
            running.insert(loaded.name.clone(), Arc::clone(loaded));
        }
        for (path, reason) in refusals {
            if let Some(state) = self.files.get_mut(&path) {
                state.problem = Some(reason.clone());
                state.diagnostics.push(daemon_diagnostic(&path, reason));
            }
        }
        let changed = running.len() != self.running.len()
            || running.iter().zip(&self.running).any(|((a, x), (b, y))| a != b || !Arc::ptr_eq(x, y));
        self.running = running;
        changed
    }
}

impl FileState {
    fn new(path: &Path) -> FileState {
        FileState { path: path.to_owned(), name: None, diagnostics: Vec::new(), problem: None }
    }
}

/// (method, path) of each webhook trigger.
fn webhooks(loaded: &LoadedWorkflow) -> impl Iterator<Item = (String, String)> + '_ {
    loaded.triggers.iter().filter_map(|trigger| match &trigger.plan {
        TriggerPlan::Webhook(webhook) => Some((webhook.method.to_ascii_uppercase(), webhook.path.clone())),
        _ => None,
    })
}

/// A diagnostic of the daemon's own about a file (not the compiler's), at its first line.
fn daemon_diagnostic(path: &Path, message: String) -> JsonDiagnostic {
    JsonDiagnostic {
        file: path.display().to_string(),
        line: 1,
        column: 1,
        end_line: 1,
        end_column: 1,
        severity: compiler::Severity::Error,
        code: compiler::codes::DUPLICATE_WORKFLOW.to_owned(),
        message,
        hint: Some("give the workflow another `name:`, or remove one of the files".to_owned()),
    }
}

pub fn trigger_type(plan: &TriggerPlan) -> &'static str {
    plan.kind().as_str()
}

/// Stable ids: the workflow's name, the type, and a digest of the configuration (numbered when two are equal).
fn trigger_ids(name: &str, plans: &[TriggerPlan]) -> Vec<LoadedTrigger> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    plans
        .iter()
        .map(|plan| {
            let config = serde_json::to_string(plan).unwrap_or_default();
            let digest = ring::digest::digest(&ring::digest::SHA256, config.as_bytes());
            let hex: String = digest.as_ref()[..6].iter().map(|byte| format!("{byte:02x}")).collect();
            let base = format!("{name}:{}:{hex}", trigger_type(plan));
            let count = seen.entry(base.clone()).or_default();
            *count += 1;
            let id = if *count == 1 { base } else { format!("{base}-{count}") };
            LoadedTrigger { id, plan: plan.clone() }
        })
        .collect()
}

/// Whether a path is a workflow file the daemon loads.
pub fn is_workflow_file(path: &Path) -> bool {
    let hidden = path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.starts_with('.'));
    !hidden && matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// The workflow files directly in `folder`, sorted.
pub fn workflow_files(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder)? {
        let path = entry?.path();
        if path.is_file() && is_workflow_file(&path) {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO: &str = "name: hello\nsteps:\n  - id: greet\n    action: log\n    input:\n      message: hi\n";
    const HOOK: &str = "name: NAME\ntriggers:\n  - type: webhook\n    path: /hook\nsteps:\n  - id: greet\n    action: log\n    input:\n      message: hi\n";

    fn write(dir: &Path, file: &str, text: &str) -> PathBuf {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_broken_edit_keeps_the_last_good_version_and_its_diagnostics_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let catalogue = Catalogue::builtin();
        let mut catalog = Catalog::default();
        let path = write(dir.path(), "hello.yaml", HELLO);
        assert!(catalog.update_file(&path, &catalogue));
        let good = Arc::clone(catalog.get("hello").unwrap());
        write(dir.path(), "hello.yaml", &HELLO.replace("message", "mesage"));
        assert!(!catalog.update_file(&path, &catalogue), "what runs did not change");
        assert!(Arc::ptr_eq(catalog.get("hello").unwrap(), &good));
        let state = catalog.file(&path).unwrap();
        assert_eq!(state.name.as_deref(), Some("hello"));
        assert!(state.diagnostics.iter().any(|d| d.code == "E0211"), "{:?}", state.diagnostics);
        assert!(state.problem.as_deref().unwrap().contains("last good version keeps running"));
        write(dir.path(), "hello.yaml", &HELLO.replace("hi", "hello again"));
        assert!(catalog.update_file(&path, &catalogue), "a good edit takes effect");
        assert!(catalog.file(&path).unwrap().problem.is_none());
    }

    #[test]
    fn the_later_of_two_files_with_one_name_or_one_webhook_path_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let catalogue = Catalogue::builtin();
        let mut catalog = Catalog::default();
        let second = write(dir.path(), "b.yaml", HELLO);
        catalog.update_file(&second, &catalogue);
        let first = write(dir.path(), "a.yaml", HELLO);
        catalog.update_file(&first, &catalogue);
        assert_eq!(catalog.get("hello").unwrap().path, first, "the earlier path keeps the name");
        let refused = catalog.file(&second).unwrap();
        assert!(refused.problem.as_deref().unwrap().contains("already defined by"), "{refused:?}");

        let one = write(dir.path(), "c.yaml", &HOOK.replace("NAME", "one"));
        let two = write(dir.path(), "d.yaml", &HOOK.replace("NAME", "two"));
        catalog.update_file(&one, &catalogue);
        catalog.update_file(&two, &catalogue);
        assert!(catalog.get("one").is_some() && catalog.get("two").is_none());
        assert!(catalog.file(&two).unwrap().problem.as_deref().unwrap().contains("webhook path `/hook`"));
        catalog.remove_file(&one);
        assert!(catalog.get("two").is_some(), "once the first is gone, the second runs");
    }

    #[test]
    fn trigger_ids_are_stable_and_change_with_their_configuration() {
        let schedule = |cron: &str| {
            TriggerPlan::Schedule(compiler::ScheduleTriggerPlan {
                cron: cron.to_owned(),
                timezone: None,
                catch_up: compiler::CatchUp::Last,
                catch_up_window: expr_grammar::Duration::parse("24h").unwrap(),
                catch_up_max: 10,
            })
        };
        let first = trigger_ids("backup", &[schedule("0 2 * * *"), TriggerPlan::Manual]);
        let again = trigger_ids("backup", &[TriggerPlan::Manual, schedule("0 2 * * *")]);
        assert_eq!(first[0].id, again[1].id, "the same trigger keeps its id when others move");
        assert!(first[0].id.starts_with("backup:schedule:"));
        let edited = trigger_ids("backup", &[schedule("0 3 * * *")]);
        assert_ne!(first[0].id, edited[0].id);
        let twins = trigger_ids("backup", &[TriggerPlan::Manual, TriggerPlan::Manual]);
        assert_eq!(twins[1].id, format!("{}-2", twins[0].id));
    }
}
