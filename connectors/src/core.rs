//! The core actions that need no connector prefix: `transform`, `log` and `sleep`.
//!
//! `filter` is in the catalogue but not here: it evaluates its compiled condition per item, and only the
//! executor holds compiled programs, so the executor runs it itself.
//!
//! `log` returns null. It writes its `message` input to the execution's log through `ActionContext::log` (the
//! executor records that line in `$PILOT_HOME/logs/ID.log`), and also emits it as a `tracing` event (target
//! `pilot::log`) at its `level`, for a process that collects tracing events.

use expr_grammar::{Object, Value};

use crate::catalogue::Catalogue;
use crate::fields::{Fields, invalid, render};
use crate::{ActionContext, ActionDefinition, ActionError, Connector, LogLevel};

/// Runs `transform`, `log` and `sleep`.
#[derive(Debug, Default, Clone)]
pub struct CoreConnector;

/// The core actions this connector runs (`filter` is run by the executor).
pub const CORE_ACTIONS: [&str; 3] = ["transform", "log", "sleep"];

impl CoreConnector {
    pub fn new() -> Self {
        CoreConnector
    }
}

#[async_trait::async_trait]
impl Connector for CoreConnector {
    fn id(&self) -> &str {
        "core"
    }

    fn actions(&self) -> Vec<ActionDefinition> {
        Catalogue::builtin().iter().filter(|def| CORE_ACTIONS.contains(&def.name.as_str())).cloned().collect()
    }

    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        match action {
            "transform" => transform(input),
            "log" => log(&input, ctx),
            "sleep" => sleep(&input, ctx).await,
            _ => Err(ActionError::Unavailable { reason: format!("the core connector has no action `{action}`") }),
        }
    }
}

/// The output is the object of the evaluated inputs: the executor has already computed every field.
fn transform(input: Value) -> Result<Value, ActionError> {
    match input {
        Value::Object(_) => Ok(input),
        Value::Null => Ok(Value::Object(std::sync::Arc::new(Object::new()))),
        other => Err(crate::fields::wrong_kind("input", "an object of inputs", &other)),
    }
}

fn log_level(fields: &Fields<'_>) -> Result<LogLevel, ActionError> {
    match fields.optional_string("level")? {
        None | Some("info") => Ok(LogLevel::Info),
        Some("debug") => Ok(LogLevel::Debug),
        Some("warn") => Ok(LogLevel::Warn),
        Some("error") => Ok(LogLevel::Error),
        Some(other) => Err(invalid("level", format!("`{other}` is not one of `debug`, `info`, `warn`, `error`"))),
    }
}

fn log(input: &Value, ctx: &ActionContext) -> Result<Value, ActionError> {
    let fields = Fields::new(input)?;
    let level = log_level(&fields)?;
    let message = render(fields.required("message")?);
    let (execution, step) = (ctx.execution_id.as_str(), ctx.step_id.as_str());
    match level {
        LogLevel::Debug => tracing::debug!(target: "pilot::log", execution, step, "{message}"),
        LogLevel::Info => tracing::info!(target: "pilot::log", execution, step, "{message}"),
        LogLevel::Warn => tracing::warn!(target: "pilot::log", execution, step, "{message}"),
        LogLevel::Error => tracing::error!(target: "pilot::log", execution, step, "{message}"),
    }
    ctx.log.write(level, &message);
    Ok(Value::Null)
}

async fn sleep(input: &Value, ctx: &ActionContext) -> Result<Value, ActionError> {
    let duration = Fields::new(input)?.required_duration("duration")?;
    tokio::select! {
        _ = ctx.cancel.cancelled() => Err(ActionError::Cancelled),
        _ = tokio::time::sleep(duration) => Ok(Value::Null),
    }
}
