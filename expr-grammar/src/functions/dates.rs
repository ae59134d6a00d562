//! Dates: `format`, `parse_date`, `parse_duration`. Date arithmetic is done with operators
//! (`now() - 1d`, `end - start`). Patterns use moment-style tokens, always in UTC.

use super::{
    Accepts, Body, FunctionDef, ResultSize, arg_str, param, returns_duration, returns_string, returns_timestamp,
};
use crate::value::{Duration, Timestamp, Value};
use chrono::format::{Item, Parsed, StrftimeItems};
use std::fmt::Write as _;

pub(super) const FUNCTIONS: &[FunctionDef] = &[
    FunctionDef {
        name: "format",
        params: &[param("date", Accepts::TIMESTAMP.or(Accepts::STRING)), param("pattern", Accepts::STRING)],
        required: 2,
        returns: "string",
        result_type: returns_string,
        body: Body::Pure(format),
        result_size: ResultSize::LikeArguments,
        description: "Format a timestamp (or an RFC 3339 / YYYY-MM-DD string) in UTC with moment-style tokens: \
                      YYYY YY MMMM MMM MM M DD D dddd ddd HH H hh h mm m ss s SSS A Z; text in [brackets] is literal.",
        example: "format(parse_date('2024-03-05T14:07:09Z'), 'dddd D MMM YYYY [at] HH:mm')",
        example_result: r#""Tuesday 5 Mar 2024 at 14:07""#,
    },
    FunctionDef {
        name: "parse_date",
        params: &[param("text", Accepts::STRING), param("pattern", Accepts::STRING)],
        required: 1,
        returns: "timestamp",
        result_type: returns_timestamp,
        body: Body::Pure(parse_date),
        result_size: ResultSize::Small,
        description: "Parse RFC 3339 (`2024-05-01T10:00:00+02:00`), `YYYY-MM-DD[ HH:mm:ss]` (UTC), or text in \
                      the given moment-style pattern.",
        example: "parse_date('05/03/2024', 'DD/MM/YYYY')",
        example_result: r#""2024-03-05T00:00:00.000000Z""#,
    },
    FunctionDef {
        name: "parse_duration",
        params: &[param("text", Accepts::STRING)],
        required: 1,
        returns: "duration",
        result_type: returns_duration,
        body: Body::Pure(parse_duration),
        result_size: ResultSize::Small,
        description: "Parse duration text such as `1h30m`, `500ms`, `2d` (units d h m s ms us).",
        example: "parse_duration('1h30m') + 30m",
        example_result: r#""2h""#,
    },
];

fn format(args: &[Value]) -> Result<Value, String> {
    let timestamp = match args.first() {
        Some(Value::Timestamp(t)) => *t,
        Some(Value::String(s)) => Timestamp::parse(s).ok_or_else(|| not_a_date(s))?,
        other => return Err(super::wrong_kind("a timestamp", other)),
    };
    format_timestamp(timestamp, arg_str(args, 1)?).map(Value::from)
}

/// Format `timestamp` in UTC with a moment-style pattern.
pub(crate) fn format_timestamp(timestamp: Timestamp, pattern: &str) -> Result<String, String> {
    let time = timestamp.to_chrono().ok_or("the timestamp is out of range")?;
    let strftime = moment_to_strftime(pattern);
    let items = strftime_items(&strftime)?;
    let mut text = String::new();
    // chrono reports a field it cannot format as a formatting error; `to_string` would panic on it.
    write!(text, "{}", time.format_with_items(items.iter())).map_err(|_| format!("cannot format with `{pattern}`"))?;
    Ok(text)
}

fn parse_date(args: &[Value]) -> Result<Value, String> {
    let text = arg_str(args, 0)?;
    let parsed = match args.get(1) {
        Some(_) => parse_with_pattern(text, arg_str(args, 1)?)?,
        None => Timestamp::parse(text.trim()).ok_or_else(|| not_a_date(text))?,
    };
    Ok(Value::Timestamp(parsed))
}

fn parse_with_pattern(text: &str, pattern: &str) -> Result<Timestamp, String> {
    let strftime = moment_to_strftime(pattern);
    let items = strftime_items(&strftime)?;
    let mut parsed = Parsed::new();
    chrono::format::parse(&mut parsed, text, items.iter())
        .map_err(|e| format!("`{text}` does not match the pattern `{pattern}`: {e}"))?;
    if let Ok(time) = parsed.to_datetime() {
        return Ok(Timestamp(time.timestamp_micros()));
    }
    if let Ok(time) = parsed.to_naive_datetime_with_offset(0) {
        return Ok(Timestamp(time.and_utc().timestamp_micros()));
    }
    let date = parsed.to_naive_date().map_err(|e| format!("`{text}` is not a complete date for `{pattern}`: {e}"))?;
    let midnight = date.and_hms_opt(0, 0, 0).ok_or("invalid date")?;
    Ok(Timestamp(midnight.and_utc().timestamp_micros()))
}

fn parse_duration(args: &[Value]) -> Result<Value, String> {
    let text = arg_str(args, 0)?;
    Duration::parse(text.trim())
        .map(Value::Duration)
        .ok_or_else(|| format!("`{text}` is not a duration (write it like `1h30m`, `500ms`, `2d`)"))
}

fn not_a_date(text: &str) -> String {
    format!("`{text}` is not a date (expected RFC 3339 such as `2024-05-01T10:00:00Z`, or `2024-05-01`)")
}

fn strftime_items(strftime: &str) -> Result<Vec<Item<'_>>, String> {
    StrftimeItems::new(strftime).parse().map_err(|_| format!("invalid date pattern `{strftime}`"))
}

/// Moment tokens, longest first so `MMMM` wins over `MM`.
const TOKENS: [(&str, &str); 21] = [
    ("YYYY", "%Y"),
    ("YY", "%y"),
    ("MMMM", "%B"),
    ("MMM", "%b"),
    ("MM", "%m"),
    ("M", "%-m"),
    ("dddd", "%A"),
    ("ddd", "%a"),
    ("DD", "%d"),
    ("D", "%-d"),
    ("HH", "%H"),
    ("H", "%-H"),
    ("hh", "%I"),
    ("h", "%-I"),
    ("mm", "%M"),
    ("m", "%-M"),
    ("ss", "%S"),
    ("SSS", "%3f"),
    ("s", "%-S"),
    ("A", "%p"),
    ("Z", "%:z"),
];

/// Translate a moment-style pattern to chrono's strftime syntax; `[text]` and unknown characters are literal.
pub(crate) fn moment_to_strftime(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut rest = pattern;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            let end = rest.find(']').unwrap_or(rest.len());
            push_literal(&mut out, &rest[1..end]);
            rest = rest.get(end + 1..).unwrap_or("");
        } else if let Some((token, spec)) = TOKENS.iter().find(|(token, _)| rest.starts_with(token)) {
            out.push_str(spec);
            rest = &rest[token.len()..];
        } else {
            push_literal(&mut out, &rest[..c.len_utf8()]);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn push_literal(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '%' => out.push_str("%%"),
            '\n' => out.push_str("%n"),
            '\t' => out.push_str("%t"),
            _ => out.push(c),
        }
    }
}
