//! `pilot connectors list [--json]`: every action a workflow can call, with its signature.
//! (`install` and `remove` for custom connectors join this group later.)

use std::process::ExitCode;

use connectors::catalogue::Catalogue;
use connectors::reference::render_list;
use connectors::registry::ConnectorRegistry;

#[derive(Debug, clap::Args)]
pub struct ConnectorsArgs {
    #[command(subcommand)]
    pub command: ConnectorsCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConnectorsCommand {
    /// List every action with its inputs, output type and effect.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Print the catalogue as JSON (names, descriptions, typed inputs, output, effect).
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: &ConnectorsArgs) -> ExitCode {
    match &args.command {
        ConnectorsCommand::List(list) => run_list(list),
    }
}

fn run_list(args: &ListArgs) -> ExitCode {
    let catalogue = Catalogue::builtin();
    if args.json {
        return match serde_json::to_string_pretty(&catalogue) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: cannot write the catalogue as JSON: {error}");
                ExitCode::FAILURE
            }
        };
    }
    let registry = ConnectorRegistry::builtin();
    let unavailable: Vec<&str> =
        catalogue.names().filter(|name| *name != "filter" && registry.get(name).is_err()).collect();
    print!("{}", render_list(&catalogue, &unavailable));
    ExitCode::SUCCESS
}
