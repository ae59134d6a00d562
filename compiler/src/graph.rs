//! The `graph` pass: resolves `needs:`, collects each main step's dependencies (the step results it reads and
//! the steps it needs) and builds the DAG ([`crate::dag`]), reporting every dependency cycle.

use std::collections::BTreeSet;

use connectors::Effect;

use crate::codes;
use crate::dag::{self, Cycle, StepDeps, StepGraph};
use crate::diagnostic::Diagnostic;
use crate::model::Step;
use crate::scope::{Names, StepPhase};
use crate::typecheck::BoundStep;

/// One main step as the graph pass sees it.
pub struct GraphInput<'a> {
    pub step: &'a Step,
    pub effect: Effect,
    pub bound: &'a BoundStep,
}

/// Resolves every step's `needs:` (main and `on_failure`), reporting unknown ids. Returns, for each step of
/// [`Names::steps`], the indices it needs.
pub fn resolve_needs(steps: &[&Step], names: &Names, diagnostics: &mut Vec<Diagnostic>) -> Vec<BTreeSet<usize>> {
    steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let phase = names.steps[index].phase;
            step.needs.iter().filter_map(|need| resolve_need(step, phase, need, names, diagnostics)).collect()
        })
        .collect()
}

fn resolve_need(
    step: &Step,
    phase: StepPhase,
    need: &crate::model::Spanned<String>,
    names: &Names,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let Some((target, target_name)) = names.step(&need.value) else {
        diagnostics.push(
            Diagnostic::error(codes::UNKNOWN_STEP, format!("no step named `{}`", need.value), need.span)
                .with_label(format!("in the `needs:` of step `{}`", step.id.value))
                .with_suggestion(&need.value, names.steps.iter().map(|s| s.id.as_str())),
        );
        return None;
    };
    match (phase, target_name.phase) {
        (StepPhase::Main(_), StepPhase::OnFailure(_)) => {
            diagnostics.push(
                Diagnostic::error(
                    codes::UNKNOWN_STEP,
                    format!("`{}` is an `on_failure` step: it runs only when the execution fails", need.value),
                    need.span,
                )
                .with_hint("a main step can need only main steps"),
            );
            None
        }
        _ => Some(target),
    }
}

/// The most main steps a workflow may have: scheduling keeps a bit set of ancestors per step (V * V / 8 bytes,
/// 12.5 MB at this limit), so a huge generated file cannot exhaust memory.
pub const MAX_STEPS: usize = 10_000;

/// The DAG of the main steps. `needs[i]` are step `i`'s resolved `needs:` (indices of [`Names::steps`], which
/// start with the main steps in order).
pub fn build(
    inputs: &[GraphInput<'_>],
    needs: &[BTreeSet<usize>],
    names: &Names,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<StepGraph> {
    if let Some(first_extra) = inputs.get(MAX_STEPS) {
        diagnostics.push(
            Diagnostic::error(
                codes::TOO_MANY_STEPS,
                format!("the workflow has {} steps; at most {MAX_STEPS} are allowed", inputs.len()),
                first_extra.step.id.span,
            )
            .with_label(format!("step {} of the workflow", MAX_STEPS + 1))
            .with_hint("split it into several workflows"),
        );
        return None;
    }
    let deps: Vec<StepDeps> = inputs
        .iter()
        .enumerate()
        .map(|(index, input)| StepDeps {
            effect: input.effect,
            data: input
                .bound
                .reads
                .iter()
                .filter_map(|&slot| names.step_of_slot(slot))
                .filter(|&step| step < inputs.len() && step != index)
                .collect(),
            needs: needs
                .get(index)
                .map(|set| set.iter().copied().filter(|&s| s < inputs.len()).collect())
                .unwrap_or_default(),
        })
        .collect();
    match dag::build_graph(&deps) {
        Ok(graph) => Some(graph),
        Err(cycles) => {
            diagnostics.extend(cycles.iter().map(|cycle| cycle_diagnostic(cycle, inputs)));
            None
        }
    }
}

fn cycle_diagnostic(cycle: &Cycle, inputs: &[GraphInput<'_>]) -> Diagnostic {
    let ids: Vec<&str> = cycle.0.iter().map(|&i| inputs[i].step.id.value.as_str()).collect();
    let first = inputs[cycle.0[0]].step;
    let path = ids.iter().chain(ids.first()).map(|id| format!("`{id}`")).collect::<Vec<_>>().join(" -> ");
    let message = if ids.len() == 1 {
        format!("step `{}` depends on itself", ids[0])
    } else {
        format!("dependency cycle: {path}")
    };
    let mut diagnostic = Diagnostic::error(codes::DEPENDENCY_CYCLE, message, first.id.span)
        .with_label("this step waits for itself through the cycle")
        .with_hint("remove one of the `needs:` (or the read of an output) so the steps can run in some order");
    for &index in &cycle.0[1..] {
        let step = inputs[index].step;
        diagnostic = diagnostic.with_secondary(step.id.span, format!("`{}` is in the cycle", step.id.value));
    }
    diagnostic
}
