//! The semantic passes end to end: name resolution, types, the DAG, bindings and the emitted forms.

use std::collections::BTreeSet;

use compiler::{
    CompileOptions, CompiledValue, ConcurrencyPlan, ConcurrencyPolicy, Diagnostic, EdgeReason, KnownCredentials, Plan,
    SlotKind,
};
use connectors::catalogue::Catalogue;
use expr_grammar::{Type, Value};

fn compile(source: &str) -> (Option<Plan>, Vec<Diagnostic>) {
    compiler::compile(source, "test.yaml", &Catalogue::builtin())
}

fn plan_of(source: &str) -> Plan {
    let (plan, diagnostics) = compile(source);
    plan.unwrap_or_else(|| panic!("expected a plan, got {diagnostics:#?}"))
}

fn errors_of(source: &str) -> Vec<Diagnostic> {
    let (plan, diagnostics) = compile(source);
    assert!(plan.is_none(), "expected errors, got a plan");
    diagnostics.into_iter().filter(Diagnostic::is_error).collect()
}

fn codes(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
    diagnostics.iter().map(|d| d.code).collect()
}

fn seed() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/daily-backup.yaml");
    std::fs::read_to_string(path).expect("examples/daily-backup.yaml")
}

fn step_index(plan: &Plan, id: &str) -> usize {
    plan.steps.iter().position(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}"))
}

/// `(from, to, reason)` of every edge, by step id, sorted.
fn edges(plan: &Plan) -> Vec<(String, String, EdgeReason)> {
    let mut list: Vec<_> = plan
        .graph
        .edge_indices()
        .map(|e| {
            let (a, b) = plan.graph.edge_endpoints(e).expect("edge");
            (plan.steps[a.index()].id.clone(), plan.steps[b.index()].id.clone(), plan.graph[e])
        })
        .collect();
    list.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    list
}

fn level_ids(plan: &Plan) -> Vec<Vec<&str>> {
    plan.levels.iter().map(|level| level.iter().map(|&i| plan.steps[i].id.as_str()).collect()).collect()
}

fn edge(from: &str, to: &str, reason: EdgeReason) -> (String, String, EdgeReason) {
    (from.to_string(), to.to_string(), reason)
}

#[test]
fn seed_example_runs_list_then_filter_then_copy_then_notify() {
    let plan = plan_of(&seed());
    assert_eq!(level_ids(&plan), vec![vec!["list_files"], vec!["filter_recent"], vec!["copy_files"], vec!["notify"]]);
    assert_eq!(
        edges(&plan),
        vec![
            edge("copy_files", "notify", EdgeReason::EffectOrder),
            edge("filter_recent", "copy_files", EdgeReason::Data),
            edge("list_files", "filter_recent", EdgeReason::Data),
        ]
    );
    let notify = &plan.steps[step_index(&plan, "notify")];
    assert_eq!(notify.action, "notify/desktop", "the notification/ alias is stored canonically");
    assert_eq!(notify.predecessors, vec![step_index(&plan, "copy_files")]);
}

#[test]
fn seed_example_types_the_loop_item_and_the_results() {
    let plan = plan_of(&seed());
    let copy = &plan.steps[step_index(&plan, "copy_files")];
    let looping = copy.looping.as_ref().expect("copy_files loops");
    let Type::Object(item) = &plan.slots[looping.item_slot.0 as usize].ty else { panic!("item is an object") };
    assert_eq!(item.fields.get("name"), Some(&Type::String));
    assert_eq!(item.fields.get("modified_at"), Some(&Type::Timestamp));
    assert!(matches!(&copy.output_type, Type::List { .. }), "a looping step's result is a list");
    let filter = &plan.steps[step_index(&plan, "filter_recent")];
    let list = &plan.steps[step_index(&plan, "list_files")];
    assert_eq!(filter.output_type, list.output_type, "filter returns the type of its items");
}

#[test]
fn seed_example_condition_is_compiled_with_its_own_item_slot() {
    let plan = plan_of(&seed());
    let filter = &plan.steps[step_index(&plan, "filter_recent")];
    let (_, condition) = filter.input.iter().find(|(name, _)| name == "condition").expect("condition input");
    let CompiledValue::Condition { program, item_slot, index_slot } = condition else {
        panic!("condition compiles to a Condition, got {condition:?}")
    };
    assert_eq!(plan.slots[item_slot.0 as usize].kind, SlotKind::LoopItem { step: "filter_recent".into() });
    assert_eq!(plan.slots[index_slot.0 as usize].ty, Type::Int);
    assert_eq!(program.slots(), vec![*item_slot], "`modified_at` reads the element");
}

const THREE_GETS: &str = r#"
name: fan-out
steps:
  - id: a
    action: http/get
    input: { url: "http://127.0.0.1:1/a" }
  - id: b
    action: http/get
    input: { url: "http://127.0.0.1:1/b" }
  - id: c
    action: http/get
    input: { url: "http://127.0.0.1:1/c" }
  - id: report
    action: log
    input:
      message: "${a.status} ${b.status} ${c.status}"
"#;

#[test]
fn independent_reads_share_one_level_and_a_write_waits_for_all() {
    let plan = plan_of(THREE_GETS);
    assert_eq!(level_ids(&plan), vec![vec!["a", "b", "c"], vec!["report"]]);
    assert_eq!(
        edges(&plan),
        vec![
            edge("a", "report", EdgeReason::Data),
            edge("b", "report", EdgeReason::Data),
            edge("c", "report", EdgeReason::Data)
        ]
    );
}

#[test]
fn transitive_reduction_drops_a_read_implied_by_a_chain() {
    let plan = plan_of(
        r#"
name: chain
steps:
  - id: a
    action: transform
    input: { n: 1 }
  - id: b
    action: transform
    input: { n: "${a.n + 1}" }
  - id: c
    action: transform
    input: { n: "${a.n + b.n}" }
"#,
    );
    assert_eq!(edges(&plan), vec![edge("a", "b", EdgeReason::Data), edge("b", "c", EdgeReason::Data)]);
    assert_eq!(plan.steps[2].predecessors, vec![1]);
}

#[test]
fn writes_keep_file_order_and_reads_after_a_write_wait_for_it() {
    let plan = plan_of(
        r#"
name: effects
steps:
  - id: first_log
    action: log
    input: { message: one }
  - id: pure
    action: transform
    input: { n: 1 }
  - id: second_log
    action: log
    input: { message: two }
  - id: read_after
    action: fs/read
    input: { path: /tmp/x }
"#,
    );
    assert_eq!(
        edges(&plan),
        vec![
            edge("first_log", "second_log", EdgeReason::EffectOrder),
            edge("second_log", "read_after", EdgeReason::EffectOrder)
        ]
    );
    assert_eq!(level_ids(&plan), vec![vec!["first_log", "pure"], vec!["second_log"], vec!["read_after"]]);
}

#[test]
fn a_step_result_is_read_by_id_by_output_name_and_through_steps() {
    let plan = plan_of(
        r#"
name: spellings
steps:
  - id: list
    action: fs/list
    input: { path: /tmp }
    output: docs
  - id: by_steps
    action: transform
    input: { n: "${len(steps.list.output)}" }
  - id: by_id_output
    action: transform
    input: { n: "${len(list.docs)}" }
  - id: by_output
    action: transform
    input: { n: "${len(docs)}" }
  - id: by_id
    action: transform
    input: { n: "${len(list)}" }
"#,
    );
    let list_slot = plan.steps[0].output_slot;
    for step in &plan.steps[1..] {
        let (_, value) = &step.input[0];
        let CompiledValue::Program(program) = value else { panic!("{} compiles to a program", step.id) };
        assert_eq!(program.slots(), vec![list_slot], "{}", step.id);
        assert_eq!(step.predecessors, vec![0], "{}", step.id);
    }
}

#[test]
fn variables_read_earlier_variables_and_constants_fold() {
    let plan = plan_of(
        r#"
name: folding
version: "2.0"
variables:
  base: /data
  folder: "${base}/in"
  home: "${HOME}/x"
steps:
  - id: show
    action: log
    input:
      message: "${folder} of ${workflow.name} ${workflow.version}"
"#,
    );
    let folder = &plan.variables[1].value;
    assert!(matches!(folder, CompiledValue::Constant(Value::String(s)) if &**s == "/data/in"), "{folder:?}");
    assert!(matches!(plan.variables[2].value, CompiledValue::Program(_)), "an env var is read at run time");
    let (_, message) = &plan.steps[0].input[0];
    assert!(
        matches!(message, CompiledValue::Constant(Value::String(s)) if &**s == "/data/in of folding 2.0"),
        "{message:?}"
    );
}

#[test]
fn a_variable_cannot_read_a_later_variable_or_a_step() {
    let errors = errors_of(
        r#"
name: bad-variables
variables:
  a: "${b}"
  b: "x"
  c: "${list}"
steps:
  - id: list
    action: fs/list
    input: { path: /tmp }
"#,
    );
    assert_eq!(codes(&errors), vec!["E0207", "E0209"]);
    assert!(errors[0].message.contains("declared after"), "{}", errors[0].message);
}

#[test]
fn reading_a_later_step_says_it_runs_after() {
    let source = r#"
name: order
steps:
  - id: report
    action: log
    input: { message: "${len(files)}" }
  - id: list
    action: fs/list
    input: { path: /tmp }
    output: files
"#;
    let errors = errors_of(source);
    assert_eq!(codes(&errors), vec!["E0207"]);
    assert_eq!(errors[0].message, "`list` runs after this step; move it up or move `report` below it");
    let start = errors[0].primary.span.start as usize;
    assert_eq!(&source[start..errors[0].primary.span.end as usize], "files");
}

#[test]
fn an_unknown_field_error_points_inside_the_template() {
    let source = seed().replace("${item.name}", "${item.nmae}");
    let errors = errors_of(&source);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let error = &errors[0];
    let at = error.primary.span.start as usize;
    assert_eq!(&source[at..error.primary.span.end as usize], "nmae");
    assert_eq!(error.hint.as_deref(), Some("did you mean `name`?"));
}

#[test]
fn all_errors_of_a_file_are_reported_together() {
    let errors = errors_of(
        r#"
name: many
triggers:
  - type: schedule
    cron: "61 * * * *"
steps:
  - id: one
    action: fs/lst
    input: { path: /tmp }
  - id: one
    action: fs/copy
    input: { source: /a }
  - id: three
    action: log
    input: { message: "${len(3)}" }
"#,
    );
    let mut found = codes(&errors);
    found.sort();
    assert_eq!(found, vec!["E0202", "E0204", "E0210", "E0303", "E0501"]);
}

#[test]
fn on_failure_steps_read_main_results_as_any() {
    let plan = plan_of(
        r#"
name: cleanup
steps:
  - id: list
    action: fs/list
    input: { path: /tmp }
on_failure:
  - id: report
    action: log
    input:
      message: "${list.whatever}"
"#,
    );
    assert_eq!(plan.on_failure.len(), 1);
    assert!(plan.graph.node_count() == 1, "on_failure steps are not in the main graph");
}

#[test]
fn a_main_step_cannot_read_an_on_failure_step() {
    let errors = errors_of(
        r#"
name: cleanup
steps:
  - id: main
    action: log
    input: { message: "${report}" }
on_failure:
  - id: report
    action: log
    input: { message: failed }
"#,
    );
    assert_eq!(codes(&errors), vec!["E0207"]);
}

#[test]
fn if_accepts_a_bare_expression_or_one_template_and_must_be_bool() {
    let plan = plan_of(
        r#"
name: conditions
steps:
  - id: list
    action: fs/list
    input: { path: /tmp }
  - id: bare
    action: log
    if: len(list) > 0
    input: { message: some }
  - id: wrapped
    action: log
    if: "${len(list) == 0}"
    input: { message: none }
"#,
    );
    assert!(plan.steps[1].condition.is_some() && plan.steps[2].condition.is_some());
    let errors = errors_of(
        r#"
name: conditions
steps:
  - id: list
    action: fs/list
    input: { path: /tmp }
  - id: bad
    action: log
    if: "${len(list)}"
    input: { message: some }
"#,
    );
    assert_eq!(codes(&errors), vec!["E0309"]);
}

#[test]
fn a_duration_input_accepts_a_duration_literal() {
    let plan = plan_of("name: wait\nsteps:\n  - id: nap\n    action: sleep\n    input: { duration: 30s }\n");
    let (_, value) = &plan.steps[0].input[0];
    assert!(matches!(value, CompiledValue::Constant(Value::Duration(d)) if d.0 == 30_000_000), "{value:?}");
}

#[test]
fn needs_can_point_forward_and_a_needs_cycle_is_named() {
    let plan = plan_of(
        r#"
name: forward
steps:
  - id: a
    action: log
    needs: b
    input: { message: a }
  - id: b
    action: log
    input: { message: b }
"#,
    );
    assert_eq!(edges(&plan), vec![edge("b", "a", EdgeReason::Needs)]);
    let errors = errors_of(
        r#"
name: cycle
steps:
  - id: a
    action: log
    needs: [b]
    input: { message: a }
  - id: b
    action: log
    input: { message: "${a}" }
"#,
    );
    assert_eq!(codes(&errors), vec!["E0401"]);
    assert_eq!(errors[0].message, "dependency cycle: `a` -> `b` -> `a`");
}

#[test]
fn unknown_credentials_are_warned_about_only_when_the_list_is_known() {
    let source = r#"
name: secrets
steps:
  - id: call
    action: http/get
    credential: github
    input:
      url: "http://127.0.0.1:1/"
      headers: { authorization: "Bearer ${secrets.github_tokn}" }
"#;
    let (plan, diagnostics) = compile(source);
    assert!(plan.is_some() && diagnostics.is_empty(), "{diagnostics:#?}");
    let stored = KnownCredentials::Stored(BTreeSet::from(["github_token".to_string()]));
    let options = CompileOptions { known_credentials: stored, ..CompileOptions::default() };
    let (plan, diagnostics) = compiler::compile_with(source, "t.yaml", &Catalogue::builtin(), &options);
    let plan = plan.expect("warnings do not stop the plan");
    assert_eq!(codes(&diagnostics), vec!["W0201", "W0201"]);
    assert_eq!(diagnostics[1].hint.as_deref(), Some("did you mean `github_token`?"));
    assert!(plan.slots.iter().any(|slot| slot.kind == SlotKind::Secret { name: "github_tokn".into() }));
    // A store that holds no credential yet is still a known list: both names are warned about.
    let empty =
        CompileOptions { known_credentials: KnownCredentials::Stored(BTreeSet::new()), ..CompileOptions::default() };
    let (_, diagnostics) = compiler::compile_with(source, "t.yaml", &Catalogue::builtin(), &empty);
    assert_eq!(codes(&diagnostics), vec!["W0201", "W0201"]);
}

#[test]
fn duplicate_webhooks_and_bad_paths_are_reported() {
    let errors = errors_of(
        r#"
name: hooks
triggers:
  - type: webhook
    path: /hook
  - type: webhook
    path: /hook
  - type: webhook
    path: /a/../b
steps:
  - id: s
    action: log
    input: { message: x }
"#,
    );
    assert_eq!(codes(&errors), vec!["E0503", "E0502"]);
}

#[test]
fn json_emit_shows_each_input_binding_and_type() {
    let compilation =
        compiler::compile_detailed(&seed(), "daily-backup.yaml", &Catalogue::builtin(), &CompileOptions::default());
    let plan = compilation.plan.expect("plan");
    let json = compiler::emit::to_json(&plan, &compilation.input_types);
    let filter = &json["nodes"][1];
    assert_eq!(filter["id"], "filter_recent");
    assert_eq!(filter["inputs"]["items"]["reads"], serde_json::json!(["steps.list_files.output"]));
    assert!(filter["inputs"]["items"]["type"].as_str().is_some_and(|t| t.starts_with("list<{")));
    assert_eq!(json["nodes"][2]["inputs"]["source"]["reads"], serde_json::json!(["steps.copy_files.item"]));
    assert_eq!(json["levels"], serde_json::json!([["list_files"], ["filter_recent"], ["copy_files"], ["notify"]]));
    assert_eq!(json["edges"][2], serde_json::json!({"from": "copy_files", "to": "notify", "reason": "effect_order"}));
}

#[test]
fn dot_emit_ranks_levels_and_styles_edges_by_reason() {
    let dot = compiler::emit::to_dot(&plan_of(&seed()));
    assert!(dot.starts_with("digraph \"daily-backup\" {"));
    assert!(dot.contains("subgraph level_2 { rank=same; \"copy_files\"; }"));
    assert!(dot.contains("\"copy_files\" [label=\"copy_files\\nfs/copy\"];"));
    assert!(dot.contains("\"list_files\" -> \"filter_recent\" [style=solid, label=\"data\"];"));
    assert!(dot.contains("\"copy_files\" -> \"notify\" [style=dotted, label=\"effect order\"];"));
}

#[test]
fn inputs_are_typed_from_their_declarations() {
    let ok = r#"
name: typed
inputs:
  count: { type: int, default: 3 }
steps:
  - id: show
    action: log
    input: { message: "${inputs.count + 1}" }
"#;
    let plan = plan_of(ok);
    assert_eq!(plan.inputs[0].ty, Type::Int);
    assert_eq!(plan.inputs[0].default, Some(Value::Int(3)));
    assert!(!plan.inputs[0].required, "a parameter with a default is optional");
    let errors = errors_of(&ok.replace("${inputs.count + 1}", "${len(inputs.count)}"));
    assert_eq!(codes(&errors), vec!["E0303"]);
    let errors = errors_of(&ok.replace("${inputs.count + 1}", "${inputs.cuont}"));
    assert_eq!(errors[0].hint.as_deref(), Some("did you mean `count`?"));
}

#[test]
fn a_duration_input_takes_a_default_written_with_a_unit() {
    let plan = plan_of(
        r#"
name: durations
inputs:
  wait: { type: duration, default: 30s }
  quoted: { type: duration, default: "1m30s" }
steps:
  - id: pause
    action: sleep
    input: { duration: "${inputs.wait + inputs.quoted}" }
"#,
    );
    assert_eq!(plan.inputs[0].default, Some(Value::Duration(expr_grammar::Duration(30_000_000))));
    assert_eq!(plan.inputs[1].default, Some(Value::Duration(expr_grammar::Duration(90_000_000))));
    let errors = errors_of("name: d\ninputs:\n  wait: { type: duration, default: 30000 }\nsteps: []\n");
    assert_eq!(codes(&errors), vec!["E0105"]);
    assert_eq!(errors[0].hint.as_deref(), Some("add a unit: `30000s` for seconds"));
}

#[test]
fn run_information_and_environment_variables_resolve() {
    let plan = plan_of(
        r#"
name: run-info
triggers:
  - type: webhook
    path: /hooks/run-info
steps:
  - id: show
    action: log
    input:
      message: "${execution.id} ${execution.started_at} ${trigger.body.anything} ${HOME}"
"#,
    );
    let (_, message) = &plan.steps[0].input[0];
    let CompiledValue::Program(program) = message else { panic!("{message:?}") };
    let read: Vec<SlotKind> = program.slots().iter().map(|s| plan.slots[s.0 as usize].kind.clone()).collect();
    assert!(read.contains(&SlotKind::Execution) && read.contains(&SlotKind::Trigger), "{read:?}");
    let errors = errors_of(
        "name: x\nsteps:\n  - id: show\n    action: log\n    input: { message: \"${execution.startd_at}\" }\n",
    );
    assert_eq!(codes(&errors), vec!["E0304"]);
    assert_eq!(errors[0].hint.as_deref(), Some("did you mean `started_at`?"));
}

#[test]
fn a_condition_over_untyped_items_reads_bare_names_as_fields() {
    let plan = plan_of(
        r#"
name: untyped
steps:
  - id: fetch
    action: http/get
    input: { url: "http://127.0.0.1:1/users" }
  - id: active
    action: filter
    input:
      items: "${fetch.body}"
      condition: "active && index < 10"
"#,
    );
    let (_, condition) = plan.steps[1].input.iter().find(|(n, _)| n == "condition").expect("condition");
    assert!(matches!(condition, CompiledValue::Condition { .. }));
    assert_eq!(plan.steps[1].output_type, Type::Any, "filter over `any` returns `any`");
}

#[test]
fn unknown_inputs_are_accepted_by_actions_with_open_inputs() {
    let plan = plan_of("name: t\nsteps:\n  - id: make\n    action: transform\n    input: { a: 1, b: \"x\" }\n");
    assert_eq!(plan.steps[0].output_type, Type::object([("a", Type::Int), ("b", Type::String)]));
    let errors = errors_of("name: t\nsteps:\n  - id: l\n    action: fs/list\n    input: { path: /tmp, folder: x }\n");
    assert_eq!(codes(&errors), vec!["E0211"]);
}

#[test]
fn top_level_concurrency_reaches_the_plan_with_queue_as_the_default_policy() {
    let step = "steps:\n  - {id: a, action: log, input: {message: hi}}\n";
    let plan = plan_of(&format!("name: c\n{step}"));
    assert_eq!(plan.concurrency, None, "no limit unless the file says one");
    let plan = plan_of(&format!("name: c\nconcurrency: {{limit: 2}}\n{step}"));
    assert_eq!(plan.concurrency, Some(ConcurrencyPlan { limit: 2, policy: ConcurrencyPolicy::Queue }));
    let plan = plan_of(&format!("name: c\nconcurrency: {{limit: 1, policy: cancel_previous}}\n{step}"));
    assert_eq!(plan.concurrency, Some(ConcurrencyPlan { limit: 1, policy: ConcurrencyPolicy::CancelPrevious }));
}

#[test]
fn top_level_concurrency_is_a_mapping_with_a_limit() {
    let step = "steps:\n  - {id: a, action: log, input: {message: hi}}\n";
    let errors = errors_of(&format!("name: c\nconcurrency: 1\n{step}"));
    assert_eq!(codes(&errors), vec!["E0103"]);
    assert!(errors[0].hint.as_deref().unwrap_or("").contains("{limit: 1, policy: queue}"), "{:?}", errors[0]);
    let errors = errors_of(&format!("name: c\nconcurrency: {{policy: skip}}\n{step}"));
    assert_eq!(codes(&errors), vec!["E0102"]);
    let errors = errors_of(&format!("name: c\nconcurrency: {{limit: 1, polcy: skip}}\n{step}"));
    assert_eq!(codes(&errors), vec!["E0101"]);
    assert_eq!(errors[0].hint.as_deref(), Some("did you mean `policy`?"));
}

/// The type `${trigger}` has in a workflow with these trigger lines under `triggers:` (none: no `triggers:`).
fn trigger_type_with(triggers: &[&str]) -> Type {
    let triggers = if triggers.is_empty() { String::new() } else { format!("triggers:\n{}", triggers.concat()) };
    let source = format!(
        "name: t\n{triggers}steps:\n  - id: t\n    action: transform\n    input: {{value: \"${{trigger}}\"}}\n"
    );
    let plan = plan_of(&source);
    let trigger_slot = plan.slots.iter().find(|s| s.kind == SlotKind::Trigger).expect("a trigger slot");
    trigger_slot.ty.clone()
}

const WEBHOOK: &str = "  - {type: webhook, path: /hook}\n";
const SCHEDULE: &str = "  - {type: schedule, cron: \"0 2 * * *\"}\n";
const FILE_WATCH: &str = "  - {type: file_watch, path: /tmp}\n";

#[test]
fn trigger_is_typed_from_the_declared_triggers() {
    assert_eq!(trigger_type_with(&[]).to_string(), "{type: string}", "no triggers: manual only");
    assert_eq!(
        trigger_type_with(&[WEBHOOK]).to_string(),
        "{body: any, headers: {..}, method: string, path: string, query: {..}, type: string}"
    );
    assert_eq!(
        trigger_type_with(&[SCHEDULE]).to_string(),
        "{cron: string, late: bool, scheduled_at: timestamp, timezone: any, type: string}"
    );
    assert_eq!(
        trigger_type_with(&[FILE_WATCH]).to_string(),
        "{event: {from: any, kind: string, path: string}, type: string}"
    );
}

#[test]
fn a_trigger_field_only_some_triggers_give_is_typed_any() {
    let both = trigger_type_with(&[SCHEDULE, WEBHOOK, "  - {type: webhook, path: /other}\n"]);
    assert_eq!(
        both.to_string(),
        "{body: any, cron: any, headers: any, late: any, method: any, path: any, query: any, scheduled_at: any, timezone: any, type: string}"
    );
    let with_manual = trigger_type_with(&[SCHEDULE, "  - type: manual\n"]);
    assert_eq!(with_manual.to_string(), "{cron: any, late: any, scheduled_at: any, timezone: any, type: string}");
}

#[test]
fn a_typo_in_a_trigger_field_is_an_unknown_field_with_a_suggestion() {
    let errors = errors_of(&format!(
        "name: t\ntriggers:\n{WEBHOOK}steps:\n  - id: a\n    action: log\n    input: {{message: \"${{trigger.bdy}}\"}}\n"
    ));
    assert_eq!(codes(&errors), vec!["E0304"]);
    assert_eq!(errors[0].hint.as_deref(), Some("did you mean `body`?"));
    let errors = errors_of(&format!(
        "name: t\ntriggers:\n{SCHEDULE}steps:\n  - id: a\n    action: log\n    input: {{message: \"${{trigger.body}}\"}}\n"
    ));
    assert_eq!(codes(&errors), vec!["E0304"], "a schedule gives no body");
}

#[test]
fn typed_trigger_fields_are_checked_like_any_other_value() {
    let source = format!(
        "name: t\ntriggers:\n{SCHEDULE}steps:\n  - id: late\n    action: log\n    if: \"${{trigger.scheduled_at < now() - 1h}}\"\n    input: {{message: \"${{trigger.cron}}\"}}\n"
    );
    plan_of(&source);
    let errors = errors_of(&format!(
        "name: t\ntriggers:\n{SCHEDULE}steps:\n  - id: a\n    action: log\n    if: \"${{trigger.scheduled_at > 3}}\"\n    input: {{message: hi}}\n"
    ));
    assert_eq!(codes(&errors), vec!["E0303"]);
}

#[test]
fn a_broken_trigger_leaves_trigger_untyped_rather_than_adding_errors() {
    let source = "name: t\ntriggers:\n  - {type: webhook}\nsteps:\n  - id: a\n    action: log\n    input: {message: \"${trigger.body}\"}\n";
    assert_eq!(codes(&errors_of(source)), vec!["E0102"]);
}

#[test]
fn trigger_data_is_read_with_every_field_typed() {
    let plan = plan_of(&format!("name: t\ntriggers:\n{SCHEDULE}  - type: manual\nsteps: []\n"));
    let data = serde_json::json!({"type": "schedule", "scheduled_at": "2026-01-02T03:04:05Z", "cron": "0 2 * * *"});
    let value = Value::from_json_typed(&data, &plan.trigger_data_type());
    let Value::Object(fields) = value else { panic!("{value:?}") };
    assert!(matches!(fields.get("scheduled_at"), Some(Value::Timestamp(_))), "{fields:?}");
}
