//! `pilot store migrate [--to URL] [--from FILE] [--force]`: copies an SQLite store (`$PILOT_HOME/pilot.db` and
//! its `logs/`, or the database `--from` names and the `logs/` beside it) into a PostgreSQL store: workflows and
//! their versions, triggers, executions with their steps and logs, credentials (still encrypted), connectors'
//! rows and webhook idempotency keys (not the daemon's instances). The target is `--to`, else the PostgreSQL store
//! `--store` / `PILOT_STORE` / settings.json select. One transaction on the target, committed once every table
//! holds as many rows as the source; a target with rows is refused unless `--force` (which replaces them), and
//! so is one a live `pilot serve` node uses, and a source a `pilot serve` runs on. Exit status: 0 copied, 1 the copy failed (nothing committed),
//! 2 nothing was tried (no source, no or a bad target, a non-empty or busy target, a daemon on the source).

use super::exit;
use super::output::outln;
use super::ui;
use executor::store::postgres::{PostgresOptions, PostgresStore, is_postgres_url, redact_url};
use executor::store::transfer::{CopyError, CopyOptions, TableCounts, copy_to_postgres};
use executor::store::{LogFolder, SqliteStore, StoreOptions};
use server::home::PilotHome;
use server::settings::StoreUrl;
use server::store_location::StoreLocation;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

/// Executions read and written per batch.
const BATCH: usize = 500;

#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    #[command(subcommand)]
    pub command: StoreCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Copy the SQLite store into a PostgreSQL store, verifying the row count of every table.
    Migrate(MigrateArgs),
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The PostgreSQL store to fill (postgres://USER:PASSWORD@HOST:PORT/DATABASE). Default: the store --store /
    /// PILOT_STORE / settings.json select (PILOT_STORE keeps the password off the command line).
    #[arg(long, value_name = "URL")]
    pub to: Option<StoreUrl>,
    /// The SQLite database to copy (its logs in the `logs` folder beside it). Default: $PILOT_HOME/pilot.db.
    #[arg(long, value_name = "FILE")]
    pub from: Option<PathBuf>,
    /// Replace what the target store holds (without it a store with any row is refused).
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &StoreArgs) -> ExitCode {
    match &args.command {
        StoreCommand::Migrate(migrate) => run_migrate(migrate),
    }
}

fn run_migrate(args: &MigrateArgs) -> ExitCode {
    let home = PilotHome::from_env();
    let url = match target(&home, args) {
        Ok(url) => url,
        Err(message) => return ui::fail(exit::NOT_RUN, &message),
    };
    let (database, logs) = match &args.from {
        Some(file) => (file.clone(), LogFolder::NextToDatabase),
        None => (home.database(), LogFolder::At(home.logs())),
    };
    if !database.is_file() {
        return ui::fail(exit::NOT_RUN, &format!("there is no SQLite store at {}", database.display()));
    }
    // A daemon on the source would go on writing what is being copied (the copy is one snapshot: later writes
    // would be left behind).
    if let Err(message) = no_daemon_on(&source_home(&home, args)) {
        return ui::fail(exit::NOT_RUN, &message);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return ui::fail(exit::FAILED, &format!("cannot start the async runtime: {error}")),
    };
    let to = redact_url(&url);
    runtime.block_on(async {
        let source = match SqliteStore::open(&database, StoreOptions { logs, ..StoreOptions::default() }) {
            Ok(source) => source,
            Err(error) => return ui::fail(exit::FAILED, &error.to_string()),
        };
        let target = match PostgresStore::connect(&url, PostgresOptions::default()).await {
            Ok(target) => target,
            Err(error) => return ui::fail(exit::FAILED, &error.to_string()),
        };
        let options = CopyOptions { replace: args.force, batch: BATCH, now: now() };
        let started = Instant::now();
        match copy_to_postgres(&source, &target, &options).await {
            Ok(counts) => {
                report(&database.display().to_string(), &to, &counts, args.force, started.elapsed().as_secs_f64());
                ExitCode::SUCCESS
            }
            Err(error @ CopyError::NotEmpty { .. }) => {
                ui::fail(exit::NOT_RUN, &format!("{error}: give --force to replace its contents"))
            }
            Err(error @ CopyError::InUse { .. }) => ui::fail(exit::NOT_RUN, &error.to_string()),
            Err(error) => ui::fail(exit::FAILED, &error.to_string()),
        }
    })
}

/// `--to`, else the PostgreSQL store the command's store selection names.
fn target(home: &PilotHome, args: &MigrateArgs) -> Result<String, String> {
    if let Some(StoreUrl(url)) = &args.to {
        let url = url.trim();
        if !is_postgres_url(url) {
            return Err(format!(
                "--to: `{}` is not a PostgreSQL URL: give postgres://USER@HOST:PORT/DATABASE",
                redact_url(url)
            ));
        }
        return Ok(url.to_owned());
    }
    match super::store_location(home)? {
        StoreLocation::Postgres(url) => Ok(url),
        StoreLocation::Sqlite { .. } => Err("give the PostgreSQL store to copy into: --to URL (or set \
                                             PILOT_STORE, which keeps the password off the command line)"
            .to_owned()),
    }
}

/// The Pilot home whose daemon could be writing the source: `$PILOT_HOME`, or the folder of `--from`.
fn source_home(home: &PilotHome, args: &MigrateArgs) -> PilotHome {
    match args.from.as_deref().and_then(std::path::Path::parent) {
        Some(folder) if !folder.as_os_str().is_empty() => PilotHome::at(folder),
        Some(_) => PilotHome::at("."),
        None => home.clone(),
    }
}

fn no_daemon_on(home: &PilotHome) -> Result<(), String> {
    match server::client::find_daemon(home) {
        Ok(None) => Ok(()),
        Ok(Some(daemon)) => Err(format!(
            "pilot serve is running for {} (process {}, {}): stop it first, then migrate",
            home.root().display(),
            daemon.pid,
            daemon.addr
        )),
        Err(error) => Err(error.to_string()),
    }
}

fn report(from: &str, to: &str, counts: &TableCounts, replaced: bool, seconds: f64) {
    if ui::json() {
        let tables: serde_json::Map<String, serde_json::Value> =
            counts.tables().iter().map(|(table, count)| ((*table).to_owned(), (*count).into())).collect();
        let document = serde_json::json!({
            "from": from,
            "to": to,
            "replaced": replaced,
            "tables": tables,
            "seconds": (seconds * 1000.0).round() / 1000.0,
        });
        outln!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
        return;
    }
    outln!("copied {from} to {to} in {seconds:.2} s; every table's row count verified:");
    for (table, count) in counts.tables() {
        outln!("  {table:<18} {count}");
    }
}

fn now() -> expr_grammar::Timestamp {
    use executor::engine::{Clock, SystemClock};
    SystemClock.now()
}
