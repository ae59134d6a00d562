//! A best-effort graph of a workflow for the visual editor: its triggers and steps as nodes, each pointing at
//! its text in the file, and the edges between them.
//!
//! Unlike [`crate::compile`], the outline does not stop at errors: as long as the text parses into a mapping,
//! every step with an id is a node, `needs:` edges are drawn as written, and references to other steps' results
//! are found leniently (a name that is no step is skipped). Only effect-order edges need the workflow to compile.
//! The outline carries no diagnostics; `pilot check` (or [`crate::compile`]) gives them.
//!
//! Architecture invariant: [`outline`] never panics, on any text.

use std::collections::{BTreeMap, HashMap, HashSet};

use connectors::catalogue::{Catalogue, canonical_name};
use connectors::{ActionDefinition, InputKind};
use expr_grammar::Span;
use petgraph::visit::EdgeRef;

use crate::expressions::{self, TextForm};
use crate::model::{Spanned, Step, Text, Trigger, Workflow, YamlValue};
use crate::plan::EdgeReason;
use crate::render::LineIndex;

/// The graph of one workflow file.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outline {
    /// Triggers (in file order), then main steps, then `on_failure` steps.
    pub nodes: Vec<OutlineNode>,
    /// Trigger edges, then for each step in file order its `needs`, `data` and `effect` edges in.
    pub edges: Vec<OutlineEdge>,
    /// Whether the workflow compiled without error; only then are `effect` edges known.
    pub compiled: bool,
}

/// A 1-based line and column; columns count characters, as `pilot check --format json` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourcePosition {
    pub line: usize,
    pub column: usize,
}

/// Where a node or edge is written: `end` is the position just after the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SourceRange {
    pub start: SourcePosition,
    pub end: SourcePosition,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Trigger,
    /// A step with `loop:` (with or without `if:`).
    Loop,
    /// A step with `if:` and no `loop:`.
    Condition,
    /// Any other step.
    Action,
}

/// A trigger or a step. Fields that do not apply to the node are null (empty for `inputs`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutlineNode {
    pub kind: NodeKind,
    /// Unique among the nodes: `trigger:INDEX` for a trigger; a step's id (a repeated id, an error in the file,
    /// gets `#2`, `#3`... after it).
    pub id: String,
    /// Position in `triggers:`, `steps:` or `on_failure:`, from 0.
    pub index: usize,
    /// The whole trigger or step mapping.
    pub range: SourceRange,
    /// A trigger's type: `schedule`, `webhook`, `file_watch`, `manual`.
    #[serde(rename = "type")]
    pub trigger_type: Option<String>,
    /// A trigger in one line: the cron (and zone), `POST /path`, the watched path (and pattern).
    pub summary: Option<String>,
    /// A step's action as written.
    pub action: Option<String>,
    /// The part of the action before `/` (`notification/*` counts as `notify`); null for core actions.
    pub connector: Option<String>,
    /// A step's `if:` text.
    pub condition: Option<String>,
    /// A step's `loop:` items text.
    #[serde(rename = "loop")]
    pub loop_items: Option<String>,
    /// A step's `output:` name.
    pub output: Option<String>,
    /// A step's `input:` keys, in file order.
    pub inputs: Vec<String>,
    /// Whether the step is an `on_failure` one.
    pub on_failure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OutlineEdgeReason {
    /// A trigger starts a main step that waits for no other.
    Trigger,
    /// The target's `needs:` names the source.
    Needs,
    /// The target reads the source's result.
    Data,
    /// The source's effect must come first (file order of writes and reads).
    Effect,
}

/// `from -> to`: `to` runs after `from` (or, for a trigger edge, `from` starts `to`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OutlineEdge {
    pub from: String,
    pub to: String,
    pub reason: OutlineEdgeReason,
    /// The target's `if:` text when it is a condition step; else what makes the edge: `needs`, the references
    /// read (`files, steps.fetch.output`), `effect order`, or the trigger's type.
    pub label: String,
    /// Whether editing the edge means editing a `needs:` entry (true exactly for `needs` edges).
    pub editable: bool,
    /// The `needs:` entry, or the first reference read; null for trigger and effect edges.
    pub range: Option<SourceRange>,
}

/// The outline of a workflow file's text. Empty when the text is not a YAML (or JSON) mapping.
pub fn outline(source: &str, catalogue: &Catalogue) -> Outline {
    let (workflow, _) = crate::front_end::parse_workflow(source);
    let Some(workflow) = workflow else { return Outline::default() };
    let lines = LineIndex::new(source);
    let range = |span: Span| SourceRange {
        start: position(&lines, span.start as usize),
        end: position(&lines, span.end as usize),
    };
    let mut nodes: Vec<OutlineNode> = workflow
        .triggers
        .iter()
        .enumerate()
        .map(|(index, trigger)| trigger_node(trigger, index, range(trigger.span)))
        .collect();
    let steps = StepNodes::new(&workflow);
    nodes.extend((0..steps.all.len()).map(|position| step_node(&steps, position, range(steps.all[position].span))));
    let mut inbound: Vec<Vec<OutlineEdge>> = vec![Vec::new(); steps.all.len()];
    for (position, step) in steps.all.iter().enumerate() {
        inbound[position].extend(needs_edges(step, position, &steps, &range));
        inbound[position].extend(data_edges(step, position, &steps, catalogue, &range));
    }
    let compiled = add_effect_edges(source, catalogue, &steps, &mut inbound);
    for (step, edges) in steps.all.iter().zip(&mut inbound) {
        if let Some(condition) = condition_label(step) {
            edges.iter_mut().for_each(|edge| edge.label = condition.to_string());
        }
    }
    let mut edges = trigger_edges(&workflow, &nodes, &steps, &inbound);
    edges.extend(inbound.into_iter().flatten());
    Outline { nodes, edges, compiled }
}

fn position(lines: &LineIndex<'_>, offset: usize) -> SourcePosition {
    let at = lines.position(offset);
    SourcePosition { line: at.line, column: at.column }
}

/// Every step (main, then `on_failure`) with its unique node id, and how names find them.
struct StepNodes<'w> {
    all: Vec<&'w Step>,
    main_count: usize,
    node_ids: Vec<String>,
    /// Step id and output name -> position in `all` of the first step declaring it.
    by_name: HashMap<&'w str, usize>,
}

impl<'w> StepNodes<'w> {
    fn new(workflow: &'w Workflow) -> StepNodes<'w> {
        let all: Vec<&Step> = workflow.steps.iter().chain(&workflow.on_failure).collect();
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let node_ids = all
            .iter()
            .map(|step| {
                let count = seen.entry(step.id.value.as_str()).or_insert(0);
                *count += 1;
                if *count == 1 { step.id.value.clone() } else { format!("{}#{count}", step.id.value) }
            })
            .collect();
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for (position, step) in all.iter().enumerate() {
            by_name.entry(step.id.value.as_str()).or_insert(position);
        }
        for (position, step) in all.iter().enumerate() {
            if let Some(output) = &step.output {
                by_name.entry(output.value.as_str()).or_insert(position);
            }
        }
        StepNodes { all, main_count: workflow.steps.len(), node_ids, by_name }
    }

    fn on_failure(&self, position: usize) -> bool {
        position >= self.main_count
    }

    fn index_in_list(&self, position: usize) -> usize {
        if self.on_failure(position) { position - self.main_count } else { position }
    }

    /// The step a name path reads: `steps.ID...`, `ID...` or an output name.
    fn step_read_by(&self, path: &[&str]) -> Option<usize> {
        match path {
            ["steps", id, ..] => self.by_name.get(id).copied().filter(|&p| self.all[p].id.value == *id),
            [name, ..] => self.by_name.get(name).copied(),
            [] => None,
        }
    }
}

fn trigger_node(trigger: &Spanned<Trigger>, index: usize, range: SourceRange) -> OutlineNode {
    let summary = match &trigger.value {
        Trigger::Schedule(schedule) => match &schedule.timezone {
            Some(zone) => format!("{} ({})", schedule.cron.value, zone.value),
            None => schedule.cron.value.clone(),
        },
        Trigger::Webhook(webhook) => {
            let method = webhook.method.as_ref().map_or("POST", |m| m.value.as_str());
            format!("{method} {}", webhook.path.value)
        }
        Trigger::FileWatch(watch) => match &watch.pattern {
            Some(pattern) => format!("{} ({})", watch.path.value, pattern.value),
            None => watch.path.value.clone(),
        },
        Trigger::Manual(_) => "started by hand".to_string(),
    };
    OutlineNode {
        kind: NodeKind::Trigger,
        id: format!("trigger:{index}"),
        index,
        range,
        trigger_type: Some(trigger.value.kind().as_str().to_string()),
        summary: Some(summary),
        action: None,
        connector: None,
        condition: None,
        loop_items: None,
        output: None,
        inputs: Vec::new(),
        on_failure: false,
    }
}

fn step_node(steps: &StepNodes<'_>, position: usize, range: SourceRange) -> OutlineNode {
    let step = steps.all[position];
    let kind = match (&step.looping, &step.condition) {
        (Some(_), _) => NodeKind::Loop,
        (None, Some(_)) => NodeKind::Condition,
        (None, None) => NodeKind::Action,
    };
    let action = step.action.as_ref().map(|a| a.value.clone());
    let connector = action.as_deref().and_then(|a| canonical_name(a).split_once('/').map(|(c, _)| c.to_string()));
    OutlineNode {
        kind,
        id: steps.node_ids[position].clone(),
        index: steps.index_in_list(position),
        range,
        trigger_type: None,
        summary: None,
        action,
        connector,
        condition: step.condition.as_ref().map(|c| c.value.clone()),
        loop_items: step.looping.as_ref().map(|l| l.items.value.clone()),
        output: step.output.as_ref().map(|o| o.value.clone()),
        inputs: step.input.iter().flat_map(|input| input.iter().map(|e| e.key.value.clone())).collect(),
        on_failure: steps.on_failure(position),
    }
}

/// The `if:` text of a condition step (one with `if:` and no `loop:`): it labels every edge into the step.
fn condition_label(step: &Step) -> Option<&str> {
    step.condition.as_ref().filter(|_| step.looping.is_none()).map(|condition| condition.value.as_str())
}

/// `needs:` as written; an entry naming no step is left out (the compiler reports it).
fn needs_edges(
    step: &Step,
    position: usize,
    steps: &StepNodes<'_>,
    range: &impl Fn(Span) -> SourceRange,
) -> Vec<OutlineEdge> {
    step.needs
        .iter()
        .filter_map(|need| {
            let from = *steps.by_name.get(need.value.as_str()).filter(|&&p| steps.all[p].id.value == need.value)?;
            Some(OutlineEdge {
                from: steps.node_ids[from].clone(),
                to: steps.node_ids[position].clone(),
                reason: OutlineEdgeReason::Needs,
                label: "needs".to_string(),
                editable: true,
                range: Some(range(need.span)),
            })
        })
        .collect()
}

/// One edge per step whose result this step reads (in `input:`, `if:` or `loop:`), labelled with the
/// references, in the order first read.
fn data_edges(
    step: &Step,
    position: usize,
    steps: &StepNodes<'_>,
    catalogue: &Catalogue,
    range: &impl Fn(Span) -> SourceRange,
) -> Vec<OutlineEdge> {
    let mut reads: Vec<(usize, String, Span)> = Vec::new();
    for (text, form) in step_texts(step, catalogue.lookup(step.action.as_ref().map_or("", |a| a.value.as_str())).ok()) {
        if form == TextForm::Template && !text.value.contains("${") {
            continue;
        }
        let Ok(parsed) = expressions::parse_source(text, form) else { continue };
        for path in expressions::name_paths(&parsed) {
            let names: Vec<&str> = path.iter().map(|ident| ident.name.as_str()).collect();
            let Some(from) = steps.step_read_by(&names).filter(|&from| from != position) else { continue };
            let (first, last) = (path[0].span, path[path.len() - 1].span);
            let span = text.file_span(Span::new(first.start as usize, last.end as usize));
            reads.push((from, reference_text(&names, &steps.all[from].id.value), span));
        }
    }
    let mut by_source: BTreeMap<usize, (Vec<String>, Span, usize)> = BTreeMap::new();
    for (order, (from, reference, span)) in reads.into_iter().enumerate() {
        let entry = by_source.entry(from).or_insert((Vec::new(), span, order));
        if !entry.0.contains(&reference) {
            entry.0.push(reference);
        }
    }
    let mut edges: Vec<(usize, OutlineEdge)> = by_source
        .into_iter()
        .map(|(from, (references, span, order))| {
            let edge = OutlineEdge {
                from: steps.node_ids[from].clone(),
                to: steps.node_ids[position].clone(),
                reason: OutlineEdgeReason::Data,
                label: references.join(", "),
                editable: false,
                range: Some(range(span)),
            };
            (order, edge)
        })
        .collect();
    edges.sort_by_key(|(order, _)| *order);
    edges.into_iter().map(|(_, edge)| edge).collect()
}

/// The reference as the file names the step: `steps.ID.output`, `ID` or the output name (fields after it left
/// out, so `files[0].name` and `files` are one reference).
fn reference_text(path: &[&str], id: &str) -> String {
    match path {
        ["steps", ..] => format!("steps.{id}.output"),
        [name, ..] => name.to_string(),
        [] => String::new(),
    }
}

/// The strings of a step that may read other steps, and how each is parsed.
fn step_texts<'s>(step: &'s Step, definition: Option<&ActionDefinition>) -> Vec<(&'s Text, TextForm)> {
    let mut texts = Vec::new();
    if let Some(condition) = &step.condition {
        texts.push((condition, TextForm::Expression));
    }
    if let Some(looping) = &step.looping {
        texts.push((&looping.items, TextForm::Template));
    }
    for entry in step.input.iter().flat_map(|input| input.iter()) {
        let is_condition = definition.is_some_and(|d| {
            d.inputs.iter().any(|f| f.name == entry.key.value && matches!(f.kind, InputKind::ItemCondition { .. }))
        });
        match (&entry.value.value, is_condition) {
            (YamlValue::String(text), true) => texts.push((text, TextForm::Expression)),
            (value, _) => collect_strings(value, &mut texts),
        }
    }
    texts
}

/// Every string inside a YAML value. Nesting is bounded by the front end's depth limit.
fn collect_strings<'s>(value: &'s YamlValue, out: &mut Vec<(&'s Text, TextForm)>) {
    match value {
        YamlValue::String(text) => out.push((text, TextForm::Template)),
        YamlValue::List(items) => items.iter().for_each(|item| collect_strings(&item.value, out)),
        YamlValue::Map(mapping) => mapping.iter().for_each(|entry| collect_strings(&entry.value.value, out)),
        YamlValue::Null | YamlValue::Bool(_) | YamlValue::Int(_) | YamlValue::Float(_) => {}
    }
}

/// Adds the plan's effect-order edges when the workflow compiles; returns whether it did. The plan's graph is
/// transitively reduced: an effect order already implied by other edges (a chain of data or `needs` edges) is
/// not drawn again.
fn add_effect_edges(
    source: &str,
    catalogue: &Catalogue,
    steps: &StepNodes<'_>,
    inbound: &mut [Vec<OutlineEdge>],
) -> bool {
    let (Some(plan), _) = crate::compile(source, "outline", catalogue) else { return false };
    for edge in plan.graph.edge_references() {
        if *edge.weight() != EdgeReason::EffectOrder {
            continue;
        }
        let (from, to) = (plan.graph[edge.source()], plan.graph[edge.target()]);
        // Plan steps are the main steps in file order: the same positions as the outline's.
        if from >= steps.main_count || to >= steps.main_count {
            continue;
        }
        inbound[to].push(OutlineEdge {
            from: steps.node_ids[from].clone(),
            to: steps.node_ids[to].clone(),
            reason: OutlineEdgeReason::Effect,
            label: "effect order".to_string(),
            editable: false,
            range: None,
        });
    }
    true
}

/// Each trigger to each main step that waits for no other main step.
fn trigger_edges(
    workflow: &Workflow,
    nodes: &[OutlineNode],
    steps: &StepNodes<'_>,
    inbound: &[Vec<OutlineEdge>],
) -> Vec<OutlineEdge> {
    let main_ids: HashSet<&str> = steps.node_ids[..steps.main_count].iter().map(String::as_str).collect();
    let starts: Vec<usize> = (0..steps.main_count)
        .filter(|&position| !inbound[position].iter().any(|edge| main_ids.contains(edge.from.as_str())))
        .collect();
    let mut edges = Vec::new();
    for (trigger, node) in workflow.triggers.iter().zip(nodes) {
        for &position in &starts {
            let step = steps.all[position];
            let label = condition_label(step).unwrap_or(trigger.value.kind().as_str()).to_string();
            edges.push(OutlineEdge {
                from: node.id.clone(),
                to: steps.node_ids[position].clone(),
                reason: OutlineEdgeReason::Trigger,
                label,
                editable: false,
                range: None,
            });
        }
    }
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline_of(source: &str) -> Outline {
        outline(source, &Catalogue::builtin())
    }

    /// `(from, to, reason, label)` of every edge, in outline order.
    fn edges(outline: &Outline) -> Vec<(&str, &str, OutlineEdgeReason, &str)> {
        outline.edges.iter().map(|e| (e.from.as_str(), e.to.as_str(), e.reason, e.label.as_str())).collect()
    }

    fn node<'o>(outline: &'o Outline, id: &str) -> &'o OutlineNode {
        outline.nodes.iter().find(|n| n.id == id).unwrap_or_else(|| panic!("no node {id}"))
    }

    const BACKUP: &str = r#"name: backup
triggers:
  - type: schedule
    cron: "0 2 * * *"
    timezone: Europe/Paris
  - type: webhook
    path: /hooks/backup
steps:
  - id: start
    action: log
    input:
      message: starting
  - id: list_files
    action: fs/list
    input:
      path: /tmp
    output: files
  - id: count
    action: transform
    input:
      n: "${len(files)}"
  - id: notify
    action: notification/desktop
    if: "${count.n > 0}"
    input:
      title: "${steps.list_files.output[0].name}"
  - id: copy
    action: fs/copy
    needs: notify
    loop: "${files}"
    input:
      source: "${item.path}"
      destination: /backup
on_failure:
  - id: alert
    action: log
    input:
      message: "failed after ${len(files)} files"
"#;

    #[test]
    fn a_compiling_workflow_has_trigger_needs_data_and_effect_edges() {
        let outline = outline_of(BACKUP);
        assert!(outline.compiled);
        use OutlineEdgeReason::*;
        assert_eq!(
            edges(&outline),
            [
                ("trigger:0", "start", Trigger, "schedule"),
                ("trigger:1", "start", Trigger, "webhook"),
                ("start", "list_files", Effect, "effect order"),
                ("list_files", "count", Data, "files"),
                ("count", "notify", Data, "${count.n > 0}"),
                ("list_files", "notify", Data, "${count.n > 0}"),
                ("notify", "copy", Needs, "needs"),
                ("list_files", "copy", Data, "files"),
                ("list_files", "alert", Data, "files"),
            ]
        );
        let needs = outline.edges.iter().find(|e| e.reason == Needs).expect("a needs edge");
        assert!(needs.editable);
        let at = needs.range.expect("the needs entry");
        assert_eq!((at.start.line, at.start.column, at.end.line, at.end.column), (29, 12, 29, 18));
        assert!(outline.edges.iter().filter(|e| e.reason != Needs).all(|e| !e.editable));
    }

    #[test]
    fn nodes_describe_triggers_and_steps_with_their_place_in_the_file() {
        let outline = outline_of(BACKUP);
        let ids: Vec<&str> = outline.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["trigger:0", "trigger:1", "start", "list_files", "count", "notify", "copy", "alert"]);
        let schedule = node(&outline, "trigger:0");
        assert_eq!((schedule.kind, schedule.index), (NodeKind::Trigger, 0));
        assert_eq!(schedule.trigger_type.as_deref(), Some("schedule"));
        assert_eq!(schedule.summary.as_deref(), Some("0 2 * * * (Europe/Paris)"));
        assert_eq!(node(&outline, "trigger:1").summary.as_deref(), Some("POST /hooks/backup"));
        let notify = node(&outline, "notify");
        assert_eq!(notify.kind, NodeKind::Condition);
        assert_eq!(notify.action.as_deref(), Some("notification/desktop"));
        assert_eq!(notify.connector.as_deref(), Some("notify"), "the canonical connector");
        assert_eq!(notify.condition.as_deref(), Some("${count.n > 0}"));
        assert_eq!(notify.inputs, ["title"]);
        assert_eq!((notify.range.start.line, notify.range.start.column), (22, 5));
        let copy = node(&outline, "copy");
        assert_eq!((copy.kind, copy.loop_items.as_deref()), (NodeKind::Loop, Some("${files}")));
        let list = node(&outline, "list_files");
        assert_eq!((list.kind, list.output.as_deref(), list.index), (NodeKind::Action, Some("files"), 1));
        assert_eq!(node(&outline, "start").connector, None, "a core action");
        let alert = node(&outline, "alert");
        assert!(alert.on_failure);
        assert_eq!(alert.index, 0);
    }

    #[test]
    fn a_file_with_a_type_error_still_has_its_nodes_and_declared_edges() {
        let source = BACKUP.replace("${steps.list_files.output[0].name}", "${len(steps.list_files.output[0].size)}");
        assert_ne!(source, BACKUP);
        let (plan, _) = crate::compile(&source, "t", &Catalogue::builtin());
        assert!(plan.is_none(), "the file must not compile");
        let outline = outline_of(&source);
        assert!(!outline.compiled);
        assert_eq!(outline.nodes.len(), 8);
        use OutlineEdgeReason::*;
        assert!(outline.edges.iter().all(|e| e.reason != Effect), "effect order needs a plan");
        // Without the effect edge, `list_files` waits for no step either: the triggers start it too.
        assert_eq!(
            edges(&outline)[..4],
            [
                ("trigger:0", "start", Trigger, "schedule"),
                ("trigger:0", "list_files", Trigger, "schedule"),
                ("trigger:1", "start", Trigger, "webhook"),
                ("trigger:1", "list_files", Trigger, "webhook"),
            ]
        );
        assert!(edges(&outline).contains(&("notify", "copy", Needs, "needs")));
        assert!(edges(&outline).contains(&("list_files", "notify", Data, "${count.n > 0}")));
    }

    #[test]
    fn a_needs_entry_naming_no_step_is_left_out_and_the_rest_kept() {
        let source = "name: t\nsteps:\n  - {id: a, action: log, input: {message: a}}\n  - id: b\n    action: log\n    \
                      needs: [a, nope]\n    input: {message: \"${a}\"}\n";
        let outline = outline_of(source);
        assert!(!outline.compiled);
        use OutlineEdgeReason::*;
        assert_eq!(edges(&outline), [("a", "b", Needs, "needs"), ("a", "b", Data, "a")]);
    }

    #[test]
    fn unknown_names_are_skipped_and_steps_without_an_action_kept() {
        let source = "name: t\nsteps:\n  - id: a\n  - id: b\n    action: log\n    input: {message: \"${missing} ${a.x} \
                      ${steps.a.output} ${oops(}\"}\n";
        let outline = outline_of(source);
        assert_eq!(outline.nodes.len(), 2);
        assert_eq!(node(&outline, "a").action, None);
        // The template does not parse (`oops(`), so no reference in it counts.
        assert!(outline.edges.is_empty(), "{:?}", outline.edges);
        let source = source.replace(" ${oops(}", "");
        let outline = outline_of(&source);
        let labels: Vec<&str> = outline.edges.iter().map(|e| e.label.as_str()).collect();
        assert_eq!(labels, ["a, steps.a.output"]);
    }

    #[test]
    fn repeated_step_ids_get_distinct_node_ids() {
        let source = "name: t\nsteps:\n  - {id: a, action: log, input: {message: x}}\n  - {id: a, action: log, input: \
                      {message: y}}\n";
        let ids: Vec<String> = outline_of(source).nodes.into_iter().map(|n| n.id).collect();
        assert_eq!(ids, ["a", "a#2"]);
    }

    #[test]
    fn item_conditions_are_read_as_expressions() {
        let source = "name: t\nsteps:\n  - {id: limit, action: transform, input: {n: 3}}\n  - id: big\n    action: \
                      filter\n    input:\n      items: []\n      condition: size > limit.n\n";
        use OutlineEdgeReason::*;
        assert_eq!(edges(&outline_of(source)), [("limit", "big", Data, "limit")]);
    }

    #[test]
    fn text_that_is_not_a_mapping_has_an_empty_outline() {
        for source in ["", "- a\n- b\n", "just text", "{", "name: [unclosed"] {
            assert_eq!(outline_of(source), Outline::default(), "{source:?}");
        }
    }

    #[test]
    fn the_outline_serializes_with_the_documented_field_names() {
        let json = serde_json::to_value(outline_of(BACKUP)).expect("json");
        let trigger = &json["nodes"][0];
        assert_eq!(trigger["kind"], "trigger");
        assert_eq!(trigger["type"], "schedule");
        assert_eq!(trigger["range"]["start"], serde_json::json!({"line": 3, "column": 5}));
        assert_eq!(json["nodes"][6]["loop"], "${files}");
        assert_eq!(json["edges"][0]["reason"], "trigger");
        assert_eq!(json["compiled"], true);
    }
}
