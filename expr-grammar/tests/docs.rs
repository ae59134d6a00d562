//! `docs/expressions.md` lists every library function from `function_docs()`: this test fails when the file is
//! stale and rewrites the generated section when run with `UPDATE_DOCS=1`.

use expr_grammar::function_docs;
use std::fmt::Write as _;

const START: &str = "<!-- functions:start";
const END: &str = "<!-- functions:end -->";

fn title(group: &str) -> String {
    let mut chars = group.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

/// The generated part: one heading per group, one entry per function.
fn render_functions() -> String {
    let mut out = String::new();
    let mut group = String::new();
    for doc in function_docs() {
        if doc.group != group {
            group = doc.group.clone();
            let gap = if out.is_empty() { "\n\n" } else { "\n" };
            let _ = write!(out, "{gap}### {}\n\n", title(&group));
        }
        let _ = writeln!(out, "- **`{}`**  ", doc.signature);
        let _ = write!(out, "  {}  \n  Example: `{}`", doc.description, doc.example);
        if !doc.example_result.is_empty() {
            let _ = write!(out, " gives `{}`", doc.example_result);
        }
        out.push('\n');
    }
    out.push('\n');
    out
}

#[test]
fn docs_expressions_md_lists_every_function() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/expressions.md");
    let text = std::fs::read_to_string(&path).expect("read docs/expressions.md");
    let start = text.find(START).expect("docs/expressions.md has the functions:start marker");
    let start = start + text[start..].find("-->").expect("the start marker is closed") + 3;
    let end = text.find(END).expect("docs/expressions.md has the functions:end marker");
    let expected = format!("{}{}{}", &text[..start], render_functions(), &text[end..]);
    if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected).expect("write docs/expressions.md");
        return;
    }
    assert!(
        text == expected,
        "docs/expressions.md is stale: run `UPDATE_DOCS=1 cargo test -p expr-grammar --test docs` to regenerate it"
    );
}
