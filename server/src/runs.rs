//! Which executions a live `pilot` process is running, so that other `pilot` processes can find and cancel
//! them: `$PILOT_HOME/run/<execution-id>.pid` holds the owner's process id while it runs the execution, and
//! `pilot cancel` asks the owner to stop by creating `<execution-id>.cancel` next to it, which the owner polls.
//!
//! The pid file is created with `create_new`, so it is also a lock: two `pilot resume` processes never run the
//! same execution. A pid file whose process is gone (a killed `pilot run`) is stale and may be taken over.
//! Known limit: if the system reuses a dead owner's pid for an unrelated process, the execution looks alive
//! until that process ends; delete the `.pid` file to resume it anyway.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct ActiveRuns {
    dir: PathBuf,
}

/// Who holds an execution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Nobody,
    /// A live process (maybe this one).
    Process(u32),
}

/// This process owns an execution until the claim is dropped.
#[derive(Debug)]
pub struct Claim {
    pid_file: PathBuf,
    cancel_file: PathBuf,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.cancel_file);
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

impl Claim {
    pub fn cancel_requested(&self) -> bool {
        self.cancel_file.exists()
    }
}

impl ActiveRuns {
    pub fn at(dir: impl Into<PathBuf>) -> ActiveRuns {
        ActiveRuns { dir: dir.into() }
    }

    fn pid_file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.pid"))
    }

    fn cancel_file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.cancel"))
    }

    /// Claims an execution for this process. `Ok(Err(pid))` when a live process already holds it.
    pub fn claim(&self, id: &str) -> std::io::Result<Result<Claim, u32>> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|err| std::io::Error::new(err.kind(), format!("cannot create {}: {err}", self.dir.display())))?;
        let pid_file = self.pid_file(id);
        for _ in 0..2 {
            match OpenOptions::new().write(true).create_new(true).open(&pid_file) {
                Ok(mut file) => {
                    file.write_all(std::process::id().to_string().as_bytes())?;
                    let cancel_file = self.cancel_file(id);
                    let _ = std::fs::remove_file(&cancel_file);
                    return Ok(Ok(Claim { pid_file, cancel_file }));
                }
                Err(err) if err.kind() == ErrorKind::AlreadyExists => match self.owner(id) {
                    Owner::Process(pid) => return Ok(Err(pid)),
                    // Stale: its process died. Take it over.
                    Owner::Nobody => {
                        let _ = std::fs::remove_file(&pid_file);
                    }
                },
                Err(err) => {
                    return Err(std::io::Error::new(
                        err.kind(),
                        format!("cannot create {}: {err}", pid_file.display()),
                    ));
                }
            }
        }
        Err(std::io::Error::other(format!("{} keeps reappearing: another pilot is claiming it", pid_file.display())))
    }

    /// The live process running an execution, if any.
    pub fn owner(&self, id: &str) -> Owner {
        let Ok(text) = std::fs::read_to_string(self.pid_file(id)) else { return Owner::Nobody };
        match text.trim().parse::<u32>() {
            Ok(pid) if process_is_alive(pid) => Owner::Process(pid),
            _ => Owner::Nobody,
        }
    }

    /// Asks the owner of an execution to cancel it.
    pub fn request_cancel(&self, id: &str) -> std::io::Result<()> {
        let path = self.cancel_file(id);
        std::fs::write(&path, b"")
            .map_err(|err| std::io::Error::new(err.kind(), format!("cannot create {}: {err}", path.display())))
    }
}

#[cfg(unix)]
fn process_is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
    if pid <= 0 {
        return false;
    }
    // Signal 0 checks existence without sending anything; EPERM means it exists but belongs to someone else.
    // SAFETY: kill with signal 0 has no effect on the target process.
    let answer = unsafe { libc::kill(pid, 0) };
    answer == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_is_alive(_pid: u32) -> bool {
    true
}

/// `$PILOT_HOME/run`.
pub fn runs_folder(home: &Path) -> PathBuf {
    home.join("run")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_is_exclusive_while_its_process_lives_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let runs = ActiveRuns::at(dir.path());
        let claim = runs.claim("exec-1").unwrap().unwrap();
        assert_eq!(runs.owner("exec-1"), Owner::Process(std::process::id()));
        assert_eq!(runs.claim("exec-1").unwrap().unwrap_err(), std::process::id());
        assert!(!claim.cancel_requested());
        runs.request_cancel("exec-1").unwrap();
        assert!(claim.cancel_requested());
        drop(claim);
        assert_eq!(runs.owner("exec-1"), Owner::Nobody);
        assert!(!dir.path().join("exec-1.cancel").exists());
    }

    #[test]
    fn a_claim_left_by_a_dead_process_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        // Pids are below 2^22 on Linux: this one cannot be alive.
        std::fs::write(dir.path().join("exec-2.pid"), "999999999").unwrap();
        let runs = ActiveRuns::at(dir.path());
        assert_eq!(runs.owner("exec-2"), Owner::Nobody);
        assert!(runs.claim("exec-2").unwrap().is_ok());
    }
}
