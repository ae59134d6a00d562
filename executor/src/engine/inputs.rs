//! A run's inputs, typed by the plan's `inputs:` declarations.

use super::error::InputError;
use super::json::from_json_typed;
use compiler::{Plan, SlotKind};
use expr_grammar::{SlotRef, Type, Value};
use serde_json::{Map, Value as Json};

/// The inputs of one run, checked and typed: each with the slot it fills (if the plan reads it).
#[derive(Debug, Clone, Default)]
pub(crate) struct TypedInputs {
    pub slots: Vec<(SlotRef, Value)>,
    /// Every input with its effective value (given or default), as stored with the execution.
    pub stored: Map<String, Json>,
}

/// Checks `given` against the plan: unknown names and missing required inputs are errors; defaults fill the
/// rest; each value must fit its declared type.
pub(crate) fn type_inputs(plan: &Plan, given: &Map<String, Json>) -> Result<TypedInputs, InputError> {
    let known: Vec<String> = plan.inputs.iter().map(|param| param.name.clone()).collect();
    if let Some(name) = given.keys().find(|name| !known.contains(name)) {
        return Err(InputError::Unknown { name: name.clone(), known });
    }
    let mut typed = TypedInputs::default();
    for param in &plan.inputs {
        let value = match given.get(&param.name) {
            Some(json) => from_json_typed(json, &param.ty)
                .map_err(|reason| InputError::Invalid { name: param.name.clone(), reason })?,
            None => match &param.default {
                Some(default) => default.clone(),
                None if param.required => {
                    return Err(InputError::Missing { name: param.name.clone(), ty: param.ty.to_string() });
                }
                None => Value::Null,
            },
        };
        typed.stored.insert(param.name.clone(), value.to_json());
        if let Some(slot) = input_slot(plan, &param.name) {
            typed.slots.push((slot, value));
        }
    }
    Ok(typed)
}

/// Checks inputs against the plan as a run would (unknown, missing, mistyped), without running anything; the
/// inputs as they would be stored (defaults filled). The daemon answers a webhook 422 with this error.
pub fn check_inputs(plan: &Plan, given: &Map<String, Json>) -> Result<Map<String, Json>, InputError> {
    type_inputs(plan, given).map(|typed| typed.stored)
}

fn input_slot(plan: &Plan, name: &str) -> Option<SlotRef> {
    let index = plan.slots.iter().position(|slot| matches!(&slot.kind, SlotKind::Input { name: n } if n == name))?;
    u32::try_from(index).ok().map(SlotRef)
}

/// Adds `--var KEY=VALUE` to the inputs. VALUE is text for a `string` input; for other types it is read as
/// JSON (`--var count=3`, `--var tags='["a"]'`), and as text when it is not valid JSON (the type check then
/// names the mismatch).
pub fn add_var(plan: &Plan, inputs: &mut Map<String, Json>, assignment: &str) -> Result<(), InputError> {
    let Some((key, text)) = assignment.split_once('=') else {
        return Err(InputError::BadVar { text: assignment.to_string() });
    };
    let key = key.trim();
    if key.is_empty() {
        return Err(InputError::BadVar { text: assignment.to_string() });
    }
    let Some(param) = plan.inputs.iter().find(|param| param.name == key) else {
        let known = plan.inputs.iter().map(|param| param.name.clone()).collect();
        return Err(InputError::Unknown { name: key.to_string(), known });
    };
    let value = match param.ty {
        Type::String => Json::String(text.to_string()),
        _ => serde_json::from_str(text).unwrap_or_else(|_| Json::String(text.to_string())),
    };
    inputs.insert(key.to_string(), value);
    Ok(())
}

/// Parses `--input JSON` into an inputs object.
pub fn parse_input_json(text: &str) -> Result<Map<String, Json>, InputError> {
    match serde_json::from_str::<Json>(text) {
        Ok(Json::Object(map)) => Ok(map),
        Ok(other) => Err(InputError::NotAnObject { reason: format!("got {}", json_kind(&other)) }),
        Err(err) => Err(InputError::NotAnObject { reason: err.to_string() }),
    }
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}
