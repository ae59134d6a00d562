//! `pilot logs ID`: prints an execution's log (`$PILOT_HOME/logs/<execution-id>.log`), one event per line.
//! An id may be any unique prefix; an unknown or ambiguous one exits 2.

use std::process::ExitCode;

use executor::store::Store;

use super::executions::{resolve, store_failed, with_store};
use super::output::print;

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
                print(&text);
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
