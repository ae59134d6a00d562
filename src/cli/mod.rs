//! The `pilot` command line: thin glue over the library crates. Each subcommand lives in its own module under
//! `cli/`, parses nothing itself and holds no logic beyond printing. The global flags (`--json`, `--color`,
//! `-q`, `-v`) are read through [`ui`], exit statuses come from [`exit`].

pub mod check;
pub mod compile;
pub mod connectors;
pub mod credentials;
pub mod doctor;
pub mod executions;
pub mod exit;
pub mod explain;
pub mod logs;
pub mod output;
pub mod schema;
pub mod serve;
pub mod shell;
pub mod store;
pub mod ui;

// Talking to the daemon: `pilot workflows`, `status`, `run NAME`, and `service` to run it from login on.
mod daemon;
mod remote_run;
pub mod service;
pub mod status;
pub mod workflows;

// Running workflows: `pilot run`, `resume`, `retry`, `cancel` and what they share.
pub mod cancel;
mod progress;
pub mod resume;
pub mod retry;
pub mod run;
mod runner;

use clap::{CommandFactory, Parser};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Environment:
  PILOT_HOME   where Pilot keeps its store, workflows, logs and settings (default ~/.dooz/pilot)
  PILOT_STORE  a PostgreSQL URL to keep the store in instead (as --store)
  NO_COLOR     set to turn colour off (as --color never)
  RUST_LOG     Pilot's own log events on stderr, e.g. RUST_LOG=executor=debug (overrides -v)
";

/// Dooz Pilot: local-first workflow automation.
#[derive(Debug, Parser)]
#[command(name = "pilot", version, about, after_help = after_help())]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Print one JSON document on stdout instead of text (also when the command fails: `{"error": ...}`).
    #[arg(long, global = true)]
    pub json: bool,
    /// When to colour the output.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ui::ColorChoice::Auto)]
    pub color: ui::ColorChoice,
    /// Say less: no progress and no warnings, only results and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more of what Pilot does, on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The store: a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE) shared by several nodes, instead
    /// of SQLite in $PILOT_HOME/pilot.db. Same as PILOT_STORE (better for a password: a command line is visible
    /// to other users) or `store` in settings.json.
    #[arg(long, global = true, value_name = "URL")]
    pub store: Option<server::settings::StoreUrl>,
}

fn after_help() -> String {
    format!("{AFTER_HELP}\n{}", exit::TABLE)
}

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Compile a workflow and print its plan (the step graph and bindings) as Graphviz dot or JSON.
    Compile(compile::CompileArgs),
    /// Check workflow files (or folders of them) and report every problem with its place and a hint.
    Check(check::CheckArgs),
    /// Print the JSON Schema of workflow files (for editors), with the installed custom connectors' actions.
    Schema(schema::SchemaArgs),
    /// Explain a diagnostic code (e.g. `pilot explain E0101`), with a wrong and a right example.
    Explain(explain::ExplainArgs),
    /// List past executions or show one with its steps.
    Executions(executions::ExecutionsArgs),
    /// Print an execution's log (`--follow` to keep printing while it runs).
    Logs(logs::LogsArgs),
    /// Connectors and their actions (`pilot connectors list`), custom connectors (`install`, `remove`).
    Connectors(connectors::ConnectorsArgs),
    /// Run a workflow file now, showing its steps as they run (a workflow name instead runs it in the daemon).
    Run(run::RunArgs),
    /// Continue interrupted executions (all of them without an id), never re-running finished steps.
    Resume(resume::ResumeArgs),
    /// Cancel a running execution (also one running in another pilot process).
    Cancel(cancel::CancelArgs),
    /// Run a finished execution again from its failed step (or --from STEP), reusing earlier outputs.
    Retry(retry::RetryArgs),
    /// Encrypted credentials for steps: `set NAME --provider PROVIDER`, `list`, `rm NAME`, `rotate-key`.
    Credentials(credentials::CredentialsArgs),
    /// Check the database (`--backup FILE` copies it, `--repair` rebuilds a damaged one).
    Doctor(doctor::DoctorArgs),
    /// Move a store: `migrate --to URL` copies the SQLite store into a PostgreSQL store.
    Store(store::StoreArgs),
    /// Run the daemon: schedules, webhooks and file watches fire, the API and the UI are served (Ctrl-C stops).
    Serve(serve::ServeArgs),
    /// The API token that `pilot serve` requires once it exists (`pilot token create`).
    Token(serve::TokenArgs),
    /// Whether the daemon runs, and each trigger's next fire time.
    Status(status::StatusArgs),
    /// The daemon's workflows: `list`, `show NAME`, `enable NAME`, `disable NAME`.
    Workflows(workflows::WorkflowsArgs),
    /// Run `pilot serve` as a systemd user service from login on: `install [--no-start]`, `uninstall`.
    Service(service::ServiceArgs),
    /// Print a shell completion script: `pilot completions bash > /etc/bash_completion.d/pilot`.
    Completions(shell::CompletionsArgs),
    /// Print the manual page (roff): `pilot man | man -l -`.
    Man,
}

/// `$PILOT_HOME/settings.json` (defaults when there is none); an invalid file is an error naming its line.
pub(crate) fn settings() -> Result<server::settings::Settings, String> {
    server::settings::Settings::load(&server::home::PilotHome::from_env().settings())
}

/// The store this command uses: `--store` / `PILOT_STORE`, else `store` in settings.json, else SQLite in
/// `$PILOT_HOME` (see `server::store_location`).
pub(crate) fn store_location(home: &server::home::PilotHome) -> Result<server::store_location::StoreLocation, String> {
    let settings = server::settings::Settings::load(&home.settings());
    let from_settings = match &settings {
        Ok(settings) => settings.store.as_ref().map(|url| url.0.as_str()),
        // An invalid settings file matters here only if nothing else names the store.
        Err(message) if std::env::var_os(server::store_location::STORE_ENV).is_none() => {
            return Err(message.clone());
        }
        Err(_) => None,
    };
    server::store_location::StoreLocation::choose(home, None, from_settings)
}

/// The expression budget of settings.json (the default when the file is missing or invalid: `pilot check`
/// reports an invalid file itself).
pub(crate) fn expression_budget() -> expr_grammar::Budget {
    settings().map(|settings| settings.expressions.budget()).unwrap_or_default()
}

/// The built-in and installed actions; connectors that could not be loaded are warned about (they never stop a
/// command: the rest still works).
pub(crate) fn toolbox(home: &server::home::PilotHome) -> server::toolbox::Toolbox {
    let toolbox = server::toolbox::Toolbox::load(home);
    for problem in &toolbox.problems {
        ui::warn(&format!("custom connector not loaded: {problem}"));
    }
    toolbox
}

/// Parses the command line, applies the global flags and runs the command.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(server::settings::StoreUrl(url)) = &cli.store {
        // SAFETY: no other thread runs yet (each command starts its runtime later), so nothing reads the
        // environment meanwhile. `--store` is then PILOT_STORE for this command and every process it starts.
        unsafe { std::env::set_var(server::store_location::STORE_ENV, url) };
    }
    ui::init(ui::Ui { color: cli.color, quiet: cli.quiet, verbose: cli.verbose, json: cli.json });
    ui::install_tracing();
    match cli.command {
        Command::Compile(args) => compile::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Schema(args) => schema::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Executions(args) => executions::run(&args),
        Command::Logs(args) => logs::run(&args),
        Command::Connectors(args) => connectors::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Resume(args) => resume::run(&args),
        Command::Cancel(args) => cancel::run(&args),
        Command::Retry(args) => retry::run(&args),
        Command::Credentials(args) => credentials::run(&args),
        Command::Doctor(args) => doctor::run(&args),
        Command::Store(args) => store::run(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Token(args) => serve::token(&args),
        Command::Status(args) => status::run(&args),
        Command::Workflows(args) => workflows::run(&args),
        Command::Service(args) => service::run(&args),
        Command::Completions(args) => shell::completions(&args, &mut Cli::command()),
        Command::Man => shell::man(&Cli::command()),
    }
}
