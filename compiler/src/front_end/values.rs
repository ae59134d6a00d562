//! Free-form YAML values (`input:`, `variables:`, defaults) and durations.

use expr_grammar::{Duration, Span};

use super::fields::{Cx, free_pairs};
use super::scalars::{self, Resolved};
use super::tree::{Node, NodeKind};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::{Entry, Mapping, Spanned, YamlValue};

/// Any YAML value. Depth is bounded by the tree reader, so the recursion is too.
pub(crate) fn yaml_value(cx: &mut Cx<'_>, node: &Node, place: &str) -> Spanned<YamlValue> {
    let value = match &node.kind {
        NodeKind::Scalar(scalar) => match scalars::resolve(scalar) {
            Resolved::Null => YamlValue::Null,
            Resolved::Bool(b) => YamlValue::Bool(b),
            Resolved::Int(i) => YamlValue::Int(i),
            Resolved::Float(f) => YamlValue::Float(f),
            Resolved::String => YamlValue::String(scalars::text(scalar, node.span, cx.source)),
        },
        NodeKind::Sequence(items) => YamlValue::List(items.iter().map(|item| yaml_value(cx, item, place)).collect()),
        NodeKind::Mapping(_) => {
            YamlValue::Map(yaml_mapping(cx, node, place).unwrap_or(Mapping { span: node.span, entries: Vec::new() }))
        }
    };
    Spanned::new(value, node.span)
}

/// A mapping of free keys to YAML values.
pub(crate) fn yaml_mapping(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Mapping<Spanned<YamlValue>>> {
    let pairs = free_pairs(cx, node, place)?;
    let entries = pairs
        .into_iter()
        .map(|(key, value)| {
            let inner = format!("`{}` in {place}", key.value);
            Entry { value: yaml_value(cx, value, &inner), key }
        })
        .collect();
    Some(Mapping { span: node.span, entries })
}

/// A duration such as `30s`, `1h30m`, `1.5s`, `500ms`, `2d`.
pub(crate) fn duration(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Spanned<Duration>> {
    let NodeKind::Scalar(scalar) = &node.kind else {
        cx.wrong_type(node, "a duration such as `30s`", place);
        return None;
    };
    let span = scalars::content_span(scalar, node.span, cx.source);
    match parse_duration(&scalar.value) {
        Ok(duration) => Some(Spanned::new(duration, span)),
        Err(reason) => {
            cx.push(bad_duration(&scalar.value, place, span, reason));
            None
        }
    }
}

/// Why `text` (at `span`) is not a duration for `place`, as a diagnostic; `None` when it is one.
pub(crate) fn duration_problem(text: &str, place: &str, span: Span) -> Option<Diagnostic> {
    parse_duration(text).err().map(|reason| bad_duration(text, place, span, reason))
}

fn bad_duration(text: &str, place: &str, span: Span, reason: DurationError) -> Diagnostic {
    let message = format!("invalid duration `{text}` for {place}");
    let diagnostic = Diagnostic::error(codes::INVALID_DURATION, message, span);
    match reason {
        DurationError::NoUnit => {
            let trimmed = text.trim();
            diagnostic.with_label("a number without a unit").with_hint(format!("add a unit: `{trimmed}s` for seconds"))
        }
        DurationError::Syntax => diagnostic
            .with_label("not a duration")
            .with_hint("write a number and a unit (`ms`, `s`, `m`, `h`, `d`), e.g. `30s`, `5m`, `1h30m`"),
        DurationError::TooLong => diagnostic.with_label("too long").with_hint("durations are limited to 1000 days"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DurationError {
    NoUnit,
    Syntax,
    TooLong,
}

const MICROS_PER_MILLI: i64 = 1_000;
const MICROS_PER_SECOND: i64 = 1_000_000;
const MAX_DURATION_MICROS: i64 = 1000 * 86_400 * MICROS_PER_SECOND;

/// Parses `1h30m`, `1.5s`, `500ms`; spaces between parts are allowed. Fractions below a microsecond are dropped.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Syntax);
    }
    if text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(DurationError::NoUnit);
    }
    let mut rest = text;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let number_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_len);
        let unit_len = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let part = part_micros(number, unit)?;
        total = total.checked_add(part).ok_or(DurationError::TooLong)?;
        rest = after.trim_start();
    }
    if total > MAX_DURATION_MICROS {
        return Err(DurationError::TooLong);
    }
    Ok(Duration(total))
}

fn part_micros(number: &str, unit: &str) -> Result<i64, DurationError> {
    let scale = match unit {
        "ms" => MICROS_PER_MILLI,
        "s" => MICROS_PER_SECOND,
        "m" => 60 * MICROS_PER_SECOND,
        "h" => 3_600 * MICROS_PER_SECOND,
        "d" => 86_400 * MICROS_PER_SECOND,
        _ => return Err(DurationError::Syntax),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let digits_ok = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits_ok(whole) || !digits_ok(fraction) || (number.contains('.') && fraction.is_empty()) {
        return Err(DurationError::Syntax);
    }
    let whole: i64 = whole.parse().map_err(|_| DurationError::TooLong)?;
    let mut micros = whole.checked_mul(scale).ok_or(DurationError::TooLong)?;
    // Fraction digits beyond the 18th cannot change a whole microsecond at these scales.
    let fraction = &fraction[..fraction.len().min(18)];
    if !fraction.is_empty() {
        let numerator: i128 = fraction.parse().map_err(|_| DurationError::Syntax)?;
        let denominator = 10i128.pow(fraction.len() as u32);
        micros = micros.checked_add((numerator * scale as i128 / denominator) as i64).ok_or(DurationError::TooLong)?;
    }
    Ok(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_to_microseconds() {
        assert_eq!(parse_duration("30s"), Ok(Duration(30_000_000)));
        assert_eq!(parse_duration("500ms"), Ok(Duration(500_000)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration(5_400_000_000)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration(5_400_000_000)));
        assert_eq!(parse_duration("1.5s"), Ok(Duration(1_500_000)));
        assert_eq!(parse_duration("2d"), Ok(Duration(172_800_000_000)));
        assert_eq!(parse_duration("0s"), Ok(Duration(0)));
    }

    #[test]
    fn durations_without_unit_or_with_unknown_unit_are_refused() {
        assert_eq!(parse_duration("30"), Err(DurationError::NoUnit));
        assert_eq!(parse_duration("30 seconds"), Err(DurationError::Syntax));
        assert_eq!(parse_duration("s"), Err(DurationError::Syntax));
        assert_eq!(parse_duration("1.s"), Err(DurationError::Syntax));
        assert_eq!(parse_duration(""), Err(DurationError::Syntax));
        assert_eq!(parse_duration("1w"), Err(DurationError::Syntax));
    }

    #[test]
    fn huge_durations_are_refused_not_overflowed() {
        assert_eq!(parse_duration("99999999999999999999d"), Err(DurationError::TooLong));
        assert_eq!(parse_duration("1001d"), Err(DurationError::TooLong));
        assert_eq!(parse_duration("9223372036854775807h"), Err(DurationError::TooLong));
    }
}
