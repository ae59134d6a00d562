//! The static types the checker assigns to expressions and that action signatures declare.

use std::collections::BTreeMap;
use std::fmt;

/// A static type. `Any` is checked at run time (an HTTP body, a parsed JSON document).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Type {
    Null,
    Bool,
    Int,
    Float,
    String,
    Duration,
    Timestamp,
    List { of: Box<Type> },
    Object(ObjectType),
    Any,
}

/// An object with known fields. `open` objects may carry further fields of unknown type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct ObjectType {
    pub fields: BTreeMap<String, Type>,
    pub open: bool,
}

impl Type {
    pub fn list(of: Type) -> Type {
        Type::List { of: Box::new(of) }
    }

    /// A closed object type from `(field, type)` pairs.
    pub fn object<'a>(fields: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object(ObjectType { fields: fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), open: false })
    }

    /// An object type whose listed fields are known and whose other fields are `any`.
    pub fn open_object<'a>(fields: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object(ObjectType { fields: fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect(), open: true })
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, Type::Int | Type::Float | Type::Any)
    }

    /// Whether a value of type `self` may be passed where `target` is expected.
    /// `any` goes both ways (checked at run time); `int` widens to `float`; `null` fits nowhere but `null`/`any`.
    pub fn is_assignable_to(&self, target: &Type) -> bool {
        match (self, target) {
            (_, Type::Any) | (Type::Any, _) => true,
            (Type::Int, Type::Float) => true,
            (Type::List { of: a }, Type::List { of: b }) => a.is_assignable_to(b),
            (Type::Object(a), Type::Object(b)) => b.fields.iter().all(|(name, want)| match a.fields.get(name) {
                Some(have) => have.is_assignable_to(want),
                None => a.open || matches!(want, Type::Null | Type::Any),
            }),
            (a, b) => a == b,
        }
    }
}

impl Type {
    /// The common type of two branches (`if`, `default`, list literal elements): equal types stay,
    /// `int` with `float` is `float`, lists unify their elements, anything else is `any`.
    pub fn unify(&self, other: &Type) -> Type {
        match (self, other) {
            (a, b) if a == b => a.clone(),
            (Type::Int, Type::Float) | (Type::Float, Type::Int) => Type::Float,
            (Type::List { of: a }, Type::List { of: b }) => Type::list(a.unify(b)),
            _ => Type::Any,
        }
    }

    /// The type of one element when iterating over a value of this type (a `loop:`, `[*]`, a filter's
    /// items): `T` for `list<T>`, `any` for `any`; `None` when the type is not iterable.
    pub fn iteration_item_type(&self) -> Option<Type> {
        match self {
            Type::List { of } => Some((**of).clone()),
            Type::Any => Some(Type::Any),
            _ => None,
        }
    }
}

/// See [`Type::iteration_item_type`]: the element type of a list, `None` (not iterable) for non-lists.
pub fn iteration_item_type(ty: &Type) -> Option<Type> {
    ty.iteration_item_type()
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Null => f.write_str("null"),
            Type::Bool => f.write_str("bool"),
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::String => f.write_str("string"),
            Type::Duration => f.write_str("duration"),
            Type::Timestamp => f.write_str("timestamp"),
            Type::List { of } => write!(f, "list<{of}>"),
            Type::Any => f.write_str("any"),
            Type::Object(obj) => {
                f.write_str("{")?;
                for (i, (name, ty)) in obj.fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {ty}")?;
                }
                if obj.open {
                    f.write_str(if obj.fields.is_empty() { ".." } else { ", .." })?;
                }
                f.write_str("}")
            }
        }
    }
}
