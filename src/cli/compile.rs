//! `pilot compile FILE [--emit dot|json]`: the compiled plan as a Graphviz graph or as JSON (nodes with their
//! inputs' bindings, edges with reasons, levels, slots). `--json` is `--emit json`. Exit 2 with the diagnostics
//! (on stderr, and as JSON on stdout with `--json`) when the file does not compile; warnings go to stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use super::exit;
use super::output::{out, outln};
use super::ui;
use compiler::render::{RenderOptions, render_file, summary, to_json};

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// The workflow file (YAML or JSON).
    pub file: PathBuf,
    /// What to print: `dot` (Graphviz; `| dot -Tsvg`) or `json` (the same as `--json`).
    #[arg(long, value_enum, default_value_t = Emit::Json)]
    pub emit: Emit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    Dot,
    Json,
}

pub fn run(args: &CompileArgs) -> ExitCode {
    let display = args.file.display().to_string();
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(error) => return ui::fail(exit::NOT_RUN, &format!("cannot read {display}: {error}")),
    };
    let render = RenderOptions { color: ui::color_stderr() };
    let source = match compiler::front_end::decode(&bytes) {
        Ok(source) => source,
        Err(diagnostic) => return does_not_compile(&display, &String::from_utf8_lossy(&bytes), &[diagnostic]),
    };
    let toolbox = super::toolbox(&server::home::PilotHome::from_env());
    let catalogue = toolbox.catalogue;
    let compilation = compiler::compile_detailed(source, &display, &catalogue, &compiler::CompileOptions::default());
    let Some(plan) = &compilation.plan else {
        return does_not_compile(&display, source, &compilation.diagnostics);
    };
    if !ui::quiet() {
        eprint!("{}", render_file(&display, source, &compilation.diagnostics, render));
    }
    match (args.emit, ui::json()) {
        (Emit::Dot, false) => out!("{}", compiler::emit::to_dot(plan)),
        _ => {
            let json = compiler::emit::to_json(plan, &compilation.input_types);
            outln!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        }
    }
    ExitCode::SUCCESS
}

/// The diagnostics on stderr (and as JSON on stdout with `--json`); status 2.
pub(crate) fn does_not_compile(display: &str, source: &str, diagnostics: &[compiler::Diagnostic]) -> ExitCode {
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let mut text = render_file(display, source, diagnostics, RenderOptions { color: ui::color_stderr() });
    text.push_str(&summary(1, errors, diagnostics.len() - errors));
    eprintln!("{text}");
    if ui::json() {
        let document = serde_json::json!({
            "error": format!("{display} does not compile"),
            "exit_code": exit::NOT_RUN,
            "diagnostics": to_json(display, source, diagnostics),
        });
        outln!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
    }
    exit::code(exit::NOT_RUN)
}
