//! An execution's slot table and the scopes expressions are evaluated in.
//!
//! One table per execution, indexed by [`SlotRef`]. Every slot is written at most once (a variable when the
//! execution starts, a step's output when the step ends), so the table needs no lock: each slot is a
//! [`OnceLock`]. Loop items and filter elements never go in the table: they are bound per item by an
//! [`ItemScope`] over the execution's scope.

use expr_grammar::{EvalContext, SlotRef, Timestamp, Value};
use std::collections::HashMap;
use std::sync::OnceLock;

static NULL: Value = Value::Null;

/// The values of one execution's slots. An unfilled slot reads as null.
#[derive(Debug)]
pub(crate) struct SlotTable {
    values: Box<[OnceLock<Value>]>,
}

impl SlotTable {
    pub(crate) fn new(len: usize) -> SlotTable {
        SlotTable { values: (0..len).map(|_| OnceLock::new()).collect() }
    }

    /// Fills a slot. Returns false when the slot was already filled (the first value stays) or does not exist.
    pub(crate) fn fill(&self, slot: SlotRef, value: Value) -> bool {
        match self.values.get(slot.0 as usize) {
            Some(cell) => cell.set(value).is_ok(),
            None => false,
        }
    }

    pub(crate) fn get(&self, slot: SlotRef) -> &Value {
        self.values.get(slot.0 as usize).and_then(OnceLock::get).unwrap_or(&NULL)
    }
}

/// The process environment as it was when the engine started (or as a test set it).
#[derive(Debug, Clone, Default)]
pub struct EnvSnapshot {
    vars: HashMap<String, String>,
}

impl EnvSnapshot {
    /// The current process environment (variables whose name or value is not UTF-8 are left out, and so are
    /// Pilot's own secrets, [`connectors::process::PRIVATE_ENV`]).
    pub fn capture() -> EnvSnapshot {
        EnvSnapshot {
            vars: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .filter(|(name, _)| !connectors::process::PRIVATE_ENV.contains(&name.as_str()))
                .collect(),
        }
    }

    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> EnvSnapshot {
        EnvSnapshot { vars: vars.into_iter().collect() }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// Evaluation over the execution's table, with one `now` for the whole evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExecutionScope<'a> {
    pub table: &'a SlotTable,
    pub env: &'a EnvSnapshot,
    pub now: Timestamp,
    pub budget: expr_grammar::Budget,
}

impl EvalContext for ExecutionScope<'_> {
    fn slot(&self, slot: SlotRef) -> &Value {
        self.table.get(slot)
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    fn env_var(&self, name: &str) -> Option<String> {
        self.env.get(name).map(str::to_owned)
    }

    fn budget(&self) -> expr_grammar::Budget {
        self.budget
    }
}

/// One element bound to a loop's (or a filter condition's) item and index slots.
#[derive(Debug, Clone)]
pub(crate) struct ItemBinding {
    pub item_slot: SlotRef,
    pub item: Value,
    pub index_slot: SlotRef,
    pub index: Value,
}

impl ItemBinding {
    pub(crate) fn new(item_slot: SlotRef, index_slot: SlotRef, item: Value, index: usize) -> ItemBinding {
        ItemBinding { item_slot, item, index_slot, index: Value::Int(i64::try_from(index).unwrap_or(i64::MAX)) }
    }
}

/// A scope that answers the item and index slots from a binding and everything else from its parent.
pub(crate) struct ItemScope<'a, P: EvalContext + ?Sized> {
    pub parent: &'a P,
    pub binding: &'a ItemBinding,
}

impl<P: EvalContext + ?Sized> EvalContext for ItemScope<'_, P> {
    fn slot(&self, slot: SlotRef) -> &Value {
        if slot == self.binding.item_slot {
            &self.binding.item
        } else if slot == self.binding.index_slot {
            &self.binding.index
        } else {
            self.parent.slot(slot)
        }
    }

    fn now(&self) -> Timestamp {
        self.parent.now()
    }

    fn env_var(&self, name: &str) -> Option<String> {
        self.parent.env_var(name)
    }

    fn budget(&self) -> expr_grammar::Budget {
        self.parent.budget()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfilled_slots_read_as_null_and_filled_slots_keep_their_first_value() {
        let table = SlotTable::new(2);
        assert_eq!(table.get(SlotRef(0)), &Value::Null);
        assert!(table.fill(SlotRef(0), Value::Int(1)));
        assert!(!table.fill(SlotRef(0), Value::Int(2)));
        assert_eq!(table.get(SlotRef(0)), &Value::Int(1));
        assert!(!table.fill(SlotRef(5), Value::Int(3)), "a slot outside the table is refused");
        assert_eq!(table.get(SlotRef(5)), &Value::Null);
    }

    #[test]
    fn an_item_scope_answers_its_slots_and_defers_the_rest_to_the_execution() {
        let table = SlotTable::new(3);
        table.fill(SlotRef(0), Value::Int(10));
        let env = EnvSnapshot::from_vars([("HOME".to_string(), "/home/me".to_string())]);
        let base = ExecutionScope { table: &table, env: &env, now: Timestamp(5), budget: Default::default() };
        let binding = ItemBinding::new(SlotRef(1), SlotRef(2), Value::Bool(true), 7);
        let scope = ItemScope { parent: &base, binding: &binding };
        assert_eq!(scope.slot(SlotRef(0)), &Value::Int(10));
        assert_eq!(scope.slot(SlotRef(1)), &Value::Bool(true));
        assert_eq!(scope.slot(SlotRef(2)), &Value::Int(7));
        assert_eq!(scope.now(), Timestamp(5));
        assert_eq!(scope.env_var("HOME").as_deref(), Some("/home/me"));
    }
}
