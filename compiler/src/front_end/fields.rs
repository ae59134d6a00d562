//! Reading a mapping with known keys: unknown, duplicate and non-text keys are reported once, here; the
//! converter then asks for its keys by name.

use std::collections::HashMap;

use expr_grammar::Span;

use super::scalars::{self, Resolved};
use super::tree::{Node, NodeKind};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::{Spanned, Text};

/// What the converter carries: the source (for spans of scalar content) and the diagnostics so far.
pub(crate) struct Cx<'s> {
    pub source: &'s str,
    pub diagnostics: Vec<Diagnostic>,
}

impl Cx<'_> {
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// `expected X for `key`, found Y`.
    pub fn wrong_type(&mut self, node: &Node, expected: &str, place: &str) {
        let found = node.describe();
        let message = format!("expected {expected} for {place}, found {found}");
        let diagnostic =
            Diagnostic::error(codes::WRONG_TYPE, message, node.span).with_label(format!("this is {found}"));
        let hint = match &node.kind {
            NodeKind::Mapping(_) if expected.starts_with("a list") => {
                Some("a list: start each item with `- ` on its own line")
            }
            NodeKind::Sequence(_) if expected.starts_with("a mapping") => {
                Some("a mapping: write `key: value` lines, without `- `")
            }
            _ => None,
        };
        self.push(match hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        });
    }

    /// A scalar key or value as text, with the span of its content. `None` (and an error) for non-text.
    pub fn key_text(&mut self, key: &Node) -> Option<Spanned<String>> {
        match &key.kind {
            NodeKind::Scalar(scalar) if scalars::resolve(scalar) != Resolved::Null => {
                Some(Spanned::new(scalar.value.clone(), scalars::content_span(scalar, key.span, self.source)))
            }
            _ => {
                let found = key.describe();
                self.push(
                    Diagnostic::error(
                        codes::NON_STRING_KEY,
                        format!("a mapping key must be text, found {found}"),
                        key.span,
                    )
                    .with_label("keys here are names"),
                );
                None
            }
        }
    }

    /// Any non-null scalar as a [`Text`] (`if: true` reads as the text `true`).
    pub fn text(&mut self, node: &Node, place: &str) -> Option<Text> {
        match &node.kind {
            NodeKind::Scalar(scalar) if scalars::resolve(scalar) != Resolved::Null => {
                Some(scalars::text(scalar, node.span, self.source))
            }
            _ => {
                self.wrong_type(node, "text", place);
                None
            }
        }
    }

    /// A text scalar (quoted or plain text; not a number, boolean or null).
    pub fn string(&mut self, node: &Node, place: &str) -> Option<Spanned<String>> {
        match &node.kind {
            NodeKind::Scalar(scalar) if scalars::resolve(scalar) == Resolved::String => {
                Some(Spanned::new(scalar.value.clone(), scalars::content_span(scalar, node.span, self.source)))
            }
            NodeKind::Scalar(scalar) if scalars::resolve(scalar) != Resolved::Null => {
                let found = node.describe();
                self.push(
                    Diagnostic::error(
                        codes::WRONG_TYPE,
                        format!("expected text for {place}, found {found}"),
                        node.span,
                    )
                    .with_label(format!("this is {found}"))
                    .with_hint(format!("quote it to make it text: \"{}\"", scalar.value)),
                );
                None
            }
            _ => {
                self.wrong_type(node, "text", place);
                None
            }
        }
    }

    /// Any non-null scalar as text, numbers by their source text (`version: 1.0` is `"1.0"`).
    pub fn scalar_as_string(&mut self, node: &Node, place: &str) -> Option<Spanned<String>> {
        match &node.kind {
            NodeKind::Scalar(scalar) if scalars::resolve(scalar) != Resolved::Null => {
                Some(Spanned::new(scalar.value.clone(), scalars::content_span(scalar, node.span, self.source)))
            }
            _ => {
                self.wrong_type(node, "text", place);
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, place: &str) -> Option<Spanned<bool>> {
        match &node.kind {
            NodeKind::Scalar(scalar) => match scalars::resolve(scalar) {
                Resolved::Bool(b) => Some(Spanned::new(b, node.span)),
                _ => {
                    self.wrong_type(node, "`true` or `false`", place);
                    None
                }
            },
            _ => {
                self.wrong_type(node, "`true` or `false`", place);
                None
            }
        }
    }

    /// A whole number in `min..=max` (`max` at most `u32::MAX`).
    pub fn count(&mut self, node: &Node, place: &str, min: i64, max: i64) -> Option<Spanned<u32>> {
        let value = self.whole_number(node, place, min, max.min(u32::MAX.into()))?;
        Some(Spanned::new(value.value as u32, value.span))
    }

    /// A whole number in `min..=max`.
    pub fn whole_number(&mut self, node: &Node, place: &str, min: i64, max: i64) -> Option<Spanned<i64>> {
        let value = match &node.kind {
            NodeKind::Scalar(scalar) => match scalars::resolve(scalar) {
                Resolved::Int(i) => Some(i),
                _ => None,
            },
            _ => None,
        };
        let Some(value) = value else {
            self.wrong_type(node, "a whole number", place);
            return None;
        };
        if value < min || value > max {
            let message = format!("{place} must be between {min} and {max}, found {value}");
            self.push(Diagnostic::error(codes::OUT_OF_RANGE, message, node.span).with_label("out of range"));
            return None;
        }
        Some(Spanned::new(value, node.span))
    }

    /// One of `allowed` words; reports a "did you mean" otherwise.
    pub fn word(&mut self, node: &Node, place: &str, allowed: &[&str]) -> Option<Spanned<String>> {
        let text = self.string(node, place)?;
        if allowed.contains(&text.value.as_str()) {
            return Some(text);
        }
        let list = allowed.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
        let message = format!("`{}` is not a valid value for {place}", text.value);
        let diagnostic =
            Diagnostic::error(codes::INVALID_VALUE, message, text.span).with_label(format!("expected one of {list}"));
        self.push(diagnostic.with_suggestion(&text.value, allowed.iter().copied()));
        None
    }
}

/// A mapping's entries with known keys, after unknown and duplicate keys were reported.
pub(crate) struct Fields<'n> {
    pub span: Span,
    entries: Vec<(Spanned<String>, &'n Node)>,
}

/// Known keys often written in the wrong place, with where they belong.
const MISPLACED: &[(&str, &str)] = &[
    (
        "concurrency",
        "for a step's elements: `loop: {items: \"${list}\", concurrency: 4}`; for the workflow's executions: \
         top-level `concurrency: {limit: 1}`",
    ),
    ("max_attempts", "`max_attempts` belongs inside `retry:`"),
    ("backoff", "`backoff` belongs inside `retry:`"),
    ("initial_delay", "`initial_delay` belongs inside `retry:`"),
    ("cron", "`cron` belongs in a trigger (`triggers: [{type: schedule, cron: \"0 2 * * *\"}]`)"),
    ("with", "a step's action input goes under `input:`"),
    ("params", "a step's action input goes under `input:`"),
    ("depends_on", "write the steps that must finish first under `needs:`"),
];

impl<'n> Fields<'n> {
    /// Reads `node` as a mapping whose keys must be among `known`. `place` names it in messages
    /// (`step `fetch``). `None` (with an error) when `node` is not a mapping.
    pub fn read(cx: &mut Cx<'_>, node: &'n Node, place: &str, known: &[&str]) -> Option<Fields<'n>> {
        let NodeKind::Mapping(pairs) = &node.kind else {
            cx.wrong_type(node, "a mapping", place);
            return None;
        };
        let mut entries: Vec<(Spanned<String>, &'n Node)> = Vec::with_capacity(pairs.len());
        for (key_node, value) in pairs {
            let Some(key) = cx.key_text(key_node) else { continue };
            if let Some((first, _)) = entries.iter().find(|(k, _)| k.value == key.value) {
                cx.push(duplicate_key(&key, first.span, place));
            } else if !known.contains(&key.value.as_str()) {
                cx.push(unknown_key(&key, place, known));
            } else {
                entries.push((key, value));
            }
        }
        Some(Fields { span: node.span, entries })
    }

    /// The value of `key`; a null value (`key:` with nothing after it) counts as absent.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entry(key).map(|(_, v)| v).filter(|v| !is_null(v))
    }

    pub fn entry(&self, key: &str) -> Option<(&Spanned<String>, &'n Node)> {
        self.entries.iter().find(|(k, _)| k.value == key).map(|(k, v)| (k, *v))
    }

    /// The value of a required key; reports it missing (or empty) otherwise.
    pub fn require(&self, cx: &mut Cx<'_>, key: &str, place: &str) -> Option<&'n Node> {
        match self.entry(key) {
            Some((_, value)) if !is_null(value) => Some(value),
            Some((k, _)) => {
                let message = format!("`{key}` of {place} has no value");
                cx.push(Diagnostic::error(codes::MISSING_KEY, message, k.span).with_label("empty here"));
                None
            }
            None => {
                let message = format!("{place} has no `{key}`");
                let at = self.first_key_span().unwrap_or(Span::new(self.span.start as usize, self.span.start as usize));
                cx.push(
                    Diagnostic::error(codes::MISSING_KEY, message, at)
                        .with_label(format!("`{key}` is required here"))
                        .with_hint(format!("add `{key}: ...` to {place}")),
                );
                None
            }
        }
    }

    fn first_key_span(&self) -> Option<Span> {
        self.entries.iter().map(|(k, _)| k.span).min_by_key(|s| s.start)
    }
}

/// Every pair of a free-form mapping (variables, input fields): non-text and duplicate keys reported.
pub(crate) fn free_pairs<'n>(cx: &mut Cx<'_>, node: &'n Node, place: &str) -> Option<Vec<(Spanned<String>, &'n Node)>> {
    let NodeKind::Mapping(pairs) = &node.kind else {
        cx.wrong_type(node, "a mapping", place);
        return None;
    };
    let mut entries: Vec<(Spanned<String>, &'n Node)> = Vec::with_capacity(pairs.len());
    // Free mappings can be large (a file of 8 MiB of variables): find duplicates in constant time.
    let mut seen: HashMap<String, Span> = HashMap::with_capacity(pairs.len());
    for (key_node, value) in pairs {
        let Some(key) = cx.key_text(key_node) else { continue };
        match seen.get(&key.value) {
            Some(&first) => cx.push(duplicate_key(&key, first, place)),
            None => {
                seen.insert(key.value.clone(), key.span);
                entries.push((key, value));
            }
        }
    }
    Some(entries)
}

pub(crate) fn is_null(node: &Node) -> bool {
    matches!(&node.kind, NodeKind::Scalar(s) if scalars::resolve(s) == Resolved::Null)
}

fn duplicate_key(key: &Spanned<String>, first: Span, place: &str) -> Diagnostic {
    Diagnostic::error(codes::DUPLICATE_KEY, format!("duplicate key `{}` in {place}", key.value), key.span)
        .with_label("defined again here")
        .with_secondary(first, "first defined here")
        .with_hint("remove one of them; YAML keys must be unique in a mapping")
}

fn unknown_key(key: &Spanned<String>, place: &str, known: &[&str]) -> Diagnostic {
    let diagnostic = Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown key `{}` in {place}", key.value), key.span)
        .with_label("not a key of this mapping");
    if let Some(hint) = expr_grammar::suggest::hint(&key.value, known.iter().copied()) {
        return diagnostic.with_hint(hint);
    }
    if let Some((_, hint)) = MISPLACED.iter().find(|(name, _)| *name == key.value) {
        return diagnostic.with_hint(*hint);
    }
    let list = known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
    diagnostic.with_hint(format!("known keys: {list}"))
}
