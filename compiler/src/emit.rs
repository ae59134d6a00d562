//! Showing a compiled plan: Graphviz dot (`pilot compile --emit dot`) and JSON (`--emit json`).
//! Secrets never appear: slots are shown by name, constants only as "constant", webhook secrets as set or not.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use expr_grammar::{SlotRef, Type};
use serde_json::{Value as Json, json};

use crate::pipeline::slot_name;
use crate::plan::{CompiledValue, EdgeReason, Plan, PlanStep, TriggerPlan};

/// The DAG in Graphviz dot: one box per step (id and action), edges styled by reason (data: solid, needs:
/// dashed, effect order: dotted), steps of one level on one rank.
pub fn to_dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&plan.workflow.name));
    out.push_str("  rankdir=TB;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (level, steps) in plan.levels.iter().enumerate() {
        let _ = write!(out, "  subgraph level_{level} {{ rank=same;");
        for &index in steps {
            let _ = write!(out, " {};", quote(&plan.steps[index].id));
        }
        out.push_str(" }\n");
    }
    for step in &plan.steps {
        let label = format!("{}\n{}", step.id, step.action);
        let _ = writeln!(out, "  {} [label={}];", quote(&step.id), quote(&label));
    }
    for edge in plan.graph.edge_indices() {
        let Some((from, to)) = plan.graph.edge_endpoints(edge) else { continue };
        let (style, label) = match plan.graph[edge] {
            EdgeReason::Data => ("solid", "data"),
            EdgeReason::Needs => ("dashed", "needs"),
            EdgeReason::EffectOrder => ("dotted", "effect order"),
        };
        let _ = writeln!(
            out,
            "  {} -> {} [style={style}, label={}];",
            quote(&plan.steps[from.index()].id),
            quote(&plan.steps[to.index()].id),
            quote(label)
        );
    }
    out.push_str("}\n");
    out
}

/// A dot string literal.
fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// The plan as JSON: nodes with their inputs' bindings, edges with reasons, levels and the slot table.
/// `input_types[i]` are step `i`'s input types (main steps, then `on_failure`), from the compilation.
pub fn to_json(plan: &Plan, input_types: &[Vec<(String, Type)>]) -> Json {
    let mut level_of = vec![0usize; plan.steps.len()];
    for (level, steps) in plan.levels.iter().enumerate() {
        for &index in steps {
            level_of[index] = level;
        }
    }
    let types = |index: usize| input_types.get(index).map_or(&[][..], Vec::as_slice);
    let nodes: Vec<Json> =
        plan.steps.iter().enumerate().map(|(i, step)| node_json(plan, step, Some(level_of[i]), types(i))).collect();
    let failure_offset = plan.steps.len();
    let on_failure: Vec<Json> = plan
        .on_failure
        .iter()
        .enumerate()
        .map(|(i, step)| node_json(plan, step, None, types(failure_offset + i)))
        .collect();
    let edges: Vec<Json> = plan
        .graph
        .edge_indices()
        .filter_map(|edge| {
            let (from, to) = plan.graph.edge_endpoints(edge)?;
            Some(json!({
                "from": plan.steps[from.index()].id,
                "to": plan.steps[to.index()].id,
                "reason": plan.graph[edge],
            }))
        })
        .collect();
    let levels: Vec<Vec<&str>> =
        plan.levels.iter().map(|steps| steps.iter().map(|&i| plan.steps[i].id.as_str()).collect()).collect();
    let slots: Vec<Json> = (0..plan.slots.len())
        .map(|i| {
            let slot = SlotRef(i as u32);
            json!({ "slot": i, "name": slot_name(plan, slot), "type": plan.slots[i].ty.to_string() })
        })
        .collect();
    json!({
        "workflow": plan.workflow,
        "triggers": plan.triggers.iter().map(trigger_json).collect::<Vec<_>>(),
        "concurrency": plan.concurrency,
        "nodes": nodes,
        "on_failure": on_failure,
        "edges": edges,
        "levels": levels,
        "slots": slots,
    })
}

/// A trigger with its defaults; a literal webhook secret's text is left out (see [`crate::WebhookSecret`]).
fn trigger_json(trigger: &TriggerPlan) -> Json {
    serde_json::to_value(trigger).unwrap_or(Json::Null)
}

fn node_json(plan: &Plan, step: &PlanStep, level: Option<usize>, input_types: &[(String, Type)]) -> Json {
    let inputs: serde_json::Map<String, Json> = step
        .input
        .iter()
        .map(|(name, value)| {
            let ty = input_types.iter().find(|(n, _)| n == name).map(|(_, t)| t.to_string());
            let binding = json!({
                "reads": reads_of(plan, value),
                "type": ty,
                "constant": matches!(value, CompiledValue::Constant(_)),
            });
            (name.clone(), binding)
        })
        .collect();
    let mut node = json!({
        "id": step.id,
        "action": step.action,
        "effect": step.effect,
        "level": level,
        "line": step.line,
        "output_type": step.output_type.to_string(),
        "output_slot": step.output_slot.0,
        "inputs": inputs,
        "predecessors": step.predecessors.iter().map(|&i| plan.steps[i].id.as_str()).collect::<Vec<_>>(),
    });
    if let Some(looping) = &step.looping {
        node["loop"] = json!({
            "reads": names(plan, looping.items.slots()),
            "concurrency": looping.concurrency,
            "item_slot": looping.item_slot.0,
        });
    }
    if let Some(condition) = &step.condition {
        node["if"] = json!({ "reads": names(plan, condition.slots()) });
    }
    node
}

fn names(plan: &Plan, slots: impl IntoIterator<Item = SlotRef>) -> Vec<String> {
    let unique: BTreeSet<SlotRef> = slots.into_iter().collect();
    unique.into_iter().map(|slot| slot_name(plan, slot)).collect()
}

/// Every slot a compiled value reads (an item condition's own item and index excluded).
pub fn value_slots(value: &CompiledValue, out: &mut BTreeSet<SlotRef>) {
    match value {
        CompiledValue::Constant(_) => {}
        CompiledValue::Program(program) => out.extend(program.slots()),
        CompiledValue::List(items) => items.iter().for_each(|item| value_slots(item, out)),
        CompiledValue::Object(fields) => fields.iter().for_each(|(_, field)| value_slots(field, out)),
        CompiledValue::Condition { program, item_slot, index_slot } => {
            out.extend(program.slots().into_iter().filter(|slot| slot != item_slot && slot != index_slot));
        }
    }
}

fn reads_of(plan: &Plan, value: &CompiledValue) -> Vec<String> {
    let mut slots = BTreeSet::new();
    value_slots(value, &mut slots);
    names(plan, slots)
}
