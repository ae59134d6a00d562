//! `pilot schema`: the JSON Schema of workflow files, generated from the compiler's model types.
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
    let schema = if args.settings { server::settings::Settings::schema() } else { compiler::schema::workflow_schema() };
    outln!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
    ExitCode::SUCCESS
}
