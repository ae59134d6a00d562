//! `pilot check [PATH...] [--format human|json]`: compile workflow files and report every diagnostic.
//!
//! Paths are files or folders (searched recursively for `*.yaml`, `*.yml`, `*.json`, skipping custom connector
//! folders: those holding a `manifest.json`); without a path, the workflows folder of `$PILOT_HOME`. Files are checked in parallel and reported sorted by path. Exit status:
//! 0 without errors (warnings allowed), 1 with errors, 2 when a path cannot be read.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use compiler::Diagnostic;
use compiler::render::{RenderOptions, render_file, summary, to_json};
use connectors::catalogue::Catalogue;
use rayon::prelude::*;

use super::output::outln;
use crate::home::PilotHome;
use crate::toolbox::Toolbox;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Workflow files or folders (searched recursively for .yaml, .yml and .json files). Folders holding a
    /// `manifest.json` are custom connectors (see `pilot connectors install`), not workflows: they are skipped.
    /// Default: the workflows folder of $PILOT_HOME.
    pub paths: Vec<PathBuf>,
    /// `human`: rustc-style messages and a summary line; `json`: a list of diagnostics with positions.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

const EXIT_ERRORS: u8 = 1;
const EXIT_USAGE: u8 = 2;

/// One checked file: its text (for rendering) and diagnostics, or why it could not be read.
struct FileReport {
    display: String,
    outcome: Result<(String, Vec<Diagnostic>), String>,
}

pub fn run(args: &CheckArgs) -> ExitCode {
    let roots = if args.paths.is_empty() { vec![PilotHome::from_env().workflows()] } else { args.paths.clone() };
    let mut unreadable = Vec::new();
    let mut files = Vec::new();
    for root in &roots {
        match collect_workflow_files(root) {
            Ok(found) => files.extend(found),
            Err(error) => unreadable.push(error),
        }
    }
    files.sort();
    files.dedup();
    // Built-ins plus the installed custom connectors, as `pilot run` sees them.
    let toolbox = Toolbox::load(&PilotHome::from_env());
    toolbox.warn_about_problems();
    let catalogue = &toolbox.catalogue;
    let options = compiler::CompileOptions {
        known_credentials: super::credentials::stored_credential_names().into(),
        ..Default::default()
    };
    let reports: Vec<FileReport> = files.par_iter().map(|path| check_file(path, catalogue, &options)).collect();
    for report in &reports {
        if let Err(error) = &report.outcome {
            unreadable.push(format!("cannot read {}: {error}", report.display));
        }
    }
    for error in &unreadable {
        eprintln!("error: {error}");
    }
    let errors = count(&reports, Diagnostic::is_error);
    let warnings = count(&reports, |d| !d.is_error());
    match args.format {
        Format::Human => print_human(&reports, errors, warnings),
        Format::Json => print_json(&reports),
    }
    if !unreadable.is_empty() {
        ExitCode::from(EXIT_USAGE)
    } else if errors > 0 {
        ExitCode::from(EXIT_ERRORS)
    } else {
        ExitCode::SUCCESS
    }
}

fn count(reports: &[FileReport], keep: impl Fn(&Diagnostic) -> bool) -> usize {
    reports.iter().filter_map(|r| r.outcome.as_ref().ok()).flat_map(|(_, d)| d).filter(|d| keep(d)).count()
}

fn print_human(reports: &[FileReport], errors: usize, warnings: usize) {
    let options = RenderOptions { color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() };
    let mut out = String::new();
    for report in reports {
        if let Ok((source, diagnostics)) = &report.outcome {
            out.push_str(&render_file(&report.display, source, diagnostics, options));
        }
    }
    let checked = reports.iter().filter(|r| r.outcome.is_ok()).count();
    out.push_str(&summary(checked, errors, warnings));
    outln!("{out}");
}

fn print_json(reports: &[FileReport]) {
    let all: Vec<_> = reports
        .iter()
        .filter_map(|r| r.outcome.as_ref().ok().map(|(source, diagnostics)| to_json(&r.display, source, diagnostics)))
        .flatten()
        .collect();
    match serde_json::to_string_pretty(&all) {
        Ok(text) => outln!("{text}"),
        Err(error) => eprintln!("error: cannot write JSON: {error}"),
    }
}

fn check_file(path: &Path, catalogue: &Catalogue, options: &compiler::CompileOptions) -> FileReport {
    let display = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return FileReport { display, outcome: Err(error.to_string()) },
    };
    let outcome = match compiler::front_end::decode(&bytes) {
        Ok(source) => {
            let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("workflow");
            let (_, diagnostics) = compiler::compile_with(source, name, catalogue, options);
            Ok((source.to_string(), diagnostics))
        }
        Err(diagnostic) => Ok((String::from_utf8_lossy(&bytes).into_owned(), vec![diagnostic])),
    };
    FileReport { display, outcome }
}

fn is_workflow_file(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// A file as given (whatever its extension), or the workflow files under a folder, recursively. Symbolic links
/// to folders are not followed (no loops). Connector folders are skipped: their `manifest.json` is no workflow.
fn collect_workflow_files(root: &Path) -> Result<Vec<PathBuf>, String> {
    let metadata = std::fs::metadata(root).map_err(|error| format!("cannot read {}: {error}", root.display()))?;
    if !metadata.is_dir() {
        return Ok(vec![root.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        if connectors::custom::is_connector_folder(&dir) {
            continue;
        }
        let entries = std::fs::read_dir(&dir).map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|error| format!("cannot read {}: {error}", dir.display()))?;
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
