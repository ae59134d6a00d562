//! The `graph` pass: resolves `needs:`, collects each main step's dependencies (the step results it reads and
//! the steps it needs) and builds the DAG ([`crate::dag`]), reporting every dependency cycle.

use std::collections::BTreeSet;

use connectors::Effect;
use expr_grammar::Span;

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

/// A cycle, underlined where the file makes each of its edges: the `needs:` entry, or the id of the step that
/// reads an earlier one's result. The primary label is the edge into the cycle's first step.
fn cycle_diagnostic(cycle: &Cycle, inputs: &[GraphInput<'_>]) -> Diagnostic {
    let ids: Vec<&str> = cycle.0.iter().map(|&i| inputs[i].step.id.value.as_str()).collect();
    // Edge `from -> to`: `to` waits for `from`. The edge into the first step comes from the last one.
    let edges: Vec<(usize, usize)> =
        (0..cycle.0.len()).map(|k| (cycle.0[(k + cycle.0.len() - 1) % cycle.0.len()], cycle.0[k])).collect();
    let labels: Vec<(Span, String)> =
        edges.iter().map(|&(from, to)| edge_label(inputs[from].step, inputs[to].step)).collect();
    if let [(span, _)] = labels.as_slice() {
        let id = ids[0];
        return Diagnostic::error(codes::DEPENDENCY_CYCLE, format!("step `{id}` needs itself"), *span)
            .with_label("a step cannot wait for itself")
            .with_hint(format!("remove `{id}` from its own `needs:`"));
    }
    let path = ids.iter().chain(ids.first()).map(|id| format!("`{id}`")).collect::<Vec<_>>().join(" -> ");
    let mut labels = labels.into_iter();
    let (span, label) = labels.next().expect("a cycle has an edge");
    let mut diagnostic = Diagnostic::error(codes::DEPENDENCY_CYCLE, format!("dependency cycle: {path}"), span)
        .with_label(label)
        .with_hint("remove one of the `needs:` (or the read of an output) so the steps can run in some order");
    for (span, label) in labels {
        diagnostic = diagnostic.with_secondary(span, label);
    }
    diagnostic
}

/// Where `to` comes to wait for `from`: its `needs:` entry naming `from`, else (it reads `from`'s result) its id.
fn edge_label(from: &Step, to: &Step) -> (Span, String) {
    match to.needs.iter().find(|need| need.value == from.id.value) {
        Some(need) => (need.span, format!("`{}` needs `{}`", to.id.value, from.id.value)),
        None => (to.id.span, format!("`{}` reads the result of `{}`", to.id.value, from.id.value)),
    }
}
