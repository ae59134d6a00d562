//! The compiled plan: what the executor runs. Every name is already a slot, every expression a compiled
//! [`Program`]; nothing is parsed or looked up by name at run time.

use connectors::Effect;
use expr_grammar::{Duration, Program, SlotRef, Type, Value};

/// Position of a step in [`Plan::steps`]; also its node index in [`Plan::graph`].
pub type StepIndex = usize;

#[derive(Debug, Clone)]
pub struct Plan {
    pub workflow: WorkflowInfo,
    pub triggers: Vec<TriggerPlan>,
    /// `concurrency:`; `None`: executions of the workflow run side by side without limit.
    pub concurrency: Option<ConcurrencyPlan>,
    /// Typed parameters of manual and webhook runs (`inputs:`), with defaults.
    pub inputs: Vec<InputParam>,
    /// The slot table layout: `slots[i]` describes `SlotRef(i)`. The executor allocates one table per execution.
    pub slots: Vec<SlotInfo>,
    /// Variables in an order where each only reads earlier ones; evaluated once when an execution starts.
    pub variables: Vec<VariableInit>,
    /// Main steps, in file order.
    pub steps: Vec<PlanStep>,
    /// Edges `a -> b`: `b` starts only after `a` ended. Transitively reduced. Node `i` is `steps[i]`.
    pub graph: petgraph::graph::DiGraph<StepIndex, EdgeReason>,
    /// Steps grouped by depth: every step of a level can run side by side once earlier levels are done.
    pub levels: Vec<Vec<StepIndex>>,
    /// `on_failure:` steps, run in order when the execution fails. Same slot table as the main steps.
    pub on_failure: Vec<PlanStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorkflowInfo {
    pub name: String,
    pub description: Option<String>,
    pub version: Option<String>,
}

/// What starts the workflow, with every default filled in. The daemon (`pilot serve`) fires these.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TriggerPlan {
    Schedule(ScheduleTriggerPlan),
    Webhook(WebhookTriggerPlan),
    FileWatch(FileWatchTriggerPlan),
    Manual,
}

impl TriggerPlan {
    pub fn kind(&self) -> TriggerKind {
        match self {
            TriggerPlan::Schedule(_) => TriggerKind::Schedule,
            TriggerPlan::Webhook(_) => TriggerKind::Webhook,
            TriggerPlan::FileWatch(_) => TriggerKind::FileWatch,
            TriggerPlan::Manual => TriggerKind::Manual,
        }
    }
}

/// The kinds of trigger: what `trigger.type` holds at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Schedule,
    Webhook,
    FileWatch,
    Manual,
}

impl TriggerKind {
    /// `schedule`, `webhook`, `file_watch`, `manual`.
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::Schedule => "schedule",
            TriggerKind::Webhook => "webhook",
            TriggerKind::FileWatch => "file_watch",
            TriggerKind::Manual => "manual",
        }
    }
}

impl Plan {
    /// The kinds of trigger that may start the workflow (a workflow without triggers is manual-only).
    pub fn trigger_kinds(&self) -> Vec<TriggerKind> {
        crate::scope::declared_trigger_kinds(self.triggers.iter().map(TriggerPlan::kind))
    }

    /// The type to read a run's trigger data (JSON) with, `Value::from_json_typed`: every field any declared
    /// trigger gives, with its own type, so `scheduled_at` becomes a timestamp also where it is typed `any`.
    pub fn trigger_data_type(&self) -> Type {
        crate::scope::trigger_data_type(&self.trigger_kinds())
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScheduleTriggerPlan {
    /// As written (5, 6 or 7 fields, or `@daily`...); croner reads it.
    pub cron: String,
    /// IANA zone name; `None`: the zone the scheduler uses by default.
    pub timezone: Option<String>,
    /// What to do with times missed while the daemon was not running. Default [`CatchUp::Last`].
    pub catch_up: CatchUp,
    /// Missed times older than this are dropped. Default 24h.
    #[serde(serialize_with = "duration_text")]
    pub catch_up_window: Duration,
    /// With [`CatchUp::All`], at most this many missed times are run (the most recent ones). Default 10.
    pub catch_up_max: u32,
}

/// YAML `catch_up: none | last | all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Missed times are not run.
    None,
    /// One run for the most recent missed time.
    #[default]
    Last,
    /// One run per missed time, oldest first (at most `catch_up_max`).
    All,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WebhookTriggerPlan {
    /// Never `/api` nor under `/api/` (the daemon's own routes).
    pub path: String,
    /// Upper case: `GET`, `POST`, `PUT`, `PATCH` or `DELETE`. Default `POST`.
    pub method: String,
    /// `None`: no check, any caller that reaches the port may start a run.
    pub auth: Option<WebhookAuth>,
    /// Answer when the execution ends (up to `wait_timeout`) rather than as soon as it is accepted.
    pub wait: bool,
    /// Default 30s; meaningful only with `wait`.
    #[serde(serialize_with = "duration_text")]
    pub wait_timeout: Duration,
    /// `None`: no limit of this trigger's own.
    pub rate_limit: Option<RateLimit>,
    /// Largest accepted body in bytes; `None`: the daemon's global default.
    pub max_body_size: Option<u64>,
}

/// How a webhook caller proves it knows the secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WebhookAuth {
    pub scheme: WebhookAuthScheme,
    pub secret: WebhookSecret,
}

/// YAML `auth: hmac | bearer`; `hmac` when only `secret` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookAuthScheme {
    /// `X-Pilot-Timestamp` and `X-Pilot-Signature: sha256=<hex>` (HMAC-SHA256 of `TIMESTAMP.BODY`), as
    /// `notify/webhook` signs.
    Hmac,
    /// `Authorization: Bearer <secret>`.
    Bearer,
}

/// Where a webhook secret comes from. Read it when the trigger is armed; never log it. `Debug` and `Serialize`
/// leave a literal's text out.
#[derive(Clone, PartialEq, Eq)]
pub enum WebhookSecret {
    /// Written in clear in the file (`pilot check` warns, W0501).
    Literal(String),
    /// `${secrets.NAME}`: the stored credential's main secret (provider `hmac`: its `secret`).
    Credential(String),
    /// `${NAME}` or `${env('NAME')}`: the daemon's environment variable.
    Env(String),
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebhookSecret::Literal(_) => f.write_str("Literal(***)"),
            WebhookSecret::Credential(name) => f.debug_tuple("Credential").field(name).finish(),
            WebhookSecret::Env(name) => f.debug_tuple("Env").field(name).finish(),
        }
    }
}

impl serde::Serialize for WebhookSecret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        match self {
            WebhookSecret::Literal(_) => map.serialize_entry("from", "literal")?,
            WebhookSecret::Credential(name) => {
                map.serialize_entry("from", "credential")?;
                map.serialize_entry("name", name)?;
            }
            WebhookSecret::Env(name) => {
                map.serialize_entry("from", "env")?;
                map.serialize_entry("name", name)?;
            }
        }
        map.end()
    }
}

/// At most `requests` accepted requests per `per` (YAML `rate_limit: {requests: 10, per: 1m}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct RateLimit {
    pub requests: u32,
    #[serde(serialize_with = "duration_text")]
    pub per: Duration,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FileWatchTriggerPlan {
    pub path: String,
    /// A glob on the changed file's name.
    pub pattern: Option<String>,
    /// Which changes count; empty means all of them.
    pub events: Vec<FileEvent>,
    /// Watch the folders below `path` too. Default false.
    pub recursive: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileEvent {
    Create,
    Modify,
    Delete,
    Rename,
}

impl FileEvent {
    pub const ALL: [FileEvent; 4] = [FileEvent::Create, FileEvent::Modify, FileEvent::Delete, FileEvent::Rename];

    /// The YAML word (`create`, ...), also `trigger.event.kind` at run time.
    pub fn as_str(self) -> &'static str {
        match self {
            FileEvent::Create => "create",
            FileEvent::Modify => "modify",
            FileEvent::Delete => "delete",
            FileEvent::Rename => "rename",
        }
    }

    pub fn from_name(name: &str) -> Option<FileEvent> {
        FileEvent::ALL.into_iter().find(|event| event.as_str() == name)
    }
}

/// How many executions of the workflow may run at once (YAML top-level `concurrency:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ConcurrencyPlan {
    /// At least 1.
    pub limit: u32,
    pub policy: ConcurrencyPolicy,
}

/// What happens to a new execution when `limit` are already running. YAML `policy:`, default `queue`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcurrencyPolicy {
    /// It waits (as a pending execution) until one ends.
    #[default]
    Queue,
    /// It is not started.
    Skip,
    /// The oldest running one is cancelled, and the new one starts.
    CancelPrevious,
}

fn duration_text<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(duration)
}

#[derive(Debug, Clone)]
pub struct InputParam {
    pub name: String,
    pub ty: Type,
    pub default: Option<Value>,
    pub required: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SlotKind {
    Variable {
        name: String,
    },
    Input {
        name: String,
    },
    StepOutput {
        step: String,
    },
    /// The loop element / position of a looping step, or of a filter condition.
    LoopItem {
        step: String,
    },
    LoopIndex {
        step: String,
    },
    Trigger,
    Execution,
    Secret {
        name: String,
    },
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct SlotInfo {
    pub kind: SlotKind,
    #[serde(rename = "type")]
    pub ty: Type,
}

#[derive(Debug, Clone)]
pub struct VariableInit {
    pub slot: SlotRef,
    pub value: CompiledValue,
}

/// A YAML value with its templates compiled.
#[derive(Debug, Clone)]
pub enum CompiledValue {
    Constant(Value),
    Program(Program),
    List(Vec<CompiledValue>),
    Object(Vec<(String, CompiledValue)>),
    /// An `ItemCondition` input: evaluated by the action once per element, with the element in `item_slot`.
    Condition {
        program: Program,
        item_slot: SlotRef,
        index_slot: SlotRef,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeReason {
    /// The target reads the source's output.
    Data,
    /// The target says `needs:` the source.
    Needs,
    /// Both have effects whose order must follow the file (write after read/write, read after write).
    EffectOrder,
}

#[derive(Debug, Clone)]
pub struct PlanStep {
    pub id: String,
    /// Canonical action name (`notification/desktop` is stored as `notify/desktop`).
    pub action: String,
    pub effect: Effect,
    /// The step's `input:` as an object of compiled values.
    pub input: Vec<(String, CompiledValue)>,
    /// `output:` name, if any; the result is always in `output_slot`.
    pub output_name: Option<String>,
    pub output_slot: SlotRef,
    /// The type of what lands in `output_slot` (a list of per-item results for looping steps).
    pub output_type: Type,
    pub looping: Option<LoopPlan>,
    /// `if:`; when false the step is skipped and its output is null.
    pub condition: Option<Program>,
    pub retry: RetryPolicy,
    pub timeout: Option<Duration>,
    pub continue_on_error: bool,
    pub credential: Option<String>,
    /// What `pilot resume` does with this step when the execution was interrupted while it ran (its start is
    /// recorded, its end is not). YAML `resume: rerun | fail`, default `rerun`.
    pub on_resume: ResumePolicy,
    /// Direct predecessors after transitive reduction.
    pub predecessors: Vec<StepIndex>,
    /// 1-based line of the step's `id` in the source, for messages.
    pub line: u32,
}

/// Resumed executions are at-least-once: a step cut off mid-run may have had its effect already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResumePolicy {
    /// Run the step again (right for idempotent actions: copying, writing the same content, reading).
    #[default]
    Rerun,
    /// Fail the step (and so the execution) with "interrupted while running; not re-run (resume: fail)",
    /// for actions that must not happen twice (sending an email, a non-idempotent POST).
    Fail,
}

#[derive(Debug, Clone)]
pub struct LoopPlan {
    pub items: Program,
    pub item_slot: SlotRef,
    pub index_slot: SlotRef,
    /// Items run at most this many at once (default 1: in order).
    pub concurrency: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Total attempts including the first; 1 means no retry.
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub initial_delay: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    Fixed,
    Exponential,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 1, backoff: Backoff::Exponential, initial_delay: Duration(1_000_000) }
    }
}
