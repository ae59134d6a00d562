//! One daemon per `$PILOT_HOME`: an exclusive lock on `run/daemon.lock`, which also says who holds it (process id
//! and address) so a second `pilot serve` can tell the user. The kernel releases the lock when the process dies.

use crate::home::PilotHome;
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

#[derive(Debug)]
pub struct DaemonLock {
    /// Held open: the lock lasts as long as the file stays open.
    _file: std::fs::File,
}

impl DaemonLock {
    /// Takes the lock, or says which process holds it.
    pub fn acquire(home: &PilotHome, addr: &str) -> Result<DaemonLock, String> {
        let path = DaemonLock::path(home);
        let folder = path.parent().unwrap_or(home.root());
        std::fs::create_dir_all(folder).map_err(|err| format!("cannot create {}: {err}", folder.display()))?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .map_err(|err| format!("cannot open {}: {err}", path.display()))?;
        if !take_lock(&file) {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() { "another process".to_owned() } else { holder.to_owned() };
            return Err(format!(
                "pilot serve is already running for {} ({who}); stop it first, or use another PILOT_HOME",
                home.root().display()
            ));
        }
        let note = format!("process {}, {addr}", std::process::id());
        let written = file.set_len(0).and_then(|()| file.rewind()).and_then(|()| file.write_all(note.as_bytes()));
        written.map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        Ok(DaemonLock { _file: file })
    }

    /// `$PILOT_HOME/run/daemon.lock`.
    pub fn path(home: &PilotHome) -> PathBuf {
        home.root().join("run").join("daemon.lock")
    }
}

/// Tries a few times: a client looking for the daemon (`server::client`) holds the lock for an instant.
fn take_lock(file: &std::fs::File) -> bool {
    for _ in 0..10 {
        match file.try_lock() {
            Ok(()) => return true,
            Err(std::fs::TryLockError::WouldBlock) => std::thread::sleep(std::time::Duration::from_millis(50)),
            Err(std::fs::TryLockError::Error(_)) => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_daemon_for_the_same_home_is_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let home = PilotHome::at(dir.path());
        let held = DaemonLock::acquire(&home, "127.0.0.1:7777").unwrap();
        let refused = DaemonLock::acquire(&home, "127.0.0.1:7778").unwrap_err();
        assert!(refused.contains(&format!("process {}, 127.0.0.1:7777", std::process::id())), "{refused}");
        drop(held);
        assert!(DaemonLock::acquire(&home, "127.0.0.1:7778").is_ok(), "released with the holder");
    }
}
