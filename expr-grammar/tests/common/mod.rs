//! A scope and an evaluation context shaped like the compiler's: an `item` slot with fs-entry fields,
//! step outputs, an untyped HTTP body, a constant `workflow`, ALL_CAPS environment variables.
#![allow(dead_code)]

use expr_grammar::{
    CheckError, EvalContext, Resolution, Scope, SlotRef, Timestamp, Type, Value, compile_expression, compile_template,
    parse_expression, parse_template,
};
use serde_json::json;

pub const ITEM: SlotRef = SlotRef(0);
pub const STEP1_OUTPUT: SlotRef = SlotRef(1);
pub const DATA: SlotRef = SlotRef(2);
pub const ITEMS: SlotRef = SlotRef(3);
pub const COUNT: SlotRef = SlotRef(4);
pub const DATE: SlotRef = SlotRef(5);
pub const RECENT_FILES: SlotRef = SlotRef(6);

pub fn entry_type() -> Type {
    Type::object([
        ("path", Type::String),
        ("name", Type::String),
        ("size", Type::Int),
        ("modified_at", Type::Timestamp),
        ("is_dir", Type::Bool),
    ])
}

/// Names of a workflow's expressions. In `filter` mode bare names are fields of `item` (`consumed: 0`).
pub struct TestScope {
    pub filter: bool,
}

const NAMES: [&str; 8] = ["item", "steps", "data", "items", "count", "date", "recent_files", "workflow"];

impl Scope for TestScope {
    fn resolve(&self, path: &[&str]) -> Resolution {
        let slot = |slot, consumed, ty| Resolution::Slot { consumed, slot, ty };
        match path {
            [field, ..] if self.filter && ["path", "name", "size", "modified_at", "is_dir"].contains(field) => {
                slot(ITEM, 0, entry_type())
            }
            ["item", ..] => slot(ITEM, 1, entry_type()),
            ["steps", "step1", "output", ..] => {
                slot(STEP1_OUTPUT, 3, Type::open_object([("data", Type::list(Type::Int))]))
            }
            ["steps", "step1", ..] => unknown(2, "step `step1` has only `output`", &["output"]),
            ["steps", step, ..] => unknown(1, &format!("no step named `{step}`"), &["step1"]),
            ["data", ..] => slot(DATA, 1, Type::Any),
            ["items", ..] => slot(ITEMS, 1, Type::list(Type::String)),
            ["count", ..] => slot(COUNT, 1, Type::Int),
            ["date", ..] => slot(DATE, 1, Type::Timestamp),
            ["recent_files", ..] => slot(RECENT_FILES, 1, Type::list(entry_type())),
            ["workflow", ..] => Resolution::Constant {
                consumed: 1,
                value: Value::object([("name", Value::from("daily-backup")), ("version", Value::from(3))]),
            },
            [name, ..] if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') => {
                Resolution::EnvVar { name: name.to_string() }
            }
            [name, ..] => {
                let close: Vec<&str> = NAMES.iter().copied().filter(|n| strsim::jaro_winkler(n, name) > 0.8).collect();
                unknown(0, &format!("unknown name `{name}`"), &close)
            }
            [] => unknown(0, "empty path", &[]),
        }
    }
}

fn unknown(segment: usize, message: &str, suggestions: &[&str]) -> Resolution {
    Resolution::Unknown {
        segment,
        message: message.to_string(),
        suggestions: suggestions.iter().map(|s| s.to_string()).collect(),
    }
}

pub struct TestContext {
    pub slots: Vec<Value>,
    pub now: Timestamp,
    pub env: Vec<(String, String)>,
}

/// 2024-05-01T12:00:00Z
pub fn test_now() -> Timestamp {
    Timestamp::parse("2024-05-01T12:00:00Z").unwrap()
}

pub fn entry(name: &str, size: i64, age_hours: i64) -> Value {
    let modified = Timestamp(test_now().0 - age_hours * 3_600_000_000);
    Value::object([
        ("path", Value::from(format!("/docs/{name}"))),
        ("name", Value::from(name)),
        ("size", Value::from(size)),
        ("modified_at", Value::Timestamp(modified)),
        ("is_dir", Value::from(false)),
    ])
}

impl TestContext {
    pub fn new() -> TestContext {
        let data = json!({
            "users": [
                {"name": "Ada", "email": "ada@example.com", "tags": ["admin", "ops"]},
                {"name": "Bob", "email": "bob@example.com", "tags": []}
            ],
            "total": 2,
            "meta": {"next": null}
        });
        let slots = vec![
            entry("report.docx", 2048, 2),
            Value::object([("data", Value::list([1, 2, 3].map(Value::from)))]),
            Value::from_json(&data),
            Value::list(["a", "b", "c"].map(Value::from)),
            Value::from(12),
            Timestamp::parse("2024-03-05T14:07:09Z").map(Value::Timestamp).unwrap(),
            Value::list([entry("a.txt", 10, 1), entry("b.txt", 20, 48)]),
        ];
        TestContext { slots, now: test_now(), env: vec![("HOME".into(), "/home/pilot".into())] }
    }
}

static NULL: Value = Value::Null;

impl EvalContext for TestContext {
    fn slot(&self, slot: SlotRef) -> &Value {
        self.slots.get(slot.0 as usize).unwrap_or(&NULL)
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    fn env_var(&self, name: &str) -> Option<String> {
        self.env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

/// Parse and compile a bare expression against the test scope.
pub fn compile(source: &str) -> Result<expr_grammar::Compiled, Vec<CheckError>> {
    let expr = parse_expression(source).unwrap_or_else(|e| panic!("{source:?} should parse: {e:?}"));
    compile_expression(&expr, &TestScope { filter: false })
}

pub fn compile_filter(source: &str) -> Result<expr_grammar::Compiled, Vec<CheckError>> {
    let expr = parse_expression(source).unwrap_or_else(|e| panic!("{source:?} should parse: {e:?}"));
    compile_expression(&expr, &TestScope { filter: true })
}

pub fn compile_tpl(source: &str) -> Result<expr_grammar::Compiled, Vec<CheckError>> {
    let template = parse_template(source).unwrap_or_else(|e| panic!("{source:?} should parse: {e:?}"));
    compile_template(&template, &TestScope { filter: false })
}

/// `source` compiles and evaluates to `expected` (compared in JSON form, so `3` and `3.0` differ).
#[track_caller]
pub fn give(source: &str, expected: serde_json::Value) {
    let compiled = compile(source).unwrap_or_else(|e| panic!("{source:?} should compile: {e:?}"));
    let value = compiled.program.eval(&TestContext::new()).unwrap_or_else(|e| panic!("{source:?} failed: {e:?}"));
    assert_eq!(value.to_json(), expected, "value of {source:?}");
}

/// Like [`give`] for a template.
#[track_caller]
pub fn give_tpl(source: &str, expected: serde_json::Value) {
    let compiled = compile_tpl(source).unwrap_or_else(|e| panic!("{source:?} should compile: {e:?}"));
    let value = compiled.program.eval(&TestContext::new()).unwrap_or_else(|e| panic!("{source:?} failed: {e:?}"));
    assert_eq!(value.to_json(), expected, "value of template {source:?}");
}

/// `source` compiles with static type `ty`.
#[track_caller]
pub fn has_type(source: &str, ty: Type) {
    let compiled = compile(source).unwrap_or_else(|e| panic!("{source:?} should compile: {e:?}"));
    assert_eq!(compiled.ty, ty, "type of {source:?}");
}

/// `source` compiles but evaluation fails with a message containing `message`.
#[track_caller]
pub fn fails_at_run_time(source: &str, message: &str) -> expr_grammar::EvalError {
    let compiled = compile(source).unwrap_or_else(|e| panic!("{source:?} should compile: {e:?}"));
    let error = compiled.program.eval(&TestContext::new()).expect_err(&format!("{source:?} should fail"));
    assert!(error.message.contains(message), "message for {source:?}: {:?}", error.message);
    error
}
