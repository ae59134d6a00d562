//! Shared helpers for the fs and core action tests: contexts, inputs, and running an action through the registry.
#![allow(dead_code)]

use std::path::Path;

use connectors::registry::ConnectorRegistry;
use connectors::{ActionContext, ActionError};
use expr_grammar::Value;
use tokio_util::sync::CancellationToken;

pub fn ctx() -> ActionContext {
    ctx_with(CancellationToken::new())
}

pub fn ctx_with(cancel: CancellationToken) -> ActionContext {
    ActionContext {
        execution_id: "exec-1".into(),
        step_id: "step-1".into(),
        cancel,
        credential: None,
        ..Default::default()
    }
}

pub fn input<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
    Value::Object(std::sync::Arc::new(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()))
}

pub fn s(text: impl AsRef<str>) -> Value {
    Value::String(text.as_ref().into())
}

pub fn p(path: &Path) -> Value {
    s(path.to_string_lossy())
}

pub async fn run(action: &str, input: Value) -> Result<Value, ActionError> {
    ConnectorRegistry::builtin().execute(action, input, &ctx()).await
}

/// The message of a failed action, for asserting on its text.
pub fn message(result: Result<Value, ActionError>) -> String {
    match result {
        Ok(value) => panic!("expected a failure, got {value:?}"),
        Err(err) => err.to_string(),
    }
}

pub fn field<'v>(value: &'v Value, name: &str) -> &'v Value {
    match value {
        Value::Object(fields) => fields.get(name).unwrap_or_else(|| panic!("no field {name} in {value:?}")),
        other => panic!("expected an object, got {other:?}"),
    }
}

/// The names in a folder, sorted: to check that no temporary file was left behind.
pub fn names_in(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("read test folder")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
