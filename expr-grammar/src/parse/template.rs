//! Splitting a workflow string into literal text and `${...}` expressions.

use super::parse_expression_at;
use crate::span::Span;
use crate::{SyntaxError, Template, TemplatePart};

/// Split `source` at each `${...}` and parse the expressions. `$${` is a literal `${`.
/// Collects the syntax errors of every expression, not only the first.
pub(crate) fn parse_template(source: &str) -> Result<Template, Vec<SyntaxError>> {
    let bytes = source.as_bytes();
    let (mut parts, mut errors) = (Vec::new(), Vec::new());
    let mut literal = String::new();
    let (mut at, mut literal_start) = (0, 0);
    while at < bytes.len() {
        if bytes[at..].starts_with(b"$${") {
            literal.push_str(&source[literal_start..at]);
            literal.push_str("${");
            at += 3;
            literal_start = at;
        } else if bytes[at..].starts_with(b"${") {
            literal.push_str(&source[literal_start..at]);
            let Some(close) = matching_brace(bytes, at + 2) else {
                errors.push(unclosed(at));
                literal_start = bytes.len();
                break;
            };
            if !literal.is_empty() {
                parts.push(TemplatePart::Literal(std::mem::take(&mut literal)));
            }
            match parse_expression_at(&source[at + 2..close], at + 2) {
                Ok(expr) => parts.push(TemplatePart::Expr(expr)),
                Err(mut errs) => errors.append(&mut errs),
            }
            at = close + 1;
            literal_start = at;
        } else {
            at += 1;
        }
    }
    literal.push_str(&source[literal_start.min(source.len())..]);
    if !literal.is_empty() {
        parts.push(TemplatePart::Literal(literal));
    }
    if errors.is_empty() { Ok(Template { parts }) } else { Err(errors) }
}

/// The position of the `}` closing an expression that starts at `from`, skipping braces inside string
/// literals (`${'}'}`) and nested object literals (`${ {a: 1}.a }`).
fn matching_brace(bytes: &[u8], from: usize) -> Option<usize> {
    let (mut depth, mut quote, mut escaped) = (0usize, None::<u8>, false);
    for (at, &b) in bytes.iter().enumerate().skip(from) {
        if let Some(q) = quote {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                _ if b == q => quote = None,
                _ => {}
            }
            continue;
        }
        match b {
            b'\'' | b'"' => quote = Some(b),
            b'{' => depth += 1,
            b'}' if depth == 0 => return Some(at),
            b'}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn unclosed(at: usize) -> SyntaxError {
    SyntaxError {
        span: Span::new(at, at + 2),
        message: "`${` is not closed".to_string(),
        hint: Some(
            "end the expression with `}` (check for an unterminated string), or write `$${` for a literal `${`".into(),
        ),
        related: None,
    }
}
