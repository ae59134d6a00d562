//! `pilot schema`: the JSON Schema of workflow files, generated from the compiler's model types and the actions
//! `pilot check` knows (the built-ins and the installed custom connectors).
//! `pilot schema --settings`: the JSON Schema of `settings.json`. `pilot schema --openapi`: the daemon's OpenAPI
//! document (the desktop UI generates its API types from it).

use super::output::outln;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Print the schema of `$PILOT_HOME/settings.json` instead of the workflow format.
    #[arg(long, conflicts_with = "openapi")]
    pub settings: bool,
    /// Print the OpenAPI document of `pilot serve`'s API instead of the workflow format.
    #[arg(long)]
    pub openapi: bool,
}

pub fn run(args: &SchemaArgs) -> ExitCode {
    let schema = if args.settings {
        server::settings::Settings::schema()
    } else if args.openapi {
        serde_json::to_value(server::api::openapi()).unwrap_or_default()
    } else {
        let toolbox = super::toolbox(&server::home::PilotHome::from_env());
        compiler::schema::workflow_schema(&toolbox.catalogue)
    };
    outln!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
    ExitCode::SUCCESS
}
