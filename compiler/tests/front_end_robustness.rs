//! Hostile and broken input: the front end reports a clear diagnostic and never panics or overflows the stack.

use compiler::render::{LineIndex, to_json};
use compiler::{Diagnostic, front_end, parse_workflow};
use connectors::catalogue::Catalogue;
use proptest::prelude::*;

fn codes(diagnostics: &[Diagnostic]) -> Vec<&'static str> {
    diagnostics.iter().map(|d| d.code).collect()
}

/// Runs on a small stack, as a test thread or a rayon worker would: deep input must not need a big one.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).expect("spawn").join().expect("no panic")
}

#[test]
fn a_hundred_thousand_open_brackets_are_too_deep_not_a_stack_overflow() {
    let source = format!("name: deep\nsteps: []\nvariables:\n  x: {}", "[".repeat(100_000));
    let (workflow, diagnostics) = on_small_stack(move || parse_workflow(&source));
    assert!(workflow.is_none());
    assert_eq!(codes(&diagnostics), ["E0004"]);
}

#[test]
fn deeply_nested_block_lists_are_too_deep() {
    let source = format!("name: deep\nsteps: []\nvariables:\n  x:\n    {}", "- ".repeat(50_000));
    let (_, diagnostics) = on_small_stack(move || parse_workflow(&source));
    assert_eq!(codes(&diagnostics), ["E0004"]);
}

#[test]
fn deeply_nested_flow_mappings_are_too_deep() {
    let source = "{a: ".repeat(100_000);
    let (_, diagnostics) = on_small_stack(move || parse_workflow(&source));
    assert_eq!(codes(&diagnostics), ["E0004"]);
}

#[test]
fn nesting_at_the_limit_is_accepted() {
    // The workflow mapping and `variables` take two levels.
    let depth = front_end::MAX_DEPTH - 2;
    let source = format!("name: ok\nsteps: []\nvariables:\n  x: {}1{}\n", "[".repeat(depth), "]".repeat(depth));
    let (workflow, diagnostics) = parse_workflow(&source);
    assert_eq!(codes(&diagnostics), ["W0101"]);
    assert!(workflow.is_some());
}

#[test]
fn billion_laughs_is_stopped_by_the_alias_budget() {
    let mut source =
        String::from("name: lol\nsteps: []\nvariables:\n  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let refs = vec![format!("*l{}", level - 1); 9].join(", ");
        source.push_str(&format!("  l{level}: &l{level} [{refs}]\n"));
    }
    let (workflow, diagnostics) = on_small_stack(move || parse_workflow(&source));
    assert!(workflow.is_none());
    assert_eq!(codes(&diagnostics), ["E0005"]);
}

#[test]
fn aliases_of_aliases_cannot_nest_past_the_depth_limit() {
    let mut source = String::from(
        "name: x\nsteps: []\nvariables:\n  a0: &a0 [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
    );
    for level in 1..40 {
        let prev = level - 1;
        source.push_str(&format!(
            "  a{level}: &a{level} [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[*a{prev}]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n"
        ));
    }
    let (_, diagnostics) = on_small_stack(move || parse_workflow(&source));
    assert_eq!(codes(&diagnostics), ["E0004"]);
}

#[test]
fn small_aliases_are_expanded() {
    let source = "name: alias\nvariables:\n  base: &base /tmp\n  copy: *base\nsteps: []\n";
    let (workflow, diagnostics) = parse_workflow(source);
    assert_eq!(codes(&diagnostics), ["W0101"]);
    let variables = workflow.unwrap().variables.unwrap();
    assert_eq!(variables.len(), 2);
}

#[test]
fn files_over_eight_mebibytes_are_refused_before_parsing() {
    let big = vec![b'#'; front_end::MAX_FILE_BYTES + 1];
    let error = front_end::decode(&big).unwrap_err();
    assert_eq!(error.code, "E0003");
    let text = String::from_utf8(big).unwrap();
    let (workflow, diagnostics) = parse_workflow(&text);
    assert!(workflow.is_none());
    assert_eq!(codes(&diagnostics), ["E0003"]);
}

#[test]
fn invalid_utf8_points_at_the_first_bad_byte() {
    let bytes = b"name: caf\xe9\nsteps: []\n";
    let error = front_end::decode(bytes).unwrap_err();
    assert_eq!(error.code, "E0002");
    assert_eq!(error.primary.span.start, 9);
    assert!(error.message.contains("0xE9"), "{}", error.message);
}

#[test]
fn nul_bytes_mark_a_binary_file() {
    let error = front_end::decode(b"\x7fELF\x02\x01\x01\x00\x00").unwrap_err();
    assert_eq!(error.code, "E0002");
    assert!(error.message.contains("binary"));
    let (_, diagnostics) = parse_workflow("name: x\0");
    assert_eq!(codes(&diagnostics), ["E0002"]);
}

#[test]
fn an_empty_or_comment_only_file_says_so() {
    for source in ["", "# nothing yet\n", "\n\n"] {
        let (workflow, diagnostics) = parse_workflow(source);
        assert!(workflow.is_none());
        assert_eq!(codes(&diagnostics), ["E0006"], "{source:?}");
    }
}

#[test]
fn a_second_document_is_reported_and_the_first_still_checked() {
    let source = "name: one\nstepz: []\n---\nname: two\n";
    let (workflow, diagnostics) = parse_workflow(source);
    assert!(workflow.is_some());
    // `steps` is missing: reported at the mapping's first key, line 1.
    assert_eq!(codes(&diagnostics), ["E0102", "E0101", "E0007"]);
    assert_eq!(&source[diagnostics[2].primary.span.range()], "---");
}

#[test]
fn a_document_that_is_not_a_mapping_is_a_wrong_type() {
    for source in ["- a\n- b\n", "just text\n", "42\n"] {
        let (workflow, diagnostics) = parse_workflow(source);
        assert!(workflow.is_none());
        assert_eq!(codes(&diagnostics), ["E0103"], "{source:?}");
    }
}

#[test]
fn syntax_errors_carry_the_position_saphyr_reports() {
    let source = "name: x\nsteps:\n\t- id: a\n";
    let (_, diagnostics) = parse_workflow(source);
    assert_eq!(codes(&diagnostics), ["E0001"]);
    let at = LineIndex::new(source).position(diagnostics[0].primary.span.start as usize);
    assert_eq!(at.line, 3);
    assert!(diagnostics[0].hint.as_deref().unwrap_or("").contains("tab"), "{:?}", diagnostics[0]);
}

#[test]
fn custom_tags_are_reported() {
    let source = "name: tags\nvariables:\n  home: !env HOME\n  n: !!int 3\nsteps: []\n";
    let (_, diagnostics) = parse_workflow(source);
    assert_eq!(codes(&diagnostics), ["E0008", "W0101"]);
}

#[test]
fn json_format_carries_line_and_character_columns() {
    // `é` is two bytes: the column must count characters.
    let source = "name: café\nsteps:\n  - id: é\n    acton: log\n";
    let (_, diagnostics) = parse_workflow(source);
    let json = to_json("w.yaml", source, &diagnostics);
    let unknown = json.iter().find(|d| d.code == "E0101").expect("unknown key");
    assert_eq!((unknown.line, unknown.column, unknown.end_line, unknown.end_column), (4, 5, 4, 10));
    let value = serde_json::to_value(unknown).unwrap();
    assert_eq!(value["severity"], "error");
    assert_eq!(value["hint"], "did you mean `action`?");
}

#[test]
fn non_ascii_text_before_a_value_keeps_spans_on_the_right_bytes() {
    let source = "name: ünïcödé\ndescription: \"日本語 ${x}\"\nsteps:\n  - id: a\n    action: log\n    input:\n      message: \"→ ${a.b}\"\n";
    let (workflow, diagnostics) = parse_workflow(source);
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let workflow = workflow.unwrap();
    assert_eq!(&source[workflow.name.as_ref().unwrap().span.range()], "ünïcödé");
    let step = &workflow.steps[0];
    let message = &step.input.as_ref().unwrap().get("message").unwrap().value;
    let compiler::model::YamlValue::String(text) = &message.value else { panic!("text") };
    let inner = text.value.find("a.b").unwrap();
    let span = text.file_span(expr_grammar::Span::new(inner, inner + 3));
    assert_eq!(&source[span.range()], "a.b");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(source in "\\PC{0,400}") {
        let _ = parse_workflow(&source);
        let _ = compiler::outline(&source, &Catalogue::builtin());
    }

    #[test]
    fn arbitrary_yaml_ish_text_never_panics(
        source in proptest::collection::vec(
            prop_oneof![
                Just("name: x\n"), Just("steps:\n"), Just("  - id: a\n"), Just("    action: log\n"),
                Just("    input:\n"), Just("      message: \"${a.b}\"\n"), Just("- "), Just("["), Just("]"),
                Just("{"), Just("}"), Just(": "), Just(", "), Just("&a "), Just("*a "), Just("!!str "), Just("!x "),
                Just("'q''s'"), Just("\"e\\u00e9\\x41\""), Just("|\n  lit\n"), Just(">\n  fold\n"), Just("---\n"),
                Just("...\n"), Just("# c\n"), Just("\t"), Just("\n"), Just("  "), Just("? "), Just("é"), Just("\r\n"),
                Just("loop: {items: x, concurrency: 2}\n"), Just("retry: {backoff: fixed}\n"), Just("timeout: 1h\n"),
                Just("triggers: [{type: webhook, path: /x}]\n"), Just("inputs: {a: {type: int}}\n"),
                Just("  - {id: b, action: log, needs: [a, z], if: \"${a.x > 1}\", input: {message: \"${a} ${steps.a.output}\"}}\n"),
                Just("concurrency: {limit: 1, policy: skip}\n"), Just("triggers: [{type: schedule, cron: \"* * * * *\"}]\n"),
                Just("on_failure:\n"), Just("output: a\n"),
            ],
            0..60,
        )
    ) {
        let source: String = source.concat();
        let (_, diagnostics) = parse_workflow(&source);
        let index = LineIndex::new(&source);
        for diagnostic in &diagnostics {
            prop_assert!(diagnostic.primary.span.start <= diagnostic.primary.span.end);
            prop_assert!(diagnostic.primary.span.end as usize <= source.len());
            let _ = index.position(diagnostic.primary.span.start as usize);
        }
        let _ = compiler::render::render_file("p.yaml", &source, &diagnostics, Default::default());
        let outline = compiler::outline(&source, &Catalogue::builtin());
        let lines = source.split('\n').count();
        for range in outline.nodes.iter().map(|n| n.range).chain(outline.edges.iter().filter_map(|e| e.range)) {
            prop_assert!(range.start.line >= 1 && range.start <= range.end && range.end.line <= lines);
        }
        for edge in &outline.edges {
            prop_assert!(outline.nodes.iter().any(|n| n.id == edge.from) && outline.nodes.iter().any(|n| n.id == edge.to));
        }
    }
}

#[test]
fn a_mapping_with_a_hundred_thousand_keys_is_read_in_linear_time() {
    let mut source = String::from("name: many\nsteps: []\nvariables:\n");
    for i in 0..100_000 {
        source.push_str(&format!("  v{i}: {i}\n"));
    }
    source.push_str("  v7: again\n");
    let (workflow, diagnostics) = parse_workflow(&source);
    assert_eq!(codes(&diagnostics), ["W0101", "E0104"]);
    assert_eq!(workflow.unwrap().variables.unwrap().len(), 100_000);
}

#[test]
fn many_errors_on_one_huge_line_render_quickly_and_are_capped() {
    // Minified JSON: one line, tens of thousands of unknown keys.
    let keys: String = (0..30_000).map(|i| format!(",\"k{i}\":1")).collect();
    let source = format!("{{\"name\":\"x\",\"stepz\":[]{keys}}}");
    let (_, diagnostics) = parse_workflow(&source);
    assert!(diagnostics.len() > 30_000);
    let rendered = compiler::render::render_file("m.json", &source, &diagnostics, Default::default());
    let shown = rendered.matches("error[").count();
    let limit = compiler::render::MAX_SHOWN_PER_FILE;
    assert_eq!(shown, limit);
    let left_out = diagnostics.len() - limit;
    let note =
        format!("note[N0001]: {left_out} more problems in m.json not shown; at most {limit} are listed per file");
    assert!(rendered.ends_with(&format!("{note}\n\n")), "{}", &rendered[rendered.len() - 200..]);
    // Each snippet line is cut around its mark, not the whole megabyte line.
    assert!(rendered.lines().all(|line| line.chars().count() < 1000));
    // The JSON is capped the same way: the first diagnostics by position, then the note counting the rest.
    let json = compiler::render::to_json("m.json", &source, &diagnostics);
    assert_eq!(json.len(), limit + 1);
    let last_shown = &json[limit - 1];
    assert_eq!(last_shown.column - 1, diagnostics[limit - 1].primary.span.start as usize, "one line of ASCII");
    assert!(source[last_shown.column - 1..last_shown.end_column - 1].starts_with('k'));
    let note = json.last().unwrap();
    assert_eq!((note.severity.as_str(), note.code.as_str()), ("note", "N0001"));
    assert!(note.message.starts_with(&format!("{left_out} more problems")), "{}", note.message);
}

#[test]
fn marks_inside_multibyte_text_on_a_long_line_stay_on_character_boundaries() {
    let filler = "é".repeat(500);
    let source = format!("name: x\ndescription: \"{filler}\"\nsteps: []\nbad_key_{filler}: 1\n");
    let (_, diagnostics) = parse_workflow(&source);
    let rendered = compiler::render::render_file("u.yaml", &source, &diagnostics, Default::default());
    assert!(rendered.contains("error[E0101]"), "{rendered}");
    assert!(rendered.contains("^^^"), "{rendered}");
}
