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

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TriggerPlan {
    Schedule { cron: String, timezone: Option<String> },
    Webhook { path: String, method: String, secret: Option<String> },
    FileWatch { path: String, pattern: Option<String>, events: Vec<String> },
    Manual,
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
