//! `pilot compile FILE --emit dot|json`: the compiled plan as a Graphviz graph or as JSON (nodes with their
//! inputs' bindings, edges with reasons, levels, slots). Exit 2 with the diagnostics when the file does not
//! compile; warnings go to stderr either way.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use super::output::{out, outln};
use compiler::render::{RenderOptions, render_file};

#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// The workflow file (YAML or JSON).
    pub file: PathBuf,
    /// What to print: `dot` (Graphviz; `| dot -Tsvg`) or `json`.
    #[arg(long, value_enum, default_value_t = Emit::Json)]
    pub emit: Emit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Emit {
    Dot,
    Json,
}

/// Exit status when the workflow does not compile (or cannot be read).
const EXIT_INVALID: u8 = 2;

pub fn run(args: &CompileArgs) -> ExitCode {
    let display = args.file.display().to_string();
    let bytes = match std::fs::read(&args.file) {
        Ok(bytes) => bytes,
        Err(error) => {
            eprintln!("error: cannot read {display}: {error}");
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let render = RenderOptions { color: std::io::stderr().is_terminal() };
    let source = match compiler::front_end::decode(&bytes) {
        Ok(source) => source,
        Err(diagnostic) => {
            let text = String::from_utf8_lossy(&bytes);
            eprint!("{}", render_file(&display, &text, &[diagnostic], render));
            return ExitCode::from(EXIT_INVALID);
        }
    };
    let toolbox = crate::toolbox::Toolbox::load(&crate::home::PilotHome::from_env());
    toolbox.warn_about_problems();
    let catalogue = toolbox.catalogue;
    let compilation = compiler::compile_detailed(source, &display, &catalogue, &compiler::CompileOptions::default());
    eprint!("{}", render_file(&display, source, &compilation.diagnostics, render));
    let Some(plan) = &compilation.plan else {
        return ExitCode::from(EXIT_INVALID);
    };
    match args.emit {
        Emit::Dot => out!("{}", compiler::emit::to_dot(plan)),
        Emit::Json => {
            let json = compiler::emit::to_json(plan, &compilation.input_types);
            match serde_json::to_string_pretty(&json) {
                Ok(text) => outln!("{text}"),
                Err(error) => {
                    eprintln!("error: cannot write the plan as JSON: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    ExitCode::SUCCESS
}
