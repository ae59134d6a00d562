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
