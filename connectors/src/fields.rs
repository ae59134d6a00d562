//! Reading a step's evaluated input object field by field, and building output values. Every built-in connector
//! reads its input through [`Fields`], so a wrong input reads the same whatever the action:
//! `input `timeout`: expected a duration such as `30s`, got an int`.
//!
//! A field holding `null` reads as absent. The compiler has already checked each input against its declared type;
//! these checks matter for values typed `any` at compile time (a field of parsed JSON) and for custom callers.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use expr_grammar::{Duration, Object, Timestamp, Value};

use crate::ActionError;

/// A step's evaluated input object.
pub(crate) struct Fields<'a> {
    fields: Option<&'a Object>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(input: &'a Value) -> Result<Fields<'a>, ActionError> {
        match input {
            Value::Object(fields) => Ok(Fields { fields: Some(fields) }),
            Value::Null => Ok(Fields { fields: None }),
            other => Err(wrong_kind("input", "an object of inputs", other)),
        }
    }

    /// The field's value, `None` when missing or null.
    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.fields.and_then(|fields| fields.get(field)).filter(|value| !value.is_null())
    }

    /// A value that must be there (of any type).
    pub(crate) fn required(&self, field: &str) -> Result<&'a Value, ActionError> {
        self.get(field).ok_or_else(|| invalid(field, "required"))
    }

    pub(crate) fn optional_string(&self, field: &str) -> Result<Option<&'a str>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(wrong_kind(field, "a string", other)),
        }
    }

    /// A string that must be given and not empty (a URL, a command, a title).
    pub(crate) fn required_string(&self, field: &str) -> Result<&'a str, ActionError> {
        match self.required_text(field)? {
            "" => Err(invalid(field, "must not be empty")),
            text => Ok(text),
        }
    }

    /// A string that must be given but may be empty (a file's new content, an email body).
    pub(crate) fn required_text(&self, field: &str) -> Result<&'a str, ActionError> {
        self.optional_string(field)?.ok_or_else(|| invalid(field, "required"))
    }

    /// A path: required, not empty, a leading `~` expanded.
    pub(crate) fn path(&self, field: &str) -> Result<PathBuf, ActionError> {
        Ok(expand_home(self.required_string(field)?))
    }

    pub(crate) fn bool_or(&self, field: &str, default: bool) -> Result<bool, ActionError> {
        match self.get(field) {
            None => Ok(default),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(other) => Err(wrong_kind(field, "a bool", other)),
        }
    }

    /// A whole number of at least 1, when given, as the caller's integer type (`max_tokens`, `max_size`).
    pub(crate) fn optional_positive_int<T: TryFrom<i64>>(&self, field: &str) -> Result<Option<T>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Int(n)) if *n > 0 => {
                T::try_from(*n).map(Some).map_err(|_| invalid(field, format!("{n} is too large")))
            }
            Some(Value::Int(n)) => Err(invalid(field, format!("must be at least 1, got {n}"))),
            Some(other) => Err(wrong_kind(field, "an int", other)),
        }
    }

    /// A finite number; an int is read as a float.
    pub(crate) fn optional_float(&self, field: &str) -> Result<Option<f64>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Int(n)) => Ok(Some(*n as f64)),
            Some(Value::Float(x)) if x.is_finite() => Ok(Some(*x)),
            Some(other) => Err(wrong_kind(field, "a number", other)),
        }
    }

    /// A duration that is not negative (`sleep`'s `0s` is a fine wait). A bare number is refused: `30` could mean
    /// seconds or milliseconds.
    pub(crate) fn optional_duration(&self, field: &str) -> Result<Option<std::time::Duration>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Duration(duration)) if duration.0 >= 0 => Ok(Some(std_duration(*duration))),
            Some(Value::Duration(duration)) => Err(invalid(field, format!("must not be negative, got {duration}"))),
            Some(other) => Err(wrong_kind(field, "a duration such as `30s`", other)),
        }
    }

    pub(crate) fn required_duration(&self, field: &str) -> Result<std::time::Duration, ActionError> {
        self.optional_duration(field)?.ok_or_else(|| invalid(field, "required"))
    }

    /// A duration longer than zero: a limit (`timeout`) of `0s` would fail every call before it starts.
    pub(crate) fn optional_limit(&self, field: &str) -> Result<Option<std::time::Duration>, ActionError> {
        match self.optional_duration(field)? {
            Some(limit) if limit.is_zero() => Err(invalid(field, "must be longer than 0s")),
            limit => Ok(limit),
        }
    }

    /// A list of strings; numbers and bools are accepted and written out (`args: [-n, 3]`).
    pub(crate) fn string_list(&self, field: &str) -> Result<Vec<String>, ActionError> {
        match self.get(field) {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    scalar_text(item).ok_or_else(|| wrong_kind(&format!("{field}[{index}]"), "a string", item))
                })
                .collect(),
            Some(other) => Err(wrong_kind(field, "a list of strings", other)),
        }
    }

    /// A required string or non-empty list of strings, as a list (`ai/embed`'s `text`, `ai/classify`'s `labels`).
    pub(crate) fn string_or_strings(&self, field: &str) -> Result<Vec<String>, ActionError> {
        match self.required(field)? {
            Value::String(text) => Ok(vec![text.to_string()]),
            Value::List(items) if items.is_empty() => Err(invalid(field, "the list is empty")),
            Value::List(items) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::String(text) => Ok(text.to_string()),
                    other => Err(wrong_kind(&format!("{field}[{index}]"), "a string", other)),
                })
                .collect(),
            other => Err(wrong_kind(field, "a string or a list of strings", other)),
        }
    }

    /// An object of names to text values (headers, query parameters, environment variables). Scalars are written
    /// out; a list value gives the name once per element (`tag: [a, b]` is `tag=a&tag=b`).
    pub(crate) fn string_pairs(&self, field: &str) -> Result<Vec<(String, String)>, ActionError> {
        let object = match self.get(field) {
            None => return Ok(Vec::new()),
            Some(Value::Object(object)) => object,
            Some(other) => return Err(wrong_kind(field, "an object of names to values", other)),
        };
        let mut pairs = Vec::with_capacity(object.len());
        for (name, value) in object.iter() {
            let place = format!("{field}.{name}");
            match value {
                Value::Null => {}
                Value::List(items) => {
                    for item in items.iter() {
                        let text = scalar_text(item).ok_or_else(|| wrong_kind(&place, "a string", item))?;
                        pairs.push((name.clone(), text));
                    }
                }
                other => {
                    pairs.push((name.clone(), scalar_text(other).ok_or_else(|| wrong_kind(&place, "a string", other))?))
                }
            }
        }
        Ok(pairs)
    }
}

/// `input `field`: message`.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> ActionError {
    ActionError::InvalidInput { field: field.to_string(), message: message.into() }
}

/// `input `field`: expected a string, got an int`.
pub(crate) fn wrong_kind(field: &str, expected: &str, got: &Value) -> ActionError {
    invalid(field, format!("expected {expected}, got {}", kind_of(got)))
}

/// The name of a value's type with its article, for error messages: `an int`, `a list`, `null`.
pub(crate) fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::Duration(_) => "a duration",
        Value::Timestamp(_) => "a timestamp",
        Value::List(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The text of a scalar as interpolation writes it; `None` for null, lists and objects.
pub(crate) fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::Null | Value::List(_) | Value::Object(_) => None,
        other => Some(other.to_string()),
    }
}

/// An object value with fields in the given order.
pub(crate) fn object<'k>(pairs: impl IntoIterator<Item = (&'k str, Value)>) -> Value {
    Value::Object(Arc::new(pairs.into_iter().map(|(key, value)| (key.to_string(), value)).collect()))
}

pub(crate) fn string(text: impl AsRef<str>) -> Value {
    Value::String(Arc::from(text.as_ref()))
}

pub(crate) fn path_value(path: &Path) -> Value {
    string(path.to_string_lossy())
}

/// Sizes are reported as ints; a size past `i64::MAX` bytes cannot occur on a real file system.
pub(crate) fn size_value(bytes: u64) -> Value {
    Value::Int(i64::try_from(bytes).unwrap_or(i64::MAX))
}

pub(crate) fn timestamp_value(time: std::time::SystemTime) -> Value {
    let micros = match time.duration_since(std::time::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_micros()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_micros()).map(|m| -m).unwrap_or(i64::MIN),
    };
    Value::Timestamp(Timestamp(micros))
}

/// `~` and `~/...` become the home folder (`$HOME`); everything else is left alone.
pub(crate) fn expand_home(path: &str) -> PathBuf {
    let home = || std::env::var_os("HOME").filter(|home| !home.is_empty()).map(PathBuf::from);
    if path == "~" {
        if let Some(home) = home() {
            return home;
        }
    } else if let Some(rest) = path.strip_prefix("~/")
        && let Some(home) = home()
    {
        return home.join(rest);
    }
    PathBuf::from(path)
}

/// The OS's reason without Rust's ` (os error N)` suffix: `No such file or directory`.
pub(crate) fn os_reason(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// `cannot read /x/y: No such file or directory`.
pub(crate) fn io_failure(verb: &str, path: &Path, err: &io::Error) -> ActionError {
    failed(format!("cannot {verb} {}: {}", path.display(), os_reason(err)))
}

pub(crate) fn failed(message: String) -> ActionError {
    ActionError::Failed { message }
}

/// A value as text for a log line: strings as they are, everything else as its JSON form (timestamps RFC 3339,
/// durations as `30s`).
pub(crate) fn render(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_string(),
        other => other.to_json().to_string(),
    }
}

/// A pilot duration as a std duration; a negative one (refused by the readers above) is zero.
pub(crate) fn std_duration(duration: Duration) -> std::time::Duration {
    std::time::Duration::from_micros(u64::try_from(duration.0).unwrap_or(0))
}

/// A std duration as pilot prints durations: `1m30s`, `250ms`.
pub(crate) fn show_duration(duration: std::time::Duration) -> String {
    Duration(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)).to_string()
}

/// The first `max_chars` characters of `text` on one line, with `…` when cut: for error messages.
pub(crate) fn excerpt(text: &str, max_chars: usize) -> String {
    let flat: String = text.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    match flat.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

/// The last `max_chars` characters of `text`, with `…` in front when cut (the end of a program's stderr).
pub(crate) fn tail(text: &str, max_chars: usize) -> String {
    let trimmed = text.trim_end();
    let count = trimmed.chars().count();
    if count <= max_chars {
        return trimmed.to_string();
    }
    let start = trimmed.char_indices().nth(count - max_chars).map_or(0, |(index, _)| index);
    format!("…{}", &trimmed[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<impl std::fmt::Debug, ActionError>) -> String {
        result.expect_err("an input error").to_string()
    }

    #[test]
    fn os_reason_drops_the_error_number() {
        let err = io::Error::from_raw_os_error(2);
        assert_eq!(os_reason(&err), "No such file or directory");
        assert_eq!(os_reason(&io::Error::other("plain")), "plain");
    }

    #[test]
    fn tilde_expands_to_home_only_at_the_start() {
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else { return };
        assert_eq!(expand_home("~/a/b"), PathBuf::from(&home).join("a/b"));
        assert_eq!(expand_home("~"), PathBuf::from(&home));
        assert_eq!(expand_home("a/~/b"), PathBuf::from("a/~/b"));
        assert_eq!(expand_home("~user/x"), PathBuf::from("~user/x"));
    }

    #[test]
    fn excerpt_cuts_on_characters_and_flattens_lines() {
        assert_eq!(excerpt("  héllo\nworld  ", 100), "héllo world");
        assert_eq!(excerpt("ééééé", 3), "ééé…");
    }

    #[test]
    fn tail_keeps_the_end() {
        assert_eq!(tail("abcdef\n", 3), "…def");
        assert_eq!(tail("ab", 3), "ab");
    }

    #[test]
    fn string_pairs_repeat_list_values_and_write_out_scalars() {
        let input = Value::object([(
            "query",
            Value::object([("tag", Value::list([Value::from("a"), Value::from("b")])), ("n", Value::Int(3))]),
        )]);
        let fields = Fields::new(&input).unwrap();
        let pairs = fields.string_pairs("query").unwrap();
        assert_eq!(pairs, vec![("tag".into(), "a".into()), ("tag".into(), "b".into()), ("n".into(), "3".into())]);
    }

    #[test]
    fn every_wrong_kind_reads_the_same_naming_the_field() {
        let input = Value::object([("n", Value::Int(3)), ("s", Value::from("x")), ("l", Value::list([Value::Int(1)]))]);
        let fields = Fields::new(&input).unwrap();
        assert_eq!(message(fields.optional_string("n")), "input `n`: expected a string, got an int");
        assert_eq!(message(fields.bool_or("s", false)), "input `s`: expected a bool, got a string");
        assert_eq!(message(fields.optional_duration("n")), "input `n`: expected a duration such as `30s`, got an int");
        assert_eq!(message(fields.string_or_strings("l")), "input `l[0]`: expected a string, got an int");
        assert_eq!(
            message(Fields::new(&Value::Int(1)).map(|_| ())),
            "input `input`: expected an object of inputs, got an int"
        );
    }

    #[test]
    fn required_strings_must_be_there_and_not_empty_but_text_may_be_empty() {
        let input = Value::object([("empty", Value::from("")), ("null", Value::Null)]);
        let fields = Fields::new(&input).unwrap();
        assert_eq!(message(fields.required_string("empty")), "input `empty`: must not be empty");
        assert_eq!(message(fields.required_string("null")), "input `null`: required");
        assert_eq!(fields.required_text("empty").unwrap(), "");
        assert_eq!(message(fields.path("empty")), "input `empty`: must not be empty");
    }

    #[test]
    fn durations_may_be_zero_but_limits_may_not_and_neither_may_be_negative() {
        let input = Value::object([
            ("zero", Value::Duration(Duration(0))),
            ("minus", Value::Duration(Duration(-5_000_000))),
            ("two", Value::Duration(Duration(2_000_000))),
        ]);
        let fields = Fields::new(&input).unwrap();
        assert_eq!(fields.optional_duration("zero").unwrap(), Some(std::time::Duration::ZERO));
        assert_eq!(fields.optional_limit("two").unwrap(), Some(std::time::Duration::from_secs(2)));
        assert_eq!(message(fields.optional_limit("zero")), "input `zero`: must be longer than 0s");
        assert_eq!(message(fields.optional_duration("minus")), "input `minus`: must not be negative, got -5s");
        assert_eq!(message(fields.required_duration("absent")), "input `absent`: required");
    }

    #[test]
    fn positive_ints_fit_the_callers_type() {
        let input = Value::object([("big", Value::Int(i64::MAX)), ("zero", Value::Int(0)), ("ten", Value::Int(10))]);
        let fields = Fields::new(&input).unwrap();
        assert_eq!(fields.optional_positive_int::<u32>("ten").unwrap(), Some(10));
        assert_eq!(
            message(fields.optional_positive_int::<u32>("big")),
            format!("input `big`: {} is too large", i64::MAX)
        );
        assert_eq!(message(fields.optional_positive_int::<u64>("zero")), "input `zero`: must be at least 1, got 0");
    }

    #[test]
    fn durations_show_as_pilot_writes_them() {
        assert_eq!(show_duration(std::time::Duration::from_secs(90)), "1m30s");
        assert_eq!(show_duration(std::time::Duration::from_millis(250)), "250ms");
    }
}
