//! Diagnostics as text, the way rustc shows them, and as JSON.
//!
//! ```text
//! error[E0206]: unknown name `list_file`
//!   --> workflows/backup.yaml:17:17
//!    |
//! 17 |       items: "${list_file.files}"
//!    |                 ^^^^^^^^^
//!    |
//!    = help: did you mean `list_files`?
//! ```
//!
//! Lines and columns are 1-based; a column counts characters (not bytes) from the start of the line, a tab
//! counting as one character. In the snippet a tab is shown as four spaces and the carets follow; the carets are
//! placed by display width (a CJK character or an emoji takes two columns, see `unicode-width`). Output is
//! deterministic: colour only when asked for ([`RenderOptions::color`]).
//!
//! Why our own renderer rather than annotate-snippets, codespan-reporting or miette: a workflow file may hold an
//! 8 MiB line or binary junk, and `pilot check` must still answer at once; this one lays out only a window of a
//! long line around the marks, leaves out lines with control characters, caps the diagnostics shown per file,
//! and its exact output is pinned by the golden files in `compiler/tests/data/`.

use expr_grammar::Span;
use unicode_width::UnicodeWidthStr;

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
    /// Columns are byte distances in ASCII text: no need to count characters.
    ascii: bool,
}

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl<'s> LineIndex<'s> {
    /// Lines end as YAML ends them: at `\n`, `\r\n`, or a lone `\r`.
    pub fn new(source: &'s str) -> LineIndex<'s> {
        let bytes = source.as_bytes();
        let breaks = bytes.iter().enumerate().filter_map(|(i, &b)| match b {
            b'\n' => Some(i + 1),
            b'\r' if bytes.get(i + 1) != Some(&b'\n') => Some(i + 1),
            _ => None,
        });
        let starts = std::iter::once(0).chain(breaks).collect();
        LineIndex { source, starts, ascii: source.is_ascii() }
    }

    /// The line and column of byte `offset` (clamped to the text; inside a character: that character).
    pub fn position(&self, offset: usize) -> Position {
        let offset = floor_char_boundary(self.source, offset.min(self.source.len()));
        let line = self.line_of(offset);
        let start = self.starts[line - 1];
        let column = if self.ascii { offset - start } else { self.source[start..offset].chars().count() } + 1;
        Position { line, column }
    }

    /// The 1-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset).max(1)
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

/// At most this many diagnostics of one file are shown, as text and as JSON (the first ones by position); a
/// note (N0001) counts the rest. A file with a million mistakes is not worth a million messages.
pub const MAX_SHOWN_PER_FILE: usize = 200;

/// The diagnostics of one file (at most [`MAX_SHOWN_PER_FILE`]), each followed by a blank line, then the note
/// counting those left out.
pub fn render_file(file: &str, source: &str, diagnostics: &[Diagnostic], options: RenderOptions) -> String {
    let index = LineIndex::new(source);
    let mut out = String::new();
    for diagnostic in diagnostics.iter().take(MAX_SHOWN_PER_FILE) {
        out.push_str(&render_diagnostic(file, &index, diagnostic, options));
        out.push('\n');
    }
    if let Some(note) = left_out_note(file, diagnostics.len()) {
        out.push_str(&format!("note[{}]: {note}\n\n", codes::PROBLEMS_LEFT_OUT));
    }
    out
}

/// `1234 more problems in FILE not shown ...`, when there are more than [`MAX_SHOWN_PER_FILE`].
fn left_out_note(file: &str, count: usize) -> Option<String> {
    let rest = count.checked_sub(MAX_SHOWN_PER_FILE).filter(|&rest| rest > 0)?;
    Some(format!("{rest} more problems in {file} not shown; at most {MAX_SHOWN_PER_FILE} are listed per file"))
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
        Severity::Note => ("note", BLUE),
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
    /// Where the underline starts and how long it is: a byte range in the line, then (after layout) display
    /// columns.
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
        let (line, start, end) = mark_place(index, label.span);
        let mark = Mark { column: start, width: end - start, primary: *primary, message: label.message.clone() };
        match lines.iter_mut().find(|l| l.line == line) {
            Some(existing) => existing.marks.push(mark),
            None => lines.push(SnippetLine { line, text: String::new(), marks: vec![mark] }),
        }
    }
    lines.sort_by_key(|l| l.line);
    for line in &mut lines {
        layout_line(index.line_text(line.line), line);
    }
    // Binary junk is not worth showing: a line with control characters (other than tab) is left out.
    lines.retain(|l| !l.text.chars().any(|c| c.is_control() && c != '\t'));
    lines
}

/// Line and byte range inside that line of a span's first line.
fn mark_place(index: &LineIndex<'_>, span: Span) -> (usize, usize, usize) {
    let start = floor_char_boundary(index.source, (span.start as usize).min(index.source.len()));
    let line = index.line_of(start);
    let line_start = index.line_start(line);
    let text = index.line_text(line);
    let begin = floor_char_boundary(text, (start - line_start).min(text.len()));
    let end = floor_char_boundary(text, (span.end as usize).saturating_sub(line_start).clamp(begin, text.len()));
    (line, begin, end)
}

/// Characters shown before the first mark when a long line is cut.
const CONTEXT_BEFORE: usize = 40;

/// Cuts long lines around the marks, expands tabs, and turns the marks' byte ranges into display columns.
/// Works on a window of the line, so a megabyte-long line costs no more than a short one.
fn layout_line(raw: &str, line: &mut SnippetLine) {
    let first = line.marks.iter().map(|m| m.column).min().unwrap_or(0);
    let last = line.marks.iter().map(|m| m.column + m.width).max().unwrap_or(0);
    let short = raw.len() <= MAX_SHOWN_LINE || raw.chars().take(MAX_SHOWN_LINE + 1).count() <= MAX_SHOWN_LINE;
    let (from, to) = if short {
        (0, raw.len())
    } else {
        let from = raw[..first].char_indices().rev().nth(CONTEXT_BEFORE - 1).map_or(0, |(i, _)| i);
        let shown_end = raw[from..].char_indices().nth(MAX_SHOWN_LINE).map_or(raw.len(), |(i, _)| from + i);
        let last_end = raw[last..].char_indices().nth(1).map_or(raw.len(), |(i, _)| last + i);
        (from, shown_end.max(last_end.min(from + 4 * MAX_SHOWN_LINE)).min(raw.len()))
    };
    let to = floor_char_boundary(raw, to);
    let mut text = String::from(if from > 0 { "..." } else { "" });
    let mut boundaries: Vec<(usize, usize)> = Vec::new(); // (byte in line, display column)
    for (i, c) in raw[from..to].char_indices() {
        boundaries.push((from + i, text.len()));
        if c == '\t' { text.push_str("    ") } else { text.push(c) }
    }
    // Columns on screen: a CJK character or an emoji takes two, a combining mark none.
    let text_end = text.width();
    let display_at = |byte: usize| -> usize {
        match boundaries.binary_search_by_key(&byte, |&(b, _)| b) {
            Ok(i) => text[..boundaries[i].1].width(),
            Err(i) if i < boundaries.len() => text[..boundaries[i].1].width(),
            Err(_) => text_end,
        }
    };
    for mark in &mut line.marks {
        let start = display_at(mark.column);
        let end = display_at(mark.column + mark.width).max(start + 1);
        mark.column = start;
        mark.width = end - start;
    }
    if to < raw.len() {
        text.push_str("...");
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

/// The diagnostics of one file as JSON: at most [`MAX_SHOWN_PER_FILE`], then, when some are left out, a last
/// entry of severity `note` and code `N0001` whose message counts them (at line 1, column 1).
pub fn to_json(file: &str, source: &str, diagnostics: &[Diagnostic]) -> Vec<JsonDiagnostic> {
    let index = LineIndex::new(source);
    let mut shown: Vec<JsonDiagnostic> = diagnostics
        .iter()
        .take(MAX_SHOWN_PER_FILE)
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
        .collect();
    if let Some(message) = left_out_note(file, diagnostics.len()) {
        shown.push(JsonDiagnostic {
            file: file.to_string(),
            line: 1,
            column: 1,
            end_line: 1,
            end_column: 1,
            severity: Severity::Note,
            code: codes::PROBLEMS_LEFT_OUT.to_string(),
            message,
            hint: Some("fix these first, then check again".to_string()),
        });
    }
    shown
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
