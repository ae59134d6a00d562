//! Reading an action's input object and building its output; shared by the `fs` and core connectors.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use expr_grammar::{Duration, Object, Timestamp, Value};

use crate::ActionError;

/// A step's evaluated input object. A missing field and an explicit null read the same.
pub(crate) struct Fields<'a> {
    fields: Option<&'a Object>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(input: &'a Value) -> Result<Fields<'a>, ActionError> {
        match input {
            Value::Object(fields) => Ok(Fields { fields: Some(fields) }),
            Value::Null => Ok(Fields { fields: None }),
            other => Err(invalid("input", format!("expected an object of inputs, got {}", kind_of(other)))),
        }
    }

    pub(crate) fn get(&self, field: &str) -> Option<&'a Value> {
        self.fields.and_then(|fields| fields.get(field)).filter(|value| !matches!(value, Value::Null))
    }

    pub(crate) fn optional_string(&self, field: &str) -> Result<Option<&'a str>, ActionError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(other) => Err(invalid(field, format!("expected a string, got {}", kind_of(other)))),
        }
    }

    pub(crate) fn required_string(&self, field: &str) -> Result<&'a str, ActionError> {
        self.optional_string(field)?.ok_or_else(|| invalid(field, "required".into()))
    }

    /// A path input: required, not empty, `~` expanded.
    pub(crate) fn path(&self, field: &str) -> Result<PathBuf, ActionError> {
        let text = self.required_string(field)?;
        if text.is_empty() {
            return Err(invalid(field, "the path is empty".into()));
        }
        Ok(expand_home(text))
    }

    pub(crate) fn bool_or(&self, field: &str, default: bool) -> Result<bool, ActionError> {
        match self.get(field) {
            None => Ok(default),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(other) => Err(invalid(field, format!("expected a bool, got {}", kind_of(other)))),
        }
    }

    /// A duration that is not negative. A bare int is not accepted: `30` could mean seconds or milliseconds.
    pub(crate) fn required_duration(&self, field: &str) -> Result<Duration, ActionError> {
        match self.get(field) {
            None => Err(invalid(field, "required".into())),
            Some(Value::Duration(duration)) if duration.0 >= 0 => Ok(*duration),
            Some(Value::Duration(duration)) => {
                Err(invalid(field, format!("must not be negative, got {}", format_duration(*duration))))
            }
            Some(other) => Err(invalid(field, format!("expected a duration such as `30s`, got {}", kind_of(other)))),
        }
    }
}

pub(crate) fn invalid(field: &str, message: String) -> ActionError {
    ActionError::InvalidInput { field: field.to_string(), message }
}

/// The name of a value's type, for error messages.
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

/// A value as text for a log line: strings as they are, everything else as JSON (timestamps RFC 3339,
/// durations as `30s`).
pub(crate) fn render(value: &Value) -> String {
    match value {
        Value::String(text) => text.to_string(),
        other => to_json(other).to_string(),
    }
}

fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as Json;
    match value {
        Value::Null => Json::Null,
        Value::Bool(flag) => Json::Bool(*flag),
        Value::Int(n) => Json::from(*n),
        Value::Float(x) => serde_json::Number::from_f64(*x).map_or(Json::Null, Json::Number),
        Value::String(text) => Json::String(text.to_string()),
        Value::Duration(duration) => Json::String(format_duration(*duration)),
        Value::Timestamp(time) => Json::String(
            chrono::DateTime::from_timestamp_micros(time.0).map_or_else(|| time.0.to_string(), |t| t.to_rfc3339()),
        ),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Object(fields) => Json::Object(fields.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
    }
}

/// `1d`, `2h`, `30s`, `250ms`: the largest unit that divides the duration exactly.
pub(crate) fn format_duration(duration: Duration) -> String {
    const UNITS: [(i64, &str); 5] =
        [(86_400_000_000, "d"), (3_600_000_000, "h"), (60_000_000, "m"), (1_000_000, "s"), (1_000, "ms")];
    let micros = duration.0;
    if micros == 0 {
        return "0s".into();
    }
    for (size, unit) in UNITS {
        if micros % size == 0 {
            return format!("{}{unit}", micros / size);
        }
    }
    format!("{micros}us")
}

/// A pilot duration as a std duration; callers have rejected negative durations already.
pub(crate) fn std_duration(duration: Duration) -> std::time::Duration {
    std::time::Duration::from_micros(u64::try_from(duration.0).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_reason_drops_the_error_number() {
        let err = io::Error::from_raw_os_error(2);
        assert_eq!(os_reason(&err), "No such file or directory");
        assert_eq!(os_reason(&io::Error::other("plain")), "plain");
    }

    #[test]
    fn durations_print_in_their_largest_exact_unit() {
        assert_eq!(format_duration(Duration(86_400_000_000)), "1d");
        assert_eq!(format_duration(Duration(90_000_000)), "90s");
        assert_eq!(format_duration(Duration(250_000)), "250ms");
        assert_eq!(format_duration(Duration(7)), "7us");
    }

    #[test]
    fn tilde_expands_to_home_only_at_the_start() {
        let Some(home) = std::env::var_os("HOME").filter(|h| !h.is_empty()) else { return };
        assert_eq!(expand_home("~/a/b"), PathBuf::from(&home).join("a/b"));
        assert_eq!(expand_home("~"), PathBuf::from(&home));
        assert_eq!(expand_home("a/~/b"), PathBuf::from("a/~/b"));
        assert_eq!(expand_home("~user/x"), PathBuf::from("~user/x"));
    }
}
