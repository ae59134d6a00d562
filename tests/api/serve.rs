//! Starts the real `pilot serve --addr 127.0.0.1:0 --json` on a `PILOT_HOME` and stops it with SIGTERM.

#![allow(dead_code)] // Shared by tests/api_conformance.rs and benches/daemon_load.rs; each uses a part.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running daemon; dropping it sends SIGTERM and waits for the exit.
pub struct Serve {
    child: Child,
    pub addr: SocketAddr,
}

impl Serve {
    /// Starts `program serve` on a free loopback port and waits until it listens.
    pub fn start(program: &Path, home: &Path) -> Serve {
        Serve::start_with(program, home, &[])
    }

    /// [`Serve::start`] with extra environment variables (`PILOT_STORE`: a node of a shared database).
    pub fn start_with(program: &Path, home: &Path, env: &[(&str, &str)]) -> Serve {
        let mut child = Command::new(program)
            .args(["--json", "serve", "--addr", "127.0.0.1:0", "--drain", "2s"])
            .env("PILOT_HOME", home)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start pilot serve");
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read pilot serve's announcement");
        let announced: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|err| panic!("pilot serve announced `{line}`, not JSON: {err}"));
        let addr = announced["addr"].as_str().and_then(|addr| addr.parse().ok()).expect("an `addr` to reach");
        Serve { child, addr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then the exit status (a clean stop is 0).
    pub fn stop(mut self) -> std::process::ExitStatus {
        self.terminate()
    }

    /// SIGKILL: no drain, no flush; what the daemon acknowledged must already be on disk.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn terminate(&mut self) -> std::process::ExitStatus {
        if let Ok(Some(status)) = self.child.try_wait() {
            return status;
        }
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: signals our own child, which has not been reaped (try_wait above saw it running).
        unsafe { libc::kill(pid, libc::SIGTERM) };
        for _ in 0..200 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        self.child.wait().expect("wait for pilot serve")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.terminate();
    }
}
