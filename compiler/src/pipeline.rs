//! The order of the passes. Each pass reports into one list and the next runs anyway, so a file's errors come
//! out together: ids -> actions -> inputs -> triggers -> names and types (variables, then steps in file order)
//! -> graph -> build.

use connectors::catalogue::Catalogue;
use expr_grammar::{SlotRef, Type};

use crate::build::{self, Parts};
use crate::diagnostic::{self, Diagnostic};
use crate::graph::{self, GraphInput};
use crate::model::{Step, Workflow};
use crate::plan::Plan;
use crate::typecheck::{self, BoundStep};
use crate::values::{Binder, CompileOptions, unknown_credential};
use crate::{actions, ids, inputs, preparse, triggers};

/// A compilation's full result: the plan (when there is no error), every diagnostic sorted by position, and
/// what `pilot compile --emit json` shows besides the plan.
#[derive(Debug)]
pub struct Compilation {
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
    /// For each step of the plan (main steps, then `on_failure`), each input's static type.
    pub input_types: Vec<Vec<(String, Type)>>,
}

pub fn compile_detailed(source: &str, file_name: &str, catalogue: &Catalogue, options: &CompileOptions) -> Compilation {
    let (model, mut diagnostics) = crate::front_end::parse_workflow(source);
    let (plan, input_types) = match &model {
        Some(workflow) => analyze(workflow, source, file_name, catalogue, options, &mut diagnostics),
        None => (None, Vec::new()),
    };
    diagnostic::sort_by_position(&mut diagnostics);
    let plan = plan.filter(|_| !diagnostic::has_errors(&diagnostics));
    Compilation { plan, diagnostics, input_types }
}

type Analysis = (Option<Plan>, Vec<Vec<(String, Type)>>);

fn analyze(
    workflow: &Workflow,
    source: &str,
    file_name: &str,
    catalogue: &Catalogue,
    options: &CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Analysis {
    let steps: Vec<&Step> = workflow.steps.iter().chain(&workflow.on_failure).collect();
    let names = ids::declare_names(workflow, diagnostics);
    let actions = actions::resolve_actions(&steps, catalogue, diagnostics);
    inputs::check_inputs(&steps, &actions, diagnostics);
    typecheck::check_input_defaults(workflow, diagnostics);
    check_credentials(&steps, options, diagnostics);

    let mut binder = Binder::new(names, options);
    binder.preparsed = preparse::preparse(workflow, &steps, &actions);
    binder.diagnostics = std::mem::take(diagnostics);
    let triggers = triggers::check_triggers(workflow, options, &mut binder.diagnostics);
    let variables = typecheck::bind_variables(&mut binder, workflow);
    let bound: Vec<BoundStep> = steps
        .iter()
        .enumerate()
        .map(|(index, step)| typecheck::bind_step(&mut binder, index, step, actions[index]))
        .collect();
    let needs = graph::resolve_needs(&steps, &binder.names, &mut binder.diagnostics);
    let effects = build::effects(&actions);
    let graph_inputs: Vec<GraphInput<'_>> = (0..workflow.steps.len())
        .map(|index| GraphInput { step: steps[index], effect: effects[index], bound: &bound[index] })
        .collect();
    let step_graph = graph::build(&graph_inputs, &needs, &binder.names, &mut binder.diagnostics);
    *diagnostics = std::mem::take(&mut binder.diagnostics);

    let input_types =
        bound.iter().map(|b| b.input_types.iter().map(|(n, t, _)| (n.clone(), t.clone())).collect()).collect();
    if diagnostic::has_errors(diagnostics) {
        return (None, input_types);
    }
    let Some(step_graph) = step_graph else { return (None, input_types) };
    let parts = Parts {
        workflow,
        source,
        file_name,
        names: binder.names,
        triggers,
        variables,
        actions,
        steps: bound,
        graph: step_graph,
    };
    (build::build_plan(parts), input_types)
}

/// A step's `credential:` should name a stored credential, when the caller says which exist.
fn check_credentials(steps: &[&Step], options: &CompileOptions, diagnostics: &mut Vec<Diagnostic>) {
    let Some(known) = options.known_credentials.stored() else { return };
    for step in steps {
        let Some(credential) = &step.credential else { continue };
        if known.contains(&credential.value) {
            continue;
        }
        let label = format!("step `{}` fails unless it is added", step.id.value);
        diagnostics.push(unknown_credential(&credential.value, credential.span, known, &label));
    }
}

/// Slot of a plan, named as a user would write it: `steps.ID.output`, `inputs.NAME`, `secrets.NAME`, ...
pub fn slot_name(plan: &Plan, slot: SlotRef) -> String {
    use crate::plan::SlotKind;
    match plan.slots.get(slot.0 as usize).map(|info| &info.kind) {
        Some(SlotKind::Variable { name }) => name.clone(),
        Some(SlotKind::Input { name }) => format!("inputs.{name}"),
        Some(SlotKind::StepOutput { step }) => format!("steps.{step}.output"),
        Some(SlotKind::LoopItem { step }) => format!("steps.{step}.item"),
        Some(SlotKind::LoopIndex { step }) => format!("steps.{step}.index"),
        Some(SlotKind::Trigger) => "trigger".into(),
        Some(SlotKind::Execution) => "execution".into(),
        Some(SlotKind::Secret { name }) => format!("secrets.{name}"),
        None => format!("slot {}", slot.0),
    }
}
