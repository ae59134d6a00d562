//! The expression budget: how big a value one evaluation may build and how much work it may do. Evaluation at
//! run time and constant folding at compile time both run under it, so a small workflow cannot make Pilot
//! allocate gigabytes or loop for hours; past the budget the evaluation stops with an error
//! ([`crate::EvalErrorKind::OverBudget`]) instead.
//!
//! The budget comes in through the context, like `now()`: [`crate::EvalContext::budget`] at run time,
//! [`crate::Scope::budget`] when compiling.
//!
//! Sizes are counted by [`value_size`]: 8 bytes per value, plus the bytes of each string and object key. A value
//! that shares parts (a list holding the same list twice) counts each use, since that is what it costs to
//! store or send it; the counting itself visits each shared part once.
//!
//! Steps: one per operation evaluated and per element a `[*]` visits, plus one per 64 bytes of the values an
//! operator or function reads (comparing, joining or sorting big values is work too).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use crate::value::Value;
use crate::{EvalError, EvalErrorKind, Span};

/// Limits for one evaluation of one expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// The largest value (by [`value_size`]) an evaluation may build.
    pub max_value_bytes: usize,
    /// The most steps one evaluation may take (see the module docs).
    pub max_steps: u64,
}

impl Budget {
    /// 16 MiB: far more than a workflow's values need, small enough for any machine.
    pub const DEFAULT_MAX_VALUE_BYTES: usize = 16 << 20;
    /// Ten million steps: well under a second of work.
    pub const DEFAULT_MAX_STEPS: u64 = 10_000_000;
}

impl Default for Budget {
    fn default() -> Self {
        Budget { max_value_bytes: Budget::DEFAULT_MAX_VALUE_BYTES, max_steps: Budget::DEFAULT_MAX_STEPS }
    }
}

/// The size of a value as the budget counts it: 8 bytes per value (scalar, string, list, object), plus the
/// bytes of each string and of each object key. Saturates instead of overflowing.
pub fn value_size(value: &Value) -> usize {
    measure(value, usize::MAX, &mut HashMap::new())
}

/// [`value_size`], stopping once past `cap` (the answer is then some number above `cap`). Each value visited adds
/// at least 8, so measuring takes at most `cap / 8` visits. A list or object holding other lists or objects is
/// remembered (`memo`, keyed by its address) and not walked again: a value that doubles by sharing at each level
/// costs its depth to measure, not its size. Lists of plain values are not remembered, so measuring them
/// allocates nothing.
fn measure(value: &Value, cap: usize, memo: &mut HashMap<usize, usize>) -> usize {
    const PLACE: usize = 8;
    let key = match value {
        Value::String(text) => return PLACE + text.len(),
        Value::List(items) => Arc::as_ptr(items) as usize,
        Value::Object(object) => Arc::as_ptr(object) as usize,
        _ => return PLACE,
    };
    if let Some(&size) = memo.get(&key) {
        return size;
    }
    let (mut total, mut nested) = (PLACE, false);
    let mut add = |name_len: usize, item: &Value, memo: &mut HashMap<usize, usize>| {
        nested |= matches!(item, Value::List(_) | Value::Object(_));
        total = total.saturating_add(name_len).saturating_add(measure(item, cap, memo));
        total > cap
    };
    match value {
        Value::List(items) => {
            for item in items.iter() {
                if add(0, item, memo) {
                    break;
                }
            }
        }
        Value::Object(object) => {
            for (name, item) in object.iter() {
                if add(name.len(), item, memo) {
                    break;
                }
            }
        }
        _ => {}
    }
    if nested {
        memo.insert(key, total);
    }
    total
}

/// What one evaluation has used of its budget.
#[derive(Debug)]
pub(crate) struct Meter {
    budget: Budget,
    steps: Cell<u64>,
}

impl Meter {
    pub(crate) fn new(budget: Budget) -> Meter {
        Meter { budget, steps: Cell::new(0) }
    }

    /// One more step. A step error names the whole expression, so no span is needed.
    #[inline]
    pub(crate) fn step(&self) -> Result<(), EvalError> {
        let used = self.steps.get() + 1;
        self.steps.set(used);
        if used > self.budget.max_steps { self.charge(0, Span::default()) } else { Ok(()) }
    }

    /// `steps` more steps; an error past the budget.
    pub(crate) fn charge(&self, steps: u64, span: Span) -> Result<(), EvalError> {
        let used = self.steps.get().saturating_add(steps);
        self.steps.set(used);
        if used > self.budget.max_steps {
            return Err(over_budget(
                span,
                format!(
                    "evaluating takes more than {} steps, over the expression budget (`max_steps`)",
                    self.budget.max_steps
                ),
            ));
        }
        Ok(())
    }

    /// The size of a value that an operation reads or built, charging the work of reading it (a step per 64
    /// bytes). Past both the size budget and what the steps left can pay for, the answer is `usize::MAX`:
    /// "more than can be accepted".
    pub(crate) fn size_of(&self, value: &Value, span: Span) -> Result<usize, EvalError> {
        let (size, capped) = match value {
            Value::List(_) | Value::Object(_) => {
                // Exact up to what the size budget or the steps left could accept: reading more is refused anyway.
                let steps_left = usize::try_from(self.budget.max_steps.saturating_sub(self.steps.get()));
                let cap = self.budget.max_value_bytes.max(steps_left.unwrap_or(usize::MAX).saturating_mul(64));
                let size = measure(value, cap, &mut HashMap::new());
                (size.min(cap), size > cap)
            }
            Value::String(text) => (8 + text.len(), false),
            _ => return Ok(8),
        };
        self.charge((size / 64) as u64, span)?;
        Ok(if capped { usize::MAX } else { size })
    }

    /// An error when a value of `size` bytes (built, or about to be built, by `what`) is over the budget.
    pub(crate) fn allow(&self, size: usize, what: &dyn std::fmt::Display, span: Span) -> Result<(), EvalError> {
        if size <= self.budget.max_value_bytes {
            return Ok(());
        }
        let limit = self.budget.max_value_bytes;
        let message = if size == usize::MAX {
            format!("{what} would take more than {limit} bytes, over the expression budget (`max_value_bytes`)")
        } else {
            format!("{what} would take {size} bytes, over the expression budget (`max_value_bytes`: {limit})")
        };
        Err(over_budget(span, message))
    }

    /// [`Meter::size_of`] then [`Meter::allow`]: for a value an operation has just built.
    pub(crate) fn check(&self, value: &Value, what: &dyn std::fmt::Display, span: Span) -> Result<(), EvalError> {
        let size = self.size_of(value, span)?;
        self.allow(size, what, span)
    }
}

fn over_budget(span: Span, message: String) -> EvalError {
    EvalError { span, message, kind: EvalErrorKind::OverBudget }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_count_eight_per_value_plus_text() {
        assert_eq!(value_size(&Value::Int(1)), 8);
        assert_eq!(value_size(&Value::from("abc")), 11);
        assert_eq!(value_size(&Value::list([Value::from("ab"), Value::Null])), 8 + 10 + 8);
        assert_eq!(value_size(&Value::object([("key", Value::from(true))])), 8 + 3 + 8);
    }

    #[test]
    fn shared_parts_count_each_use_but_are_measured_once() {
        let mut value = Value::from("x");
        for _ in 0..100 {
            value = Value::list([value.clone(), value]);
        }
        // 2^100 uses of "x": the size saturates, and measuring took 100 visits, not 2^100.
        assert_eq!(value_size(&value), usize::MAX);
        let meter = Meter::new(Budget::default());
        assert!(meter.check(&value, &"this list", Span::default()).is_err());
    }

    #[test]
    fn the_step_budget_stops_an_evaluation() {
        let meter = Meter::new(Budget { max_value_bytes: 100, max_steps: 3 });
        for _ in 0..3 {
            meter.step().expect("within the budget");
        }
        let error = meter.step().expect_err("over the budget");
        assert_eq!(error.kind, EvalErrorKind::OverBudget);
        assert!(error.message.contains("more than 3 steps"), "{}", error.message);
        let error = Meter::new(Budget { max_value_bytes: 10, max_steps: 9 }).allow(12, &"`x`", Span::default());
        assert!(error.expect_err("too big").message.contains("12 bytes"), "a measured size is given");
    }
}
