//! Custom connectors: actions provided by a program of the user's, described by a manifest.
//!
//! An installed connector is a folder `$PILOT_HOME/connectors/ID/` holding `manifest.json` and an executable.
//! The manifest declares the actions with typed signatures and effects, so workflows that call them are
//! type-checked exactly like built-ins:
//!
//! ```json
//! {
//!   "id": "wordcount",
//!   "name": "Word count",
//!   "version": "1.0.0",
//!   "executable": "wordcount.py",
//!   "actions": [{
//!     "name": "count",
//!     "description": "Counts the words and lines of a text",
//!     "effect": "pure",
//!     "inputs": {"text": {"type": "string", "description": "The text"},
//!                "min_length": {"type": "int", "required": false}},
//!     "output": "{words: int, lines: int}"
//!   }]
//! }
//! ```
//!
//! Types use the syntax `Type` prints (see [`parse_type`]). Inputs are required unless `"required": false`.
//!
//! The protocol (one process per call): Pilot starts the executable in the connector's folder, writes one JSON
//! object to its stdin and closes it: `{"action": "count", "input": {...}, "credential": {...} | null,
//! "execution_id": "...", "step_id": "..."}`. The program answers with one JSON object on stdout, either
//! `{"output": <value>}` or `{"error": "message"}`, and exits. Anything else (no answer, bad JSON, a non-zero
//! exit without an `error`) fails the step with what the program printed on stderr. A cancelled or timed-out
//! step kills the program and everything it started (its process group); the program dies with the `pilot` that
//! started it, and `pilot resume` kills what it left (see [`crate::process`]).

mod type_syntax;

#[cfg(feature = "runtime")]
mod process;

#[cfg(feature = "runtime")]
pub use process::ProcessConnector;
pub use type_syntax::parse_type;

use crate::{ActionDefinition, Effect, InputField, InputKind, OutputSpec};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};

pub const MANIFEST_FILE: &str = "manifest.json";

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The connector id: the part before `/` in its action names. Lowercase letters, digits, `_` and `-`.
    pub id: String,
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    /// Path of the program, relative to the connector's folder.
    pub executable: String,
    pub actions: Vec<ManifestAction>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestAction {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub effect: Effect,
    #[serde(default)]
    pub inputs: IndexMap<String, ManifestInput>,
    /// The output type, in type syntax.
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestInput {
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default = "required_by_default")]
    pub required: bool,
    #[serde(default)]
    pub description: String,
}

fn required_by_default() -> bool {
    true
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: not a valid manifest: {message}")]
    Invalid { path: PathBuf, message: String },
}

impl Manifest {
    /// Reads and validates `DIR/manifest.json`.
    pub fn load(dir: &Path) -> Result<Manifest, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let text =
            std::fs::read_to_string(&path).map_err(|source| ManifestError::Read { path: path.clone(), source })?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|err| ManifestError::Invalid { path: path.clone(), message: err.to_string() })?;
        manifest.action_definitions().map_err(|message| ManifestError::Invalid { path: path.clone(), message })?;
        if !dir.join(&manifest.executable).is_file() {
            let message = format!("executable `{}` is not a file in {}", manifest.executable, dir.display());
            return Err(ManifestError::Invalid { path, message });
        }
        Ok(manifest)
    }

    /// The typed signatures the compiler checks calls against: `ID/ACTION` for each action.
    pub fn action_definitions(&self) -> Result<Vec<ActionDefinition>, String> {
        if !is_plain_name(&self.id) {
            return Err(format!("id `{}`: use lowercase letters, digits, `_` and `-`", self.id));
        }
        self.actions.iter().map(|action| self.definition(action)).collect()
    }

    fn definition(&self, action: &ManifestAction) -> Result<ActionDefinition, String> {
        if !is_plain_name(&action.name) {
            return Err(format!("action `{}`: use lowercase letters, digits, `_` and `-`", action.name));
        }
        let output = parse_type(&action.output).map_err(|err| format!("action `{}` output: {err}", action.name))?;
        let inputs = action
            .inputs
            .iter()
            .map(|(name, input)| {
                let ty =
                    parse_type(&input.ty).map_err(|err| format!("action `{}` input `{name}`: {err}", action.name))?;
                Ok(InputField {
                    name: name.clone(),
                    ty,
                    required: input.required,
                    description: input.description.clone(),
                    kind: InputKind::Value,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(ActionDefinition {
            name: format!("{}/{}", self.id, action.name),
            description: action.description.clone(),
            inputs,
            output: OutputSpec::Fixed { ty: output },
            effect: action.effect,
            open_inputs: false,
        })
    }
}

fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// Whether `dir` holds a connector: a folder with a `manifest.json` (valid or not: a broken connector is still a
/// connector, not a folder of workflows).
pub fn is_connector_folder(dir: &Path) -> bool {
    dir.join(MANIFEST_FILE).is_file()
}

/// Every installed connector under `connectors_dir` (one folder each), sorted by folder name. A folder whose
/// manifest is broken gives an error entry and does not stop the others from loading. Hidden folders (`.ID.*`,
/// where an install or removal in progress keeps a copy) are not connectors.
pub fn installed(connectors_dir: &Path) -> Vec<Result<(PathBuf, Manifest), ManifestError>> {
    let Ok(entries) = std::fs::read_dir(connectors_dir) else { return Vec::new() };
    let visible = |path: &PathBuf| path.file_name().is_some_and(|name| !name.to_string_lossy().starts_with('.'));
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.path())
        .filter(|path| path.is_dir() && visible(path))
        .collect();
    dirs.sort();
    dirs.into_iter().map(|dir| Manifest::load(&dir).map(|manifest| (dir, manifest))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(json: serde_json::Value) -> Manifest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn actions_become_typed_signatures_under_the_connector_id() {
        let manifest = manifest(serde_json::json!({
            "id": "wordcount", "name": "Word count", "version": "1.0.0", "executable": "run",
            "actions": [{"name": "count", "effect": "pure", "output": "{words: int}",
                         "inputs": {"text": {"type": "string"}, "min": {"type": "int", "required": false}}}]
        }));
        let defs = manifest.action_definitions().unwrap();
        assert_eq!(defs[0].name, "wordcount/count");
        assert_eq!(defs[0].signature(), ActionDefinition::signature(&defs[0]));
        assert!(defs[0].inputs[0].required && !defs[0].inputs[1].required);
        assert_eq!(
            defs[0].output,
            OutputSpec::Fixed { ty: expr_grammar::Type::object([("words", expr_grammar::Type::Int)]) }
        );
    }

    #[test]
    fn a_bad_type_names_the_action_and_input() {
        let manifest = manifest(serde_json::json!({
            "id": "x", "name": "X", "version": "1", "executable": "run",
            "actions": [{"name": "go", "effect": "read", "output": "any", "inputs": {"n": {"type": "integer"}}}]
        }));
        let err = manifest.action_definitions().unwrap_err();
        assert!(err.contains("action `go` input `n`: unknown type `integer`"), "{err}");
    }

    #[test]
    fn ids_must_be_plain_names() {
        let manifest = manifest(serde_json::json!({
            "id": "My Tools", "name": "X", "version": "1", "executable": "run", "actions": []
        }));
        assert!(manifest.action_definitions().unwrap_err().contains("id `My Tools`"));
    }
}
