//! Which kinds of value a parameter accepts: a small set of kinds, checked against static types at
//! compile time and against values at run time (where the static type was `any`).

use crate::types::Type;
use crate::value::Value;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Accepts(u16);

impl Accepts {
    pub const NULL: Accepts = Accepts(1);
    pub const BOOL: Accepts = Accepts(1 << 1);
    pub const INT: Accepts = Accepts(1 << 2);
    pub const FLOAT: Accepts = Accepts(1 << 3);
    pub const STRING: Accepts = Accepts(1 << 4);
    pub const DURATION: Accepts = Accepts(1 << 5);
    pub const TIMESTAMP: Accepts = Accepts(1 << 6);
    pub const LIST: Accepts = Accepts(1 << 7);
    pub const OBJECT: Accepts = Accepts(1 << 8);
    pub const ANY: Accepts = Accepts(u16::MAX);
    pub const NUMBER: Accepts = Accepts::INT.or(Accepts::FLOAT);
    /// Things with a length: `len`, `contains`-like functions.
    pub const SIZED: Accepts = Accepts::STRING.or(Accepts::LIST).or(Accepts::OBJECT);

    const NAMES: [(Accepts, &'static str); 9] = [
        (Accepts::NULL, "null"),
        (Accepts::BOOL, "bool"),
        (Accepts::INT, "int"),
        (Accepts::FLOAT, "float"),
        (Accepts::STRING, "string"),
        (Accepts::DURATION, "duration"),
        (Accepts::TIMESTAMP, "timestamp"),
        (Accepts::LIST, "list"),
        (Accepts::OBJECT, "object"),
    ];

    pub const fn or(self, other: Accepts) -> Accepts {
        Accepts(self.0 | other.0)
    }

    fn has(self, kind: Accepts) -> bool {
        self.0 & kind.0 == kind.0
    }

    /// Whether an argument of static type `ty` may be passed (`any` always may; `int` where `float` is accepted).
    pub fn accepts_type(self, ty: &Type) -> bool {
        match ty {
            Type::Any => true,
            Type::Null => self.has(Accepts::NULL),
            Type::Bool => self.has(Accepts::BOOL),
            Type::Int => self.has(Accepts::INT) || self.has(Accepts::FLOAT),
            Type::Float => self.has(Accepts::FLOAT),
            Type::String => self.has(Accepts::STRING),
            Type::Duration => self.has(Accepts::DURATION),
            Type::Timestamp => self.has(Accepts::TIMESTAMP),
            Type::List { .. } => self.has(Accepts::LIST),
            Type::Object(_) => self.has(Accepts::OBJECT),
        }
    }

    /// The run-time check of the same rule, for arguments whose static type was `any`.
    pub fn accepts_value(self, value: &Value) -> bool {
        let kind = match value {
            Value::Null => Accepts::NULL,
            Value::Bool(_) => Accepts::BOOL,
            Value::Int(_) => Accepts::INT.or(Accepts::FLOAT),
            Value::Float(_) => Accepts::FLOAT,
            Value::String(_) => Accepts::STRING,
            Value::Duration(_) => Accepts::DURATION,
            Value::Timestamp(_) => Accepts::TIMESTAMP,
            Value::List(_) => Accepts::LIST,
            Value::Object(_) => Accepts::OBJECT,
        };
        self.0 & kind.0 != 0
    }
}

impl fmt::Display for Accepts {
    /// `string | list | object`, or `any`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Accepts::ANY {
            return f.write_str("any");
        }
        let names: Vec<&str> = Accepts::NAMES.iter().filter(|(k, _)| self.has(*k)).map(|(_, n)| *n).collect();
        f.write_str(&names.join(" | "))
    }
}
