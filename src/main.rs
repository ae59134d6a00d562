use clap::Parser;

/// mimalloc: compiling a workflow is allocation-heavy (YAML nodes, expression trees); glibc malloc was a third of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Dooz Pilot: local-first workflow automation.
#[derive(Debug, Parser)]
#[command(name = "pilot", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Compile a workflow and print its plan (the step graph and bindings) as Graphviz dot or JSON.
    Compile(pilot::cli::compile::CompileArgs),
    /// Check workflow files (or folders of them) and report every problem with its place and a hint.
    Check(pilot::cli::check::CheckArgs),
    /// Print the JSON Schema of workflow files (for editors).
    Schema,
    /// Explain a diagnostic code (e.g. `pilot explain E0101`), with a wrong and a right example.
    Explain(pilot::cli::explain::ExplainArgs),
    /// List past executions or show one with its steps.
    Executions(pilot::cli::executions::ExecutionsArgs),
    /// Print an execution's log.
    Logs(pilot::cli::logs::LogsArgs),
    /// Connectors and their actions (`pilot connectors list`).
    Connectors(pilot::cli::connectors::ConnectorsArgs),
    /// Run a workflow file now, showing its steps as they run.
    Run(pilot::cli::run::RunArgs),
    /// Continue interrupted executions (all of them without an id), never re-running finished steps.
    Resume(pilot::cli::resume::ResumeArgs),
    /// Cancel a running execution (also one running in another pilot process).
    Cancel(pilot::cli::cancel::CancelArgs),
    /// Run a finished execution again from its failed step (or --from STEP), reusing earlier outputs.
    Retry(pilot::cli::retry::RetryArgs),
    /// Encrypted credentials for steps: `set NAME --provider api_key|basic|oauth2`, `list`, `rm`, `rotate-key`.
    Credentials(pilot::cli::credentials::CredentialsArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compile(args) => pilot::cli::compile::run(&args),
        Command::Check(args) => pilot::cli::check::run(&args),
        Command::Schema => pilot::cli::schema::run(),
        Command::Explain(args) => pilot::cli::explain::run(&args),
        Command::Executions(args) => pilot::cli::executions::run(&args),
        Command::Logs(args) => pilot::cli::logs::run(&args),
        Command::Connectors(args) => pilot::cli::connectors::run(&args),
        Command::Run(args) => pilot::cli::run::run(&args),
        Command::Resume(args) => pilot::cli::resume::run(&args),
        Command::Cancel(args) => pilot::cli::cancel::run(&args),
        Command::Retry(args) => pilot::cli::retry::run(&args),
        Command::Credentials(args) => pilot::cli::credentials::run(&args),
    }
}
