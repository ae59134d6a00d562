//! `pilot explain CODE`: the long explanation of a diagnostic code, with a wrong and a right example.
//! Without a code: the list of codes and their titles. With `--json`: `{code, title, explanation}`, or a list
//! of `{code, title}`.

use std::process::ExitCode;

use super::exit;
use super::output::{out, outln};
use super::ui;
use compiler::codes::{REGISTRY, lookup};

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// A diagnostic code such as `E0101`; omit it to list every code.
    pub code: Option<String>,
}

pub fn run(args: &ExplainArgs) -> ExitCode {
    let Some(code) = &args.code else {
        if ui::json() {
            let list: Vec<_> =
                REGISTRY.iter().map(|info| serde_json::json!({ "code": info.code, "title": info.title })).collect();
            outln!("{}", serde_json::to_string_pretty(&list).unwrap_or_default());
        } else {
            for info in REGISTRY {
                outln!("{}  {}", info.code, info.title);
            }
        }
        return ExitCode::SUCCESS;
    };
    let Some(info) = lookup(code) else {
        let message = format!("no diagnostic code `{code}`; codes look like `E0101` (`pilot explain` lists them all)");
        return ui::fail(exit::NOT_RUN, &message);
    };
    if ui::json() {
        let document = serde_json::json!({ "code": info.code, "title": info.title, "explanation": info.explanation });
        outln!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
    } else {
        let newline = if info.explanation.ends_with('\n') { "" } else { "\n" };
        out!("{}: {}\n\n{}{newline}", info.code, info.title, info.explanation);
    }
    ExitCode::SUCCESS
}
