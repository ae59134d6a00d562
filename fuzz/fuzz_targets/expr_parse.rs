//! Any text as a template and as a bare expression: parsing, and for what parses, compiling against a small
//! scope and evaluating, must never panic or overflow the stack.
#![no_main]

use expr_grammar::{
    EvalContext, Resolution, Scope, SlotRef, Timestamp, Type, Value, compile_expression, compile_template,
    parse_expression, parse_template,
};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

struct FuzzScope;

impl Scope for FuzzScope {
    fn resolve(&self, path: &[&str]) -> Resolution {
        let entry = Type::object([("name", Type::String), ("size", Type::Int), ("modified_at", Type::Timestamp)]);
        match path {
            ["item", ..] => Resolution::Slot { consumed: 1, slot: SlotRef(0), ty: entry },
            ["data", ..] => Resolution::Slot { consumed: 1, slot: SlotRef(1), ty: Type::Any },
            ["items", ..] => Resolution::Slot { consumed: 1, slot: SlotRef(2), ty: Type::list(Type::String) },
            ["workflow", ..] => Resolution::Constant { consumed: 1, value: Value::object([("name", Value::from("w"))]) },
            ["HOME", ..] => Resolution::EnvVar { name: "HOME".to_string() },
            ["size" | "name" | "modified_at", ..] => Resolution::Slot { consumed: 0, slot: SlotRef(0), ty: Type::Any },
            _ => Resolution::Unknown { segment: path.len().saturating_sub(1), message: "unknown".into(), suggestions: vec![] },
        }
    }
}

struct FuzzContext {
    slots: [Value; 3],
}

impl EvalContext for FuzzContext {
    fn slot(&self, slot: SlotRef) -> &Value {
        &self.slots[slot.0 as usize % 3]
    }

    fn now(&self) -> Timestamp {
        Timestamp(1_714_557_600_000_000)
    }

    fn env_var(&self, name: &str) -> Option<String> {
        (name == "HOME").then(|| "/home/fuzz".to_string())
    }
}

/// Built once: the target measures the expression code, not building this context.
static CONTEXT: LazyLock<FuzzContext> = LazyLock::new(context);

fn context() -> FuzzContext {
    let item = Value::object([
        ("name", Value::from("a.txt")),
        ("size", Value::from(3)),
        ("modified_at", Value::Timestamp(Timestamp(1_714_550_000_000_000))),
    ]);
    let data = Value::from_json(&serde_json::json!({"users": [{"name": "a", "n": 1}, {"name": "b", "n": 2.5}], "flag": true}));
    FuzzContext { slots: [item, data, Value::list([Value::from("x"), Value::from("y")])] }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(expr) = parse_expression(text)
        && let Ok(compiled) = compile_expression(&expr, &FuzzScope)
    {
        let _ = compiled.program.eval(&*CONTEXT);
    }
    if let Ok(template) = parse_template(text)
        && let Ok(compiled) = compile_template(&template, &FuzzScope)
    {
        let _ = compiled.program.eval(&*CONTEXT);
    }
});
