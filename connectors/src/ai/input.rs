//! Reading a step's input object into typed request parts, and building output values.

use crate::ActionError;
use expr_grammar::{Object, Value};
use std::sync::Arc;

/// One chat message, as every provider understands it.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub role: String,
    pub content: String,
}

impl Message {
    pub fn new(role: &str, content: impl Into<String>) -> Message {
        Message { role: role.to_string(), content: content.into() }
    }
}

/// The step's input, with field-naming errors.
pub struct Inputs<'a> {
    fields: Option<&'a Object>,
}

impl<'a> Inputs<'a> {
    pub fn new(input: &'a Value) -> Result<Inputs<'a>, ActionError> {
        match input {
            Value::Object(fields) => Ok(Inputs { fields: Some(fields) }),
            Value::Null => Ok(Inputs { fields: None }),
            other => Err(invalid("input", format!("expected an object of inputs, got {}", kind_of(other)))),
        }
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.fields.and_then(|fields| fields.get(field)).filter(|value| !matches!(value, Value::Null))
    }

    pub fn optional_string(&self, field: &str) -> Result<Option<&'a str>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(invalid(field, format!("expected a string, got {}", kind_of(other)))),
        }
    }

    pub fn required_string(&self, field: &str) -> Result<&'a str, ActionError> {
        self.optional_string(field)?.ok_or_else(|| invalid(field, "required".to_string()))
    }

    /// A positive whole number (`max_tokens`, `max_words`).
    pub fn optional_count(&self, field: &str) -> Result<Option<u32>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Int(n)) if *n > 0 => {
                u32::try_from(*n).map(Some).map_err(|_| invalid(field, format!("{n} is too large")))
            }
            Some(Value::Int(n)) => Err(invalid(field, format!("must be at least 1, got {n}"))),
            Some(other) => Err(invalid(field, format!("expected an int, got {}", kind_of(other)))),
        }
    }

    pub fn optional_float(&self, field: &str) -> Result<Option<f64>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Int(n)) => Ok(Some(*n as f64)),
            Some(Value::Float(x)) if x.is_finite() => Ok(Some(*x)),
            Some(other) => Err(invalid(field, format!("expected a number, got {}", kind_of(other)))),
        }
    }

    /// A string or a list of strings, as a list.
    pub fn string_or_strings(&self, field: &str) -> Result<Vec<String>, ActionError> {
        match self.get(field) {
            None => Err(invalid(field, "required".to_string())),
            Some(Value::String(text)) => Ok(vec![text.to_string()]),
            Some(Value::List(items)) if items.is_empty() => Err(invalid(field, "the list is empty".to_string())),
            Some(Value::List(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::String(text) => Ok(text.to_string()),
                    other => Err(invalid(field, format!("item {index}: expected a string, got {}", kind_of(other)))),
                })
                .collect(),
            Some(other) => {
                Err(invalid(field, format!("expected a string or a list of strings, got {}", kind_of(other))))
            }
        }
    }

    /// `messages`: a non-empty list of `{role, content}` objects.
    pub fn messages(&self, field: &str) -> Result<Vec<Message>, ActionError> {
        let items = match self.get(field) {
            None => return Err(invalid(field, "required".to_string())),
            Some(Value::List(items)) if items.is_empty() => {
                return Err(invalid(field, "the list is empty".to_string()));
            }
            Some(Value::List(items)) => items,
            Some(other) => return Err(invalid(field, format!("expected a list of messages, got {}", kind_of(other)))),
        };
        items.iter().enumerate().map(|(index, item)| message_at(field, index, item)).collect()
    }
}

fn message_at(field: &str, index: usize, item: &Value) -> Result<Message, ActionError> {
    let Value::Object(object) = item else {
        return Err(invalid(field, format!("item {index}: expected {{role, content}}, got {}", kind_of(item))));
    };
    let text = |name: &str| match object.get(name) {
        Some(Value::String(text)) => Ok(text.to_string()),
        Some(other) => Err(invalid(field, format!("item {index}: `{name}` must be a string, got {}", kind_of(other)))),
        None => Err(invalid(field, format!("item {index}: `{name}` is missing"))),
    };
    let role = text("role")?;
    if !matches!(role.as_str(), "system" | "user" | "assistant") {
        return Err(invalid(field, format!("item {index}: role `{role}` is not one of system, user, assistant")));
    }
    Ok(Message { role, content: text("content")? })
}

pub fn invalid(field: &str, message: String) -> ActionError {
    ActionError::InvalidInput { field: field.to_string(), message }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::Duration(_) => "a duration",
        Value::Timestamp(_) => "a timestamp",
        Value::List(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// An object value from `(field, value)` pairs, in order.
pub fn object<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Object(Arc::new(fields.into_iter().map(|(name, value)| (name.to_string(), value)).collect()))
}

pub fn string(text: &str) -> Value {
    Value::String(Arc::from(text))
}

pub fn floats(numbers: &[f64]) -> Value {
    Value::List(Arc::new(numbers.iter().map(|x| Value::Float(*x)).collect()))
}
