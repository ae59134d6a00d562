//! The expression budget under fuzzing: the first bytes choose a (small) budget and the inputs, the rest is an
//! expression. Folding at compile time and evaluation must end without a panic, never give a value over the
//! budget, and go over it only as an `OverBudget` error. Same property as `expr-grammar/tests/budget.rs`, found by
//! coverage instead of by construction.
#![no_main]

use expr_grammar::{
    Budget, EvalContext, EvalErrorKind, Resolution, Scope, SlotRef, Timestamp, Type, Value, compile_expression,
    parse_expression, value_size,
};
use libfuzzer_sys::fuzz_target;

/// `s` a text, `l` a list of texts, `d` anything, `k` a constant text (folded like a constant variable).
struct BudgetScope {
    budget: Budget,
}

impl Scope for BudgetScope {
    fn resolve(&self, path: &[&str]) -> Resolution {
        match path[0] {
            "s" => Resolution::Slot { consumed: 1, slot: SlotRef(0), ty: Type::String },
            "l" => Resolution::Slot { consumed: 1, slot: SlotRef(1), ty: Type::list(Type::String) },
            "d" => Resolution::Slot { consumed: 1, slot: SlotRef(2), ty: Type::Any },
            "k" => Resolution::Constant { consumed: 1, value: Value::from("kakaka") },
            _ => Resolution::Unknown { segment: 0, message: "unknown".into(), suggestions: Vec::new() },
        }
    }

    fn budget(&self) -> Budget {
        self.budget
    }
}

struct Inputs {
    slots: [Value; 3],
    budget: Budget,
}

impl EvalContext for Inputs {
    fn slot(&self, slot: SlotRef) -> &Value {
        &self.slots[slot.0 as usize % 3]
    }

    fn now(&self) -> Timestamp {
        Timestamp(0)
    }

    fn env_var(&self, _name: &str) -> Option<String> {
        None
    }

    fn budget(&self) -> Budget {
        self.budget
    }
}

fuzz_target!(|data: &[u8]| {
    let [size, steps, length, rest @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(rest) else { return };
    let input = "ab".repeat(usize::from(*length) % 64);
    let list =
        Value::list((0..usize::from(*length) % 16).map(|i| Value::from(input[..i.min(input.len())].to_string())));
    let slots = [Value::from(input.clone()), list.clone(), Value::list([list, Value::from(input)])];
    // The budget limits what is built: reading an input gives a value as big as the input.
    let largest = slots.iter().map(value_size).max().unwrap_or(0);
    let budget =
        Budget { max_value_bytes: largest.max(8 + usize::from(*size) * 256), max_steps: 1 + u64::from(*steps) * 1000 };
    let inputs = Inputs { slots, budget };
    // What the text itself spells out (its literals) is bounded by the text, not by the budget: the budget stops
    // growth, and a workflow file has its own size limit. Anything beyond a small multiple of the text was built.
    let allowed = budget.max_value_bytes.max(16 * text.len() + 64);
    let Ok(expr) = parse_expression(text) else { return };
    match compile_expression(&expr, &BudgetScope { budget }) {
        Ok(compiled) => {
            if let Some(constant) = compiled.program.as_constant() {
                assert!(value_size(constant) <= allowed, "folded over the budget");
            }
            match compiled.program.with_source(text).eval(&inputs) {
                Ok(value) => assert!(value_size(&value) <= allowed, "evaluated over the budget"),
                Err(error) => {
                    assert!(error.kind == EvalErrorKind::Failed || error.message.contains("expression budget"))
                }
            }
        }
        Err(_) => {}
    }
});
