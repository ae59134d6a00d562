//! Parser tests: one line per grammar rule, showing how the text grouped (fully parenthesized) or where it failed.

use expr_grammar::{Span, TemplatePart, parse_expression, parse_template};

/// `source` parses, and prints back fully parenthesized as `expected`.
#[track_caller]
fn parses(source: &str, expected: &str) {
    match parse_expression(source) {
        Ok(expr) => assert_eq!(expr.to_string(), expected, "grouping of {source:?}"),
        Err(errors) => panic!("{source:?} should parse, got {errors:?}"),
    }
}

/// `source` fails to parse with an error at `start..end` whose message contains `message`.
#[track_caller]
fn fails(source: &str, (start, end): (usize, usize), message: &str) {
    let errors = parse_expression(source).expect_err(&format!("{source:?} should not parse"));
    let error = &errors[0];
    assert_eq!(error.span, Span::new(start, end), "span of the error for {source:?}: {error:?}");
    assert!(error.message.contains(message), "message for {source:?}: {:?}", error.message);
}

#[test]
fn literals() {
    parses("42", "42");
    parses("4.5", "4.5");
    parses("1e3", "1000.0");
    parses("2.5e-1", "0.25");
    parses("true", "true");
    parses("false", "false");
    parses("null", "null");
    parses("'single'", r#""single""#);
    parses(r#""double""#, r#""double""#);
    parses(r"'it\'s'", r#""it's""#);
    parses(r#""a\"b""#, r#""a\"b""#);
    parses(r"'tab\there\n'", r#""tab\there\n""#);
    parses(r"'\u{e9}'", r#""é""#);
    parses("'ünïcode'", r#""ünïcode""#);
}

#[test]
fn duration_literals() {
    parses("500ms", "500ms");
    parses("30s", "30s");
    parses("5m", "5m");
    parses("2h", "2h");
    parses("1d", "1d");
    parses("1h30m", "1h30m");
    parses("90m", "1h30m");
    parses("1d2h3m4s5ms", "1d2h3m4s5ms");
}

#[test]
fn lists_and_objects() {
    parses("[]", "[]");
    parses("[1, 2]", "[1, 2]");
    parses("[1, 2,]", "[1, 2]");
    parses("{}", "{}");
    parses(r#"{a: 1, "b c": 2}"#, r#"{"a": 1, "b c": 2}"#);
    parses("{a: {b: [1]}}", r#"{"a": {"b": [1]}}"#);
}

#[test]
fn names_fields_and_indexes() {
    parses("workflow.name", "workflow.name");
    parses("steps.step1.output.data", "steps.step1.output.data");
    parses("data.users[0].name", "data.users[0].name");
    parses("data.users[*].email", "data.users[*].email");
    parses("data['b c']", r#"data["b c"]"#);
    parses("x.null.in", "x.null.in");
    parses("items [ 0 ]", "items[0]");
}

#[test]
fn calls() {
    parses("now()", "now()");
    parses("len(items)", "len(items)");
    parses("format(date, 'YYYY-MM-DD')", r#"format(date, "YYYY-MM-DD")"#);
    parses("if(count > 10, 'many', 'few')", r#"if((count > 10), "many", "few")"#);
    parses("f(a, b,)", "f(a, b)");
    parses("parse_json(x).a[0]", "parse_json(x).a[0]");
}

#[test]
fn precedence_follows_the_usual_rules() {
    parses("1 + 2 * 3", "(1 + (2 * 3))");
    parses("(1 + 2) * 3", "((1 + 2) * 3)");
    parses("1 - 2 - 3", "((1 - 2) - 3)");
    parses("8 / 4 % 3", "((8 / 4) % 3)");
    parses("a || b && c", "(a || (b && c))");
    parses("a == b && c != d", "((a == b) && (c != d))");
    parses("a < b == c >= d", "((a < b) == (c >= d))");
    parses("1 + 2 < 4", "((1 + 2) < 4)");
    parses("x in [1, 2] && y", "((x in [1, 2]) && y)");
    parses("-a * b", "((-a) * b)");
    parses("!a.b", "(!a.b)");
    parses("- - 1", "(-(-1))");
    parses("!!true", "(!(!true))");
    parses("modified_at > now() - 1d", "(modified_at > (now() - 1d))");
}

#[test]
fn keywords_are_not_names() {
    parses("index in list", "(index in list)");
    parses("inner", "inner");
    parses("nullable", "nullable");
    parses("true_value", "true_value");
}

#[test]
fn spans_point_at_source_text() {
    let expr = parse_expression("  a.b + len(c)").unwrap();
    assert_eq!(expr.span, Span::new(2, 14));
    let expr = parse_expression("x[*].y").unwrap();
    assert_eq!(expr.span, Span::new(0, 6));
}

#[test]
fn syntax_errors_point_at_the_problem() {
    fails("1 +", (3, 3), "expected");
    fails("len(items", (9, 9), "expected");
    fails("a b", (2, 3), "expected");
    fails("'unterminated", (0, 1), "expected");
    fails("1 ++ 2", (3, 4), "expected");
    fails("5min", (0, 1), "expected");
    fails(r"'bad \q escape'", (5, 7), "unknown escape");
    fails("99999999999999999999", (0, 20), "too large");
    fails("", (0, 0), "empty expression");
    fails("   ", (0, 3), "empty expression");
    fails("a.", (2, 2), "expected");
    fails("{1: 2}", (1, 2), "expected");
}

#[test]
fn deep_nesting_is_a_syntax_error_not_a_stack_overflow() {
    let deep = format!("{}1{}", "(".repeat(30_000), ")".repeat(30_000));
    let error = &parse_expression(&deep).unwrap_err()[0];
    assert!(error.message.contains("nested deeper than 64"), "{error:?}");
    let nots = format!("{}true", "!".repeat(60_000));
    assert!(parse_expression(&nots).unwrap_err()[0].message.contains("nested"));
    let chain = format!("1{}", " + 1".repeat(10_000));
    assert!(parse_expression(&chain).unwrap_err()[0].message.contains("nested"));
    let fields = format!("a{}", ".b".repeat(20_000));
    assert!(parse_expression(&fields).unwrap_err()[0].message.contains("nested"));
    let lists = format!("{}{}", "[".repeat(70), "]".repeat(70));
    assert!(parse_expression(&lists).unwrap_err()[0].message.contains("nested"));
}

#[test]
fn nesting_up_to_the_limit_parses() {
    let ok = format!("{}1{}", "(".repeat(60), ")".repeat(60));
    parses(&ok, "1");
    let chain = format!("1{}", " + 1".repeat(60));
    assert!(parse_expression(&chain).is_ok());
}

#[test]
fn over_long_expressions_are_rejected() {
    let long = format!("'{}'", "a".repeat(70_000));
    let error = &parse_expression(&long).unwrap_err()[0];
    assert!(error.message.contains("limit is 65536"), "{error:?}");
}

// ---- templates ----

fn literal(text: &str) -> TemplatePart {
    TemplatePart::Literal(text.to_string())
}

/// The parts of a template: literal text as is, expressions printed parenthesized inside `${}`.
fn template_parts(source: &str) -> Vec<String> {
    let template = parse_template(source).unwrap_or_else(|e| panic!("{source:?} should parse: {e:?}"));
    template
        .parts
        .iter()
        .map(|part| match part {
            TemplatePart::Literal(text) => text.clone(),
            TemplatePart::Expr(expr) => format!("${{{expr}}}"),
        })
        .collect()
}

#[test]
fn template_splits_literals_and_expressions() {
    assert_eq!(template_parts("${workflow.name}"), ["${workflow.name}"]);
    assert_eq!(template_parts("Backed up ${len(files)} files"), ["Backed up ", "${len(files)}", " files"]);
    assert_eq!(template_parts("${a}${b}"), ["${a}", "${b}"]);
    assert_eq!(template_parts("${backup_folder}/${item.name}"), ["${backup_folder}", "/", "${item.name}"]);
    assert_eq!(template_parts("plain text"), ["plain text"]);
    assert!(parse_template("").unwrap().parts.is_empty());
    assert_eq!(parse_template("$ and {}").unwrap().parts, [literal("$ and {}")]);
}

#[test]
fn template_double_dollar_escapes_an_expression() {
    assert_eq!(template_parts("cost: $${price}"), ["cost: ${price}"]);
    assert_eq!(template_parts("$${a} ${b}"), ["${a} ", "${b}"]);
    assert_eq!(template_parts("$$${a}"), ["$${a}"]);
}

#[test]
fn template_finds_the_matching_brace_past_strings_and_objects() {
    assert_eq!(template_parts("${'}'}"), [r#"${"}"}"#]);
    assert_eq!(template_parts(r#"${"a}b" + 'c{'}!"#), [r#"${("a}b" + "c{")}"#, "!"]);
    assert_eq!(template_parts("${ {a: {b: 1}}.a.b }"), [r#"${{"a": {"b": 1}}.a.b}"#]);
    assert_eq!(template_parts(r"${'it\'s }'}"), [r#"${"it's }"}"#]);
}

#[test]
fn template_expression_spans_are_offsets_into_the_template() {
    let template = parse_template("Hello ${user.name}!").unwrap();
    let TemplatePart::Expr(expr) = &template.parts[1] else { panic!("expected an expression") };
    assert_eq!(expr.span, Span::new(8, 17));
}

#[test]
fn template_unclosed_expression_points_at_the_dollar_brace() {
    let errors = parse_template("abc ${len(x)").unwrap_err();
    assert_eq!(errors[0].span, Span::new(4, 6));
    assert!(errors[0].message.contains("not closed"));
    let errors = parse_template("${'}").unwrap_err();
    assert_eq!(errors[0].span, Span::new(0, 2));
}

#[test]
fn template_reports_every_broken_expression() {
    let errors = parse_template("${1 +} and ${} and ${ok} and ${a b}").unwrap_err();
    let starts: Vec<u32> = errors.iter().map(|e| e.span.start).collect();
    assert_eq!(starts, [5, 13, 33]);
}

#[test]
fn syntax_error_messages_name_what_was_expected() {
    let error = &parse_expression("len(items").unwrap_err()[0];
    assert_eq!(error.message, "expected `)` to close `(`, found the end of the expression");
    assert_eq!(error.hint.as_deref(), Some("add the missing `)`"));
    assert_eq!(error.related, Some((Span::new(3, 4), "this `(` is not closed".to_string())));
    let error = &parse_expression("1 +").unwrap_err()[0];
    assert!(error.message.starts_with("expected a prefix operator"), "{}", error.message);
}

#[test]
fn an_unclosed_bracket_is_named_where_the_parser_stops() {
    // A comma inside a group: the `(` before `a` was never closed.
    let error = &parse_expression("max((a, b)").unwrap_err()[0];
    assert_eq!(error.message, "expected `)` to close `(`, found `,`");
    assert_eq!(error.span, Span::new(6, 7));
    assert_eq!(error.related, Some((Span::new(4, 5), "this `(` is not closed".to_string())));
    let error = &parse_expression("(a + b]").unwrap_err()[0];
    assert_eq!(error.message, "expected `)` to close `(`, found `]`");
    let error = &parse_expression("[1, 2").unwrap_err()[0];
    assert_eq!(error.message, "expected `]` to close `[`, found the end of the expression");
    // A missing operand is still the first thing to say, with the open bracket shown too.
    let error = &parse_expression("len(a +").unwrap_err()[0];
    assert!(error.message.starts_with("expected a prefix operator"), "{}", error.message);
    assert_eq!(error.related, Some((Span::new(3, 4), "this `(` is not closed".to_string())));
    // Commas belong in calls and lists; brackets inside strings do not count.
    let error = &parse_expression("f(a,, b)").unwrap_err()[0];
    assert!(error.related.is_none(), "{error:?}");
    let error = &parse_expression("'(' +").unwrap_err()[0];
    assert!(error.related.is_none(), "{error:?}");
}
