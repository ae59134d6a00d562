//! Lists and objects: `keys`, `values`, `first`, `last`, `sort`, `unique`, `sum`, `min`, `max`, `flatten`.

use super::{
    Accepts, Body, FunctionDef, ResultSize, arg_list, param, returns_element, returns_first_arg, returns_string_list,
};
use crate::program::operators;
use crate::types::Type;
use crate::value::Value;
use std::cmp::Ordering;

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "keys",
        params: &[param("object", Accepts::OBJECT)],
        required: 1,
        returns: "list<string>",
        result_type: returns_string_list,
        body: Body::Pure(|args| Ok(Value::list(object(args)?.keys().map(|k| Value::string(k))))),
        result_size: ResultSize::LikeArguments,
        description: "The field names of an object, in order.",
        example: "keys({b: 1, a: 2})",
        example_result: r#"["b","a"]"#,
    },
    FunctionDef {
        name: "values",
        params: &[param("object", Accepts::OBJECT)],
        required: 1,
        returns: "list<T>",
        result_type: values_type,
        body: Body::Pure(|args| Ok(Value::list(object(args)?.values().cloned()))),
        result_size: ResultSize::LikeArguments,
        description: "The field values of an object, in order.",
        example: "values({b: 1, a: 2})",
        example_result: "[1,2]",
    },
    FunctionDef {
        name: "first",
        params: &[param("list", Accepts::LIST)],
        required: 1,
        returns: "T",
        result_type: returns_element,
        body: Body::Pure(|args| Ok(arg_list(args, 0)?.first().cloned().unwrap_or_default())),
        result_size: ResultSize::Small,
        description: "The first element, or null for an empty list.",
        example: "first([3, 1, 2])",
        example_result: "3",
    },
    FunctionDef {
        name: "last",
        params: &[param("list", Accepts::LIST)],
        required: 1,
        returns: "T",
        result_type: returns_element,
        body: Body::Pure(|args| Ok(arg_list(args, 0)?.last().cloned().unwrap_or_default())),
        result_size: ResultSize::Small,
        description: "The last element, or null for an empty list.",
        example: "last([3, 1, 2])",
        example_result: "2",
    },
    FunctionDef {
        name: "sort",
        params: &[param("list", Accepts::LIST), param("by", Accepts::STRING)],
        required: 1,
        returns: "list<T>",
        result_type: returns_first_arg,
        body: Body::Pure(sort),
        result_size: ResultSize::LikeArguments,
        description: "The list in ascending order; with `by`, objects ordered by that field. Elements must be \
                      comparable (numbers, strings, durations, timestamps, ...).",
        example: "sort([{n: 'b', size: 2}, {n: 'a', size: 1}], 'size')[*].n",
        example_result: r#"["a","b"]"#,
    },
    FunctionDef {
        name: "unique",
        params: &[param("list", Accepts::LIST)],
        required: 1,
        returns: "list<T>",
        result_type: returns_first_arg,
        body: Body::Pure(unique),
        result_size: ResultSize::LikeArguments,
        description: "The list without repeated elements, keeping the first of each.",
        example: "unique([1, 2, 1, 3, 2])",
        example_result: "[1,2,3]",
    },
    FunctionDef {
        name: "sum",
        params: &[param("list", Accepts::LIST)],
        required: 1,
        returns: "T (int, float or duration)",
        result_type: sum_type,
        body: Body::Pure(sum),
        result_size: ResultSize::Small,
        description: "The sum of numbers or durations; 0 for an empty list.",
        example: "sum([1, 2, 3.5])",
        example_result: "6.5",
    },
    FunctionDef {
        name: "min",
        params: &[param("list", Accepts::LIST)],
        required: 1,
        returns: "T",
        result_type: returns_element,
        body: Body::Pure(|args| extreme(args, Ordering::Less)),
        result_size: ResultSize::Small,
        description: "The smallest element, or null for an empty list.",
        example: "min([3, 1, 2])",
        example_result: "1",
    },
    FunctionDef {
        name: "max",
        params: &[param("list", Accepts::LIST)],
        required: 1,
        returns: "T",
        result_type: returns_element,
        body: Body::Pure(|args| extreme(args, Ordering::Greater)),
        result_size: ResultSize::Small,
        description: "The largest element, or null for an empty list.",
        example: "max([2h, 30m, 1d])",
        example_result: r#""1d""#,
    },
    FunctionDef {
        name: "flatten",
        params: &[param("list", Accepts::LIST)],
        required: 1,
        returns: "list<T>",
        result_type: flatten_type,
        body: Body::Pure(flatten),
        result_size: ResultSize::LikeArguments,
        description: "A list of lists joined into one list (one level); other elements are kept as they are.",
        example: "flatten([[1, 2], [3], 4])",
        example_result: "[1,2,3,4]",
    },
];

fn object(args: &[Value]) -> Result<&crate::value::Object, String> {
    args.first().and_then(Value::as_object).ok_or_else(|| super::wrong_kind("an object", args.first()))
}

fn values_type(args: &[Type]) -> Result<Type, String> {
    Ok(match args.first() {
        Some(Type::Object(object)) if !object.open => {
            Type::list(object.fields.values().cloned().reduce(|a, b| a.unify(&b)).unwrap_or(Type::Any))
        }
        _ => Type::list(Type::Any),
    })
}

fn sum_type(args: &[Type]) -> Result<Type, String> {
    match args.first().and_then(Type::iteration_item_type) {
        Some(ty @ (Type::Int | Type::Float | Type::Duration | Type::Any)) => Ok(ty),
        Some(other) => Err(format!("`sum` adds numbers or durations, got a list of {other}")),
        None => Ok(Type::Any),
    }
}

fn flatten_type(args: &[Type]) -> Result<Type, String> {
    Ok(match args.first().and_then(Type::iteration_item_type) {
        Some(Type::List { of }) => Type::List { of },
        _ => Type::list(Type::Any),
    })
}

fn compare(a: &Value, b: &Value) -> Result<Ordering, String> {
    a.partial_cmp(b).ok_or_else(|| format!("cannot order {} and {}", a.kind_name(), b.kind_name()))
}

fn sort(args: &[Value]) -> Result<Value, String> {
    let mut items = arg_list(args, 0)?.to_vec();
    let field = if args.len() > 1 { Some(super::arg_str(args, 1)?) } else { None };
    let key = |v: &Value| match field {
        Some(name) => v.get(name).cloned().unwrap_or_default(),
        None => v.clone(),
    };
    // Check comparability first: sort_by cannot fail part-way.
    let keys: Vec<Value> = items.iter().map(key).collect();
    for pair in keys.windows(2) {
        compare(&pair[0], &pair[1])?;
    }
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| total_order(&keys[a], &keys[b]));
    let sorted: Vec<Value> = order.into_iter().map(|i| std::mem::take(&mut items[i])).collect();
    Ok(Value::from(sorted))
}

/// A total order agreeing with `partial_cmp` where that is defined: the sort must never see an inconsistent
/// comparison (nested lists of mixed kinds, NaN), which the standard sort may panic on.
fn total_order(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Int(_) | Value::Float(_) => 2,
            Value::String(_) => 3,
            Value::Duration(_) => 4,
            Value::Timestamp(_) => 5,
            Value::List(_) => 6,
            Value::Object(_) => 7,
        }
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_)) => {
            a.as_f64().unwrap_or(0.0).total_cmp(&b.as_f64().unwrap_or(0.0))
        }
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Duration(x), Value::Duration(y)) => x.cmp(y),
        (Value::Timestamp(x), Value::Timestamp(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => {
            x.iter().zip(y.iter()).map(|(p, q)| total_order(p, q)).find(|o| o.is_ne()).unwrap_or(x.len().cmp(&y.len()))
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

fn unique(args: &[Value]) -> Result<Value, String> {
    let items = arg_list(args, 0)?;
    let mut seen = std::collections::HashSet::new();
    let kept = items.iter().filter(|item| seen.insert(canonical_key(item))).cloned();
    Ok(Value::list(kept))
}

/// A text key equal for semantically equal values (`1` and `1.0`, objects in any key order).
fn canonical_key(value: &Value) -> String {
    match value {
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => format!("n{}", *x as i64),
        Value::Int(i) => format!("n{i}"),
        Value::Float(x) => format!("n{x}"),
        Value::String(s) => format!("s{s}"),
        Value::List(items) => format!("l[{}]", items.iter().map(canonical_key).collect::<Vec<_>>().join(",")),
        Value::Object(object) => {
            let mut entries: Vec<String> = object.iter().map(|(k, v)| format!("{k:?}:{}", canonical_key(v))).collect();
            entries.sort();
            format!("o{{{}}}", entries.join(","))
        }
        other => format!("{}:{other}", other.kind_name()),
    }
}

fn sum(args: &[Value]) -> Result<Value, String> {
    let items = arg_list(args, 0)?;
    let mut total = match items.first() {
        Some(Value::Duration(_)) => Value::Duration(crate::value::Duration(0)),
        _ => Value::Int(0),
    };
    for item in items {
        if !matches!(item, Value::Int(_) | Value::Float(_) | Value::Duration(_)) {
            return Err(format!("`sum` adds numbers or durations, found {}", item.kind_name()));
        }
        total = operators::binary(crate::ast::BinaryOp::Add, &total, item)?;
    }
    Ok(total)
}

fn extreme(args: &[Value], wanted: Ordering) -> Result<Value, String> {
    let items = arg_list(args, 0)?;
    let mut best: Option<&Value> = None;
    for item in items {
        best = match best {
            Some(current) if compare(item, current)? != wanted => Some(current),
            _ => Some(item),
        };
    }
    Ok(best.cloned().unwrap_or_default())
}

fn flatten(args: &[Value]) -> Result<Value, String> {
    let mut out = Vec::new();
    for item in arg_list(args, 0)? {
        match item {
            Value::List(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Ok(Value::from(out))
}
