//! Evaluation, one line per feature: `give(expression, expected JSON)`.

mod common;

use common::*;
use serde_json::json;

#[test]
fn literals_evaluate_to_themselves() {
    give("42", json!(42));
    give("-7", json!(-7));
    give("2.5", json!(2.5));
    give("'single'", json!("single"));
    give(r#""double""#, json!("double"));
    give(r"'line\nbreak'", json!("line\nbreak"));
    give("true", json!(true));
    give("null", json!(null));
    give("[1, 'a', null]", json!([1, "a", null]));
    give(r#"{a: 1, "b c": [true]}"#, json!({"a": 1, "b c": [true]}));
    give("500ms", json!("500ms"));
    give("1h30m", json!("1h30m"));
    give("36h", json!("1d12h"));
}

#[test]
fn arithmetic() {
    give("1 + 2 * 3", json!(7));
    give("(1 + 2) * 3", json!(9));
    give("7 / 2", json!(3));
    give("7.0 / 2", json!(3.5));
    give("7 % 3", json!(1));
    give("1 + 0.5", json!(1.5));
    give("-(2 - 5)", json!(3));
    give("'con' + 'cat'", json!("concat"));
    give("[1] + [2, 3]", json!([1, 2, 3]));
    give("{a: 1} + {b: 2}", json!({"a": 1, "b": 2}));
    give("count * 2", json!(24));
}

#[test]
fn duration_and_timestamp_arithmetic() {
    give("1h + 30m", json!("1h30m"));
    give("2h - 30m", json!("1h30m"));
    give("100m % 1h", json!("40m"));
    give("30m * 3", json!("1h30m"));
    give("3 * 30m", json!("1h30m"));
    give("1h / 4", json!("15m"));
    give("1h / 30m", json!(2.0));
    give("-1d", json!("-1d"));
    give("now()", json!("2024-05-01T12:00:00.000000Z"));
    give("now() - 1d", json!("2024-04-30T12:00:00.000000Z"));
    give("now() + 90m", json!("2024-05-01T13:30:00.000000Z"));
    give("1d + now()", json!("2024-05-02T12:00:00.000000Z"));
    give("now() - item.modified_at", json!("2h"));
    give("now() - now()", json!("0s"));
}

#[test]
fn comparisons() {
    give("1 < 2", json!(true));
    give("2 <= 2", json!(true));
    give("3 > 4", json!(false));
    give("1 == 1.0", json!(true));
    give("1 != 2", json!(true));
    give("'a' < 'b'", json!(true));
    give("1h > 59m", json!(true));
    give("item.modified_at > now() - 1d", json!(true));
    give("[1, 2] == [1, 2]", json!(true));
    give("{a: 1, b: 2} == {b: 2, a: 1}", json!(true));
    give("data.meta.next == null", json!(true));
    give("count > 10", json!(true));
}

#[test]
fn logic_short_circuits() {
    give("true && false", json!(false));
    give("false || true", json!(true));
    give("!true", json!(false));
    give("!(1 > 2) && 2 > 1", json!(true));
    // The right side would fail at run time (`data.total` is an int, not a bool), but is never evaluated.
    give("false && data.total", json!(false));
    give("true || data.total", json!(true));
}

#[test]
fn membership_with_in() {
    give("2 in [1, 2, 3]", json!(true));
    give("'b' in items", json!(true));
    give("'z' in items", json!(false));
    give("'ell' in 'hello'", json!(true));
    give("'a' in {a: 1}", json!(true));
    give("'users' in data", json!(true));
}

#[test]
fn names_and_paths() {
    give("workflow.name", json!("daily-backup"));
    give("steps.step1.output.data", json!([1, 2, 3]));
    give("steps.step1.output.data[1]", json!(2));
    give("item.name", json!("report.docx"));
    give("data.users[0].name", json!("Ada"));
    give("data.users[-1].name", json!("Bob"));
    give("data.users[5].name", json!(null));
    give("data.missing.deeper", json!(null));
    give("data['total']", json!(2));
    give("{'b c': 1}['b c']", json!(1));
    give("items[0]", json!("a"));
}

#[test]
fn wildcard_projection_maps_the_following_accesses() {
    give("data.users[*].email", json!(["ada@example.com", "bob@example.com"]));
    give("data.users[*].tags[0]", json!(["admin", null]));
    give("data.users[*].tags[*]", json!([["admin", "ops"], []]));
    give("recent_files[*].name", json!(["a.txt", "b.txt"]));
    give("len(recent_files[*].size)", json!(2));
    give("[[1, 2], [3]][*][0]", json!([1, 3]));
    give("values({a: 1, b: 2})[*]", json!([1, 2]));
}

#[test]
fn if_is_lazy() {
    give("if(count > 10, 'many', 'few')", json!("many"));
    give("if(count > 100, 'many', 'few')", json!("few"));
    // The branch not taken would fail (`[*]` on an int), and is not evaluated.
    give("if(count > 10, 'ok', data.total[*])", json!("ok"));
    give("if(true, 1, 2.5)", json!(1));
}

#[test]
fn default_replaces_null() {
    give("default(data.meta.next, 'none')", json!("none"));
    give("default(data.total, 0)", json!(2));
    give("default(null, 1)", json!(1));
}

#[test]
fn environment_variables() {
    give("env('HOME')", json!("/home/pilot"));
    give("HOME", json!("/home/pilot"));
    give("env('NOT_SET_ANYWHERE', 'fallback')", json!("fallback"));
    give("HOME + '/Documents'", json!("/home/pilot/Documents"));
}

#[test]
fn unset_environment_variable_is_an_error_naming_it() {
    fails_at_run_time("NOT_SET_ANYWHERE", "environment variable `NOT_SET_ANYWHERE` is not set");
    fails_at_run_time("env('ALSO_UNSET')", "`ALSO_UNSET` is not set");
}

#[test]
fn filter_conditions_read_bare_item_fields() {
    let compiled = compile_filter("modified_at > now() - 1d && !is_dir").unwrap();
    assert_eq!(compiled.program.eval(&TestContext::new()).unwrap().to_json(), json!(true));
    assert_eq!(compiled.program.slots(), [ITEM]);
    let mut ctx = TestContext::new();
    ctx.slots[0] = entry("old.docx", 1, 30);
    assert_eq!(compiled.program.eval(&ctx).unwrap().to_json(), json!(false));
}

#[test]
fn templates_interpolate() {
    give_tpl("${workflow.name}", json!("daily-backup"));
    give_tpl("${count}", json!(12));
    give_tpl("${items}", json!(["a", "b", "c"]));
    give_tpl("Backed up ${len(recent_files)} files", json!("Backed up 2 files"));
    give_tpl("${HOME}/Documents", json!("/home/pilot/Documents"));
    give_tpl("/backup/${item.name}", json!("/backup/report.docx"));
    give_tpl("n=${count}, x=${1.5}, ok=${true}, none=${null}", json!("n=12, x=1.5, ok=true, none=null"));
    give_tpl("at ${date}", json!("at 2024-03-05T14:07:09Z"));
    give_tpl("every ${1d + 2h}", json!("every 1d2h"));
    give_tpl("list ${[1, 'a']} obj ${ {a: 1} }", json!(r#"list [1,"a"] obj {"a":1}"#));
    give_tpl("cost: $${price}", json!("cost: ${price}"));
    give_tpl("", json!(""));
}

#[test]
fn a_single_expression_template_keeps_its_type() {
    assert_eq!(compile_tpl("${count}").unwrap().ty, expr_grammar::Type::Int);
    assert_eq!(compile_tpl(" ${count}").unwrap().ty, expr_grammar::Type::String);
    assert_eq!(
        compile_tpl("${a}${b}".replace("a", "count").replace("b", "count").as_str()).unwrap().ty,
        expr_grammar::Type::String
    );
}

#[test]
fn run_time_errors_carry_the_span() {
    let error = fails_at_run_time("1 + data.users[0].name", "cannot apply `+` to int and string");
    assert_eq!(error.span, expr_grammar::Span::new(0, 22));
    fails_at_run_time("data.total[*]", "`[*]` needs a list");
    fails_at_run_time("data[*]", "`[*]` needs a list, got object");
    fails_at_run_time("data.total.x", "cannot read field `x` of int");
    fails_at_run_time("count / (data.total - 2)", "division by zero");
    fails_at_run_time("1h % (data.total * 0s)", "division by zero");
    fails_at_run_time("data.total && true", "`&&` needs bool operands");
    fails_at_run_time("if(data.total, 1, 2)", "condition of `if` must be a bool");
    fails_at_run_time("count * 9223372036854775807", "overflow");
}
