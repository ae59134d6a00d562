//! Strings: `lower`, `upper`, `trim`, `split`, `join`, `replace`, `contains`, `starts_with`, `ends_with`,
//! `matches`.

use super::{
    Accepts, Body, FunctionDef, ResultSize, arg_list, arg_str, param, returns_bool, returns_string, returns_string_list,
};
use crate::value::Value;
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "lower",
        params: &[param("text", Accepts::STRING)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(|args| Ok(Value::from(arg_str(args, 0)?.to_lowercase()))),
        result_size: ResultSize::LikeArguments,
        description: "The text in lower case.",
        example: "lower('Report.DOCX')",
        example_result: r#""report.docx""#,
    },
    FunctionDef {
        name: "upper",
        params: &[param("text", Accepts::STRING)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(|args| Ok(Value::from(arg_str(args, 0)?.to_uppercase()))),
        result_size: ResultSize::LikeArguments,
        description: "The text in upper case.",
        example: "upper('abc')",
        example_result: r#""ABC""#,
    },
    FunctionDef {
        name: "trim",
        params: &[param("text", Accepts::STRING)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(|args| Ok(Value::string(arg_str(args, 0)?.trim()))),
        result_size: ResultSize::LikeArguments,
        description: "The text without leading and trailing whitespace.",
        example: "trim('  padded  ')",
        example_result: r#""padded""#,
    },
    FunctionDef {
        name: "split",
        params: &[param("text", Accepts::STRING), param("separator", Accepts::STRING)],
        required: 2,
        returns: "list<string>",
        result_type: returns_string_list,
        body: Body::Pure(split),
        result_size: ResultSize::Computed(split_size),
        description: "The pieces of the text between separators. An empty separator splits into characters.",
        example: "split('a,b,c', ',')",
        example_result: r#"["a","b","c"]"#,
    },
    FunctionDef {
        name: "join",
        params: &[param("items", Accepts::LIST), param("separator", Accepts::STRING)],
        required: 1,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(join),
        result_size: ResultSize::Computed(join_size),
        description: "The elements as text (as in a template), separated by `separator` (default: nothing).",
        example: "join(['a', 1, true], ', ')",
        example_result: r#""a, 1, true""#,
    },
    FunctionDef {
        name: "replace",
        params: &[param("text", Accepts::STRING), param("from", Accepts::STRING), param("to", Accepts::STRING)],
        required: 3,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(|args| Ok(Value::from(arg_str(args, 0)?.replace(arg_str(args, 1)?, arg_str(args, 2)?)))),
        result_size: ResultSize::Computed(replace_size),
        description: "The text with every occurrence of `from` replaced by `to`.",
        example: "replace('a-b-c', '-', '/')",
        example_result: r#""a/b/c""#,
    },
    FunctionDef {
        name: "contains",
        params: &[param("haystack", Accepts::STRING.or(Accepts::LIST)), param("needle", Accepts::ANY)],
        required: 2,
        returns: "bool",
        result_type: returns_bool,
        body: Body::Pure(contains),
        result_size: ResultSize::Small,
        description: "Whether the string contains the substring, or the list the element (like `needle in haystack`).",
        example: "contains('report.docx', '.doc')",
        example_result: "true",
    },
    FunctionDef {
        name: "starts_with",
        params: &[param("text", Accepts::STRING), param("prefix", Accepts::STRING)],
        required: 2,
        returns: "bool",
        result_type: returns_bool,
        body: Body::Pure(|args| Ok(Value::Bool(arg_str(args, 0)?.starts_with(arg_str(args, 1)?)))),
        result_size: ResultSize::Small,
        description: "Whether the text starts with the prefix.",
        example: "starts_with('/home/me', '/home')",
        example_result: "true",
    },
    FunctionDef {
        name: "ends_with",
        params: &[param("text", Accepts::STRING), param("suffix", Accepts::STRING)],
        required: 2,
        returns: "bool",
        result_type: returns_bool,
        body: Body::Pure(|args| Ok(Value::Bool(arg_str(args, 0)?.ends_with(arg_str(args, 1)?)))),
        result_size: ResultSize::Small,
        description: "Whether the text ends with the suffix.",
        example: "ends_with('report.docx', '.docx')",
        example_result: "true",
    },
    FunctionDef {
        name: "matches",
        params: &[param("text", Accepts::STRING), param("pattern", Accepts::STRING)],
        required: 2,
        returns: "bool",
        result_type: returns_bool,
        body: Body::Pure(matches),
        result_size: ResultSize::Small,
        description: "Whether the regular expression (Rust `regex` syntax) matches anywhere in the text; anchor it \
                      with `^...$` to match the whole text.",
        example: r"matches('invoice-2024.pdf', '^invoice-\\d{4}\\.pdf$')",
        example_result: "true",
    },
];

/// How many times `part` is found in `text`; an empty `part` is found between all characters and at both ends.
fn occurrences(text: &str, part: &str) -> usize {
    if part.is_empty() { text.chars().count() + 1 } else { text.matches(part).count() }
}

/// Each piece is a value of its own: 8 bytes each, plus the text.
fn split_size(args: &[Value], _: usize) -> usize {
    let (Ok(text), Ok(separator)) = (arg_str(args, 0), arg_str(args, 1)) else { return 0 };
    let pieces = if separator.is_empty() { text.chars().count() } else { occurrences(text, separator) + 1 };
    8usize.saturating_add(pieces.saturating_mul(8)).saturating_add(text.len())
}

/// The elements as text (at most their size), and the separator between each two.
fn join_size(args: &[Value], arguments_size: usize) -> usize {
    let count = arg_list(args, 0).map_or(0, <[Value]>::len);
    let separator = arg_str(args, 1).unwrap_or("");
    arguments_size.saturating_add(count.saturating_mul(separator.len()))
}

/// The text, less what is replaced, plus the replacement for each occurrence.
fn replace_size(args: &[Value], _: usize) -> usize {
    let (Ok(text), Ok(from), Ok(to)) = (arg_str(args, 0), arg_str(args, 1), arg_str(args, 2)) else { return 0 };
    let count = occurrences(text, from);
    // Occurrences do not overlap, so they take at most the whole text.
    let kept = text.len() - count * from.len();
    8usize.saturating_add(kept).saturating_add(count.saturating_mul(to.len()))
}

fn split(args: &[Value]) -> Result<Value, String> {
    let (text, separator) = (arg_str(args, 0)?, arg_str(args, 1)?);
    if separator.is_empty() {
        return Ok(Value::list(text.chars().map(|c| Value::from(c.to_string()))));
    }
    Ok(Value::list(text.split(separator).map(Value::from)))
}

fn join(args: &[Value]) -> Result<Value, String> {
    let items = arg_list(args, 0)?;
    let separator = if args.len() > 1 { arg_str(args, 1)? } else { "" };
    let texts: Vec<String> = items.iter().map(Value::to_string).collect();
    Ok(Value::from(texts.join(separator)))
}

fn contains(args: &[Value]) -> Result<Value, String> {
    let needle = args.get(1).cloned().unwrap_or_default();
    match (args.first(), &needle) {
        (Some(Value::String(text)), Value::String(part)) => Ok(Value::Bool(text.contains(&**part))),
        (Some(Value::String(_)), other) => Err(format!("cannot look for {} in a string", other.kind_name())),
        (Some(Value::List(items)), _) => Ok(Value::Bool(items.contains(&needle))),
        (other, _) => Err(super::wrong_kind("a string or a list", other)),
    }
}

/// Compiled patterns, so a pattern used per item of a filter is compiled once. Bounded: cleared when full.
static PATTERNS: LazyLock<Mutex<HashMap<String, Regex>>> = LazyLock::new(Default::default);
const MAX_CACHED_PATTERNS: usize = 64;
/// Compiled size limit of one pattern: a user's pattern must not take hundreds of megabytes.
const MAX_PATTERN_SIZE: usize = 1 << 20;

fn matches(args: &[Value]) -> Result<Value, String> {
    let (text, pattern) = (arg_str(args, 0)?, arg_str(args, 1)?);
    let mut cache = PATTERNS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(regex) = cache.get(pattern) {
        return Ok(Value::Bool(regex.is_match(text)));
    }
    let regex = RegexBuilder::new(pattern)
        .size_limit(MAX_PATTERN_SIZE)
        .build()
        .map_err(|e| format!("invalid regular expression `{pattern}`: {e}"))?;
    let found = regex.is_match(text);
    if cache.len() >= MAX_CACHED_PATTERNS {
        cache.clear();
    }
    cache.insert(pattern.to_string(), regex);
    Ok(Value::Bool(found))
}
