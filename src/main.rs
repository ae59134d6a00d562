use clap::Parser;

/// Dooz Pilot: local-first workflow automation.
#[derive(Debug, Parser)]
#[command(name = "pilot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// List past executions or show one with its steps.
    Executions(pilot::cli::executions::ExecutionsArgs),
    /// Print an execution's log.
    Logs(pilot::cli::logs::LogsArgs),
    /// Connectors and their actions (`pilot connectors list`).
    Connectors(pilot::cli::connectors::ConnectorsArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Executions(args) => pilot::cli::executions::run(&args),
        Command::Logs(args) => pilot::cli::logs::run(&args),
        Command::Connectors(args) => pilot::cli::connectors::run(&args),
    }
}
