use clap::Parser;

/// Dooz Pilot: local-first workflow automation.
#[derive(Debug, Parser)]
#[command(name = "pilot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {}
}
