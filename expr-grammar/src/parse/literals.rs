//! Literal text to values: string escapes and duration literals.

use crate::SyntaxError;
use crate::span::Span;
use crate::value::Duration;

/// Parse a duration literal such as `500ms`, `30s`, `1h30m`.
pub(crate) fn parse_duration(text: &str) -> Option<Duration> {
    Duration::parse(text)
}

/// The content of a quoted string literal (quotes included in `raw`), escapes resolved.
/// `start` is the byte offset of the opening quote, for error spans.
pub(crate) fn unescape(raw: &str, start: usize) -> Result<String, SyntaxError> {
    let body = &raw[1..raw.len() - 1];
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, escaped)) = chars.next() else { break };
        let resolved = match escaped {
            'n' => '\n',
            't' => '\t',
            'r' => '\r',
            '0' => '\0',
            '\\' | '\'' | '"' | '$' | '/' => escaped,
            'u' => unicode_escape(&mut chars, start + 1 + at)?,
            other => {
                let span = Span::new(start + 1 + at, start + 1 + at + 1 + other.len_utf8());
                return Err(SyntaxError {
                    span,
                    message: format!("unknown escape `\\{other}` in string"),
                    hint: Some(r#"known escapes: \n \t \r \0 \\ \' \" \$ \/ \u{1F600}; a backslash is written \\ (in a regex: '\\d+')"#.to_string()),
                    related: None,
                });
            }
        };
        out.push(resolved);
    }
    Ok(out)
}

/// `\u{...}` with 1 to 6 hex digits; `at` is the offset of the backslash.
fn unicode_escape(chars: &mut std::str::CharIndices<'_>, at: usize) -> Result<char, SyntaxError> {
    let bad = |len: usize| SyntaxError {
        span: Span::new(at, at + len),
        message: "invalid unicode escape".to_string(),
        hint: Some(r"write it as \u{e9} (1 to 6 hex digits in braces)".to_string()),
        related: None,
    };
    if chars.next().map(|(_, c)| c) != Some('{') {
        return Err(bad(2));
    }
    let mut digits = String::new();
    for (_, c) in chars.by_ref() {
        if c == '}' {
            break;
        }
        digits.push(c);
    }
    let len = digits.len() + 4;
    if digits.is_empty() || digits.len() > 6 {
        return Err(bad(len));
    }
    u32::from_str_radix(&digits, 16).ok().and_then(char::from_u32).ok_or_else(|| bad(len))
}
