//! YAML events to a small node tree with byte spans, guarding against hostile input: nesting depth, alias
//! expansion, several documents, custom tags. Duplicate keys are kept (the converter reports them with both
//! places); saphyr's own loader would stop at the first.

use std::collections::HashMap;

use expr_grammar::Span;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Tag};

use crate::codes;
use crate::diagnostic::Diagnostic;

/// Lists and mappings nest at most this deep.
pub const MAX_DEPTH: usize = 64;

/// Aliases may copy at most this many nodes in total (billion-laughs guard).
pub const MAX_ALIAS_NODES: usize = 10_000;

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: NodeKind,
    /// The whole node; for quoted scalars the quotes included.
    pub span: Span,
}

#[derive(Debug, Clone)]
pub(crate) enum NodeKind {
    Scalar(ScalarNode),
    Sequence(Vec<Node>),
    Mapping(Vec<(Node, Node)>),
}

#[derive(Debug, Clone)]
pub(crate) struct ScalarNode {
    pub value: String,
    pub style: ScalarStyle,
    /// The core-schema tag suffix (`str`, `int`, ...), when the scalar had one.
    pub core_tag: Option<String>,
}

impl Node {
    /// A short name of the node's YAML type for messages: "a mapping", "a list", "text", "a number", ...
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Sequence(_) => "a list",
            NodeKind::Mapping(_) => "a mapping",
            NodeKind::Scalar(scalar) => match super::scalars::resolve(scalar) {
                super::scalars::Resolved::Null => "null",
                super::scalars::Resolved::Bool(_) => "a boolean",
                super::scalars::Resolved::Int(_) | super::scalars::Resolved::Float(_) => "a number",
                super::scalars::Resolved::String => "text",
            },
        }
    }

    /// (number of nodes, nesting depth) of the subtree.
    fn measure(&self) -> (usize, usize) {
        let children: Box<dyn Iterator<Item = &Node>> = match &self.kind {
            NodeKind::Scalar(_) => return (1, 0),
            NodeKind::Sequence(items) => Box::new(items.iter()),
            NodeKind::Mapping(entries) => Box::new(entries.iter().flat_map(|(k, v)| [k, v])),
        };
        children.map(Node::measure).fold((1, 1), |(count, depth), (c, d)| (count + c, depth.max(d + 1)))
    }
}

/// Saphyr's markers count characters; diagnostics and the model use byte offsets.
pub(crate) struct Positions {
    /// `byte_of_char[i]` is the byte offset of character `i`; empty when the source is ASCII (identity).
    byte_of_char: Vec<u32>,
    len: usize,
}

impl Positions {
    pub fn new(source: &str) -> Positions {
        let byte_of_char = if source.is_ascii() {
            Vec::new()
        } else {
            source.char_indices().map(|(byte, _)| byte as u32).chain(std::iter::once(source.len() as u32)).collect()
        };
        Positions { byte_of_char, len: source.len() }
    }

    pub fn byte(&self, char_index: usize) -> usize {
        if self.byte_of_char.is_empty() {
            char_index.min(self.len)
        } else {
            self.byte_of_char.get(char_index).map_or(self.len, |&b| b as usize)
        }
    }

    fn span(&self, span: saphyr_parser::Span) -> Span {
        Span::new(self.byte(span.start.index()), self.byte(span.end.index()))
    }
}

/// Result of reading the YAML: the first document's root (if any) and what went wrong.
pub(crate) struct Document {
    pub root: Option<Node>,
    pub diagnostics: Vec<Diagnostic>,
}

enum Frame {
    Sequence { start: usize, anchor: usize, items: Vec<Node> },
    Mapping { start: usize, anchor: usize, entries: Vec<(Node, Node)>, key: Option<Node> },
}

struct Builder<'s> {
    source: &'s str,
    positions: Positions,
    stack: Vec<Frame>,
    /// Anchored nodes with their (node count, depth).
    anchors: HashMap<usize, (Node, usize, usize)>,
    alias_budget: usize,
    root: Option<Node>,
    documents: usize,
    diagnostics: Vec<Diagnostic>,
}

/// What to do after an event.
enum Flow {
    Continue,
    Stop,
}

pub(crate) fn read_document(source: &str) -> Document {
    let mut builder = Builder {
        source,
        positions: Positions::new(source),
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_budget: MAX_ALIAS_NODES,
        root: None,
        documents: 0,
        diagnostics: Vec::new(),
    };
    for event in Parser::new_from_str(source) {
        let flow = match event {
            Ok((event, span)) => builder.event(event, builder.positions.span(span)),
            Err(error) => {
                builder.scan_error(&error);
                Flow::Stop
            }
        };
        if let Flow::Stop = flow {
            break;
        }
    }
    if builder.documents == 0 && builder.diagnostics.is_empty() {
        builder.diagnostics.push(
            Diagnostic::error(codes::EMPTY_FILE, "the file holds no YAML document", Span::new(0, 0))
                .with_hint("a workflow needs at least `name` and `steps`"),
        );
    }
    // An unfinished tree (after an error) is dropped: only complete documents are converted.
    let root = if builder.stack.is_empty() { builder.root } else { None };
    Document { root, diagnostics: builder.diagnostics }
}

impl Builder<'_> {
    fn event(&mut self, event: Event<'_>, span: Span) -> Flow {
        match event {
            Event::DocumentStart(_) => self.document_start(span),
            Event::Scalar(value, style, anchor, tag) => {
                self.check_tag(tag.as_deref(), span);
                let core_tag = tag.filter(|t| t.is_yaml_core_schema()).map(|t| t.suffix.clone());
                let scalar = ScalarNode { value: value.into_owned(), style, core_tag };
                self.finish_node(Node { kind: NodeKind::Scalar(scalar), span }, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                self.check_tag(tag.as_deref(), span);
                self.open(Frame::Sequence { start: span.start as usize, anchor, items: Vec::new() }, span)
            }
            Event::MappingStart(anchor, tag) => {
                self.check_tag(tag.as_deref(), span);
                self.open(Frame::Mapping { start: span.start as usize, anchor, entries: Vec::new(), key: None }, span)
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span),
            Event::Alias(id) => self.alias(id, span),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => Flow::Continue,
        }
    }

    fn document_start(&mut self, span: Span) -> Flow {
        self.documents += 1;
        if self.documents == 1 {
            return Flow::Continue;
        }
        let at = self.next_content_span(span);
        self.diagnostics.push(
            Diagnostic::error(codes::MULTIPLE_DOCUMENTS, "the file holds more than one YAML document", at)
                .with_label("a second document starts here")
                .with_hint("put each workflow in its own file; only the first document was read"),
        );
        Flow::Stop
    }

    /// An implicit document start has an empty span; point at the next non-blank character instead.
    fn next_content_span(&self, span: Span) -> Span {
        if span.start != span.end {
            return span;
        }
        let start = span.start as usize;
        let rest = self.source.get(start..).unwrap_or("");
        let offset = rest.find(|c: char| !c.is_whitespace()).map_or(start, |i| start + i);
        let len = rest.get(offset - start..).and_then(|r| r.chars().next()).map_or(0, char::len_utf8);
        Span::new(offset, offset + len)
    }

    fn check_tag(&mut self, tag: Option<&Tag>, span: Span) {
        let Some(tag) = tag else { return };
        let known = ["str", "int", "float", "bool", "null", "seq", "map"];
        if tag.is_yaml_core_schema() && known.contains(&tag.suffix.as_str()) {
            return;
        }
        self.diagnostics.push(
            Diagnostic::error(codes::UNSUPPORTED_TAG, format!("unsupported YAML tag `{tag}`"), span)
                .with_label("custom tags are not read")
                .with_hint(
                    "use a `${...}` template instead; only the YAML core tags (`!!str`, `!!int`, ...) are accepted",
                ),
        );
    }

    fn open(&mut self, frame: Frame, span: Span) -> Flow {
        if self.stack.len() >= MAX_DEPTH {
            self.diagnostics.push(self.too_deep(span));
            return Flow::Stop;
        }
        self.stack.push(frame);
        Flow::Continue
    }

    fn too_deep(&self, span: Span) -> Diagnostic {
        let start = span.start as usize;
        let len = self.source.get(start..).and_then(|rest| rest.chars().next()).map_or(0, char::len_utf8);
        Diagnostic::error(
            codes::YAML_TOO_DEEP,
            format!("lists and mappings nest more than {MAX_DEPTH} levels deep"),
            Span::new(start, start + len),
        )
        .with_label("this level is too deep")
        .with_hint("flatten the structure; deep data belongs in a separate JSON file read with `fs/read`")
    }

    fn close(&mut self, span: Span) -> Flow {
        let Some(frame) = self.stack.pop() else { return Flow::Continue };
        let (kind, start, anchor) = match frame {
            Frame::Sequence { start, anchor, items } => (NodeKind::Sequence(items), start, anchor),
            Frame::Mapping { start, anchor, entries, .. } => (NodeKind::Mapping(entries), start, anchor),
        };
        // A block collection's end event sits at the next token: end at the last child instead.
        let end = if span.start != span.end { span.end as usize } else { last_child_end(&kind).unwrap_or(start) };
        self.finish_node(Node { kind, span: Span::new(start, end.max(start)) }, anchor)
    }

    fn alias(&mut self, id: usize, span: Span) -> Flow {
        let Some((node, count, depth)) = self.anchors.get(&id) else {
            self.diagnostics.push(Diagnostic::error(codes::YAML_SYNTAX, "alias of an unknown anchor", span));
            return Flow::Stop;
        };
        if *count > self.alias_budget {
            self.diagnostics.push(
                Diagnostic::error(
                    codes::ALIAS_EXPANSION,
                    format!("aliases expand to more than {MAX_ALIAS_NODES} nodes"),
                    span,
                )
                .with_label("expanding this alias goes over the limit")
                .with_hint("write the values out instead of nesting aliases of aliases"),
            );
            return Flow::Stop;
        }
        if self.stack.len() + depth > MAX_DEPTH {
            self.diagnostics.push(self.too_deep(span));
            return Flow::Stop;
        }
        self.alias_budget -= count;
        let node = node.clone();
        self.finish_node(node, 0)
    }

    /// Registers the node's anchor and hands the node to its parent (or makes it the document root).
    fn finish_node(&mut self, node: Node, anchor: usize) -> Flow {
        if anchor != 0 {
            let (count, depth) = node.measure();
            self.anchors.insert(anchor, (node.clone(), count, depth));
        }
        match self.stack.last_mut() {
            Some(Frame::Sequence { items, .. }) => items.push(node),
            Some(Frame::Mapping { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => self.root = Some(node),
        }
        Flow::Continue
    }

    fn scan_error(&mut self, error: &ScanError) {
        let start = self.positions.byte(error.marker().index());
        // saphyr stops flow collections at 255 levels before our limit sees them: the same problem.
        if error.info().contains("recursion limit") {
            self.diagnostics.push(self.too_deep(Span::new(start, start)));
            return;
        }
        let len = self.source.get(start..).and_then(|rest| rest.chars().next()).map_or(0, char::len_utf8);
        let info = error.info();
        let (message, hint) = describe_scan_error(info);
        let mut diagnostic =
            Diagnostic::error(codes::YAML_SYNTAX, message, Span::new(start, start + len)).with_label(info.to_string());
        if let Some(hint) = hint {
            diagnostic = diagnostic.with_hint(hint);
        }
        self.diagnostics.push(diagnostic);
    }
}

fn last_child_end(kind: &NodeKind) -> Option<usize> {
    match kind {
        NodeKind::Sequence(items) => items.last().map(|n| n.span.end as usize),
        NodeKind::Mapping(entries) => entries.last().map(|(_, v)| v.span.end as usize),
        NodeKind::Scalar(_) => None,
    }
}

/// A headline for saphyr's error text, and a hint for the common mistakes.
fn describe_scan_error(info: &str) -> (String, Option<&'static str>) {
    let hint = if info.contains("tab") {
        Some("YAML indentation uses spaces only; replace the tabs with spaces")
    } else if info.contains("mapping values are not allowed") {
        Some("a value containing `: ` must be quoted, or a key is indented wrongly")
    } else if info.contains("did not find expected key") || info.contains("expected key") {
        Some("check the indentation: keys of one mapping must line up")
    } else if info.contains("quoted scalar") {
        Some("a quoted value must end with the same quote on its line (or continue on a more indented line)")
    } else if info.contains("unclosed") || info.contains("end of stream") || info.contains("unexpected end") {
        Some("a quote or bracket opened here is never closed")
    } else {
        None
    };
    (format!("invalid YAML: {info}"), hint)
}
