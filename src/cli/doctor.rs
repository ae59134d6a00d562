//! `pilot doctor [--backup FILE] [--repair]`: checks `$PILOT_HOME/pilot.db` (a full integrity check), copies it
//! (`--backup`, a consistent copy even while Pilot runs), or rebuilds a damaged one (`--repair`, with no other
//! Pilot process running; the damaged file is kept beside it). Exit status: 0 sound (or backed up, repaired, or
//! no database yet), 1 damaged or the operation failed, 2 a backup or repair of a database that does not exist.

use super::exit;
use super::output::outln;
use super::ui;
use executor::store::SqliteStore;
use server::home::PilotHome;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Copy the database into FILE (a new file) with VACUUM INTO.
    #[arg(long, value_name = "FILE")]
    pub backup: Option<PathBuf>,
    /// Rebuild a damaged database from what can still be read; the damaged file is kept as pilot.db.damaged-TIME.
    #[arg(long)]
    pub repair: bool,
}

pub fn run(args: &DoctorArgs) -> ExitCode {
    let home = PilotHome::from_env();
    if let Err(message) = super::store_location(&home).and_then(|location| location.sqlite_only("pilot doctor")) {
        return ui::fail(exit::NOT_RUN, &message);
    }
    let database = home.database();
    if !database.exists() {
        // Nothing recorded yet: nothing can be damaged (a backup or repair of nothing is a mistake, though).
        if args.backup.is_some() || args.repair {
            return ui::fail(exit::NOT_RUN, &format!("there is no database at {} yet", database.display()));
        }
        return say(&format!("no database at {} yet: nothing to check", database.display()), "empty");
    }
    if let Some(to) = &args.backup {
        return match SqliteStore::backup(&database, to) {
            Ok(()) => say(&format!("backed up {} to {}", database.display(), to.display()), "backed_up"),
            Err(error) => ui::fail(exit::FAILED, &error.to_string()),
        };
    }
    if args.repair {
        return match SqliteStore::repair(&database) {
            Ok(report) => {
                let message = format!(
                    "repaired {}; the damaged file is kept as {}",
                    database.display(),
                    report.damaged_copy.display()
                );
                say(&message, "repaired")
            }
            Err(error) => ui::fail(exit::FAILED, &error.to_string()),
        };
    }
    match SqliteStore::check(&database) {
        Ok(report) if report.is_sound() => say(&format!("{} is sound", database.display()), "sound"),
        Ok(report) => {
            let problems = report.problems.join("\n  ");
            let message = format!(
                "{} is damaged:\n  {problems}\n`pilot doctor --backup FILE` keeps a copy; `pilot doctor --repair` rebuilds it",
                database.display()
            );
            ui::fail(exit::FAILED, &message)
        }
        Err(error) => ui::fail(exit::FAILED, &error.to_string()),
    }
}

fn say(message: &str, status: &str) -> ExitCode {
    if ui::json() {
        outln!("{}", serde_json::json!({ "status": status, "message": message }));
    } else {
        outln!("{message}");
    }
    ExitCode::SUCCESS
}
