//! The [`Catalogue`] type: lookup by name with aliases and "did you mean" suggestions, and custom actions.

use std::collections::HashMap;

use crate::{ActionDefinition, Effect, InputField, InputKind, OutputSpec};

/// Every action a workflow may call, by canonical name.
#[derive(Debug, Clone)]
pub struct Catalogue {
    actions: Vec<ActionDefinition>,
    by_name: HashMap<String, usize>,
    builtin_count: usize,
}

/// An action name the catalogue does not know, with the nearest known names for a "did you mean" hint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown action `{name}`")]
pub struct UnknownAction {
    pub name: String,
    /// Known action names close to `name`, best first (at most three).
    pub suggestions: Vec<String>,
}

/// Why a custom action could not be added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddActionError {
    #[error("action `{name}` is built in; a custom connector cannot replace it")]
    ClashesWithBuiltin { name: String },
    #[error("action `{name}` is already defined by another custom connector")]
    AlreadyDefined { name: String },
    #[error("action name `{name}` is not valid: {reason}")]
    InvalidName { name: String, reason: String },
}

/// `notification/desktop` is accepted as `notify/desktop` (the spec's example uses both spellings).
pub fn canonical_name(name: &str) -> std::borrow::Cow<'_, str> {
    match name.strip_prefix("notification/") {
        Some(action) => std::borrow::Cow::Owned(format!("notify/{action}")),
        None => std::borrow::Cow::Borrowed(name),
    }
}

impl Catalogue {
    /// An empty catalogue (tests and custom setups); most callers want [`Catalogue::builtin`].
    pub fn empty() -> Self {
        Catalogue { actions: Vec::new(), by_name: HashMap::new(), builtin_count: 0 }
    }

    /// Every built-in action: core, fs, http, ai, notify, shell.
    pub fn builtin() -> Self {
        let mut catalogue = Catalogue::empty();
        for def in super::builtin_actions() {
            catalogue.insert(def);
        }
        catalogue.builtin_count = catalogue.actions.len();
        catalogue
    }

    /// The action called `name` (or its alias, see [`canonical_name`]).
    pub fn lookup(&self, name: &str) -> Result<&ActionDefinition, UnknownAction> {
        let canonical = canonical_name(name);
        match self.by_name.get(canonical.as_ref()) {
            Some(&index) => Ok(&self.actions[index]),
            None => Err(UnknownAction { name: name.to_string(), suggestions: self.suggestions(&canonical) }),
        }
    }

    /// Whether `name` is a built-in action (after aliasing).
    pub fn is_builtin(&self, name: &str) -> bool {
        let canonical = canonical_name(name);
        self.by_name.get(canonical.as_ref()).is_some_and(|&index| index < self.builtin_count)
    }

    /// Adds a custom connector's action. Built-in names and names already added are refused.
    pub fn add(&mut self, def: ActionDefinition) -> Result<(), AddActionError> {
        validate_custom_name(&def.name)?;
        if let Some(&index) = self.by_name.get(&def.name) {
            let name = def.name;
            return Err(if index < self.builtin_count {
                AddActionError::ClashesWithBuiltin { name }
            } else {
                AddActionError::AlreadyDefined { name }
            });
        }
        self.insert(def);
        Ok(())
    }

    /// Canonical action names, built-ins first in catalogue order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.actions.iter().map(|def| def.name.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = &ActionDefinition> {
        self.actions.iter()
    }

    pub fn len(&self) -> usize {
        self.actions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    fn insert(&mut self, def: ActionDefinition) {
        self.by_name.insert(def.name.clone(), self.actions.len());
        self.actions.push(def);
    }

    /// Up to three known names near `wanted`, best first ([`expr_grammar::suggest`]).
    fn suggestions(&self, wanted: &str) -> Vec<String> {
        expr_grammar::suggest::ranked(wanted, self.names()).into_iter().take(3).map(str::to_string).collect()
    }
}

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue::builtin()
    }
}

impl serde::Serialize for Catalogue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct("Catalogue", 1)?;
        state.serialize_field("actions", &self.actions)?;
        state.end()
    }
}

fn validate_custom_name(name: &str) -> Result<(), AddActionError> {
    let invalid = |reason: &str| Err(AddActionError::InvalidName { name: name.to_string(), reason: reason.into() });
    let Some((connector, action)) = name.split_once('/') else {
        return invalid("custom actions are named `connector/action`");
    };
    let is_word = |s: &str| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    };
    if !is_word(connector) || !is_word(action) {
        return invalid("use lowercase letters, digits, `_` and `-` on each side of one `/`");
    }
    if connector == "notification" {
        return invalid("`notification/` is an alias of the built-in `notify/` connector");
    }
    Ok(())
}

impl ActionDefinition {
    /// One-line signature: `fs/list(path: string, pattern?: string, recursive?: bool) -> list<{...}>  [read]`.
    pub fn signature(&self) -> String {
        let mut inputs: Vec<String> = self.inputs.iter().map(InputField::signature).collect();
        if self.open_inputs {
            inputs.push("..: any".to_string());
        }
        let output = match &self.output {
            OutputSpec::Fixed { ty } => ty.to_string(),
            OutputSpec::SameAsInput { field } => format!("<type of {field}>"),
            OutputSpec::InputObject => "<object of the inputs>".to_string(),
        };
        let effect = match self.effect {
            Effect::Pure => "pure",
            Effect::Read => "read",
            Effect::Write => "write",
        };
        format!("{}({}) -> {output}  [{effect}]", self.name, inputs.join(", "))
    }

    /// The declared input called `name`.
    pub fn input(&self, name: &str) -> Option<&InputField> {
        self.inputs.iter().find(|field| field.name == name)
    }
}

impl InputField {
    /// `pattern?: string`; an item condition shows as `condition: <condition on items>`.
    pub fn signature(&self) -> String {
        let mark = if self.required { "" } else { "?" };
        match &self.kind {
            InputKind::Value => format!("{}{mark}: {}", self.name, self.ty),
            InputKind::ItemCondition { items_field } => format!("{}{mark}: <condition on {items_field}>", self.name),
        }
    }
}
