//! `pilot schema`: the JSON Schema of workflow files, generated from the compiler's model types.

use super::output::outln;
use std::process::ExitCode;

pub fn run() -> ExitCode {
    match serde_json::to_string_pretty(&compiler::schema::workflow_schema()) {
        Ok(text) => {
            outln!("{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot write the schema: {error}");
            ExitCode::FAILURE
        }
    }
}
