//! Scalars: their YAML 1.2 core-schema type, and the mapping from offsets in their value to offsets in the
//! file (exact for plain and quoted single-line scalars, see [`crate::model::Text`]).

use expr_grammar::Span;
use saphyr_parser::ScalarStyle;

use super::tree::ScalarNode;
use crate::model::Text;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Resolved {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String,
}

/// The core-schema type of a scalar: quoted scalars are strings; plain ones may be null, bool, int or float.
pub(crate) fn resolve(scalar: &ScalarNode) -> Resolved {
    if scalar.style != ScalarStyle::Plain || scalar.core_tag.as_deref() == Some("str") {
        return Resolved::String;
    }
    let tag = scalar.core_tag.as_ref().map(|t| {
        std::borrow::Cow::Owned(saphyr_parser::Tag { handle: "tag:yaml.org,2002:".to_string(), suffix: t.clone() })
    });
    let parsed = saphyr::Scalar::parse_from_cow_and_metadata(scalar.value.as_str().into(), scalar.style, tag.as_ref());
    match parsed {
        Some(saphyr::Scalar::Null) => Resolved::Null,
        Some(saphyr::Scalar::Boolean(b)) => Resolved::Bool(b),
        Some(saphyr::Scalar::Integer(i)) => Resolved::Int(i),
        Some(saphyr::Scalar::FloatingPoint(f)) => Resolved::Float(f.into_inner()),
        Some(saphyr::Scalar::String(_)) | None => Resolved::String,
    }
}

/// The span of the scalar's content: inside the quotes for quoted scalars.
pub(crate) fn content_span(scalar: &ScalarNode, node_span: Span, source: &str) -> Span {
    let quoted = matches!(scalar.style, ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted);
    let raw = source.get(node_span.range()).unwrap_or("");
    if quoted && raw.len() >= 2 {
        Span::new(node_span.start as usize + 1, node_span.end as usize - 1)
    } else {
        node_span
    }
}

/// The scalar as a [`Text`] whose offsets map back to the file.
pub(crate) fn text(scalar: &ScalarNode, node_span: Span, source: &str) -> Text {
    let span = content_span(scalar, node_span, source);
    let raw = source.get(span.range()).unwrap_or("");
    let anchors = if raw == scalar.value { Vec::new() } else { align(&scalar.value, raw, span.start, scalar.style) };
    Text { value: scalar.value.clone(), span, anchors }
}

/// Walks the value and its raw source side by side and records an anchor wherever the distance between them
/// changes (an escape, a doubled quote, a folded line break, a block scalar's indentation).
fn align(value: &str, raw: &str, file_start: u32, style: ScalarStyle) -> Vec<(u32, u32)> {
    let mut anchors = Vec::new();
    let mut r = 0usize;
    let mut last_delta: i64 = 0;
    for (v, c) in value.char_indices() {
        r = skip_to_match(raw, r, c, style);
        let delta = r as i64 - v as i64;
        if delta != last_delta {
            anchors.push((v as u32, file_start + r as u32));
            last_delta = delta;
        }
        r += raw_len_of(raw, r, c, style);
        if r >= raw.len() {
            break;
        }
    }
    anchors
}

/// Moves `r` past raw text that produced no value character (line continuations, folded whitespace).
fn skip_to_match(raw: &str, mut r: usize, c: char, style: ScalarStyle) -> usize {
    loop {
        let Some(rest) = raw.get(r..) else { return r };
        if rest.starts_with(c) {
            return r;
        }
        if style == ScalarStyle::DoubleQuoted && (rest.starts_with("\\\n") || rest.starts_with("\\\r")) {
            r += 2;
            continue;
        }
        match rest.chars().next() {
            Some(w) if w.is_whitespace() && !c.is_whitespace() => r += w.len_utf8(),
            _ => return r,
        }
    }
}

/// How many raw bytes at `r` produced the value character `c`.
fn raw_len_of(raw: &str, r: usize, c: char, style: ScalarStyle) -> usize {
    let rest = raw.get(r..).unwrap_or("");
    if rest.starts_with(c) {
        let doubled_quote = style == ScalarStyle::SingleQuoted && c == '\'' && rest.starts_with("''");
        return if doubled_quote { 2 } else { c.len_utf8() };
    }
    if style == ScalarStyle::DoubleQuoted && rest.starts_with('\\') {
        return escape_len(rest);
    }
    // A folded line break or another unmatched character: consume one raw character.
    rest.chars().next().map_or(0, char::len_utf8)
}

/// The length of the double-quoted escape sequence at the start of `rest` (which starts with `\`).
fn escape_len(rest: &str) -> usize {
    let digits = match rest.as_bytes().get(1) {
        Some(b'x') => 2,
        Some(b'u') => 4,
        Some(b'U') => 8,
        Some(_) => 0,
        None => return 1,
    };
    let second = rest[1..].chars().next().map_or(0, char::len_utf8);
    (1 + second + digits).min(rest.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(source: &str, style: ScalarStyle, value: &str) -> Text {
        let node = ScalarNode { value: value.to_string(), style, core_tag: None };
        text(&node, Span::new(0, source.len()), source)
    }

    #[test]
    fn plain_scalar_maps_one_to_one() {
        let t = text_of("a ${x}", ScalarStyle::Plain, "a ${x}");
        assert_eq!(t.file_offset(4), 4);
        assert_eq!(t.span, Span::new(0, 6));
    }

    #[test]
    fn double_quoted_escapes_shift_the_mapping_exactly() {
        // raw content: a\tb ${x}  (escape \t is two raw bytes for one value byte)
        let t = text_of(r#""a\tb ${x}""#, ScalarStyle::DoubleQuoted, "a\tb ${x}");
        assert_eq!(t.span, Span::new(1, 10));
        let x_in_value = t.value.find('x').unwrap();
        assert_eq!(&r#""a\tb ${x}""#[t.file_offset(x_in_value)..][..1], "x");
    }

    #[test]
    fn unicode_escape_maps_following_characters_exactly() {
        let raw = r#""\u00e9 ${name}""#;
        let t = text_of(raw, ScalarStyle::DoubleQuoted, "é ${name}");
        let n = t.value.find('n').unwrap();
        assert_eq!(&raw[t.file_offset(n)..][..4], "name");
    }

    #[test]
    fn single_quoted_doubled_quote_maps_exactly() {
        let raw = "'it''s ${who}'";
        let t = text_of(raw, ScalarStyle::SingleQuoted, "it's ${who}");
        let w = t.value.find('w').unwrap();
        assert_eq!(&raw[t.file_offset(w)..][..3], "who");
    }

    #[test]
    fn folded_plain_scalar_maps_into_the_second_line() {
        let raw = "first\n    ${second}";
        let t = text_of(raw, ScalarStyle::Plain, "first ${second}");
        let s = t.value.find("second").unwrap();
        assert_eq!(&raw[t.file_offset(s)..][..6], "second");
    }

    #[test]
    fn offsets_past_the_end_clamp_to_the_scalar() {
        let t = text_of("abc", ScalarStyle::Plain, "abc");
        assert_eq!(t.file_offset(99), 3);
    }
}
