//! The JSON form of values: how outputs are stored and how HTTP bodies come in.
//! Timestamps become RFC 3339 strings with microseconds, durations strings like `1d2h`; reading them back
//! needs the static type ([`Value::from_json_typed`]).

use super::{Duration, Object, Timestamp, Value};
use crate::types::Type;
use serde_json::Value as Json;
use std::sync::Arc;

impl Value {
    /// The JSON form. Non-finite floats (NaN, infinity) become `null`, as JSON has no such numbers.
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            Value::Float(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
            Value::String(s) => Json::String(s.to_string()),
            Value::Duration(d) => Json::String(d.to_string()),
            Value::Timestamp(t) => Json::String(t.to_rfc3339_micros()),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Object(object) => Json::Object(object.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// A value from JSON without a type: strings stay strings, integers that fit `i64` are ints.
    pub fn from_json(json: &Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => n.as_i64().map_or_else(|| Value::Float(n.as_f64().unwrap_or(f64::NAN)), Value::Int),
            Json::String(s) => Value::string(s),
            Json::Array(items) => Value::List(Arc::new(items.iter().map(Value::from_json).collect())),
            Json::Object(map) => {
                Value::Object(Arc::new(map.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()))
            }
        }
    }

    /// A value from JSON, guided by its static type: strings where the type says `timestamp` or `duration`
    /// are parsed back (the executor reloads stored outputs this way), ints become floats where a float is
    /// expected. Anything that does not match the type is read as [`Value::from_json`] would.
    pub fn from_json_typed(json: &Json, ty: &Type) -> Value {
        match (ty, json) {
            (Type::Timestamp, Json::String(s)) => {
                Timestamp::parse(s).map_or_else(|| Value::string(s), Value::Timestamp)
            }
            (Type::Duration, Json::String(s)) => Duration::parse(s).map_or_else(|| Value::string(s), Value::Duration),
            (Type::Float, Json::Number(n)) => n.as_f64().map_or_else(|| Value::from_json(json), Value::Float),
            (Type::List { of }, Json::Array(items)) => {
                Value::List(Arc::new(items.iter().map(|item| Value::from_json_typed(item, of)).collect()))
            }
            (Type::Object(shape), Json::Object(map)) => {
                let object: Object = map
                    .iter()
                    .map(|(k, v)| {
                        let value = match shape.fields.get(k) {
                            Some(field_ty) => Value::from_json_typed(v, field_ty),
                            None => Value::from_json(v),
                        };
                        (k.clone(), value)
                    })
                    .collect();
                Value::Object(Arc::new(object))
            }
            _ => Value::from_json(json),
        }
    }
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        Json::deserialize(deserializer).map(|json| Value::from_json(&json))
    }
}
