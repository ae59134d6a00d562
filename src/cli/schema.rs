//! `pilot schema`: the JSON Schema of workflow files, generated from the compiler's model types and the actions
//! `pilot check` knows (the built-ins and the installed custom connectors).
//! `pilot schema --settings`: the JSON Schema of `settings.json`.

use super::output::outln;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Print the schema of `$PILOT_HOME/settings.json` instead of the workflow format.
    #[arg(long)]
    pub settings: bool,
}

pub fn run(args: &SchemaArgs) -> ExitCode {
    let schema = if args.settings {
        server::settings::Settings::schema()
    } else {
        let toolbox = super::toolbox(&server::home::PilotHome::from_env());
        compiler::schema::workflow_schema(&toolbox.catalogue)
    };
    outln!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
    ExitCode::SUCCESS
}
