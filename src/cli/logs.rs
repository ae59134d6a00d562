//! `pilot logs ID`: prints an execution's log (`$PILOT_HOME/logs/<execution-id>.log`), one event per line.
//! An id may be any unique prefix; an unknown or ambiguous one exits 2.

use std::io::Write;
use std::process::ExitCode;

use executor::store::Store;

use super::executions::{resolve, store_failed, with_store};

#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// The execution id, or a unique prefix of it.
    pub id: String,
}

pub fn run(args: &LogsArgs) -> ExitCode {
    with_store(|store| async move {
        let id = match resolve(&store, &args.id).await {
            Ok(id) => id,
            Err(code) => return code,
        };
        match store.read_log(&id).await {
            Ok(Some(text)) => {
                // A closed pipe (`pilot logs ID | head`) is not an error worth reporting.
                let _ = std::io::stdout().write_all(text.as_bytes());
                ExitCode::SUCCESS
            }
            Ok(None) => {
                eprintln!("execution {id} has no log yet");
                ExitCode::SUCCESS
            }
            Err(error) => store_failed(&error),
        }
    })
}
