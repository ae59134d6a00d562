//! Opening the database file: folders, a header check before SQLite touches the file, pragmas, migrations, and
//! turning SQLite's error codes into [`StoreError`]s that name the file.

use super::schema::MIGRATIONS;
use crate::store::StoreError;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the execution logs go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFolder {
    /// `logs/` in the database's folder: `$PILOT_HOME/logs` for `$PILOT_HOME/pilot.db`.
    NextToDatabase,
    At(PathBuf),
    /// No log files (benches).
    Disabled,
}

/// How a [`super::SqliteStore`] is opened. `Default` is what Pilot uses.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// How long a connection waits for another process's lock before failing with [`StoreError::Locked`].
    pub busy_timeout: Duration,
    pub logs: LogFolder,
    /// Writes queued while a commit is in flight share the next transaction (group commit). `false` commits each
    /// write alone (only to measure what group commit saves).
    pub group_commit: bool,
    /// At most this many writes per transaction.
    pub max_batch: usize,
    /// Caps the database size in pages (`PRAGMA max_page_count`); past it writes fail as on a full disk.
    pub max_database_pages: Option<u64>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            busy_timeout: Duration::from_secs(5),
            logs: LogFolder::NextToDatabase,
            group_commit: true,
            max_batch: 1024,
            max_database_pages: None,
        }
    }
}

/// Classifies a SQLite error met while `doing` something with the database at `path`.
pub(crate) fn classify(path: &Path, doing: &str, busy_timeout: Duration, err: &rusqlite::Error) -> StoreError {
    let path = path.to_owned();
    let doing = doing.to_owned();
    match err.sqlite_error_code() {
        // Met while using the file, so it may have been written to: not `Corrupt` ("left untouched").
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            StoreError::Damaged { path, detail: err.to_string() }
        }
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path, doing },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Locked { path, doing, waited_ms: busy_timeout.as_millis() as u64 }
        }
        Some(ErrorCode::DiskFull) => StoreError::Full { path, doing },
        _ => StoreError::Database { path, doing, reason: err.to_string() },
    }
}

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// Refuses a file that exists but is not a SQLite database, before SQLite opens (and might touch) it.
pub(crate) fn check_header(path: &Path) -> Result<(), StoreError> {
    use std::io::Read;
    let corrupt = |detail: String| StoreError::Corrupt { path: path.to_owned(), detail };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => {
            return Err(StoreError::Database {
                path: path.to_owned(),
                doing: "opening".to_owned(),
                reason: err.to_string(),
            });
        }
    };
    let mut header = Vec::with_capacity(100);
    (&mut file).take(100).read_to_end(&mut header).map_err(|err| corrupt(format!("cannot read its header: {err}")))?;
    match header.len() {
        0 => Ok(()), // An empty file is a new database to SQLite.
        len if len < 100 => Err(corrupt(format!("the file is {len} bytes, shorter than a SQLite header"))),
        _ if !header.starts_with(SQLITE_HEADER) => {
            Err(corrupt("the file does not start with the SQLite header".to_owned()))
        }
        _ => Ok(()),
    }
}

pub(crate) fn create_folder(folder: &Path) -> Result<(), StoreError> {
    std::fs::create_dir_all(folder)
        .map_err(|err| StoreError::CreateFolder { path: folder.to_owned(), reason: err.to_string() })
}

/// Refuses a database file (or, for a new one, a folder) this process cannot write, before SQLite opens it
/// (SQLite would open a write-protected file read-only and fail later, less clearly).
pub(crate) fn check_writable(path: &Path) -> Result<(), StoreError> {
    let read_only = |doing: String| StoreError::ReadOnly { path: path.to_owned(), doing };
    let denied = |err: &std::io::Error| {
        matches!(err.kind(), std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem)
    };
    match std::fs::OpenOptions::new().append(true).open(path) {
        Ok(_) => Ok(()),
        Err(err) if denied(&err) => Err(read_only(format!("opening it for writing: {err}"))),
        Err(_) => Ok(()), // Missing: SQLite creates it (and names the folder if it cannot).
    }
}

/// Refuses to read-open a file that is missing or not a SQLite database.
pub(crate) fn check_readable(path: &Path) -> Result<(), StoreError> {
    if !path.exists() {
        let reason = "there is no database yet (nothing was recorded)".to_owned();
        return Err(StoreError::Database { path: path.to_owned(), doing: "opening for reading".to_owned(), reason });
    }
    check_header(path)
}

/// Runs `PRAGMA quick_check` (after an unclean shutdown, before anything is written).
fn quick_check(conn: &Connection, path: &Path, busy_timeout: Duration) -> Result<(), StoreError> {
    let problems = match super::recovery::check_rows(conn, "quick_check", 5) {
        Ok(problems) => problems,
        Err(err) => match classify(path, "checking the database after an unclean shutdown", busy_timeout, &err) {
            StoreError::Damaged { detail, .. } => vec![detail],
            other => return Err(other),
        },
    };
    if problems.is_empty() {
        return Ok(());
    }
    let detail = format!("found when checking it after an unclean shutdown: {}", problems.join("; "));
    Err(StoreError::Damaged { path: path.to_owned(), detail })
}

/// Opens the write connection: checks the file (and with `check`, its contents: the last process to write it did
/// not close it), sets WAL, full sync, foreign keys and the busy timeout, then runs the pending migrations.
pub(crate) fn open_writer(path: &Path, options: &StoreOptions, check: bool) -> Result<Connection, StoreError> {
    // A file refused by the header check gets nothing created beside it, not even the lock file.
    check_header(path)?;
    let _setup = needs_setup(path).then(|| SetupLock::take(path));
    let fail = |doing: &'static str| move |err: rusqlite::Error| classify(path, doing, options.busy_timeout, &err);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(fail("opening"))?;
    conn.busy_timeout(options.busy_timeout).map_err(fail("setting the busy timeout"))?;
    // Read the version before anything writes (turning WAL on rewrites the header): a newer file stays untouched.
    let found = schema_version(&conn).map_err(fail("reading the schema version"))?;
    if found > MIGRATIONS.len() as i64 {
        return Err(StoreError::NewerSchema { path: path.to_owned(), found, supported: MIGRATIONS.len() as i64 });
    }
    if check && found > 0 {
        quick_check(&conn, path, options.busy_timeout)?;
    }
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0)).map_err(fail("enabling WAL"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        let reason = format!("journal mode is {mode}, expected wal");
        return Err(StoreError::Database { path: path.to_owned(), doing: "enabling WAL".to_owned(), reason });
    }
    // FULL: in WAL mode a commit is durable only once the WAL is synced; the ack promises durability.
    conn.pragma_update(None, "synchronous", "FULL").map_err(fail("setting synchronous"))?;
    conn.pragma_update(None, "foreign_keys", true).map_err(fail("enabling foreign keys"))?;
    migrate(&conn, path, options.busy_timeout)?;
    if let Some(pages) = options.max_database_pages {
        conn.pragma_update(None, "max_page_count", i64::try_from(pages).unwrap_or(i64::MAX))
            .map_err(fail("capping the size"))?;
    }
    Ok(conn)
}

/// Whether the file is missing, empty or not yet in WAL mode (header bytes 18 and 19 are 2 in WAL mode): only then
/// can two processes race to set it up.
fn needs_setup(path: &Path) -> bool {
    use std::io::Read;
    let mut header = [0u8; 20];
    let read = std::fs::File::open(path).and_then(|mut file| file.read_exact(&mut header));
    read.is_err() || header[18] != 2 || header[19] != 2
}

/// An exclusive lock on `<database>.lock` while a process creates, switches to WAL or migrates the database.
/// SQLite answers "busy" at once, without waiting out the busy timeout, when two connections change the journal
/// mode of a new file together; this makes the second process wait its turn instead (a few milliseconds). The
/// kernel drops the lock when the process dies. Where the file cannot be created (a read-only folder) there is
/// nothing to set up and no lock is taken.
struct SetupLock(#[allow(dead_code)] Option<std::fs::File>);

impl SetupLock {
    fn take(database: &Path) -> SetupLock {
        let mut name = database.as_os_str().to_owned();
        name.push(".lock");
        let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(PathBuf::from(name));
        SetupLock(file.ok().filter(|file| file.lock().is_ok()))
    }
}

/// Opens a read connection (the file already exists and is migrated). `read_only`: the file or its folder may
/// not be writable, so SQLite must not try to create anything beside it.
pub(crate) fn open_reader(path: &Path, busy_timeout: Duration, read_only: bool) -> Result<Connection, StoreError> {
    let fail = |doing: &'static str| move |err: rusqlite::Error| classify(path, doing, busy_timeout, &err);
    let conn = if read_only && std::fs::OpenOptions::new().append(true).open(path).is_err() {
        // SQLite cannot even take its shared-memory lock file beside a file it may not write: read it as an
        // immutable file (no locks, no `-shm`).
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Connection::open_with_flags(immutable_uri(path), flags)
    } else {
        let access = if read_only { OpenFlags::SQLITE_OPEN_READ_ONLY } else { OpenFlags::SQLITE_OPEN_READ_WRITE };
        Connection::open_with_flags(path, access | OpenFlags::SQLITE_OPEN_NO_MUTEX)
    }
    .map_err(fail("opening for reading"))?;
    conn.busy_timeout(busy_timeout).map_err(fail("setting the busy timeout"))?;
    conn.pragma_update(None, "query_only", true).map_err(fail("making the connection read-only"))?;
    Ok(conn)
}

/// `file:PATH?immutable=1`, with the characters a URI path cannot hold escaped.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for ch in path.to_string_lossy().chars() {
        match ch {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", ch as u32)),
            _ => uri.push(ch),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

fn schema_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

/// Applies every migration the database has not seen, each in its own transaction with its version bump.
pub(crate) fn migrate(conn: &Connection, path: &Path, busy_timeout: Duration) -> Result<(), StoreError> {
    let fail = |doing: String| move |err: rusqlite::Error| classify(path, &doing, busy_timeout, &err);
    let supported = MIGRATIONS.len() as i64;
    let found = schema_version(conn).map_err(fail("reading the schema version".into()))?;
    if found > supported {
        return Err(StoreError::NewerSchema { path: path.to_owned(), found, supported });
    }
    for (index, script) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let version = index as i64 + 1;
        let doing = format!("migrating the schema to version {version}");
        let apply = || -> rusqlite::Result<()> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            // Another process opening the same new database may have applied it while this one waited.
            if schema_version(conn)? >= version {
                return conn.execute_batch("COMMIT");
            }
            let applied = conn.execute_batch(script).and_then(|()| conn.pragma_update(None, "user_version", version));
            match applied {
                Ok(()) => conn.execute_batch("COMMIT"),
                Err(err) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(err)
                }
            }
        };
        apply().map_err(fail(doing))?;
    }
    Ok(())
}
