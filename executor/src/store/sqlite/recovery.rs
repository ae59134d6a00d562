//! Checking, backing up and repairing the database file (`pilot doctor`). Backups and repairs use
//! `VACUUM INTO`, which writes a consistent, compact copy of everything SQLite can still read.

use super::SqliteStore;
use super::open::{check_readable, classify, open_reader};
use super::shutdown;
use crate::store::StoreError;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The problems `PRAGMA quick_check` or `integrity_check` reports (at most `limit`); empty when it says `ok`.
pub(crate) fn check_rows(conn: &Connection, pragma: &str, limit: u32) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(&format!("PRAGMA {pragma}({limit})"))?;
    let rows: Vec<String> = statement.query_map([], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?;
    Ok(if rows == ["ok"] { Vec::new() } else { rows })
}

/// What a full check of the database found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub path: PathBuf,
    /// `PRAGMA integrity_check`'s findings (at most 20); empty when the file is sound.
    pub problems: Vec<String>,
    /// A process stopped with the store open (the next open checks the file before writing).
    pub unclean_shutdown: bool,
}

impl CheckReport {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// What a repair did.
#[derive(Debug, Clone, PartialEq)]
pub struct RepairReport {
    /// The rebuilt database, in the damaged one's place.
    pub path: PathBuf,
    /// Where the damaged file was moved (with its `-wal` and `-shm`, if any).
    pub damaged_copy: PathBuf,
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// `VACUUM INTO` needs a connection that may write (the new file is opened like the database).
fn copy_connection(path: &Path) -> Result<Connection, StoreError> {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let fail = |err: rusqlite::Error| classify(path, "opening it to copy it", BUSY_TIMEOUT, &err);
    let conn = Connection::open_with_flags(path, flags).map_err(fail)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    Ok(conn)
}

fn vacuum_into(conn: &Connection, path: &Path, to: &Path) -> Result<(), StoreError> {
    let target = to.to_str().ok_or_else(|| StoreError::Invalid {
        reason: format!("the backup path {} is not valid UTF-8", to.display()),
    })?;
    conn.execute("VACUUM INTO ?1", [target])
        .map(|_| ())
        .map_err(|err| classify(path, &format!("copying it into {} (VACUUM INTO)", to.display()), BUSY_TIMEOUT, &err))
}

/// When `VACUUM INTO` fails (it copies indexes as they are, so a damaged index stops it): a new database with
/// this build's schema, filled table by table from the rows of the damaged one (read in rowid order, so its
/// indexes are not read at all; the new indexes are built from the rows).
fn rebuild_table_by_table(path: &Path, rebuilt: &Path) -> Result<(), StoreError> {
    let fail = |doing: &str| {
        let doing = format!("rebuilding it into {}: {doing}", rebuilt.display());
        // Damage met here cannot be repaired this way: say where, not "repair it".
        move |err: rusqlite::Error| match classify(path, &doing, BUSY_TIMEOUT, &err) {
            StoreError::Damaged { path, detail } => StoreError::Database {
                path,
                doing,
                reason: format!("{detail}; what cannot be read cannot be rebuilt: restore a backup"),
            },
            other => other,
        }
    };
    let conn = Connection::open(rebuilt).map_err(fail("creating the new file"))?;
    super::open::migrate(&conn, rebuilt, BUSY_TIMEOUT)?;
    let source = path.to_str().ok_or_else(|| StoreError::Invalid { reason: "the path is not valid UTF-8".into() })?;
    conn.execute("ATTACH DATABASE ?1 AS damaged", [source]).map_err(fail("opening the damaged file"))?;
    let version: i64 = conn
        .query_row("PRAGMA damaged.user_version", [], |row| row.get(0))
        .map_err(fail("reading the schema version"))?;
    if version != super::SCHEMA_VERSION {
        let reason = format!("schema version {version}: open it once with this Pilot, or with the one that wrote it");
        return Err(StoreError::Database { path: path.to_owned(), doing: "repairing it".to_owned(), reason });
    }
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM damaged.sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .and_then(|mut statement| statement.query_map([], |row| row.get(0))?.collect())
        .map_err(fail("listing the tables"))?;
    conn.execute_batch("BEGIN").map_err(fail("starting"))?;
    for table in tables {
        let copy = format!("INSERT INTO main.\"{table}\" SELECT * FROM damaged.\"{table}\" ORDER BY rowid");
        conn.execute_batch(&copy).map_err(fail(&format!("copying table {table}")))?;
    }
    conn.execute_batch("COMMIT").map_err(fail("committing"))?;
    conn.execute_batch("DETACH DATABASE damaged").map_err(fail("closing the damaged file"))
}

fn copy_bytes(path: &Path, to: &Path) -> Result<(), StoreError> {
    let failed = |err: std::io::Error| StoreError::Database {
        path: path.to_owned(),
        doing: format!("copying it to {}", to.display()),
        reason: err.to_string(),
    };
    std::fs::copy(path, to).map_err(failed)?;
    let wal = with_suffix(path, "-wal");
    if wal.exists() {
        std::fs::copy(&wal, with_suffix(to, "-wal")).map_err(failed)?;
    }
    Ok(())
}

impl SqliteStore {
    /// A full `PRAGMA integrity_check` of the database at `path`, reading only (other processes may use it).
    pub fn check(path: impl AsRef<Path>) -> Result<CheckReport, StoreError> {
        let path = path.as_ref();
        check_readable(path)?;
        let conn = open_reader(path, BUSY_TIMEOUT, true)?;
        let problems = match check_rows(&conn, "integrity_check", 20) {
            Ok(problems) => problems,
            Err(err) => match classify(path, "checking it", BUSY_TIMEOUT, &err) {
                StoreError::Damaged { detail, .. } => vec![detail],
                other => return Err(other),
            },
        };
        let unclean_shutdown = !shutdown::stale_markers(path).is_empty();
        Ok(CheckReport { path: path.to_owned(), problems, unclean_shutdown })
    }

    /// Copies the database at `path` into the new file `to` (`VACUUM INTO`: consistent even while other
    /// processes write, and compact). A damaged file that `VACUUM INTO` cannot read is copied byte for byte
    /// (with its `-wal`). `to` must not exist yet.
    pub fn backup(path: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<(), StoreError> {
        let (path, to) = (path.as_ref(), to.as_ref());
        check_readable(path)?;
        if to.exists() {
            return Err(StoreError::Invalid { reason: format!("{} already exists: choose a new file", to.display()) });
        }
        match vacuum_into(&copy_connection(path)?, path, to) {
            Err(StoreError::Damaged { .. }) => {
                let _ = std::fs::remove_file(to);
                copy_bytes(path, to)
            }
            copied => copied,
        }
    }

    /// Rebuilds a damaged database from what SQLite can still read: `VACUUM INTO` a new file (or, when that
    /// fails, a copy table by table that rebuilds every index), checks it, moves
    /// the damaged file (and its `-wal`, `-shm`) aside to `<file>.damaged-<unix seconds>`, and puts the new one in
    /// its place. Refused while another process has the store open. Rows on unreadable pages are lost.
    pub fn repair(path: impl AsRef<Path>) -> Result<RepairReport, StoreError> {
        let path = path.as_ref();
        check_readable(path)?;
        if shutdown::live_markers(path) > 0 {
            let doing = "repairing it (close every other Pilot process first)".to_owned();
            return Err(StoreError::Locked { path: path.to_owned(), doing, waited_ms: 0 });
        }
        let rebuilt = with_suffix(path, ".rebuilt");
        let _ = std::fs::remove_file(&rebuilt);
        if vacuum_into(&copy_connection(path)?, path, &rebuilt).is_err() {
            let _ = std::fs::remove_file(&rebuilt);
            rebuild_table_by_table(path, &rebuilt).inspect_err(|_| {
                let _ = std::fs::remove_file(&rebuilt);
            })?;
        }
        let report = SqliteStore::check(&rebuilt)?;
        if !report.is_sound() {
            let _ = std::fs::remove_file(&rebuilt);
            let reason = format!("the rebuilt copy is damaged too: {}", report.problems.join("; "));
            return Err(StoreError::Database { path: path.to_owned(), doing: "repairing it".to_owned(), reason });
        }
        let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_secs());
        let damaged_copy = with_suffix(path, &format!(".damaged-{seconds}"));
        let moved = |from: &Path, to: &Path| {
            std::fs::rename(from, to).map_err(|err| StoreError::Database {
                path: path.to_owned(),
                doing: format!("moving {} to {}", from.display(), to.display()),
                reason: err.to_string(),
            })
        };
        moved(path, &damaged_copy)?;
        for suffix in ["-wal", "-shm"] {
            let side = with_suffix(path, suffix);
            if side.exists() {
                moved(&side, &with_suffix(&damaged_copy, suffix))?;
            }
        }
        moved(&rebuilt, path)?;
        shutdown::remove(&shutdown::stale_markers(path));
        Ok(RepairReport { path: path.to_owned(), damaged_copy })
    }
}
