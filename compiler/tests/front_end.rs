//! Front-end behaviour: the model the converter fills and the structural diagnostics it reports.

use compiler::model::{Backoff, Trigger, YamlValue};
use compiler::{Diagnostic, parse_workflow};

fn codes(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
    diagnostics.iter().map(|d| d.code).collect()
}

fn text_at(source: &str, span: expr_grammar::Span) -> &str {
    &source[span.range()]
}

#[test]
fn the_seed_daily_backup_example_reads_without_diagnostics() {
    let source = include_str!("../../examples/daily-backup.yaml");
    let (workflow, diagnostics) = parse_workflow(source);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let workflow = workflow.expect("a model");
    assert_eq!(workflow.name.as_ref().unwrap().value, "daily-backup");
    assert_eq!(workflow.version.as_ref().unwrap().value, "1.0.0");
    assert_eq!(workflow.triggers.len(), 2);
    assert!(matches!(&workflow.triggers[0].value, Trigger::Schedule(s) if s.cron.value == "0 2 * * *"));
    assert!(matches!(&workflow.triggers[1].value, Trigger::Webhook(w) if w.path.value == "/trigger/backup"));
    let ids: Vec<&str> = workflow.steps.iter().map(|s| s.id.value.as_str()).collect();
    assert_eq!(ids, ["list_files", "filter_recent", "copy_files", "notify"]);
    assert_eq!(workflow.steps[3].action.as_ref().unwrap().value, "notification/desktop");
    let variables = workflow.variables.as_ref().unwrap();
    assert_eq!(variables.entries[0].key.value, "source_folder");
}

#[test]
fn template_offsets_inside_a_quoted_value_map_to_the_exact_file_column() {
    let source = include_str!("../../examples/daily-backup.yaml");
    let (workflow, _) = parse_workflow(source);
    let workflow = workflow.unwrap();
    let step = &workflow.steps[1];
    let input = step.input.as_ref().unwrap();
    let items = &input.get("items").unwrap().value;
    let YamlValue::String(text) = &items.value else { panic!("items is text") };
    assert_eq!(text.value, "${list_files.files}");
    let inner = expr_grammar::Span::new(2, 12); // `list_files` inside the value
    assert_eq!(text_at(source, text.file_span(inner)), "list_files");
}

#[test]
fn every_structural_error_of_a_file_is_reported_in_one_pass() {
    let source = "\
name: broken
stepz: []
steps:
  - id: a
    acton: fs/list
  - action: fs/read
  - id: c
    action: log
    timeout: 30
    retry:
      backoff: linear
      max_attempts: 0
";
    let (workflow, diagnostics) = parse_workflow(source);
    assert!(workflow.is_some());
    assert_eq!(
        codes(&diagnostics),
        ["E0101", "E0102", "E0101", "E0102", "E0105", "E0106", "E0107"],
        "{diagnostics:#?}"
    );
    let unknown = &diagnostics[0];
    assert_eq!(text_at(source, unknown.primary.span), "stepz");
    assert_eq!(unknown.hint.as_deref(), Some("did you mean `steps`?"));
    assert_eq!(diagnostics[2].hint.as_deref(), Some("did you mean `action`?"));
}

#[test]
fn duplicate_keys_point_at_both_occurrences() {
    let source = "name: a\nsteps:\n  - id: x\n    action: log\n    action: fs/list\n";
    let (_, diagnostics) = parse_workflow(source);
    assert_eq!(codes(&diagnostics), ["E0104"]);
    assert_eq!(diagnostics[0].primary.span.start, source.rfind("action").unwrap() as u32);
    assert_eq!(diagnostics[0].secondary[0].span.start, source.find("action").unwrap() as u32);
}

#[test]
fn json_workflows_read_like_yaml_with_positions() {
    let source = r#"{
  "name": "json-flow",
  "steps": [
    {"id": "greet", "action": "log", "input": {"message": "hi ${workflow.name}"}, "retry": {"backoff": "fixed"}}
  ]
}"#;
    let (workflow, diagnostics) = parse_workflow(source);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let workflow = workflow.unwrap();
    let step = &workflow.steps[0];
    assert_eq!(text_at(source, step.id.span), "greet");
    assert_eq!(step.retry.as_ref().unwrap().backoff.as_ref().unwrap().value, Backoff::Fixed);
}

/// The schema is generated from the model types and the front end checks keys from its own tables: they must
/// name the same keys, or `pilot schema` would accept what `pilot check` refuses (or the reverse).
#[test]
fn schema_properties_are_exactly_the_keys_the_front_end_reads() {
    let schema = compiler::schema::workflow_schema(&connectors::catalogue::Catalogue::builtin());
    for (name, keys) in compiler::front_end::known_keys() {
        let properties = match name {
            "Workflow" => schema["properties"].clone(),
            "ScheduleTrigger" | "WebhookTrigger" | "FileWatchTrigger" | "ManualTrigger" => {
                let tag = match name {
                    "ScheduleTrigger" => "schedule",
                    "WebhookTrigger" => "webhook",
                    "FileWatchTrigger" => "file_watch",
                    _ => "manual",
                };
                let variants = schema["$defs"]["Trigger"]["oneOf"].as_array().expect("trigger variants").clone();
                let variant = variants.into_iter().find(|v| v["properties"]["type"]["const"] == tag).expect(tag);
                variant["properties"].clone()
            }
            other => schema["$defs"][other]["properties"].clone(),
        };
        let mut in_schema: Vec<String> = properties.as_object().expect(name).keys().cloned().collect();
        let mut read: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        in_schema.sort();
        read.sort();
        assert_eq!(in_schema, read, "keys of {name}");
    }
}

#[test]
fn schema_requires_only_the_keys_the_front_end_requires() {
    let schema = compiler::schema::workflow_schema(&connectors::catalogue::Catalogue::builtin());
    let required = |value: &serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = value["required"]
            .as_array()
            .map(|a| a.iter().filter_map(|k| k.as_str().map(String::from)).collect())
            .unwrap_or_default();
        keys.sort();
        keys
    };
    assert_eq!(required(&schema), ["name", "steps"]);
    assert_eq!(required(&schema["$defs"]["Step"]), ["action", "id"]);
    assert_eq!(required(&schema["$defs"]["Retry"]), Vec::<String>::new());
    assert_eq!(required(&schema["$defs"]["InputParam"]), ["type"]);
    let variants = schema["$defs"]["Trigger"]["oneOf"].as_array().unwrap();
    let all: Vec<Vec<String>> = variants.iter().map(required).collect();
    assert_eq!(all, [vec!["cron", "type"], vec!["path", "type"], vec!["path", "type"], vec!["type"]]);
}

#[test]
fn json_indented_with_tabs_reads_like_json_with_spaces() {
    let source = "{\n\t\"name\": \"tabs\",\n\t\"steps\": [\n\t\t{\"id\": \"a\", \"action\": \"log\", \"input\": {\"message\": \"hi\"}}\n\t]\n}\n";
    let (workflow, diagnostics) = parse_workflow(source);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    assert_eq!(workflow.unwrap().steps[0].id.value, "a");
}

#[test]
fn windows_line_endings_and_a_byte_order_mark_keep_spans_exact() {
    let source = "\u{feff}name: crlf\r\nsteps:\r\n  - id: a\r\n    action: log\r\n    acton: x\r\n";
    let (_, diagnostics) = parse_workflow(source);
    assert_eq!(codes(&diagnostics), ["E0101"], "{diagnostics:#?}");
    assert_eq!(text_at(source, diagnostics[0].primary.span), "acton");
    let rendered = compiler::render::render_file("w.yaml", source, &diagnostics, Default::default());
    assert!(rendered.contains(" --> w.yaml:5:5\n"), "{rendered}");
    assert!(!rendered.contains('\r'), "{rendered:?}");
}

#[test]
fn block_scalars_map_template_offsets_into_their_lines() {
    let source = "name: b\nsteps:\n  - id: a\n    action: log\n    input:\n      message: |\n        first line\n        second ${a.b}\n";
    let (workflow, diagnostics) = parse_workflow(source);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let workflow = workflow.unwrap();
    let input = workflow.steps[0].input.as_ref().unwrap();
    let YamlValue::String(text) = &input.get("message").unwrap().value.value else { panic!("text") };
    assert_eq!(text.value, "first line\nsecond ${a.b}\n");
    let at = text.value.find("a.b").unwrap();
    assert_eq!(text_at(source, text.file_span(expr_grammar::Span::new(at, at + 3))), "a.b");
}

#[test]
fn loop_accepts_a_template_or_a_mapping_with_concurrency() {
    let source = "name: l\nsteps:\n  - id: a\n    action: log\n    loop: \"${x}\"\n    input: {message: m}\n  - id: b\n    action: log\n    loop: {items: \"${y}\", concurrency: 8}\n    input: {message: m}\n";
    let (workflow, diagnostics) = parse_workflow(source);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let steps = workflow.unwrap().steps;
    let first = steps[0].looping.as_ref().unwrap();
    assert_eq!((first.items.value.as_str(), first.concurrency.as_ref().map(|c| c.value)), ("${x}", None));
    let second = steps[1].looping.as_ref().unwrap();
    assert_eq!((second.items.value.as_str(), second.concurrency.as_ref().map(|c| c.value)), ("${y}", Some(8)));
    assert_eq!(text_at(source, second.items.span), "${y}");
}

#[test]
fn needs_accepts_one_id_or_a_list() {
    let source = "name: n\nsteps:\n  - id: a\n    action: log\n    needs: x\n    input: {message: m}\n  - id: b\n    action: log\n    needs: [x, y]\n    input: {message: m}\n";
    let (workflow, _) = parse_workflow(source);
    let steps = workflow.unwrap().steps;
    let names = |i: usize| steps[i].needs.iter().map(|n| n.value.clone()).collect::<Vec<_>>();
    assert_eq!(names(0), ["x"]);
    assert_eq!(names(1), ["x", "y"]);
}

#[test]
fn a_step_without_action_is_kept_and_one_without_id_is_dropped() {
    let source = "name: s\nsteps:\n  - id: a\n  - action: log\n";
    let (workflow, diagnostics) = parse_workflow(source);
    assert_eq!(codes(&diagnostics), ["E0102", "E0102"]);
    let steps = workflow.unwrap().steps;
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0].id.value, "a");
    assert!(steps[0].action.is_none());
}

#[test]
fn input_parameters_read_their_type_default_and_description() {
    let source = "name: p\ninputs:\n  name: {type: string, default: \"x\", description: Who}\n  count: {type: integer}\nsteps: []\n";
    let (workflow, diagnostics) = parse_workflow(source);
    assert_eq!(codes(&diagnostics), ["E0106", "W0101"]);
    assert_eq!(diagnostics[0].hint.as_deref(), Some("did you mean `int`?"));
    let inputs = workflow.unwrap().inputs.unwrap();
    assert_eq!(inputs.len(), 1);
    let name = &inputs.get("name").unwrap().value;
    assert_eq!(name.ty.value, compiler::model::ParamType::String);
    assert_eq!(name.description.as_ref().unwrap().value, "Who");
}
