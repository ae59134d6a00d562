//! A real PostgreSQL server for tests, on loopback.
//!
//! [`fresh_database`] gives each test an empty database of its own. The server is, in order of preference:
//! - the one `PILOT_TEST_POSTGRES` names (a URL whose user may `CREATE DATABASE`); its test databases are dropped
//!   when their test ends;
//! - one this process starts, once, from the PostgreSQL binaries it finds (`PILOT_POSTGRES_BIN`, else the newest
//!   `/usr/lib/postgresql/*/bin`, else `initdb` on `PATH`): a temporary data directory, an ephemeral port on
//!   127.0.0.1, no fsync (unless `PILOT_TEST_POSTGRES_DURABLE=1`, for benchmarks). A small shell keeps it and waits on a pipe from this process: when the test process
//!   exits (however it exits) the pipe closes, and the shell stops the server and removes the directory. As root
//!   (PostgreSQL refuses to run as root) it runs as the `postgres` user.
//!
//! Without either, a test prints one line on stderr saying why it is skipped and returns, unless
//! `PILOT_REQUIRE_POSTGRES=1` (set by `scripts/test`): then the missing server fails the test.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// One test's own database; dropped from an external server when the test ends.
#[derive(Debug)]
pub struct TestDatabase {
    /// Connects to this test's database.
    pub url: String,
    admin_url: String,
    name: String,
    external: bool,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if !self.external {
            return; // the whole data directory goes when the process ends
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Its own thread and runtime: the test's runtime may be shutting down.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            runtime.block_on(async {
                let client = connect(&admin_url).await.ok()?;
                client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.ok()
            })
        })
        .join();
    }
}

/// The server the tests of this process share: its admin URL (database `postgres`), or why there is none.
struct Server {
    admin_url: String,
    external: bool,
    /// Closing it (at process exit) stops the server; never dropped before.
    _keeper: Option<std::process::ChildStdin>,
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// An empty database for the test `test`, or `None` after printing why the test is skipped. Panics when no server
/// is available and `PILOT_REQUIRE_POSTGRES=1`, or when the server fails to create the database.
pub async fn fresh_database(test: &str) -> Option<TestDatabase> {
    let server = match SERVER.get_or_init(find_or_start) {
        Ok(server) => server,
        Err(reason) => {
            skip_or_fail(test, reason);
            return None;
        }
    };
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let name = format!("pilot_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
    let client = connect(&server.admin_url).await.unwrap_or_else(|err| panic!("connecting to the test server: {err}"));
    client
        .batch_execute(&format!("CREATE DATABASE \"{name}\""))
        .await
        .unwrap_or_else(|err| panic!("creating test database {name}: {err}"));
    Some(TestDatabase {
        url: with_database(&server.admin_url, &name),
        admin_url: server.admin_url.clone(),
        name,
        external: server.external,
    })
}

/// Whether tests must fail rather than skip without a server.
pub fn required() -> bool {
    std::env::var("PILOT_REQUIRE_POSTGRES").is_ok_and(|value| value == "1")
}

fn skip_or_fail(test: &str, reason: &str) {
    if required() {
        panic!("{test}: PILOT_REQUIRE_POSTGRES=1 but no PostgreSQL server is available: {reason}");
    }
    // Straight to the stderr stream, not `eprintln!`: the test harness captures that for a passing test, and the
    // skip must show.
    let line = format!("skipping {test}: no PostgreSQL server ({reason}; set PILOT_TEST_POSTGRES to a server URL)\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// `url` with its database (the path) replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(base, query)| (base, Some(query)));
    let authority_end = base.find("://").map_or(0, |scheme| scheme + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

fn find_or_start() -> Result<Server, String> {
    if let Ok(url) = std::env::var("PILOT_TEST_POSTGRES")
        && !url.is_empty()
    {
        return Ok(Server { admin_url: url, external: true, _keeper: None });
    }
    let bin =
        binaries().ok_or("PILOT_TEST_POSTGRES is not set and no PostgreSQL binaries (initdb, postgres) were found")?;
    start(&bin)
}

fn binaries() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("PILOT_POSTGRES_BIN").map(PathBuf::from) {
        return has_server(&dir).then_some(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| Some((entry.file_name().to_str()?.parse().ok()?, entry.path().join("bin"))))
        .filter(|(_, dir)| has_server(dir))
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions.pop() {
        return Some(dir);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).find(|dir| has_server(dir))
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Runs `program` as the `postgres` user when this process is root.
fn server_command(program: &Path, as_postgres: bool) -> Command {
    if as_postgres {
        let mut command = Command::new("setpriv");
        command.args(["--reuid=postgres", "--regid=postgres", "--clear-groups", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn start(bin: &Path) -> Result<Server, String> {
    let as_postgres = is_root();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let dir = std::env::temp_dir().join(format!("pilot-test-postgres-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|err| format!("creating {}: {err}", dir.display()))?;
    if as_postgres {
        let chown = Command::new("chown").arg("postgres:postgres").arg(&dir).status();
        if !chown.is_ok_and(|status| status.success()) {
            let _ = std::fs::remove_dir_all(&dir);
            return Err("running as root and cannot hand a data directory to the `postgres` user".to_owned());
        }
    }
    let data = dir.join("data");
    let initdb = server_command(&bin.join("initdb"), as_postgres)
        .arg("-D")
        .arg(&data)
        .args(["-U", "pilot", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"])
        .stdout(Stdio::null())
        .output()
        .map_err(|err| format!("running initdb: {err}"))?;
    if !initdb.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(format!("initdb failed: {}", String::from_utf8_lossy(&initdb.stderr).trim()));
    }
    let mut last_error = String::new();
    for _ in 0..3 {
        match launch(bin, &dir, as_postgres) {
            Ok(server) => return Ok(server),
            Err(error) => last_error = error,
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Err(last_error)
}

/// Starts the server on a free port under a keeper shell; waits until it accepts connections.
fn launch(bin: &Path, dir: &Path, as_postgres: bool) -> Result<Server, String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map_err(|err| format!("finding a free port: {err}"))?
        .port();
    let postgres = server_command(&bin.join("postgres"), as_postgres);
    let mut words: Vec<String> = vec![postgres.get_program().to_string_lossy().into_owned()];
    words.extend(postgres.get_args().map(|arg| arg.to_string_lossy().into_owned()));
    let quoted: Vec<String> = words.iter().map(|word| format!("'{}'", word.replace('\'', "'\\''"))).collect();
    // The keeper: starts the server, waits for its stdin to close (this process ended), then stops the server
    // (fast shutdown) and removes the directory. `exit` of the server ends the keeper too.
    // Tests need no durability; benchmarks comparing stores ask for it (`PILOT_TEST_POSTGRES_DURABLE=1`).
    let durable = std::env::var("PILOT_TEST_POSTGRES_DURABLE").is_ok_and(|value| value == "1");
    let speed = if durable { "" } else { "-c fsync=off -c synchronous_commit=off -c full_page_writes=off" };
    let script = format!(
        "{} -D \"$1/data\" -p {port} -h 127.0.0.1 -k \"$1\" {speed} \
         -c max_connections=300 >\"$1/server.log\" 2>&1 &
         server=$!
         read -r _ignored
         kill -INT $server 2>/dev/null
         wait $server
         rm -rf \"$1\"",
        quoted.join(" ")
    );
    let mut keeper = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("pilot-test-postgres")
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| format!("starting the keeper shell: {err}"))?;
    let stdin = keeper.stdin.take();
    let deadline = Instant::now() + Duration::from_secs(30);
    let ready = bin.join("pg_isready");
    loop {
        let answered = Command::new(&ready)
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string(), "-U", "pilot", "-d", "postgres"])
            .status()
            .is_ok_and(|status| status.success());
        if answered {
            return Ok(Server {
                admin_url: format!("postgres://pilot@127.0.0.1:{port}/postgres"),
                external: false,
                _keeper: stdin,
            });
        }
        if keeper.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
            let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
            if let Some(mut stdin) = stdin {
                let _ = stdin.write_all(b"stop\n");
            }
            let _ = keeper.wait();
            return Err(format!("the PostgreSQL server did not start on port {port}: {}", log.trim()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_name_replaces_the_path_of_a_url() {
        assert_eq!(with_database("postgres://u:p@h:5/postgres", "t1"), "postgres://u:p@h:5/t1");
        assert_eq!(with_database("postgres://h/x?sslmode=disable", "t2"), "postgres://h/t2?sslmode=disable");
        assert_eq!(with_database("postgres://h:5", "t3"), "postgres://h:5/t3");
    }

    #[tokio::test]
    async fn a_test_database_is_empty_and_answers_queries() {
        let Some(database) = fresh_database("a_test_database_is_empty_and_answers_queries").await else { return };
        let client = connect(&database.url).await.expect("connect to the test database");
        let tables: i64 = client
            .query_one("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", &[])
            .await
            .expect("query")
            .get(0);
        assert_eq!(tables, 0);
    }
}
