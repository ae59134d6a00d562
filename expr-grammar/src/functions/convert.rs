//! Conversions: `string`, `int`, `float`, `json`, `parse_json`.

use super::{
    Accepts, Body, FunctionDef, ResultSize, arg_str, param, returns_any, returns_float, returns_int, returns_string,
};
use crate::value::Value;

const SCALAR: Accepts = Accepts::NUMBER.or(Accepts::STRING).or(Accepts::BOOL);

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "string",
        params: &[param("value", Accepts::ANY)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(|args| Ok(Value::from(args.first().map(Value::to_string).unwrap_or_default()))),
        result_size: ResultSize::LikeArguments,
        description: "The value as text, exactly as a template would show it (timestamps RFC 3339, durations \
                      `1d2h`, lists and objects as JSON).",
        example: "string(90m) + ' / ' + string([1, 2])",
        example_result: r#""1h30m / [1,2]""#,
    },
    FunctionDef {
        name: "int",
        params: &[param("value", SCALAR)],
        required: 1,
        returns: "int",
        result_type: returns_int,
        body: Body::Pure(to_int),
        result_size: ResultSize::Small,
        description: "An int from an int, a float (rounded toward zero), a bool (0 or 1) or decimal text.",
        example: "int('42') + int(2.9)",
        example_result: "44",
    },
    FunctionDef {
        name: "float",
        params: &[param("value", SCALAR)],
        required: 1,
        returns: "float",
        result_type: returns_float,
        body: Body::Pure(to_float),
        result_size: ResultSize::Small,
        description: "A float from a number, a bool or decimal text.",
        example: "float('2.5') * 2",
        example_result: "5.0",
    },
    FunctionDef {
        name: "json",
        params: &[param("value", Accepts::ANY)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(|args| Ok(Value::from(args.first().cloned().unwrap_or_default().to_json().to_string()))),
        result_size: ResultSize::LikeArguments,
        description: "The value as compact JSON text (strings quoted).",
        example: "json({name: 'a', tags: ['x']})",
        example_result: r#""{\"name\":\"a\",\"tags\":[\"x\"]}""#,
    },
    FunctionDef {
        name: "parse_json",
        params: &[param("text", Accepts::STRING)],
        required: 1,
        returns: "any",
        result_type: returns_any,
        body: Body::Pure(parse_json),
        result_size: ResultSize::LikeArguments,
        description: "The value of JSON text. Its type is `any`: fields are checked when the expression runs.",
        example: r#"parse_json('{"a": [1, 2]}').a[1]"#,
        example_result: "2",
    },
];

fn to_int(args: &[Value]) -> Result<Value, String> {
    match args.first() {
        Some(Value::Int(i)) => Ok(Value::Int(*i)),
        Some(Value::Bool(b)) => Ok(Value::Int(i64::from(*b))),
        Some(Value::Float(x)) => {
            let truncated = x.trunc();
            if truncated.is_finite() && truncated >= i64::MIN as f64 && truncated < i64::MAX as f64 {
                Ok(Value::Int(truncated as i64))
            } else {
                Err(format!("{x} does not fit in an int"))
            }
        }
        Some(Value::String(s)) => s.trim().parse().map(Value::Int).map_err(|_| format!("`{s}` is not an integer")),
        other => Err(super::wrong_kind("a number, bool or string", other)),
    }
}

fn to_float(args: &[Value]) -> Result<Value, String> {
    match args.first() {
        Some(Value::Int(i)) => Ok(Value::Float(*i as f64)),
        Some(Value::Float(x)) => Ok(Value::Float(*x)),
        Some(Value::Bool(b)) => Ok(Value::Float(if *b { 1.0 } else { 0.0 })),
        Some(Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Float(x)),
            _ => Err(format!("`{s}` is not a number")),
        },
        other => Err(super::wrong_kind("a number, bool or string", other)),
    }
}

fn parse_json(args: &[Value]) -> Result<Value, String> {
    let text = arg_str(args, 0)?;
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(Value::from_json(&json))
}
