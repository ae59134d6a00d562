//! Which store a command or the daemon uses: SQLite under `$PILOT_HOME` (the default), or a PostgreSQL database
//! shared by several nodes. Chosen, first found wins, by `--store URL`, the `PILOT_STORE` environment variable,
//! or `store` in `settings.json`. Every command opens its store through [`open_store`].
//!
//! The URL's password is a secret: only [`StoreLocation::describe`] (redacted) is ever shown.

use crate::home::PilotHome;
use executor::store::postgres::{PostgresOptions, PostgresStore, is_postgres_url, redact_url};
use executor::store::{LogFolder, SqliteStore, Store, StoreError, StoreOptions};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the store is.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// `$PILOT_HOME/pilot.db`, execution logs in `$PILOT_HOME/logs`.
    Sqlite { database: PathBuf, logs: PathBuf },
    /// A PostgreSQL URL (`postgres://user:password@host:port/database`); logs live in the database.
    Postgres(String),
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// The environment variable naming the store (as `--store` does).
pub const STORE_ENV: &str = "PILOT_STORE";

impl StoreLocation {
    /// `flag` (`--store`), else `PILOT_STORE`, else `store` of settings.json, else SQLite under `home`. An empty
    /// value counts as unset. Anything but a `postgres://` or `postgresql://` URL is refused (naming where it came
    /// from), since SQLite's place is `PILOT_HOME`.
    pub fn choose(home: &PilotHome, flag: Option<&str>, settings: Option<&str>) -> Result<StoreLocation, String> {
        let env = std::env::var(STORE_ENV).ok();
        let given = [("--store", flag), (STORE_ENV, env.as_deref()), ("`store` in settings.json", settings)]
            .into_iter()
            .find_map(|(source, value)| value.filter(|value| !value.trim().is_empty()).map(|value| (source, value)));
        match given {
            None => Ok(StoreLocation::Sqlite { database: home.database(), logs: home.logs() }),
            Some((_, url)) if is_postgres_url(url.trim()) => Ok(StoreLocation::Postgres(url.trim().to_owned())),
            Some((source, url)) => Err(format!(
                "{source}: `{}` is not a store URL: give postgres://USER@HOST:PORT/DATABASE (the SQLite store is \
                 $PILOT_HOME/pilot.db: set PILOT_HOME instead)",
                redact_url(url)
            )),
        }
    }

    /// The location for people: the database file, or the URL without its password.
    pub fn describe(&self) -> String {
        match self {
            StoreLocation::Sqlite { database, .. } => database.display().to_string(),
            StoreLocation::Postgres(url) => redact_url(url),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, StoreLocation::Postgres(_))
    }

    /// Refuses a PostgreSQL store for a command that only knows the SQLite file yet.
    pub fn sqlite_only(&self, command: &str) -> Result<(), String> {
        match self {
            StoreLocation::Sqlite { .. } => Ok(()),
            StoreLocation::Postgres(_) => Err(format!(
                "`{command}` works on the SQLite store only for now; the store selected is {} (unset --store / \
                 PILOT_STORE / `store` in settings.json to use $PILOT_HOME/pilot.db)",
                self.describe()
            )),
        }
    }
}

/// Opens the store at `location` (creating and migrating it if needed). Must run inside a tokio runtime.
pub async fn open_store(location: &StoreLocation) -> Result<Arc<dyn Store>, StoreError> {
    Ok(open_shared(location).await?.0)
}

/// [`open_store`], and the PostgreSQL store again when it is one (what only a shared store does: claiming other
/// nodes' pending executions, waking on their acceptance).
pub async fn open_shared(location: &StoreLocation) -> Result<(Arc<dyn Store>, Option<Arc<PostgresStore>>), StoreError> {
    match location {
        StoreLocation::Sqlite { database, logs } => {
            let options = StoreOptions { logs: LogFolder::At(logs.clone()), ..StoreOptions::default() };
            Ok((Arc::new(SqliteStore::open(database, options)?), None))
        }
        StoreLocation::Postgres(url) => {
            let store = Arc::new(PostgresStore::connect(url, PostgresOptions::default()).await?);
            Ok((store.clone(), Some(store)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_settings_and_sqlite_is_the_default() {
        // PILOT_STORE is left unset by the test runner (scripts/test never sets it).
        if std::env::var_os(STORE_ENV).is_some() {
            return;
        }
        let home = PilotHome::at("/tmp/pilot-home");
        let default = StoreLocation::choose(&home, None, None).expect("default");
        assert_eq!(default, StoreLocation::Sqlite { database: home.database(), logs: home.logs() });
        let from_settings = StoreLocation::choose(&home, None, Some("postgres://db/settings")).expect("settings");
        assert_eq!(from_settings, StoreLocation::Postgres("postgres://db/settings".to_owned()));
        let flag = StoreLocation::choose(&home, Some("postgresql://db/flag"), Some("postgres://db/settings"));
        assert_eq!(flag, Ok(StoreLocation::Postgres("postgresql://db/flag".to_owned())));
        assert_eq!(StoreLocation::choose(&home, Some(""), None), Ok(default));
    }

    #[test]
    fn a_path_is_refused_and_a_password_never_shows() {
        let home = PilotHome::at("/tmp/pilot-home");
        let refused = StoreLocation::choose(&home, Some("/srv/pilot.db"), None).expect_err("a path");
        assert!(refused.starts_with("--store: `/srv/pilot.db` is not a store URL"), "{refused}");
        let bad = StoreLocation::choose(&home, Some("mysql://pilot:s3cret@db/pilot"), None).expect_err("not postgres");
        assert!(!bad.contains("s3cret") && bad.contains("mysql://pilot:***@db/pilot"), "{bad}");
        let location = StoreLocation::Postgres("postgres://pilot:s3cret@db/pilot".to_owned());
        assert_eq!(
            format!("{location:?} {}", location.describe()),
            "postgres://pilot:***@db/pilot postgres://pilot:***@db/pilot"
        );
        let refusal = location.sqlite_only("pilot doctor").expect_err("postgres");
        assert!(!refusal.contains("s3cret"), "{refusal}");
    }
}
