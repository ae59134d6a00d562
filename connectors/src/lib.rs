//! Connectors: the actions a workflow step can call.
//!
//! Two halves. The *catalogue* ([`ActionDefinition`]: typed inputs, output type, effect) is all the compiler
//! sees. The *implementations* ([`Connector::execute`], behind the `runtime` feature) are what the executor calls.
//!
//! Architecture invariant: an action's signature is declared once, here, and is the single source for type
//! checking, `pilot schema`, `pilot connectors list` and the generated reference in `docs/`.

use expr_grammar::{Type, Value};
use tokio_util::sync::CancellationToken;

#[cfg(feature = "runtime")]
pub mod ai;
pub mod backoff;
pub mod catalogue;
#[cfg(feature = "runtime")]
pub mod core;
pub mod custom;
#[cfg(feature = "runtime")]
mod fields;
#[cfg(feature = "runtime")]
pub mod fs;
#[cfg(feature = "runtime")]
pub mod http;
#[cfg(feature = "runtime")]
pub mod notify;
#[cfg(feature = "runtime")]
pub mod process;
pub mod reference;
#[cfg(feature = "runtime")]
pub mod registry;
#[cfg(feature = "runtime")]
pub mod shell;
#[cfg(feature = "runtime")]
mod tls;

/// What running an action does to the world. The compiler keeps `Write` steps in file order relative to each
/// other and to `Read` steps; `Pure` and `Read` steps that do not depend on each other run in parallel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    Pure,
    Read,
    Write,
}

/// How the compiler treats an input's YAML value.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum InputKind {
    /// A value (literal or `${...}` template) checked against the field's type.
    Value,
    /// A bare expression evaluated once per element of the list input `items_field`; bare names resolve to the
    /// element's fields (`modified_at > now() - 1d`), `item` and `index` to the element and its position.
    ItemCondition { items_field: String },
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InputField {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: Type,
    pub required: bool,
    pub description: String,
    #[serde(flatten)]
    pub kind: InputKind,
}

/// How an action's output type is known.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum OutputSpec {
    Fixed {
        #[serde(rename = "type")]
        ty: Type,
    },
    /// The output has the type of this input (`filter` returns a list like its `items`).
    SameAsInput { field: String },
    /// The output is the object of all evaluated inputs (`transform`).
    InputObject,
}

/// The typed signature of one action, e.g. `fs/list`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActionDefinition {
    /// `connector/action`, e.g. `fs/list`; core actions have no connector prefix (`filter`, `transform`).
    pub name: String,
    pub description: String,
    pub inputs: Vec<InputField>,
    pub output: OutputSpec,
    pub effect: Effect,
    /// Inputs beyond the declared ones are accepted as `any` (`transform` computes arbitrary fields).
    pub open_inputs: bool,
}

/// What a running action gets besides its input. `ActionContext::default()` is a call outside any execution (tests,
/// embedding code): no credential, a log that drops its lines, a token that is never cancelled.
#[derive(Debug, Clone, Default)]
pub struct ActionContext {
    pub execution_id: String,
    pub step_id: String,
    /// Cancelled when the execution is cancelled or the step times out: long calls must watch it.
    pub cancel: CancellationToken,
    /// The step's `credential:`, decrypted, when it named one.
    pub credential: Option<Credential>,
    /// The execution's log, for lines the action writes there (the `log` action's message).
    pub log: ExecutionLog,
    /// The step has `retry:` with more than one attempt. An action that would retry on its own (the AI client)
    /// then makes one try per step attempt, so that the two kinds of retries never multiply.
    pub retried_by_step: bool,
    /// Where an action that starts programs reports each one's process group while it runs, so that a later
    /// `pilot resume` can kill what an interrupted attempt left running (see [`ChildRecord`]).
    pub children: ChildRecorder,
}

/// A process group an action started, identified so that another process can later kill what is left of it
/// without ever hitting an unrelated process that reuses the id.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChildRecord {
    /// The group's id: the pid of the program the action started, its leader.
    pub pgid: u32,
    /// The leader's start time in clock ticks after boot (`/proc/PID/stat` field 22): a process that reuses the
    /// id has another one.
    pub start_time: u64,
    /// `/proc/sys/kernel/random/boot_id`: after a reboot nothing of the group is left, whatever the ids.
    pub boot_id: String,
}

/// What happened to a recorded process group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildEvent<'a> {
    /// The action started the group's leader.
    Started(&'a ChildRecord),
    /// The action is done with the group: it ended, or the action killed it.
    Ended(&'a ChildRecord),
}

/// Where an action reports the process groups it starts and ends. The default (an action called outside an
/// execution) records nothing.
#[derive(Clone, Default)]
pub struct ChildRecorder {
    sink: Option<std::sync::Arc<ChildSink>>,
}

type ChildSink = dyn Fn(ChildEvent<'_>) + Send + Sync;

impl ChildRecorder {
    pub fn new(sink: impl Fn(ChildEvent<'_>) + Send + Sync + 'static) -> ChildRecorder {
        ChildRecorder { sink: Some(std::sync::Arc::new(sink)) }
    }

    pub fn report(&self, event: ChildEvent<'_>) {
        if let Some(sink) = &self.sink {
            sink(event);
        }
    }
}

impl std::fmt::Debug for ChildRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChildRecorder").field("connected", &self.sink.is_some()).finish()
    }
}

/// The level of a line in an execution's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    /// The level as the log file writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }
}

/// Where an action writes lines of its execution's log (`$PILOT_HOME/logs/ID.log`). The executor gives each call
/// one that redacts secrets and queues the line after the step's earlier writes, so lines keep their order; the
/// default (an action called outside an execution, as in tests) drops them.
#[derive(Clone, Default)]
pub struct ExecutionLog {
    sink: Option<std::sync::Arc<LogSink>>,
}

type LogSink = dyn Fn(LogLevel, &str) + Send + Sync;

impl ExecutionLog {
    pub fn new(sink: impl Fn(LogLevel, &str) + Send + Sync + 'static) -> ExecutionLog {
        ExecutionLog { sink: Some(std::sync::Arc::new(sink)) }
    }

    pub fn write(&self, level: LogLevel, message: &str) {
        if let Some(sink) = &self.sink {
            sink(level, message);
        }
    }
}

impl std::fmt::Debug for ExecutionLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionLog").field("connected", &self.sink.is_some()).finish()
    }
}

/// A decrypted credential. Its `Debug` never shows the secret.
#[derive(Clone)]
pub struct Credential {
    pub name: String,
    pub provider: String,
    pub data: serde_json::Value,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("name", &self.name).field("provider", &self.provider).finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    #[error("input `{field}`: {message}")]
    InvalidInput { field: String, message: String },
    #[error("not available here: {reason}")]
    Unavailable { reason: String },
    #[error("{message}")]
    Failed { message: String },
    #[error("cancelled")]
    Cancelled,
}

/// A connector groups actions under one id (`fs`, `http`, ...) and runs them.
#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    fn id(&self) -> &str;
    fn actions(&self) -> Vec<ActionDefinition>;
    /// `action` is the canonical name in full (`fs/list`, `transform`); see `registry::ConnectorRegistry`.
    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError>;
}
