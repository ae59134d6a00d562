//! The text renderer: exact output for the shapes a diagnostic can take.

use compiler::Diagnostic;
use compiler::render::{LineIndex, Position, RenderOptions, render_file, summary};
use expr_grammar::Span;

fn span_of(source: &str, needle: &str) -> Span {
    let start = source.find(needle).expect("needle in source");
    Span::new(start, start + needle.len())
}

#[test]
fn the_caret_lands_under_the_name_inside_a_template() {
    let source = "steps:\n  - id: copy\n    input:\n      items: \"${list_file.files}\"\n";
    let diagnostic = Diagnostic::error("E0205", "unknown step `list_file`", span_of(source, "list_file"))
        .with_label("no step or output named `list_file`")
        .with_hint("did you mean `list_files`?");
    let rendered = render_file("workflows/backup.yaml", source, &[diagnostic], RenderOptions::default());
    assert_eq!(
        rendered,
        "error[E0205]: unknown step `list_file`
 --> workflows/backup.yaml:4:17
  |
4 |       items: \"${list_file.files}\"
  |                 ^^^^^^^^^ no step or output named `list_file`
  |
  = help: did you mean `list_files`?

"
    );
}

#[test]
fn tabs_are_shown_as_four_spaces_and_the_carets_follow() {
    let source = "a:\t\"${x}\"\n";
    let diagnostic = Diagnostic::error("E0206", "unknown name `x`", Span::new(6, 7));
    let rendered = render_file("t.yaml", source, &[diagnostic], RenderOptions::default());
    assert!(rendered.contains("1 | a:    \"${x}\"\n  |          ^\n"), "{rendered}");
    assert!(rendered.contains("--> t.yaml:1:7"), "{rendered}");
}

#[test]
fn carets_after_wide_characters_follow_their_display_width() {
    // Each of 日本 and 🎉 takes two columns on screen; the combining accent of é takes none.
    let source = "m: \"日本 🎉 e\u{301} ${x}\"\n";
    let x = span_of(source, "x}");
    let diagnostic = Diagnostic::error("E0206", "unknown name `x`", Span::new(x.start as usize, x.start as usize + 1));
    let rendered = render_file("w.yaml", source, &[diagnostic], RenderOptions::default());
    let lines: Vec<&str> = rendered.lines().collect();
    assert_eq!(lines[1], " --> w.yaml:1:15", "the column counts characters");
    let text = lines[3].strip_prefix("1 | ").expect("source line");
    let carets = lines[4].strip_prefix("  | ").expect("caret line");
    let before: usize = text.split("${").next().map(unicode_width::UnicodeWidthStr::width).expect("text");
    assert_eq!(before, 14);
    assert_eq!(carets, format!("{}^", " ".repeat(before + 2)));
}

#[test]
fn a_secondary_label_on_the_same_line_gets_its_own_underline() {
    let source = "{a: 1, a: 2}\n";
    let diagnostic = Diagnostic::error("E0104", "duplicate key `a`", Span::new(7, 8))
        .with_label("again")
        .with_secondary(Span::new(1, 2), "first");
    let rendered = render_file("d.yaml", source, &[diagnostic], RenderOptions::default());
    assert!(rendered.contains("1 | {a: 1, a: 2}\n  |        ^ again\n  |  - first\n"), "{rendered}");
}

#[test]
fn an_empty_span_at_the_end_of_a_line_gets_one_caret_after_the_text() {
    let source = "name: x\nsteps:\n";
    let diagnostic = Diagnostic::error("E0102", "missing", Span::new(7, 7)).with_label("here");
    let rendered = render_file("e.yaml", source, &[diagnostic], RenderOptions::default());
    assert!(rendered.contains("1 | name: x\n  |        ^ here\n"), "{rendered}");
}

#[test]
fn color_is_off_unless_asked_for() {
    let source = "a: 1\n";
    let diagnostic = Diagnostic::warning("W0101", "w", Span::new(0, 1));
    let plain = render_file("c.yaml", source, std::slice::from_ref(&diagnostic), RenderOptions::default());
    assert!(!plain.contains('\x1b'));
    let colored = render_file("c.yaml", source, &[diagnostic], RenderOptions { color: true });
    assert!(colored.contains("\x1b[1;33mwarning[W0101]"), "{colored:?}");
}

#[test]
fn positions_count_characters_from_one() {
    let index = LineIndex::new("é: x\nab\tc\n");
    assert_eq!(index.position(0), Position { line: 1, column: 1 });
    assert_eq!(index.position(2), Position { line: 1, column: 2 });
    assert_eq!(index.position(9), Position { line: 2, column: 4 });
    assert_eq!(index.position(1_000), Position { line: 3, column: 1 });
}

#[test]
fn the_summary_line_counts_in_plain_words() {
    assert_eq!(summary(1, 0, 0), "checked 1 file: no problems");
    assert_eq!(summary(3, 2, 1), "checked 3 files: 2 errors, 1 warning");
    assert_eq!(summary(2, 0, 2), "checked 2 files: 2 warnings");
    assert_eq!(summary(0, 1, 0), "checked 0 files: 1 error");
}

#[test]
fn lone_carriage_returns_end_lines_as_yaml_reads_them() {
    // Line breaks of old Mac files: `\r` alone. YAML counts each as a line break, and so do positions.
    let source = "name: x\rsteps:\r  - id: a\r    action: log\r    input:\r      message: \"${y}\"\r";
    let index = LineIndex::new(source);
    assert_eq!(index.position(source.find("${y}").unwrap() + 2), Position { line: 6, column: 19 });
    assert_eq!(index.line_text(6), "      message: \"${y}\"");
    // Mixed with `\r\n` and `\n`, each break counts once.
    let mixed = "a\r\nb\rc\nd";
    let index = LineIndex::new(mixed);
    let lines: Vec<(usize, &str)> = (1..=4).map(|line| (line, index.line_text(line))).collect();
    assert_eq!(lines, [(1, "a"), (2, "b"), (3, "c"), (4, "d")]);
    assert_eq!(index.position(mixed.len() - 1), Position { line: 4, column: 1 });
}
