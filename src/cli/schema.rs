//! `pilot schema`: the JSON Schema of workflow files, generated from the compiler's model types and the actions
//! `pilot check` knows (the built-ins and the installed custom connectors).

use super::output::outln;
use std::process::ExitCode;

pub fn run() -> ExitCode {
    let toolbox = crate::toolbox::Toolbox::load(&crate::home::PilotHome::from_env());
    toolbox.warn_about_problems();
    match serde_json::to_string_pretty(&compiler::schema::workflow_schema(&toolbox.catalogue)) {
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
