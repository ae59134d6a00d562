//! Reading a step's evaluated input object field by field, with errors that name the field.
//! Shared by the http, notify and shell connectors. A field holding `null` reads as absent.

use crate::ActionError;
use expr_grammar::{Object, Value};

/// The step's input object.
pub(crate) struct Fields<'a> {
    fields: Option<&'a Object>,
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ActionError {
    ActionError::InvalidInput { field: field.to_string(), message: message.into() }
}

fn wrong_kind(field: &str, expected: &str, got: &Value) -> ActionError {
    invalid(field, format!("expected {expected}, got {}", got.kind_name()))
}

impl<'a> Fields<'a> {
    pub(crate) fn new(input: &'a Value) -> Result<Fields<'a>, ActionError> {
        match input {
            Value::Object(fields) => Ok(Fields { fields: Some(fields) }),
            Value::Null => Ok(Fields { fields: None }),
            other => Err(wrong_kind("input", "an object of inputs", other)),
        }
    }

    /// The field's value, `None` when missing or null.
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.fields.and_then(|fields| fields.get(field)).filter(|value| !value.is_null())
    }

    pub(crate) fn optional_string(&self, field: &str) -> Result<Option<&'a str>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(wrong_kind(field, "a string", other)),
        }
    }

    pub(crate) fn required_string(&self, field: &str) -> Result<&'a str, ActionError> {
        match self.optional_string(field)? {
            Some(text) if !text.is_empty() => Ok(text),
            Some(_) => Err(invalid(field, "must not be empty")),
            None => Err(invalid(field, "required")),
        }
    }

    pub(crate) fn bool_or(&self, field: &str, default: bool) -> Result<bool, ActionError> {
        match self.get(field) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(other) => Err(wrong_kind(field, "a bool", other)),
        }
    }

    /// A positive whole number, when given.
    pub(crate) fn optional_positive_int(&self, field: &str) -> Result<Option<u64>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Int(n)) if *n > 0 => Ok(Some(*n as u64)),
            Some(Value::Int(_)) => Err(invalid(field, "must be a positive number")),
            Some(other) => Err(wrong_kind(field, "an int", other)),
        }
    }

    /// A positive duration. Ints and floats are read as seconds, for workflows written as `timeout: 30`.
    pub(crate) fn optional_duration(&self, field: &str) -> Result<Option<std::time::Duration>, ActionError> {
        let micros = match self.get(field) {
            None => return Ok(None),
            Some(Value::Duration(d)) => d.0 as f64,
            Some(Value::Int(seconds)) => *seconds as f64 * 1e6,
            Some(Value::Float(seconds)) => seconds * 1e6,
            Some(other) => return Err(wrong_kind(field, "a duration such as `30s`", other)),
        };
        if !(micros.is_finite() && micros > 0.0) {
            return Err(invalid(field, "must be a positive duration"));
        }
        Ok(Some(std::time::Duration::from_micros(micros as u64)))
    }

    /// A list of strings; numbers and bools are accepted and written out (`args: [-n, 3]`).
    pub(crate) fn string_list(&self, field: &str) -> Result<Vec<String>, ActionError> {
        match self.get(field) {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    scalar_text(item).ok_or_else(|| wrong_kind(&format!("{field}[{index}]"), "a string", item))
                })
                .collect(),
            Some(other) => Err(wrong_kind(field, "a list of strings", other)),
        }
    }

    /// An object of names to text values (headers, query parameters, environment variables). Scalars are written
    /// out; a list value gives the name once per element (`tag: [a, b]` is `tag=a&tag=b`).
    pub(crate) fn string_pairs(&self, field: &str) -> Result<Vec<(String, String)>, ActionError> {
        let object = match self.get(field) {
            None => return Ok(Vec::new()),
            Some(Value::Object(object)) => object,
            Some(other) => return Err(wrong_kind(field, "an object of names to values", other)),
        };
        let mut pairs = Vec::with_capacity(object.len());
        for (name, value) in object.iter() {
            let place = format!("{field}.{name}");
            match value {
                Value::Null => {}
                Value::List(items) => {
                    for item in items.iter() {
                        let text = scalar_text(item).ok_or_else(|| wrong_kind(&place, "a string", item))?;
                        pairs.push((name.clone(), text));
                    }
                }
                other => {
                    pairs.push((name.clone(), scalar_text(other).ok_or_else(|| wrong_kind(&place, "a string", other))?))
                }
            }
        }
        Ok(pairs)
    }
}

/// The text of a scalar as interpolation writes it; `None` for null, lists and objects.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::List(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    }
}

/// The first `max_chars` characters of `text` on one line, with `…` when cut: for error messages.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    let flat: String = text.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match flat.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// The last `max_chars` characters of `text`, with `…` in front when cut (the end of a program's stderr).
pub(crate) fn tail(text: &str, max_chars: usize) -> String {
    let trimmed = text.trim_end();
    let count = trimmed.chars().count();
    if count <= max_chars {
        return trimmed.to_string();
    }
    let start = trimmed.char_indices().nth(count - max_chars).map_or(0, |(index, _)| index);
    format!("…{}", &trimmed[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_cuts_on_characters_and_flattens_lines() {
        assert_eq!(excerpt("  héllo\nworld  ", 100), "héllo world");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail("abcdef\n", 3), "…def");
        assert_eq!(tail("ab", 3), "ab");
    }

    #[test]
    fn string_pairs_repeat_list_values_and_write_out_scalars() {
        let input = Value::object([(
            "query",
            Value::object([("tag", Value::list([Value::from("a"), Value::from("b")])), ("n", Value::Int(3))]),
        )]);
        let fields = Fields::new(&input).unwrap();
        let pairs = fields.string_pairs("query").unwrap();
        assert_eq!(pairs, vec![("tag".into(), "a".into()), ("tag".into(), "b".into()), ("n".into(), "3".into())]);
    }

    #[test]
    fn durations_accept_seconds_and_reject_zero() {
        let input = Value::object([("timeout", Value::Int(2)), ("zero", Value::Int(0))]);
        let fields = Fields::new(&input).unwrap();
        assert_eq!(fields.optional_duration("timeout").unwrap(), Some(std::time::Duration::from_secs(2)));
        assert!(matches!(fields.optional_duration("zero"), Err(ActionError::InvalidInput { .. })));
    }
}
