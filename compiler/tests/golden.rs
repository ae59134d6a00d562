//! Golden tests: every `tests/data/invalid/<kind>.{yaml,yml,json}` is compiled and its rendered diagnostics are
//! compared with `<kind>.stderr` next to it; every file in `tests/data/valid/` must compile without errors.
//! `tests/data/warnings/` holds files that compile with warnings and no error.
//! `tests/data/empty_store/` holds fixtures compiled as `pilot check` does when the credential store is reachable
//! and holds no credential yet (their diagnostics may be warnings only).
//! `UPDATE_EXPECT=1 cargo test -p compiler --test golden` rewrites the `.stderr` files.

use std::path::{Path, PathBuf};

use compiler::diagnostic::has_errors;
use compiler::render::{RenderOptions, render_file};
use compiler::{CompileOptions, Diagnostic, KnownCredentials, front_end};
use connectors::catalogue::Catalogue;

fn data_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(kind)
}

fn workflow_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")))
        .collect();
    files.sort();
    files
}

/// Compiles a file as `pilot check` does: the text (lossy when not UTF-8, for display) and its diagnostics.
fn check(path: &Path) -> (String, Vec<Diagnostic>) {
    check_with(path, &CompileOptions::default())
}

fn check_with(path: &Path, options: &CompileOptions) -> (String, Vec<Diagnostic>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    match front_end::decode(&bytes) {
        Ok(source) => {
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("workflow");
            let (_, diagnostics) = compiler::compile_with(source, name, &Catalogue::builtin(), options);
            (source.to_string(), diagnostics)
        }
        Err(diagnostic) => (String::from_utf8_lossy(&bytes).into_owned(), vec![diagnostic]),
    }
}

fn display_name(path: &Path) -> String {
    let kind = path.parent().and_then(|p| p.file_name()).and_then(|n| n.to_str()).unwrap_or("");
    let file = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    format!("{kind}/{file}")
}

/// Renders every fixture of `tests/data/<kind>/` and compares it with its `.stderr` file.
fn compare_with_expected(kind: &str, options: &CompileOptions, errors_expected: bool) {
    let update = std::env::var_os("UPDATE_EXPECT").is_some_and(|v| v == "1");
    let files = workflow_files(&data_dir(kind));
    assert!(!files.is_empty(), "no fixtures in tests/data/{kind}");
    let mut failures = Vec::new();
    for path in &files {
        let (source, diagnostics) = check_with(path, options);
        let rendered = render_file(&display_name(path), &source, &diagnostics, RenderOptions::default());
        let expected_path = path.with_extension("stderr");
        if errors_expected && !has_errors(&diagnostics) {
            failures.push(format!("{}: expected at least one error, got none", display_name(path)));
        }
        if !errors_expected && kind == "warnings" && has_errors(&diagnostics) {
            failures.push(format!("{}: expected warnings only, got an error", display_name(path)));
        }
        if diagnostics.is_empty() {
            failures.push(format!("{}: expected diagnostics, got none", display_name(path)));
        }
        if update {
            std::fs::write(&expected_path, &rendered).expect("write expected file");
            continue;
        }
        match std::fs::read_to_string(&expected_path) {
            Ok(expected) if expected == rendered => {}
            Ok(expected) => failures.push(format!(
                "{} differs from {}\n--- expected\n{expected}\n--- actual\n{rendered}",
                display_name(path),
                expected_path.display()
            )),
            Err(_) => failures.push(format!(
                "{}: no {} (run with UPDATE_EXPECT=1 to create it)\n--- actual\n{rendered}",
                display_name(path),
                expected_path.display()
            )),
        }
    }
    assert!(failures.is_empty(), "{} of {} fixtures failed:\n\n{}", failures.len(), files.len(), failures.join("\n"));
}

#[test]
fn invalid_fixtures_render_their_expected_diagnostics() {
    compare_with_expected("invalid", &CompileOptions::default(), true);
}

#[test]
fn warning_fixtures_compile_and_render_their_expected_warnings() {
    compare_with_expected("warnings", &CompileOptions::default(), false);
}

#[test]
fn with_an_empty_credential_store_every_credential_name_is_warned_about() {
    let options =
        CompileOptions { known_credentials: KnownCredentials::Stored(Default::default()), ..Default::default() };
    compare_with_expected("empty_store", &options, false);
}

#[test]
fn every_expected_file_has_its_fixture() {
    for kind in ["invalid", "warnings", "empty_store"] {
        let dir = data_dir(kind);
        let fixtures = workflow_files(&dir);
        for entry in std::fs::read_dir(&dir).expect("read the fixture folder") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) == Some("stderr") {
                let has_fixture = fixtures.iter().any(|f| f.with_extension("stderr") == path);
                assert!(has_fixture, "{} has no fixture next to it", path.display());
            }
        }
    }
}

#[test]
fn valid_fixtures_and_the_seed_example_compile_without_errors() {
    let mut files = workflow_files(&data_dir("valid"));
    files.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/daily-backup.yaml"));
    assert!(!files.is_empty());
    for path in files {
        let (source, diagnostics) = check(&path);
        let errors: Vec<Diagnostic> = diagnostics.into_iter().filter(|d| d.is_error()).collect();
        assert!(
            errors.is_empty(),
            "{} should compile:\n{}",
            path.display(),
            render_file(&display_name(&path), &source, &errors, RenderOptions::default())
        );
    }
}
