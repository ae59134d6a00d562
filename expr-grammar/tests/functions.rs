//! The standard library, one line per behaviour, plus every documented example checked against its result.

mod common;

use common::*;
use expr_grammar::{CheckErrorKind, function_docs};
use serde_json::json;

#[test]
fn len_counts_characters_elements_and_fields() {
    give("len('héllo')", json!(5));
    give("len(items)", json!(3));
    give("len({a: 1, b: 2})", json!(2));
    give("len([])", json!(0));
    give("len(data.users)", json!(2));
}

#[test]
fn string_functions() {
    give("lower('AbC')", json!("abc"));
    give("upper('AbC')", json!("ABC"));
    give("trim('  x \n')", json!("x"));
    give("split('a/b/c', '/')", json!(["a", "b", "c"]));
    give("split('abc', '')", json!(["a", "b", "c"]));
    give("join(items, '-')", json!("a-b-c"));
    give("join(items)", json!("abc"));
    give("join([1, 2h, null], ' ')", json!("1 2h null"));
    give("replace(item.name, '.docx', '.pdf')", json!("report.pdf"));
    give("contains(item.name, 'port')", json!(true));
    give("contains(items, 'z')", json!(false));
    give("starts_with(item.path, '/docs')", json!(true));
    give("ends_with(item.name, '.txt')", json!(false));
    give(r"matches(item.name, '^rep\\w+\\.docx$')", json!(true));
    give("matches('abc', 'x|y')", json!(false));
}

#[test]
fn invalid_regex_is_an_error_with_the_pattern() {
    let errors = compile("matches('a', '(')").unwrap_err();
    assert_eq!(errors[0].kind, CheckErrorKind::EvaluationFailed);
    assert!(errors[0].message.contains("invalid regular expression `(`"), "{}", errors[0].message);
    fails_at_run_time("matches(item.name, data.users[0].name + '[')", "invalid regular expression `Ada[`");
}

#[test]
fn collection_functions() {
    give("keys(data)", json!(["users", "total", "meta"]));
    give("values({a: 1, b: 'x'})", json!([1, "x"]));
    give("first(items)", json!("a"));
    give("last(items)", json!("c"));
    give("first([])", json!(null));
    give("sort([3, 1, 2])", json!([1, 2, 3]));
    give("sort(['b', 'a'])", json!(["a", "b"]));
    give("sort(recent_files, 'modified_at')[*].name", json!(["b.txt", "a.txt"]));
    give("unique(['a', 'b', 'a'])", json!(["a", "b"]));
    give("unique([1, 1.0, 2])", json!([1, 2]));
    give("sum([1, 2, 3])", json!(6));
    give("sum([])", json!(0));
    give("sum(recent_files[*].size)", json!(30));
    give("sum([1h, 30m])", json!("1h30m"));
    give("min([3, 1.5, 2])", json!(1.5));
    give("max(items)", json!("c"));
    give("max(recent_files[*].modified_at)", json!("2024-05-01T11:00:00.000000Z"));
    give("min([])", json!(null));
    give("flatten([[1], [2, [3]]])", json!([1, 2, [3]]));
    give("flatten(data.users[*].tags)", json!(["admin", "ops"]));
}

#[test]
fn collection_functions_reject_unorderable_elements() {
    fails_at_run_time("sort(data.users)", "cannot order object and object");
    fails_at_run_time("max([1, data.users[0].name])", "cannot order");
    fails_at_run_time("sum(data.users[*].name)", "`sum` adds numbers or durations, found string");
}

#[test]
fn sum_of_strings_is_a_type_error() {
    let errors = compile("sum(items)").unwrap_err();
    assert_eq!(errors[0].kind, CheckErrorKind::TypeMismatch);
    assert_eq!(errors[0].message, "`sum` adds numbers or durations, got a list of string");
}

#[test]
fn conversions() {
    give("string(42)", json!("42"));
    give("string(date)", json!("2024-03-05T14:07:09Z"));
    give("string(null)", json!("null"));
    give("int('  12 ')", json!(12));
    give("int(-2.7)", json!(-2));
    give("int(true)", json!(1));
    give("float(3)", json!(3.0));
    give("float('1e3')", json!(1000.0));
    give("json('a')", json!("\"a\""));
    give("json(date)", json!("\"2024-03-05T14:07:09.000000Z\""));
    give("parse_json('[1, {\"a\": null}]')", json!([1, {"a": null}]));
    give("parse_json(json(data)) == data", json!(true));
}

#[test]
fn conversion_errors() {
    fails_at_run_time("int(data.users[0].name)", "`Ada` is not an integer");
    fails_at_run_time("float(data.users[0].name)", "`Ada` is not a number");
    fails_at_run_time("parse_json(data.users[0].name)", "invalid JSON");
    let errors = compile("int('x')").unwrap_err();
    assert_eq!(errors[0].kind, CheckErrorKind::EvaluationFailed);
}

#[test]
fn date_functions() {
    give("format(date, 'YYYY-MM-DD')", json!("2024-03-05"));
    give("format(date, 'YY M D H:m:s')", json!("24 3 5 14:7:9"));
    give("format(date, 'HH:mm:ss.SSS Z')", json!("14:07:09.000 +00:00"));
    give("format(date, 'ddd, MMMM D')", json!("Tue, March 5"));
    give("format(date, 'hh A')", json!("02 PM"));
    give("format(date, '[Today is] dddd')", json!("Today is Tuesday"));
    give("format(date, '100%')", json!("100%"));
    give("format('2024-01-02', 'DD/MM')", json!("02/01"));
    give("parse_date('2024-01-02')", json!("2024-01-02T00:00:00.000000Z"));
    give("parse_date('2024-01-02T03:04:05+02:00')", json!("2024-01-02T01:04:05.000000Z"));
    give("parse_date('2024-01-02 03:04:05')", json!("2024-01-02T03:04:05.000000Z"));
    give("parse_date('2024-01-02T03:04:05.250Z')", json!("2024-01-02T03:04:05.250000Z"));
    give("parse_date('31.12.2023 23:59', 'DD.MM.YYYY HH:mm')", json!("2023-12-31T23:59:00.000000Z"));
    give("parse_date('2024-01-02') < date", json!(true));
    give("parse_duration('1h30m')", json!("1h30m"));
    give("parse_duration('-5m') + 10m", json!("5m"));
    give("now() - parse_date('2024-04-30T12:00:00Z')", json!("1d"));
}

#[test]
fn date_errors() {
    fails_at_run_time("parse_date(data.users[0].name)", "`Ada` is not a date");
    fails_at_run_time("parse_date(data.users[0].name, 'YYYY')", "does not match the pattern `YYYY`");
    fails_at_run_time("parse_duration(data.users[0].name)", "`Ada` is not a duration");
    let errors = compile("parse_date('yesterday')").unwrap_err();
    assert_eq!(errors[0].kind, CheckErrorKind::EvaluationFailed);
    assert!(errors[0].message.contains("`yesterday` is not a date"));
}

#[test]
fn path_functions() {
    give("basename(item.path)", json!("report.docx"));
    give("basename('/a/b/')", json!("b"));
    give("dirname(item.path)", json!("/docs"));
    give("dirname('file.txt')", json!("."));
    give("dirname('/')", json!("/"));
    give("extension(item.name)", json!("docx"));
    give("extension('Makefile')", json!(""));
}

#[test]
fn arguments_of_type_any_are_checked_at_run_time() {
    fails_at_run_time("len(data.total)", "`len` expects string | list | object for `value`, got int");
    fails_at_run_time("lower(data.total)", "`lower` expects string for `text`, got int");
}

#[test]
fn every_documented_example_gives_its_documented_result() {
    let docs = function_docs();
    assert!(docs.len() >= 36, "{} functions documented", docs.len());
    for doc in docs {
        let compiled = compile(&doc.example).unwrap_or_else(|e| panic!("example of {}: {e:?}", doc.name));
        let value =
            compiled.program.eval(&TestContext::new()).unwrap_or_else(|e| panic!("example of {}: {e:?}", doc.name));
        if doc.example_result.is_empty() {
            continue;
        }
        assert_eq!(value.to_json().to_string(), doc.example_result, "example of `{}`: {}", doc.name, doc.example);
    }
}

#[test]
fn every_function_has_a_signature_description_and_example() {
    let mut names = std::collections::HashSet::new();
    for doc in function_docs() {
        assert!(names.insert(doc.name.clone()), "`{}` is defined twice", doc.name);
        assert!(doc.signature.starts_with(&format!("{}(", doc.name)), "{}", doc.signature);
        assert!(!doc.description.is_empty() && doc.example.contains(&doc.name), "{}", doc.name);
    }
}

#[test]
fn sort_never_panics_on_inconsistent_nested_orders() {
    // Neighbours compare, but `[1, 'a']` and `[1, 2]` do not: the sort still finishes, numbers before strings.
    give("sort([[1, 'a'], [2], [1, 2]])", json!([[1, 2], [1, "a"], [2]]));
    give("sort([[2], [1, 5], [1]])", json!([[1], [1, 5], [2]]));
    let many =
        (0..40).map(|i| if i % 3 == 0 { format!("[{i}, 'x']") } else { format!("[{}]", 40 - i) }).collect::<Vec<_>>();
    let _ = compile(&format!("sort([{}])", many.join(", ")));
}
