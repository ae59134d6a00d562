//! Which executions a live `pilot` process is running, so that other `pilot` processes can find and cancel
//! them: `$PILOT_HOME/run/<execution-id>.pid` holds the owner's process id while it runs the execution, and
//! `pilot cancel` asks the owner to stop by creating `<execution-id>.cancel` next to it, which the owner polls.
//!
//! The pid file is created with `create_new`, so it is also a lock: two `pilot resume` processes never run the
//! same execution. A pid file whose process is gone (a killed `pilot run`) is stale and may be taken over.
//! Known limit: if the system reuses a dead owner's pid for an unrelated process, the execution looks alive
//! until that process ends; delete the `.pid` file to resume it anyway.
//!
//! While a step runs a program (`shell/exec`, a custom connector), `<execution-id>.children` lists its process
//! group (id, leader start time, boot id; see `connectors::ChildRecord`), rewritten as programs start and end, with
//! no fsync: it costs no commit. The owner's programs die with it (`PR_SET_PDEATHSIG`), but what they started may
//! not; so whoever claims an execution next first kills what is left of every group listed there
//! (`connectors::process::kill_leftover_group`, which never hits a process that only reuses an id), before the
//! engine re-runs or reports any step.

use connectors::{ChildEvent, ChildRecord, ChildRecorder};
use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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
    children_file: PathBuf,
    /// Processes left running by the previous owner that the claim killed.
    pub leftovers_killed: usize,
}

impl Drop for Claim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.cancel_file);
        let _ = std::fs::remove_file(&self.children_file);
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

impl Claim {
    pub fn cancel_requested(&self) -> bool {
        self.cancel_file.exists()
    }

    /// Keeps `<execution-id>.children` up to date with the process groups the execution's steps are running.
    pub fn child_recorder(&self) -> ChildRecorder {
        let (path, running) = (self.children_file.clone(), Arc::new(Mutex::new(Vec::<ChildRecord>::new())));
        ChildRecorder::new(move |event| {
            let mut running = running.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match event {
                ChildEvent::Started(record) => running.push(record.clone()),
                ChildEvent::Ended(record) => running.retain(|kept| kept != record),
            }
            write_children(&path, &running);
        })
    }
}

/// Replaces the children file (a temporary file renamed over it, so a reader never sees half a list); removes it
/// when nothing runs. A failure only loses the chance to clean up after a crash, so it is not an error.
fn write_children(path: &Path, running: &[ChildRecord]) {
    if running.is_empty() {
        let _ = std::fs::remove_file(path);
        return;
    }
    let Ok(text) = serde_json::to_string(running) else { return };
    let temp = path.with_extension("children.tmp");
    if std::fs::write(&temp, text).is_ok() {
        let _ = std::fs::rename(&temp, path);
    }
}

/// Kills what is left of every process group a previous owner recorded, then forgets them.
fn kill_leftovers(children_file: &Path) -> usize {
    let Ok(text) = std::fs::read_to_string(children_file) else { return 0 };
    let records: Vec<ChildRecord> = serde_json::from_str(&text).unwrap_or_default();
    let killed = records.iter().map(connectors::process::kill_leftover_group).sum();
    let _ = std::fs::remove_file(children_file);
    killed
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

    fn children_file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.children"))
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
                    let children_file = self.children_file(id);
                    let leftovers_killed = kill_leftovers(&children_file);
                    return Ok(Ok(Claim { pid_file, cancel_file, children_file, leftovers_killed }));
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
    fn running_process_groups_are_listed_beside_the_pid_file_while_they_run() {
        let dir = tempfile::tempdir().unwrap();
        let claim = ActiveRuns::at(dir.path()).claim("exec-3").unwrap().unwrap();
        let recorder = claim.child_recorder();
        let record = |pgid| ChildRecord { pgid, start_time: 7, boot_id: "boot".into() };
        let listed = || -> Vec<ChildRecord> {
            std::fs::read_to_string(dir.path().join("exec-3.children"))
                .map(|text| serde_json::from_str(&text).unwrap())
                .unwrap_or_default()
        };
        recorder.report(ChildEvent::Started(&record(10)));
        recorder.report(ChildEvent::Started(&record(11)));
        assert_eq!(listed(), [record(10), record(11)]);
        recorder.report(ChildEvent::Ended(&record(10)));
        assert_eq!(listed(), [record(11)]);
        drop(claim);
        assert!(!dir.path().join("exec-3.children").exists());
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
