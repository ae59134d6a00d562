//! Run-time values. Cheap to clone: strings, lists and objects are reference counted,
//! so passing a step's output to many dependents never copies it.
//!
//! Equality is semantic (`Int(1) == Float(1.0)`, objects equal whatever their key order); ordering exists
//! between numbers, strings, booleans, durations, timestamps and (element-wise) lists. `Display` is the
//! form a value takes when interpolated into a string.

mod json;
mod time;

use crate::types::Type;
use indexmap::IndexMap;
use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

/// A span of time, in microseconds. Literals: `500ms`, `30s`, `5m`, `2h`, `1d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub i64);

/// A point in time: microseconds since the Unix epoch, UTC. Shown as RFC 3339.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

pub type Object = IndexMap<String, Value>;

/// A value an expression evaluates to or an action consumes and produces.
/// Object keys keep their insertion order (an HTTP body reads as it was sent).
#[derive(Debug, Clone, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Arc<str>),
    Duration(Duration),
    Timestamp(Timestamp),
    List(Arc<Vec<Value>>),
    Object(Arc<Object>),
}

impl Value {
    pub fn string(text: &str) -> Value {
        Value::String(Arc::from(text))
    }

    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(Arc::new(items.into_iter().collect()))
    }

    /// An object from `(key, value)` pairs, in that order.
    pub fn object<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Object(Arc::new(entries.into_iter().map(|(k, v)| (k.into(), v)).collect()))
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// Ints and floats as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(x) => Some(*x),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(object) => Some(object),
            _ => None,
        }
    }

    /// A field of an object; `None` for a missing field or a non-object.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.as_object().and_then(|object| object.get(field))
    }

    /// The name of the value's kind, for messages: `string`, `list`, `object`, ...
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "string",
            Value::Duration(_) => "duration",
            Value::Timestamp(_) => "timestamp",
            Value::List(_) => "list",
            Value::Object(_) => "object",
        }
    }

    /// The most precise static type of this value. Lists of mixed element types are `list<any>`;
    /// objects are closed objects of their fields.
    pub fn type_of(&self) -> Type {
        self.type_of_shared(&mut std::collections::HashMap::new())
    }

    /// [`Value::type_of`], typing each shared list or object once (`memo`, keyed by address): a value that
    /// doubles by sharing at each level (`[t, t]`) is typed in time linear in its depth, not its size.
    fn type_of_shared(&self, memo: &mut std::collections::HashMap<usize, Type>) -> Type {
        let key = match self {
            Value::List(items) => Arc::as_ptr(items) as usize,
            Value::Object(object) => Arc::as_ptr(object) as usize,
            _ => 0,
        };
        if let Some(ty) = memo.get(&key) {
            return ty.clone();
        }
        let ty = match self {
            Value::Null => Type::Null,
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Float(_) => Type::Float,
            Value::String(_) => Type::String,
            Value::Duration(_) => Type::Duration,
            Value::Timestamp(_) => Type::Timestamp,
            Value::List(items) => {
                let mut types = items.iter().map(|item| item.type_of_shared(memo));
                let first = types.next().unwrap_or(Type::Any);
                Type::list(types.fold(first, |acc, ty| acc.unify(&ty)))
            }
            Value::Object(object) => Type::Object(crate::types::ObjectType {
                fields: object.iter().map(|(k, v)| (k.clone(), v.type_of_shared(memo))).collect(),
                open: false,
            }),
        };
        if key != 0 {
            memo.insert(key, ty.clone());
        }
        ty
    }

    /// Truthiness is not implicit in this language; this is only the `bool` inside, if any.
    pub fn is_true(&self) -> bool {
        matches!(self, Value::Bool(true))
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Int(a), Value::Float(b)) | (Value::Float(b), Value::Int(a)) => (*a as f64) == *b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Timestamp(a), Value::Timestamp(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialOrd for Value {
    /// `None` between kinds that do not compare (a string and a number, two objects).
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        match (self, other) {
            (Value::Null, Value::Null) => Some(Ordering::Equal),
            (Value::Bool(a), Value::Bool(b)) => a.partial_cmp(b),
            (Value::Int(a), Value::Int(b)) => a.partial_cmp(b),
            (Value::Int(a), Value::Float(b)) => (*a as f64).partial_cmp(b),
            (Value::Float(a), Value::Int(b)) => a.partial_cmp(&(*b as f64)),
            (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
            (Value::String(a), Value::String(b)) => a.partial_cmp(b),
            (Value::Duration(a), Value::Duration(b)) => a.partial_cmp(b),
            (Value::Timestamp(a), Value::Timestamp(b)) => a.partial_cmp(b),
            (Value::List(a), Value::List(b)) => a.as_slice().partial_cmp(b.as_slice()),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    /// Interpolation form: strings raw, numbers plainly, timestamps RFC 3339, durations `1d2h`,
    /// `null` as `null`, lists and objects as JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::String(s) => f.write_str(s),
            Value::Duration(d) => write!(f, "{d}"),
            Value::Timestamp(t) => write!(f, "{t}"),
            Value::List(_) | Value::Object(_) => write!(f, "{}", self.to_json()),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Float(x)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::string(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(Arc::from(s))
    }
}

impl From<Duration> for Value {
    fn from(d: Duration) -> Value {
        Value::Duration(d)
    }
}

impl From<Timestamp> for Value {
    fn from(t: Timestamp) -> Value {
        Value::Timestamp(t)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }
}

impl From<Object> for Value {
    fn from(object: Object) -> Value {
        Value::Object(Arc::new(object))
    }
}
