//! `pilot explain CODE`: the long explanation of a diagnostic code, with a wrong and a right example.
//! Without a code: the list of codes and their titles.

use std::process::ExitCode;

use super::output::{out, outln};
use compiler::codes::{REGISTRY, lookup};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as `E0101`; omit it to list every code.
    pub code: Option<String>,
}

const EXIT_USAGE: u8 = 2;

pub fn run(args: &ExplainArgs) -> ExitCode {
    let Some(code) = &args.code else {
        for info in REGISTRY {
            outln!("{}  {}", info.code, info.title);
        }
        return ExitCode::SUCCESS;
    };
    match lookup(code) {
        Some(info) => {
            let newline = if info.explanation.ends_with('\n') { "" } else { "\n" };
            out!("{}: {}\n\n{}{newline}", info.code, info.title, info.explanation);
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("error: no diagnostic code `{code}`; codes look like `E0101` (`pilot explain` lists them all)");
            ExitCode::from(EXIT_USAGE)
        }
    }
}
