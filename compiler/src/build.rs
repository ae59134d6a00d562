//! Assembling the [`Plan`] from what the passes produced. Runs only when no pass reported an error.

use connectors::{ActionDefinition, Effect};

use crate::dag::StepGraph;
use crate::model::{Spanned, Step, Workflow};
use crate::plan::{ConcurrencyPlan, InputParam, Plan, PlanStep, RetryPolicy, TriggerPlan, VariableInit, WorkflowInfo};
use crate::render::LineIndex;
use crate::scope::Names;
use crate::typecheck::BoundStep;
use crate::values::{Bound, default_value};

/// Everything the passes produced, in [`Names::steps`] order (main steps, then `on_failure`).
pub struct Parts<'a> {
    pub workflow: &'a Workflow,
    pub source: &'a str,
    pub file_name: &'a str,
    pub names: Names,
    pub triggers: Vec<TriggerPlan>,
    pub variables: Vec<Option<Bound>>,
    pub actions: Vec<Option<&'a ActionDefinition>>,
    pub steps: Vec<BoundStep>,
    pub graph: StepGraph,
}

/// `None` if a part is missing, which the passes only allow after reporting an error.
pub fn build_plan(parts: Parts<'_>) -> Option<Plan> {
    let workflow = parts.workflow;
    let main_count = workflow.steps.len();
    let variables = parts
        .variables
        .into_iter()
        .zip(&parts.names.variables)
        .map(|(bound, name)| Some(VariableInit { slot: name.slot, value: bound?.value }))
        .collect::<Option<Vec<_>>>()?;
    let model_steps = workflow.steps.iter().chain(&workflow.on_failure);
    let lines = LineIndex::new(parts.source);
    let mut steps = Vec::with_capacity(parts.steps.len());
    for (index, (step, bound)) in model_steps.zip(parts.steps).enumerate() {
        let definition = parts.actions.get(index).copied().flatten()?;
        let predecessors = parts.graph.predecessors.get(index).cloned().unwrap_or_default();
        let line = lines.position(step.id.span.start as usize).line as u32;
        steps.push(plan_step(step, definition, bound, &parts.names, index, predecessors, line));
    }
    let on_failure = steps.split_off(main_count);
    Some(Plan {
        workflow: WorkflowInfo {
            name: workflow.name.as_ref().map_or_else(|| file_stem(parts.file_name), |n| n.value.clone()),
            description: text_of(&workflow.description),
            version: text_of(&workflow.version),
        },
        triggers: parts.triggers,
        concurrency: workflow.concurrency.as_ref().map(|concurrency| ConcurrencyPlan {
            limit: concurrency.limit.value,
            policy: concurrency.policy.as_ref().map(|p| p.value).unwrap_or_default(),
        }),
        inputs: input_params(workflow),
        slots: parts.names.slots,
        variables,
        steps,
        graph: parts.graph.graph,
        levels: parts.graph.levels,
        on_failure,
    })
}

/// A workflow without `name:` is named after its file.
fn file_stem(file_name: &str) -> String {
    let path = std::path::Path::new(file_name);
    path.file_stem().map_or_else(|| file_name.to_string(), |stem| stem.to_string_lossy().into_owned())
}

fn text_of(field: &Option<Spanned<String>>) -> Option<String> {
    field.as_ref().map(|f| f.value.clone())
}

fn plan_step(
    step: &Step,
    definition: &ActionDefinition,
    bound: BoundStep,
    names: &Names,
    index: usize,
    predecessors: Vec<usize>,
    line: u32,
) -> PlanStep {
    let retry = match &step.retry {
        None => RetryPolicy::default(),
        Some(retry) => {
            let default = RetryPolicy::default();
            RetryPolicy {
                max_attempts: retry.max_attempts.as_ref().map_or(3, |m| m.value),
                backoff: retry.backoff.as_ref().map_or(default.backoff, |b| b.value),
                initial_delay: retry.initial_delay.as_ref().map_or(default.initial_delay, |d| d.value),
            }
        }
    };
    PlanStep {
        id: step.id.value.clone(),
        action: definition.name.clone(),
        effect: definition.effect,
        input: bound.input,
        output_name: step.output.as_ref().map(|o| o.value.clone()),
        output_slot: names.steps[index].slot,
        output_type: bound.output_type,
        looping: bound.looping,
        condition: bound.condition,
        retry,
        timeout: step.timeout.as_ref().map(|t| t.value),
        continue_on_error: step.continue_on_error.as_ref().is_some_and(|c| c.value),
        credential: step.credential.as_ref().map(|c| c.value.clone()),
        on_resume: step.resume.as_ref().map(|r| r.value).unwrap_or_default(),
        predecessors,
        line,
    }
}

fn input_params(workflow: &Workflow) -> Vec<InputParam> {
    let Some(inputs) = &workflow.inputs else { return Vec::new() };
    inputs
        .iter()
        .map(|entry| {
            let param = &entry.value;
            let ty = param.ty.value.to_type();
            let default = param.default.as_ref().map(|d| default_value(&d.value, &ty));
            InputParam {
                name: entry.key.value.clone(),
                ty,
                required: param.required.as_ref().map_or(default.is_none(), |r| r.value),
                default,
                description: text_of(&param.description),
            }
        })
        .collect()
}

/// The effect of each step's action; a step whose action is unknown counts as a write (the safe order).
pub fn effects(actions: &[Option<&ActionDefinition>]) -> Vec<Effect> {
    actions.iter().map(|a| a.map_or(Effect::Write, |d| d.effect)).collect()
}
