//! Diagnostics as text, the way rustc shows them, and as JSON.
//!
//! ```text
//! error[E0203]: unknown step `list_file`
//!   --> workflows/backup.yaml:17:15
//!    |
//! 17 |       items: "${list_file.files}"
//!    |                 ^^^^^^^^^ no step or output named `list_file`
//!    |
//!    = help: did you mean `list_files`?
//! ```
//!
//! Lines and columns are 1-based; a column counts characters (not bytes) from the start of the line, a tab
//! counting as one character. In the snippet a tab is shown as four spaces and the carets follow. Output is
//! deterministic: colour only when asked for ([`RenderOptions::color`]).

use expr_grammar::Span;

use crate::codes;
use crate::diagnostic::{Diagnostic, Label, Severity};

#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// ANSI colours (for a terminal). Off in tests and when output is not a TTY.
    pub color: bool,
}

/// Line starts of a text, to turn byte offsets into line and column.
pub struct LineIndex<'s> {
    source: &'s str,
    starts: Vec<usize>,
}

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl<'s> LineIndex<'s> {
    pub fn new(source: &'s str) -> LineIndex<'s> {
        let starts = std::iter::once(0).chain(source.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { source, starts }
    }

    /// The line and column of byte `offset` (clamped to the text; inside a character: that character).
    pub fn position(&self, offset: usize) -> Position {
        let offset = floor_char_boundary(self.source, offset.min(self.source.len()));
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self.source[start..offset].chars().count() + 1;
        Position { line, column }
    }

    /// The text of 1-based `line`, without its line break.
    pub fn line_text(&self, line: usize) -> &'s str {
        let Some(&start) = self.starts.get(line.wrapping_sub(1)) else { return "" };
        let end = self.starts.get(line).map_or(self.source.len(), |&next| next - 1);
        let text = &self.source[start..end.max(start)];
        text.strip_suffix('\r').unwrap_or(text)
    }

    fn line_start(&self, line: usize) -> usize {
        self.starts.get(line.wrapping_sub(1)).copied().unwrap_or(self.source.len())
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Every diagnostic of one file, each followed by a blank line.
pub fn render_file(file: &str, source: &str, diagnostics: &[Diagnostic], options: RenderOptions) -> String {
    let index = LineIndex::new(source);
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&render_diagnostic(file, &index, diagnostic, options));
        out.push('\n');
    }
    out
}

/// One diagnostic: header, location, snippet with labels, hint.
pub fn render_diagnostic(file: &str, index: &LineIndex<'_>, diagnostic: &Diagnostic, options: RenderOptions) -> String {
    let paint = Paint { on: options.color };
    let start = index.position(diagnostic.primary.span.start as usize);
    let mut labels: Vec<(&Label, bool)> = vec![(&diagnostic.primary, true)];
    labels.extend(diagnostic.secondary.iter().map(|label| (label, false)));
    // About the whole file: no line is worth showing.
    let whole_file = [codes::FILE_TOO_LARGE, codes::EMPTY_FILE].contains(&diagnostic.code);
    let lines = if whole_file { Vec::new() } else { snippet_lines(index, &labels) };
    let width = lines.iter().map(|l| l.line).max().unwrap_or(start.line).to_string().len();
    let pad = " ".repeat(width);

    let mut out = String::new();
    let (severity, style) = match diagnostic.severity {
        Severity::Error => ("error", RED),
        Severity::Warning => ("warning", YELLOW),
    };
    let header = format!("{severity}[{}]", diagnostic.code);
    out.push_str(&format!(
        "{}{}\n",
        paint.wrap(&header, style),
        paint.wrap(&format!(": {}", diagnostic.message), BOLD)
    ));
    out.push_str(&format!("{pad}{} {file}:{}:{}\n", paint.wrap("-->", BLUE), start.line, start.column));
    let bar = paint.wrap("|", BLUE);
    if !lines.is_empty() {
        out.push_str(&format!("{pad} {bar}\n"));
        let mut previous: Option<usize> = None;
        for line in &lines {
            if previous.is_some_and(|p| line.line > p + 1) {
                out.push_str(&format!("{}\n", paint.wrap("...", BLUE)));
            }
            previous = Some(line.line);
            let number = format!("{:>width$}", line.line);
            out.push_str(format!("{} {bar} {}", paint.wrap(&number, BLUE), line.text).trim_end());
            out.push('\n');
            for mark in &line.marks {
                let (glyph, style) = if mark.primary { ('^', style) } else { ('-', BLUE) };
                let underline = format!("{}{}", glyph.to_string().repeat(mark.width), label_text(&mark.message));
                let text = format!("{pad} {bar} {}{}", " ".repeat(mark.column), paint.wrap(&underline, style));
                out.push_str(text.trim_end());
                out.push('\n');
            }
        }
    }
    if let Some(hint) = &diagnostic.hint {
        out.push_str(&format!("{pad} {bar}\n"));
        out.push_str(&format!("{pad} {} {}\n", paint.wrap("=", BLUE), paint.wrap(&format!("help: {hint}"), BOLD)));
    }
    out
}

fn label_text(message: &str) -> String {
    if message.is_empty() { String::new() } else { format!(" {message}") }
}

/// A source line to show, with the underlines under it.
struct SnippetLine {
    line: usize,
    /// The displayed text (tabs expanded, long lines cut around the marks).
    text: String,
    marks: Vec<Mark>,
}

struct Mark {
    /// Display column (0-based) where the underline starts.
    column: usize,
    width: usize,
    primary: bool,
    message: String,
}

/// Lines longer than this (in characters) are cut around the underlined part.
const MAX_SHOWN_LINE: usize = 120;

fn snippet_lines(index: &LineIndex<'_>, labels: &[(&Label, bool)]) -> Vec<SnippetLine> {
    let mut lines: Vec<SnippetLine> = Vec::new();
    for (label, primary) in labels {
        let Some((line, column, width)) = mark_place(index, label.span) else { continue };
        let mark = Mark { column, width, primary: *primary, message: label.message.clone() };
        match lines.iter_mut().find(|l| l.line == line) {
            Some(existing) => existing.marks.push(mark),
            None => lines.push(SnippetLine { line, text: String::new(), marks: vec![mark] }),
        }
    }
    lines.sort_by_key(|l| l.line);
    lines.retain(|l| is_showable(index.line_text(l.line)));
    for line in &mut lines {
        layout_line(index.line_text(line.line), line);
    }
    lines
}

/// Binary junk is not worth showing: a line with control characters (other than tab) is left out.
fn is_showable(text: &str) -> bool {
    !text.chars().any(|c| c.is_control() && c != '\t')
}

/// Line, 0-based character column and width in characters of a span's first line (at least one).
fn mark_place(index: &LineIndex<'_>, span: Span) -> Option<(usize, usize, usize)> {
    let start = index.position(span.start as usize);
    let line_text = index.line_text(start.line);
    let line_start = index.line_start(start.line);
    let end_in_line = (span.end as usize).clamp(span.start as usize, line_start + line_text.len());
    let end_in_line = floor_char_boundary(index.source, end_in_line.min(index.source.len()));
    let begin = floor_char_boundary(index.source, (span.start as usize).min(index.source.len()));
    let width = index.source.get(begin..end_in_line).map_or(0, |s| s.chars().count());
    Some((start.line, start.column - 1, width.max(1)))
}

/// Expands tabs, cuts long lines around the marks, and turns character columns into display columns.
fn layout_line(raw: &str, line: &mut SnippetLine) {
    let chars: Vec<char> = raw.chars().collect();
    let first = line.marks.iter().map(|m| m.column).min().unwrap_or(0);
    let last = line.marks.iter().map(|m| m.column + m.width).max().unwrap_or(0);
    let (from, to) = if chars.len() <= MAX_SHOWN_LINE {
        (0, chars.len())
    } else {
        let from = first.saturating_sub(40).min(chars.len());
        let to = (from + MAX_SHOWN_LINE).max(last.min(chars.len())).min(chars.len());
        (from, to)
    };
    let mut text = String::from(if from > 0 { "..." } else { "" });
    let mut display_of = Vec::with_capacity(chars.len() + 1);
    let mut display = text.len();
    for (i, &c) in chars.iter().enumerate() {
        display_of.push(display);
        if i < from || i >= to {
            continue;
        }
        if c == '\t' {
            text.push_str("    ");
            display += 4;
        } else {
            text.push(c);
            display += 1;
        }
    }
    display_of.push(display);
    if to < chars.len() {
        text.push_str("...");
    }
    for mark in &mut line.marks {
        let start = display_of.get(mark.column).copied().unwrap_or(display);
        let end = display_of.get(mark.column + mark.width).copied().unwrap_or(display).max(start + 1);
        mark.column = start;
        mark.width = end - start;
    }
    line.text = text;
}

const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const BOLD: &str = "\x1b[1m";

struct Paint {
    on: bool,
}

impl Paint {
    fn wrap(&self, text: &str, style: &str) -> String {
        if self.on { format!("{style}{text}\x1b[0m") } else { text.to_string() }
    }
}

/// One diagnostic in `--format json`. Lines and columns are 1-based; columns count characters;
/// `end_line`/`end_column` is the position just after the span's last character.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JsonDiagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub severity: Severity,
    pub code: String,
    pub message: String,
    pub hint: Option<String>,
}

pub fn to_json(file: &str, source: &str, diagnostics: &[Diagnostic]) -> Vec<JsonDiagnostic> {
    let index = LineIndex::new(source);
    diagnostics
        .iter()
        .map(|d| {
            let start = index.position(d.primary.span.start as usize);
            let end = index.position(d.primary.span.end as usize);
            JsonDiagnostic {
                file: file.to_string(),
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                severity: d.severity,
                code: d.code.to_string(),
                message: d.message.clone(),
                hint: d.hint.clone(),
            }
        })
        .collect()
}

/// `checked 3 files: 2 errors, 1 warning` (or `: no problems`).
pub fn summary(files: usize, errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") };
    let problems = match (errors, warnings) {
        (0, 0) => "no problems".to_string(),
        (e, 0) => plural(e, "error"),
        (0, w) => plural(w, "warning"),
        (e, w) => format!("{}, {}", plural(e, "error"), plural(w, "warning")),
    };
    format!("checked {}: {problems}", plural(files, "file"))
}
