//! The standard library: every function's typed signature (used by the checker), its implementation
//! and its documentation entry.
//!
//! Most functions are pure `fn(&[Value]) -> Result<Value, String>`. Four are special forms the checker
//! compiles to their own program nodes: `if` and `default` (lazy), `now` and `env` (read the context).

mod accepts;
mod collections;
mod convert;
pub(crate) mod dates;
mod general;
mod paths;
mod text;

pub(crate) use accepts::Accepts;

use crate::types::Type;
use crate::value::Value;

/// A pure function body. The error is a message without the function name; the caller adds name and span.
pub(crate) type PureFn = fn(&[Value]) -> Result<Value, String>;

pub(crate) type ResultType = fn(&[Type]) -> Result<Type, String>;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Body {
    Pure(PureFn),
    /// `if(cond, then, else)`: only the chosen branch is evaluated.
    If,
    /// `default(x, fallback)`: `fallback` only when `x` is null.
    Default,
    /// `now()`: the evaluation's fixed current time.
    Now,
    /// `env(name)` / `env(name, fallback)`.
    Env,
}

/// How big a function's result can be, so that the budget ([`crate::budget`]) refuses a call before it builds
/// too much.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ResultSize {
    /// A scalar, or a part of an argument that already exists (`len`, `first`, `contains`): nothing is built.
    Small,
    /// About as big as the arguments (`string`, `sort`, `upper`): refused when the arguments are over the budget,
    /// and the result is measured.
    LikeArguments,
    /// Can be much bigger than the arguments (`replace` multiplies, `join` repeats its separator, `split` makes a
    /// value of each piece): its size is computed from the arguments (and their total size) before the call.
    Computed(fn(&[Value], usize) -> usize),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Param {
    pub name: &'static str,
    pub accepts: Accepts,
}

pub(crate) const fn param(name: &'static str, accepts: Accepts) -> Param {
    Param { name, accepts }
}

/// One library function. `required` leading parameters are mandatory, the rest optional.
#[derive(Debug)]
pub(crate) struct FunctionDef {
    pub name: &'static str,
    pub params: &'static [Param],
    pub required: usize,
    /// The result type as written in the docs (`int`, `list<T>`).
    pub returns: &'static str,
    /// The result type from the argument types, or why these argument types do not fit (beyond what
    /// `params` says: `sum` of a list of strings).
    pub result_type: ResultType,
    pub body: Body,
    /// How big the result can be, for the budget.
    pub result_size: ResultSize,
    pub description: &'static str,
    pub example: &'static str,
    /// The example's result as JSON text; empty when it depends on the clock or environment.
    pub example_result: &'static str,
}

impl FunctionDef {
    /// `len(value: string | list | object) -> int`
    pub(crate) fn signature(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let optional = if i >= self.required { "?" } else { "" };
                format!("{}{optional}: {}", p.name, p.accepts)
            })
            .collect();
        format!("{}({}) -> {}", self.name, params.join(", "), self.returns)
    }

    /// "1 argument", "2 or 3 arguments"
    pub(crate) fn arity_text(&self) -> String {
        let plural = |n: usize| if n == 1 { "argument" } else { "arguments" };
        match (self.required, self.params.len()) {
            (min, max) if min == max => format!("{min} {}", plural(min)),
            (min, max) if max == min + 1 => format!("{min} or {max} arguments"),
            (min, max) => format!("{min} to {max} arguments"),
        }
    }
}

/// The documentation of one function, for generated docs and editor help.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FunctionDoc {
    pub name: String,
    /// `general`, `strings`, `collections`, `conversion`, `dates` or `paths`.
    pub group: String,
    /// `len(value: string | list | object) -> int`; `?` marks optional parameters.
    pub signature: String,
    pub description: String,
    /// An expression using the function.
    pub example: String,
    /// What the example evaluates to, as JSON; empty when it depends on the clock or the environment.
    pub example_result: String,
}

const GROUPS: [(&str, &[FunctionDef]); 6] = [
    ("general", general::FUNCTIONS),
    ("strings", text::FUNCTIONS),
    ("collections", collections::FUNCTIONS),
    ("conversion", convert::FUNCTIONS),
    ("dates", dates::FUNCTIONS),
    ("paths", paths::FUNCTIONS),
];

pub(crate) fn all() -> impl Iterator<Item = &'static FunctionDef> {
    GROUPS.into_iter().flat_map(|(_, functions)| functions)
}

pub(crate) fn lookup(name: &str) -> Option<&'static FunctionDef> {
    all().find(|f| f.name == name)
}

/// Documentation of every library function, grouped as in the docs (general, strings, collections,
/// conversion, dates, paths).
pub fn function_docs() -> Vec<FunctionDoc> {
    GROUPS
        .into_iter()
        .flat_map(|(group, functions)| functions.iter().map(move |f| (group, f)))
        .map(|(group, f)| FunctionDoc {
            name: f.name.to_string(),
            group: group.to_string(),
            signature: f.signature(),
            description: f.description.to_string(),
            example: f.example.to_string(),
            example_result: f.example_result.to_string(),
        })
        .collect()
}

// ---- result types shared by several functions ----

pub(crate) fn returns_int(_: &[Type]) -> Result<Type, String> {
    Ok(Type::Int)
}

pub(crate) fn returns_float(_: &[Type]) -> Result<Type, String> {
    Ok(Type::Float)
}

pub(crate) fn returns_bool(_: &[Type]) -> Result<Type, String> {
    Ok(Type::Bool)
}

pub(crate) fn returns_string(_: &[Type]) -> Result<Type, String> {
    Ok(Type::String)
}

pub(crate) fn returns_any(_: &[Type]) -> Result<Type, String> {
    Ok(Type::Any)
}

pub(crate) fn returns_timestamp(_: &[Type]) -> Result<Type, String> {
    Ok(Type::Timestamp)
}

pub(crate) fn returns_duration(_: &[Type]) -> Result<Type, String> {
    Ok(Type::Duration)
}

pub(crate) fn returns_string_list(_: &[Type]) -> Result<Type, String> {
    Ok(Type::list(Type::String))
}

/// The same type as the first argument (`sort`, `unique`).
pub(crate) fn returns_first_arg(args: &[Type]) -> Result<Type, String> {
    Ok(args.first().cloned().unwrap_or(Type::Any))
}

/// The element type of the first argument (`first`, `last`).
pub(crate) fn returns_element(args: &[Type]) -> Result<Type, String> {
    Ok(args.first().and_then(Type::iteration_item_type).unwrap_or(Type::Any))
}

/// The common type of all arguments (`default`).
pub(crate) fn returns_unified(args: &[Type]) -> Result<Type, String> {
    let mut types = args.iter();
    let first = types.next().cloned().unwrap_or(Type::Any);
    Ok(types.fold(first, |acc, ty| acc.unify(ty)))
}

// ---- argument access for pure bodies; the evaluator already checked each argument's kind ----

pub(crate) fn arg_str(args: &[Value], i: usize) -> Result<&str, String> {
    match args.get(i) {
        Some(Value::String(s)) => Ok(s),
        other => Err(wrong_kind("a string", other)),
    }
}

pub(crate) fn arg_list(args: &[Value], i: usize) -> Result<&[Value], String> {
    match args.get(i) {
        Some(Value::List(items)) => Ok(items),
        other => Err(wrong_kind("a list", other)),
    }
}

pub(crate) fn wrong_kind(expected: &str, got: Option<&Value>) -> String {
    format!("expected {expected}, got {}", got.map_or("nothing", Value::kind_name))
}
