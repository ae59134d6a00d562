//! `pilot schema`: the JSON Schema of workflow files, generated from the compiler's model types.

use super::output::outln;
use std::process::ExitCode;

pub fn run() -> ExitCode {
    outln!("{}", serde_json::to_string_pretty(&compiler::schema::workflow_schema()).unwrap_or_default());
    ExitCode::SUCCESS
}
