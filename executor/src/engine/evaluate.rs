//! Turning a step's compiled values into run-time values.

use compiler::CompiledValue;
use expr_grammar::{EvalContext, EvalError, Object, Program, Value};
use std::sync::Arc;

/// Why a value could not be computed: the place (`input.destination`, `if`, `loop`) and the reason.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EvaluationFailure {
    pub place: String,
    pub message: String,
}

impl std::fmt::Display for EvaluationFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

/// Evaluates a compiled value. A per-item condition (a filter's `condition`) is not a value: it reads as null
/// here and is run by the action itself, once per element.
pub(crate) fn evaluate(value: &CompiledValue, ctx: &dyn EvalContext) -> Result<Value, EvalError> {
    match value {
        CompiledValue::Constant(value) => Ok(value.clone()),
        CompiledValue::Program(program) => program.eval(ctx),
        CompiledValue::List(items) => {
            let values = items.iter().map(|item| evaluate(item, ctx)).collect::<Result<Vec<_>, _>>()?;
            Ok(Value::List(Arc::new(values)))
        }
        CompiledValue::Object(fields) => {
            let mut object = Object::with_capacity(fields.len());
            for (name, field) in fields {
                object.insert(name.clone(), evaluate(field, ctx)?);
            }
            Ok(Value::Object(Arc::new(object)))
        }
        CompiledValue::Condition { .. } => Ok(Value::Null),
    }
}

/// Evaluates a step's `input:` into one object, naming the failing field.
pub(crate) fn evaluate_input(
    fields: &[(String, CompiledValue)],
    ctx: &dyn EvalContext,
) -> Result<Value, EvaluationFailure> {
    let mut object = Object::with_capacity(fields.len());
    for (name, field) in fields {
        if matches!(field, CompiledValue::Condition { .. }) {
            continue;
        }
        let value = evaluate(field, ctx)
            .map_err(|err| EvaluationFailure { place: format!("input `{name}`"), message: err.message })?;
        object.insert(name.clone(), value);
    }
    Ok(Value::Object(Arc::new(object)))
}

/// Evaluates an `if:` condition or a filter condition: it must give a bool (null counts as false).
pub(crate) fn evaluate_condition(program: &Program, ctx: &dyn EvalContext) -> Result<bool, String> {
    match program.eval(ctx) {
        Ok(Value::Bool(answer)) => Ok(answer),
        Ok(Value::Null) => Ok(false),
        Ok(other) => Err(format!("the condition gave {}, expected a bool", other.kind_name())),
        Err(err) => Err(err.message),
    }
}
