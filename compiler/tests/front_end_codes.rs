//! The diagnostic code registry: every code is unique, grouped by range, explained with a wrong and a right
//! example, and every code the compiler's sources mention is registered.

use std::path::Path;

use compiler::codes::{REGISTRY, lookup};

#[test]
fn codes_are_unique_well_formed_and_in_range_order() {
    let codes: Vec<&str> = REGISTRY.iter().map(|info| info.code).collect();
    for code in &codes {
        let well_formed = code.len() == 5
            && (code.starts_with('E') || code.starts_with('W') || code.starts_with('N'))
            && code[1..].chars().all(|c| c.is_ascii_digit());
        assert!(well_formed, "`{code}` is not like E0101, W0101 or N0001");
    }
    let mut sorted = codes.clone();
    let kind_order = |code: &str| "EWN".find(&code[..1]).unwrap_or(3);
    sorted.sort_by_key(|code| (kind_order(code), code.to_string()));
    assert_eq!(codes, sorted, "append codes in their range, in order (E00xx, E01xx, ..., then W0xxx, then N0xxx)");
    sorted.dedup();
    assert_eq!(sorted.len(), codes.len(), "a code is registered twice");
}

#[test]
fn every_explanation_has_a_title_and_a_wrong_and_a_right_example() {
    for info in REGISTRY {
        assert!(!info.title.is_empty(), "{} has no title", info.code);
        let wrong = info.explanation.find("\nWrong:\n");
        let right = info.explanation.find("\nRight:\n");
        assert!(
            matches!((wrong, right), (Some(w), Some(r)) if w < r),
            "{}: the explanation needs a `Wrong:` then a `Right:` section",
            info.code
        );
    }
}

#[test]
fn lookup_ignores_case_and_surrounding_space() {
    assert_eq!(lookup(" e0101 ").map(|info| info.code), Some("E0101"));
    assert!(lookup("E9999").is_none());
    assert!(lookup("").is_none());
}

/// A code written as a string literal in a pass (instead of a `codes::` constant) must still be registered.
#[test]
fn every_code_literal_in_the_compiler_sources_is_registered() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut pending = vec![src];
    let mut unregistered = Vec::new();
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("read source");
                for literal in code_literals(&text) {
                    if lookup(&literal).is_none() {
                        unregistered.push(format!("{}: {literal}", path.display()));
                    }
                }
            }
        }
    }
    assert!(unregistered.is_empty(), "unregistered codes: {unregistered:#?}");
}

/// `"E0123"` / `"W0123"` string literals in a source text.
fn code_literals(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(6))
        .filter(|&i| {
            bytes[i] == b'"'
                && matches!(bytes[i + 1], b'E' | b'W')
                && bytes[i + 2..i + 6].iter().all(u8::is_ascii_digit)
                && bytes[i + 6] == b'"'
        })
        .map(|i| text[i + 1..i + 6].to_string())
        .collect()
}
