//! Chat messages from a step's input, and output values the ai actions build.

use crate::ActionError;
use crate::fields::{Fields, invalid, wrong_kind};
use expr_grammar::Value;
use std::sync::Arc;

pub(crate) use crate::fields::{object, string};

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

/// `messages`: a non-empty list of `{role, content}` objects.
pub fn messages(fields: &Fields<'_>, field: &str) -> Result<Vec<Message>, ActionError> {
    let items = match fields.required(field)? {
        Value::List(items) if items.is_empty() => return Err(invalid(field, "the list is empty")),
        Value::List(items) => items,
        other => return Err(wrong_kind(field, "a list of messages", other)),
    };
    items.iter().enumerate().map(|(index, item)| message_at(field, index, item)).collect()
}

fn message_at(field: &str, index: usize, item: &Value) -> Result<Message, ActionError> {
    let place = format!("{field}[{index}]");
    let Value::Object(object) = item else {
        return Err(wrong_kind(&place, "{role, content}", item));
    };
    let text = |name: &str| match object.get(name) {
        Some(Value::String(text)) => Ok(text.to_string()),
        Some(other) => Err(wrong_kind(&format!("{place}.{name}"), "a string", other)),
        None => Err(invalid(&format!("{place}.{name}"), "required")),
    };
    let role = text("role")?;
    if !matches!(role.as_str(), "system" | "user" | "assistant") {
        return Err(invalid(&format!("{place}.role"), format!("`{role}` is not one of system, user, assistant")));
    }
    Ok(Message { role, content: text("content")? })
}

pub fn floats(numbers: &[f64]) -> Value {
    Value::List(Arc::new(numbers.iter().map(|x| Value::Float(*x)).collect()))
}
