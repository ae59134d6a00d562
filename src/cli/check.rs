//! `pilot check [PATH...] [--json]`: compile workflow files and report every diagnostic.
//!
//! Paths are files or folders (searched recursively for `*.yaml`, `*.yml`, `*.json`, skipping custom connector
//! folders: those holding a `manifest.json`); without a path, the workflows folder of `$PILOT_HOME`. Files are
//! checked in parallel and reported sorted by path. A path that cannot be read is an error (E0009) in the count
//! and in the JSON, never "no problems". Exit status: 0 without errors (warnings allowed), 1 with errors, 2 when
//! a path cannot be read.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use compiler::Diagnostic;
use compiler::render::{RenderOptions, render_file, summary, to_json};
use connectors::catalogue::Catalogue;
use rayon::prelude::*;

use super::exit;
use super::output::outln;
use super::ui;
use server::home::PilotHome;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Workflow files or folders (searched recursively for .yaml, .yml and .json files). Folders holding a
    /// `manifest.json` are custom connectors (see `pilot connectors install`), not workflows: they are skipped.
    /// Default: the workflows folder of $PILOT_HOME.
    pub paths: Vec<PathBuf>,
    /// `human`: rustc-style messages and a summary line; `json`: a list of diagnostics with positions (the same
    /// as `--json`).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// One checked file: its text (for rendering) and diagnostics.
struct FileReport {
    display: String,
    source: String,
    diagnostics: Vec<Diagnostic>,
    /// It could not be read (its one diagnostic says why).
    unreadable: bool,
}

impl FileReport {
    fn unreadable(path: &Path, reason: &str) -> FileReport {
        let message = format!("cannot read {}: {reason}", path.display());
        let diagnostic = Diagnostic::error(compiler::codes::UNREADABLE_FILE, message, Default::default());
        FileReport {
            display: path.display().to_string(),
            source: String::new(),
            diagnostics: vec![diagnostic],
            unreadable: true,
        }
    }
}

pub fn run(args: &CheckArgs) -> ExitCode {
    let home = PilotHome::from_env();
    let roots = if args.paths.is_empty() { vec![home.workflows()] } else { args.paths.clone() };
    let mut reports = Vec::new();
    if args.paths.is_empty() && home.settings().exists() {
        reports.push(check_settings(&home.settings()));
    }
    let mut files = Vec::new();
    for root in &roots {
        if args.paths.is_empty() && !root.exists() {
            continue; // No workflows folder yet: nothing to check, nothing wrong.
        }
        match collect_workflow_files(root) {
            Ok(found) => files.extend(found),
            Err((path, reason)) => reports.push(FileReport::unreadable(&path, &reason)),
        }
    }
    files.sort();
    files.dedup();
    // Built-ins plus the installed custom connectors, as `pilot run` sees them.
    let toolbox = super::toolbox(&home);
    let catalogue = &toolbox.catalogue;
    let options = compiler::CompileOptions {
        known_credentials: super::credentials::stored_credential_names().into(),
        budget: super::expression_budget(),
        ..Default::default()
    };
    reports.par_extend(files.par_iter().map(|path| check_file(path, catalogue, &options)));
    reports.sort_by(|a, b| a.display.cmp(&b.display));
    let errors = count(&reports, Diagnostic::is_error);
    let warnings = count(&reports, |d| !d.is_error());
    if ui::json() || args.format == Format::Json {
        print_json(&reports);
    } else {
        print_human(&reports, errors, warnings);
    }
    if reports.iter().any(|report| report.unreadable) {
        exit::code(exit::NOT_RUN)
    } else if errors > 0 {
        exit::code(exit::FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

fn count(reports: &[FileReport], keep: impl Fn(&Diagnostic) -> bool) -> usize {
    reports.iter().flat_map(|r| &r.diagnostics).filter(|d| keep(d)).count()
}

fn print_human(reports: &[FileReport], errors: usize, warnings: usize) {
    let options = RenderOptions { color: ui::color_stdout() };
    let mut out = String::new();
    for report in reports {
        if report.unreadable {
            // No text to point into: the message alone (it names the file and the reason).
            for diagnostic in &report.diagnostics {
                out.push_str(&format!("error[{}]: {}\n\n", diagnostic.code, diagnostic.message));
            }
            continue;
        }
        let shown: Vec<Diagnostic> = if ui::quiet() {
            report.diagnostics.iter().filter(|d| d.is_error()).cloned().collect()
        } else {
            report.diagnostics.clone()
        };
        out.push_str(&render_file(&report.display, &report.source, &shown, options));
    }
    out.push_str(&summary(reports.len(), errors, warnings));
    outln!("{out}");
}

fn print_json(reports: &[FileReport]) {
    let all: Vec<_> = reports.iter().flat_map(|r| to_json(&r.display, &r.source, &r.diagnostics)).collect();
    outln!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
}

fn check_file(path: &Path, catalogue: &Catalogue, options: &compiler::CompileOptions) -> FileReport {
    let display = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return FileReport::unreadable(path, &error.to_string()),
    };
    let (source, diagnostics) = match compiler::front_end::decode(&bytes) {
        Ok(source) => {
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("workflow");
            let (_, diagnostics) = compiler::compile_with(source, name, catalogue, options);
            (source.to_string(), diagnostics)
        }
        Err(diagnostic) => (String::from_utf8_lossy(&bytes).into_owned(), vec![diagnostic]),
    };
    FileReport { display, source, diagnostics, unreadable: false }
}

/// `settings.json`, with its problem (if any) at its line and column.
fn check_settings(path: &Path) -> FileReport {
    let source = match std::fs::read_to_string(path) {
        Ok(source) => source,
        Err(error) => return FileReport::unreadable(path, &error.to_string()),
    };
    let diagnostics = match server::settings::Settings::parse(&source) {
        Ok(_) => Vec::new(),
        Err(problem) => {
            let at = offset_of(&source, problem.line, problem.column) as u32;
            let span = expr_grammar::Span { start: at, end: at + 1 };
            let hint = "`pilot schema --settings` prints every section and key";
            vec![Diagnostic::error(compiler::codes::INVALID_SETTINGS, problem.message, span).with_hint(hint)]
        }
    };
    FileReport { display: path.display().to_string(), source, diagnostics, unreadable: false }
}

/// The byte offset of a 1-based line and column (in characters), clamped to the text.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    let rest = &text[line_start.min(text.len())..];
    let within = rest.char_indices().nth(column.saturating_sub(1)).map_or(rest.len(), |(at, _)| at);
    (line_start + within).min(text.len().saturating_sub(1))
}

fn is_workflow_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// A file as given (whatever its extension), or the workflow files under a folder, recursively. Symbolic links
/// to folders are not followed (no loops). Connector folders are skipped: their `manifest.json` is no workflow.
fn collect_workflow_files(root: &Path) -> Result<Vec<PathBuf>, (PathBuf, String)> {
    let metadata = std::fs::metadata(root).map_err(|error| (root.to_path_buf(), error.to_string()))?;
    if !metadata.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if connectors::custom::is_connector_folder(&dir) {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|error| (dir.clone(), error.to_string()))?;
        for entry in entries {
            let entry = entry.map_err(|error| (dir.clone(), error.to_string()))?;
            let path = entry.path();
            match entry.file_type() {
                Ok(kind) if kind.is_dir() => pending.push(path),
                Ok(_) if is_workflow_file(&path) => found.push(path),
                _ => {}
            }
        }
    }
    Ok(found)
}
