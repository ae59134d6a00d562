//! JSON read back as values of the plan's types (inputs, resumed outputs), strictly: a mismatch is an error that
//! names its place. The plain conversions are `Value::to_json` and `Value::from_json`.

use expr_grammar::{Duration, Object, Timestamp, Type, Value};
use serde_json::Value as Json;
use std::sync::Arc;

/// Reads JSON as a value of type `ty`: timestamps from RFC 3339 text, durations from duration text, ints from
/// integral numbers. Null is accepted for every type (a skipped step's output is null). The error names the
/// path inside the document (`$.files[2].size`).
pub fn from_json_typed(json: &Json, ty: &Type) -> Result<Value, String> {
    typed(json, ty, "$")
}

fn typed(json: &Json, ty: &Type, path: &str) -> Result<Value, String> {
    let mismatch = || format!("{path}: expected {ty}, found {}", json_kind(json));
    Ok(match (ty, json) {
        (_, Json::Null) => Value::Null,
        (Type::Any, _) => Value::from_json(json),
        (Type::Bool, Json::Bool(b)) => Value::Bool(*b),
        (Type::Int, Json::Number(n)) => Value::Int(n.as_i64().ok_or_else(mismatch)?),
        (Type::Float, Json::Number(n)) => Value::Float(n.as_f64().ok_or_else(mismatch)?),
        (Type::String, Json::String(s)) => Value::String(Arc::from(s.as_str())),
        (Type::Duration, Json::String(s)) => Value::Duration(Duration::parse(s).ok_or_else(mismatch)?),
        (Type::Timestamp, Json::String(s)) => Value::Timestamp(Timestamp::parse(s).ok_or_else(mismatch)?),
        (Type::List { of }, Json::Array(items)) => {
            let values = items.iter().enumerate().map(|(i, item)| typed(item, of, &format!("{path}[{i}]")));
            Value::List(Arc::new(values.collect::<Result<_, _>>()?))
        }
        (Type::Object(shape), Json::Object(fields)) => {
            let mut object = Object::with_capacity(fields.len());
            for (name, field) in fields {
                let value = match shape.fields.get(name) {
                    Some(field_ty) => typed(field, field_ty, &format!("{path}.{name}"))?,
                    None if shape.open => Value::from_json(field),
                    None => continue,
                };
                object.insert(name.clone(), value);
            }
            Value::Object(Arc::new(object))
        }
        _ => return Err(mismatch()),
    })
}

fn json_kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a bool",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_json_round_trips_timestamps_and_durations() {
        let ty = Type::list(Type::object([("at", Type::Timestamp), ("every", Type::Duration), ("n", Type::Int)]));
        let value = Value::List(Arc::new(vec![Value::Object(Arc::new(Object::from_iter([
            ("at".to_string(), Value::Timestamp(Timestamp(1_700_000_000_123_456))),
            ("every".to_string(), Value::Duration(Duration::from_secs(90))),
            ("n".to_string(), Value::Int(3)),
        ])))]));
        let json = value.to_json();
        assert_eq!(from_json_typed(&json, &ty), Ok(value));
    }

    #[test]
    fn a_mismatch_names_the_path_inside_the_document() {
        let ty = Type::object([("files", Type::list(Type::object([("size", Type::Int)])))]);
        let err = from_json_typed(&json!({"files": [{"size": 1}, {"size": "big"}]}), &ty).unwrap_err();
        assert_eq!(err, "$.files[1].size: expected int, found a string");
    }
}
