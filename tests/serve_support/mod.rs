//! Runs `pilot serve` for the end-to-end tests: a temporary `$PILOT_HOME` with workflows written into its
//! `workflows/` folder, the daemon on an ephemeral port of 127.0.0.1, its API spoken through [`http`], its store
//! read directly (read-only) to check what was recorded, and a clean stop with SIGTERM.

#![allow(dead_code)] // Each test file uses a part of it.

pub mod http;

use http::{Request, Response};
use serde_json::Value as Json;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long anything a test waits for may take before the test fails (generous: the machine may be busy).
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A temporary `$PILOT_HOME`, removed with it.
pub struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        let home = Home { dir: tempfile::tempdir().unwrap() };
        std::fs::create_dir_all(home.workflows()).unwrap();
        home
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn workflows(&self) -> PathBuf {
        self.path().join("workflows")
    }

    /// Writes `workflows/FILE` (replacing it whole, as an editor's save does: a new file renamed over the old).
    pub fn write_workflow(&self, file: &str, text: &str) -> PathBuf {
        let path = self.workflows().join(file);
        let temporary = self.workflows().join(format!(".{file}.saving"));
        std::fs::write(&temporary, text).unwrap();
        std::fs::rename(&temporary, &path).unwrap();
        path
    }

    /// A folder for the test's own files (outside `$PILOT_HOME/workflows`).
    pub fn work_dir(&self) -> PathBuf {
        let dir = self.path().join("work");
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// `pilot ARGS` with this `$PILOT_HOME`, its output captured.
    pub fn pilot(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_pilot")).env("PILOT_HOME", self.path()).args(args).output().unwrap()
    }

    /// Starts `pilot serve --addr 127.0.0.1:0 --json` and waits until it listens.
    pub fn serve(&self) -> Daemon {
        self.serve_with(&["--addr", "127.0.0.1:0"], &[])
    }

    /// Starts `pilot serve ARGS --json` with extra environment variables and waits until it listens.
    pub fn serve_with(&self, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        match self.try_serve(args, env) {
            Ok(daemon) => daemon,
            Err(failure) => panic!("pilot serve did not start: {failure}"),
        }
    }

    /// Starts `pilot serve ARGS --json`: the daemon once it listens, or (exit status, stdout, stderr) when it
    /// stopped first.
    pub fn try_serve(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Daemon, ServeFailure> {
        let stderr_path = self.path().join(format!("serve-{}.stderr", unique()));
        let mut command = Command::new(env!("CARGO_BIN_EXE_pilot"));
        command
            .env("PILOT_HOME", self.path())
            .env("RUST_LOG", "info")
            .arg("serve")
            .args(args)
            .arg("--json")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr_path).unwrap());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        // Reads the announcement, then keeps reading so that the daemon never writes to a closed pipe.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = sender.send(lines.next().and_then(Result::ok));
            let rest: Vec<String> = lines.map_while(Result::ok).collect();
            let _ = sender.send(Some(rest.join("\n")));
        });
        let line = receiver.recv_timeout(PATIENCE).ok().flatten();
        let announced = line.as_deref().and_then(|line| serde_json::from_str::<Json>(line).ok());
        match announced {
            Some(document) if document.get("addr").is_some() => {
                let addr = document["addr"].as_str().unwrap().to_owned();
                // `0.0.0.0:PORT` is reached through loopback.
                let port = addr.rsplit(':').next().unwrap();
                Ok(Daemon { child: Some(child), addr: format!("127.0.0.1:{port}"), announced: document, stderr_path })
            }
            _ => {
                let status = wait_with_timeout(&mut child, PATIENCE);
                let rest = receiver.recv_timeout(PATIENCE).ok().flatten().unwrap_or_default();
                let stdout = format!("{}\n{rest}", line.unwrap_or_default());
                let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
                Err(ServeFailure { status, stdout, stderr })
            }
        }
    }

    /// The store, read-only, as the daemon left it (or while it runs: WAL lets both read).
    pub fn store(&self) -> rusqlite::Connection {
        let connection = rusqlite::Connection::open_with_flags(
            self.path().join("pilot.db"),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .unwrap();
        connection.busy_timeout(Duration::from_secs(10)).unwrap();
        connection
    }

    /// How many execution rows the store holds for `workflow`.
    pub fn execution_rows(&self, workflow: &str) -> usize {
        let count: i64 = self
            .store()
            .query_row("SELECT COUNT(*) FROM executions WHERE workflow_name = ?1", [workflow], |row| row.get(0))
            .unwrap();
        usize::try_from(count).unwrap()
    }

    /// Every (trigger id, slot) of a workflow's scheduled executions, oldest slot first.
    pub fn schedule_slots(&self, workflow: &str) -> Vec<(String, i64)> {
        let store = self.store();
        let mut query = store
            .prepare(
                "SELECT trigger_id, slot FROM executions WHERE workflow_name = ?1 AND slot IS NOT NULL ORDER BY slot",
            )
            .unwrap();
        query.query_map([workflow], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
    }
}

/// Why `pilot serve` did not start.
#[derive(Debug)]
pub struct ServeFailure {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for ServeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; stdout: {}; stderr: {}", self.status, self.stdout, self.stderr)
    }
}

/// A running `pilot serve`. Dropped while running, it is killed.
pub struct Daemon {
    child: Option<Child>,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The JSON line it printed once listening.
    pub announced: Json,
    stderr_path: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn send(&self, request: Request<'_>) -> Response {
        request.send(&self.addr)
    }

    pub fn get(&self, path: &str) -> Response {
        self.send(Request::new("GET", path))
    }

    pub fn post_json(&self, path: &str, body: &Json) -> Response {
        self.send(Request::new("POST", path).json(body))
    }

    /// What it wrote on stderr so far (to explain a failure).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// `GET /api/v1/executions/ID`.
    pub fn execution(&self, id: &str) -> Json {
        let response = self.get(&format!("/api/v1/executions/{id}"));
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    }

    /// The executions of a workflow through the API, newest first.
    pub fn executions(&self, workflow: &str) -> Vec<Json> {
        let response = self.get(&format!("/api/v1/executions?workflow={workflow}&limit=500"));
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()["items"].as_array().unwrap().clone()
    }

    /// Waits until execution `id` has ended; returns it with its steps.
    pub fn wait_finished(&self, id: &str) -> Json {
        self.wait_for_execution(id, "to end", |execution| {
            !matches!(execution["status"].as_str(), Some("pending" | "running"))
        })
    }

    /// Waits until execution `id` satisfies `done`; returns it.
    pub fn wait_for_execution(&self, id: &str, what: &str, done: impl Fn(&Json) -> bool) -> Json {
        let started = Instant::now();
        loop {
            let execution = self.execution(id);
            if done(&execution) {
                return execution;
            }
            assert!(started.elapsed() < PATIENCE, "execution {id} never came {what}: {execution:#}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `found` answers something; fails the test with `what` after [`PATIENCE`].
    pub fn wait_until<T>(&self, what: &str, found: impl FnMut() -> Option<T>) -> T {
        poll(found).unwrap_or_else(|| panic!("{what}: never happened; daemon said:\n{}", self.stderr()))
    }

    /// POSTs a JSON body to a webhook path and expects it accepted (202); returns the execution id.
    pub fn trigger(&self, path: &str, body: &Json) -> String {
        let response = self.post_json(path, body);
        assert_eq!(response.status, 202, "{path}: {}", response.text());
        response.json()["execution_id"].as_str().unwrap().to_owned()
    }

    /// SIGTERM, then waits for it to exit; returns its exit status.
    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().unwrap();
        signal(&child, libc::SIGTERM);
        wait_with_timeout(&mut child, PATIENCE)
    }

    /// SIGSTOP: the process stops where it is, as a node cut off or paused would (until [`Daemon::unpause`]).
    pub fn pause(&self) {
        signal(self.child.as_ref().unwrap(), libc::SIGSTOP);
    }

    /// SIGCONT: a paused process runs on.
    pub fn unpause(&self) {
        signal(self.child.as_ref().unwrap(), libc::SIGCONT);
    }

    /// SIGKILL: dies at once, leaving what ran as it was.
    pub fn kill(mut self) {
        let mut child = self.child.take().unwrap();
        signal(&child, libc::SIGKILL);
        let _ = child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(child: &Child, signal: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with the pid of a child we have not waited for yet: it still exists.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill({pid}, {signal})");
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            panic!("pilot serve did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `found` every 50 ms until it answers something, for at most [`PATIENCE`].
fn poll<T>(mut found: impl FnMut() -> Option<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        if let Some(value) = found() {
            return Some(value);
        }
        if started.elapsed() > PATIENCE {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The lines of a text file (none when it does not exist yet).
pub fn lines_of(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).map(|text| text.lines().map(str::to_owned).collect()).unwrap_or_default()
}
