//! `len`, `if`, `default`, `now`, `env`.

use super::{
    Accepts, Body, FunctionDef, ResultSize, param, returns_int, returns_string, returns_timestamp, returns_unified,
};
use crate::types::Type;
use crate::value::Value;

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "len",
        params: &[param("value", Accepts::SIZED)],
        required: 1,
        returns: "int",
        result_type: returns_int,
        body: Body::Pure(len),
        result_size: ResultSize::Small,
        description: "Number of characters of a string, elements of a list or fields of an object.",
        example: "len([1, 2, 3])",
        example_result: "3",
    },
    FunctionDef {
        name: "if",
        params: &[param("condition", Accepts::BOOL), param("then", Accepts::ANY), param("else", Accepts::ANY)],
        required: 3,
        returns: "T",
        result_type: if_type,
        body: Body::If,
        result_size: ResultSize::Small,
        description: "`then` when the condition is true, else `else`. Only the chosen branch is evaluated.",
        example: "if(12 > 10, 'many', 'few')",
        example_result: r#""many""#,
    },
    FunctionDef {
        name: "default",
        params: &[param("value", Accepts::ANY), param("fallback", Accepts::ANY)],
        required: 2,
        returns: "T",
        result_type: returns_unified,
        body: Body::Default,
        result_size: ResultSize::Small,
        description: "`value`, or `fallback` when `value` is null (a missing field reads as null).",
        example: "default(parse_json('{}').name, 'none')",
        example_result: r#""none""#,
    },
    FunctionDef {
        name: "now",
        params: &[],
        required: 0,
        returns: "timestamp",
        result_type: returns_timestamp,
        body: Body::Now,
        result_size: ResultSize::Small,
        description: "The current time (UTC). Fixed for one evaluation: `now() - now()` is `0s`.",
        example: "now() - 1d",
        example_result: "",
    },
    FunctionDef {
        name: "env",
        params: &[param("name", Accepts::STRING), param("fallback", Accepts::STRING)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Env,
        result_size: ResultSize::Small,
        description: "An environment variable. Unset is an error naming the variable, unless a fallback is given. \
                      A bare ALL_CAPS name such as `HOME` is the same as `env('HOME')`.",
        example: "env('HOME', '/tmp')",
        example_result: "",
    },
];

fn if_type(args: &[Type]) -> Result<Type, String> {
    returns_unified(args.get(1..).unwrap_or_default())
}

fn len(args: &[Value]) -> Result<Value, String> {
    let n = match args.first() {
        Some(Value::String(s)) => s.chars().count(),
        Some(Value::List(items)) => items.len(),
        Some(Value::Object(object)) => object.len(),
        other => return Err(super::wrong_kind("a string, list or object", other)),
    };
    Ok(Value::Int(n as i64))
}
