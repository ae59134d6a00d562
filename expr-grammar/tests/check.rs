//! Checking: name resolution, type errors (kind, exact span, hint), constant folding, slots.

mod common;

use common::*;
use expr_grammar::{CheckError, CheckErrorKind, Program, Span, Type, Value};

/// `source` fails to compile; the error at `index` has `kind`, underlines `underlined` (the text under the
/// caret), and, when given, has the hint.
#[track_caller]
fn rejects(source: &str, kind: CheckErrorKind, underlined: &str, hint: Option<&str>) -> CheckError {
    let errors = compile(source).expect_err(&format!("{source:?} should not compile"));
    let error = errors.into_iter().next().unwrap();
    assert_eq!(error.kind, kind, "kind for {source:?}: {error:?}");
    assert_eq!(&source[error.span.range()], underlined, "span for {source:?}: {error:?}");
    if let Some(hint) = hint {
        assert_eq!(error.hint.as_deref(), Some(hint), "hint for {source:?}: {error:?}");
    }
    error
}

#[test]
fn unknown_names_underline_the_segment_and_suggest() {
    rejects("itme.name", CheckErrorKind::UnknownName, "itme", Some("did you mean `item`?"));
    rejects("steps.step2.output", CheckErrorKind::UnknownName, "step2", Some("did you mean `step1`?"));
    rejects("steps.step1.outptu.data", CheckErrorKind::UnknownName, "outptu", Some("did you mean `output`?"));
    let error = rejects("1 + zzz", CheckErrorKind::UnknownName, "zzz", None);
    assert_eq!(error.hint, None);
}

#[test]
fn unknown_fields_of_closed_objects_suggest_the_closest() {
    let error = rejects("item.nmae", CheckErrorKind::UnknownField, "nmae", Some("did you mean `name`?"));
    assert!(error.message.contains("known fields: is_dir, modified_at, name, path, size"), "{}", error.message);
    rejects("workflow.nam", CheckErrorKind::UnknownField, "nam", Some("did you mean `name`?"));
    rejects("recent_files[0].sise", CheckErrorKind::UnknownField, "sise", Some("did you mean `size`?"));
    rejects("{a: 1}['b']", CheckErrorKind::UnknownField, "'b'", None);
}

#[test]
fn fields_of_open_objects_and_any_are_any() {
    has_type("steps.step1.output.data", Type::list(Type::Int));
    has_type("steps.step1.output.other", Type::Any);
    has_type("data.whatever.deep[3]", Type::Any);
}

#[test]
fn comparing_a_timestamp_with_a_string_says_to_parse_it() {
    let error = rejects(
        "item.modified_at > 'yesterday'",
        CheckErrorKind::TypeMismatch,
        "item.modified_at > 'yesterday'",
        Some("parse it first: parse_date('...')"),
    );
    assert_eq!(error.message, "cannot compare timestamp with string using `>`");
    let errors = compile_filter("modified_at > 'yesterday'").unwrap_err();
    assert_eq!(errors[0].hint.as_deref(), Some("parse it first: parse_date('...')"));
    rejects(
        "date == '2024-01-01'",
        CheckErrorKind::TypeMismatch,
        "date == '2024-01-01'",
        Some("parse it first: parse_date('...')"),
    );
}

#[test]
fn function_argument_types_are_checked() {
    let error = rejects("len(3)", CheckErrorKind::TypeMismatch, "3", Some("len(value: string | list | object) -> int"));
    assert_eq!(error.message, "`len` expects string | list | object for `value`, got int");
    rejects("len(item.size)", CheckErrorKind::TypeMismatch, "item.size", None);
}

#[test]
fn unknown_functions_and_wrong_argument_counts() {
    rejects("lenn(items)", CheckErrorKind::UnknownFunction, "lenn", Some("did you mean `len`?"));
    let error = rejects("len(items, 2)", CheckErrorKind::WrongArgumentCount, "len(items, 2)", None);
    assert_eq!(error.message, "`len` takes 1 argument, got 2");
    let error = rejects("if(true, 1)", CheckErrorKind::WrongArgumentCount, "if(true, 1)", None);
    assert_eq!(error.message, "`if` takes 3 arguments, got 2");
    let error = rejects("env()", CheckErrorKind::WrongArgumentCount, "env()", None);
    assert_eq!(error.message, "`env` takes 1 or 2 arguments, got 0");
}

#[test]
fn conditions_must_be_bool() {
    rejects("count && true", CheckErrorKind::TypeMismatch, "count", None);
    rejects("true || items", CheckErrorKind::TypeMismatch, "items", None);
    rejects("!count", CheckErrorKind::TypeMismatch, "count", None);
    rejects("if(count, 1, 2)", CheckErrorKind::TypeMismatch, "count", None);
    has_type("data.flag && true", Type::Bool);
}

#[test]
fn operator_type_errors() {
    rejects("count + 'x'", CheckErrorKind::TypeMismatch, "count + 'x'", None);
    rejects("now() + now()", CheckErrorKind::TypeMismatch, "now() + now()", None);
    rejects(
        "1h + 5",
        CheckErrorKind::TypeMismatch,
        "1h + 5",
        Some("write the number with a unit, such as `30s` or `5m`"),
    );
    rejects("-'a'", CheckErrorKind::TypeMismatch, "-'a'", None);
    rejects("count in 5", CheckErrorKind::TypeMismatch, "count in 5", None);
    rejects("items[0] == 3", CheckErrorKind::TypeMismatch, "items[0] == 3", None);
    rejects("items['x']", CheckErrorKind::TypeMismatch, "'x'", None);
    rejects("count.x", CheckErrorKind::TypeMismatch, "x", None);
    rejects("count[*]", CheckErrorKind::NotIterable, "count[*]", None);
    rejects(
        "workflow[*]",
        CheckErrorKind::NotIterable,
        "workflow[*]",
        Some("for the values of an object, write `values(...)[*]`"),
    );
}

#[test]
fn every_error_of_an_expression_is_reported() {
    let errors = compile("itme.name + len(3) + lenn(1)").unwrap_err();
    let kinds: Vec<CheckErrorKind> = errors.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [CheckErrorKind::UnknownName, CheckErrorKind::TypeMismatch, CheckErrorKind::UnknownFunction]);
}

#[test]
fn an_error_is_reported_once_not_again_by_what_surrounds_it() {
    let errors = compile("(itme.name + 1) * 2 > 3").unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
}

#[test]
fn static_types() {
    has_type("1 + 2", Type::Int);
    has_type("1 + 2.0", Type::Float);
    has_type("now() - 1d", Type::Timestamp);
    has_type("now() - item.modified_at", Type::Duration);
    has_type("1h * 2", Type::Duration);
    has_type("item.size > 10", Type::Bool);
    has_type("if(count > 1, 1, 2.5)", Type::Float);
    has_type("if(count > 1, 'a', 2)", Type::Any);
    has_type("recent_files[*].modified_at", Type::list(Type::Timestamp));
    has_type("recent_files[0]", entry_type());
    has_type("data.users[*].email", Type::list(Type::Any));
    has_type("[1, 2.0]", Type::list(Type::Float));
    has_type("HOME", Type::String);
    has_type("env('X', 'y')", Type::String);
    has_type("{a: 1}", Type::object([("a", Type::Int)]));
}

#[test]
fn iteration_item_type_is_the_element_type_of_lists_only() {
    assert_eq!(Type::list(Type::String).iteration_item_type(), Some(Type::String));
    assert_eq!(expr_grammar::iteration_item_type(&Type::Any), Some(Type::Any));
    assert_eq!(Type::Int.iteration_item_type(), None);
    assert_eq!(Type::object([("a", Type::Int)]).iteration_item_type(), None);
}

#[test]
fn constant_sub_expressions_fold() {
    assert_eq!(compile("1 + 2 * 3").unwrap().program.as_constant(), Some(&Value::Int(7)));
    assert_eq!(compile("workflow.name + '!'").unwrap().program.as_constant(), Some(&Value::from("daily-backup!")));
    assert_eq!(compile("if(1 > 2, 'a', 'b')").unwrap().program.as_constant(), Some(&Value::from("b")));
    assert_eq!(compile("len([1, 2])").unwrap().program.as_constant(), Some(&Value::Int(2)));
    assert_eq!(compile_tpl("plain").unwrap().program.as_constant(), Some(&Value::from("plain")));
    assert_eq!(compile_tpl("v${1 + 1}").unwrap().program.as_constant(), Some(&Value::from("v2")));
    assert_eq!(compile("[1, 2][*]").unwrap().program.as_constant(), Some(&Value::list([Value::Int(1), Value::Int(2)])));
}

#[test]
fn reads_of_slots_clock_and_environment_do_not_fold() {
    for source in ["count + 1", "now()", "HOME", "env('HOME')", "if(count > 1, 1, 2)", "item.size"] {
        assert!(compile(source).unwrap().program.as_constant().is_none(), "{source} must not fold");
    }
}

#[test]
fn constants_that_fail_are_compile_errors() {
    rejects("1 / 0", CheckErrorKind::EvaluationFailed, "1 / 0", None);
    rejects("count + 10 % 0", CheckErrorKind::EvaluationFailed, "10 % 0", None);
    for zero in ["1h % 0s", "1h / 0s", "1.5 % 0.0"] {
        let error = rejects(zero, CheckErrorKind::EvaluationFailed, zero, None);
        assert!(error.message.ends_with("division by zero"), "{zero}: {}", error.message);
    }
    rejects("9223372036854775807 + 1", CheckErrorKind::EvaluationFailed, "9223372036854775807 + 1", None);
}

#[test]
fn slots_lists_every_slot_read_once() {
    let program = compile("item.size + count + len(items) + count").unwrap().program;
    assert_eq!(program.slots(), [ITEM, ITEMS, COUNT]);
    let program = compile_tpl("${HOME}/${workflow.name}").unwrap().program;
    assert!(program.slots().is_empty());
    let program = compile("recent_files[*].size").unwrap().program;
    assert_eq!(program.slots(), [RECENT_FILES]);
}

#[test]
fn programs_are_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Program>();
    let program = compile("count + 1").unwrap().program;
    let copy = program.clone();
    assert_eq!(copy.eval(&TestContext::new()).unwrap(), Value::Int(13));
}

#[test]
fn hand_built_deep_ast_is_rejected_by_the_checker() {
    use expr_grammar::ast::{Expr, ExprKind, Literal, UnaryOp};
    let mut expr = Expr::new(Span::new(0, 4), ExprKind::Literal(Literal::Bool(true)));
    for _ in 0..200 {
        expr = Expr::new(Span::new(0, 4), ExprKind::Unary { op: UnaryOp::Not, operand: Box::new(expr) });
    }
    let errors = expr_grammar::compile_expression(&expr, &TestScope { filter: false }).unwrap_err();
    assert_eq!(errors[0].kind, CheckErrorKind::TooDeep);
}
