//! Run-time values. Cheap to clone: strings, lists and objects are reference counted,
//! so passing a step's output to many dependents never copies it.

mod time;

use indexmap::IndexMap;
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
#[derive(Debug, Clone, Default, PartialEq)]
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
