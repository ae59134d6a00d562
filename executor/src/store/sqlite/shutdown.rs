//! Whether the last process that wrote the database stopped without closing it (killed, crashed, the machine
//! lost power). Each process that opens the store for writing holds a locked marker file in `<database>.open/`
//! and removes it when it closes the store. A marker whose lock nobody holds was left by a process that died:
//! only then is the database checked (`PRAGMA quick_check`) before anything is written, so an ordinary open
//! costs no check. A process that met damage while writing leaves its marker too, so that the next open checks.

use crate::store::StoreError;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// `<database>.open/`, the folder of the markers.
pub(crate) fn markers_folder(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".open");
    PathBuf::from(name)
}

/// The markers left by processes that stopped with the store open (their lock is free).
pub(crate) fn stale_markers(database: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(markers_folder(database)) else { return Vec::new() };
    entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| match OpenOptions::new().write(true).open(path) {
            Ok(file) => !matches!(file.try_lock(), Err(TryLockError::WouldBlock)),
            Err(_) => false,
        })
        .collect()
}

/// How many processes have the store open for writing now.
pub(crate) fn live_markers(database: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(markers_folder(database)) else { return 0 };
    entries.filter_map(|entry| entry.ok()).count().saturating_sub(stale_markers(database).len())
}

/// Removes markers once the database they point at was found sound.
pub(crate) fn remove(markers: &[PathBuf]) {
    for marker in markers {
        let _ = std::fs::remove_file(marker);
    }
}

/// This process's marker, locked for as long as the store is open.
#[derive(Debug)]
pub(crate) struct OpenMarker {
    path: PathBuf,
    _file: File,
    keep: bool,
}

impl OpenMarker {
    pub(crate) fn create(database: &Path) -> Result<OpenMarker, StoreError> {
        let folder = markers_folder(database);
        let failed = |err: std::io::Error| match err.kind() {
            std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => StoreError::ReadOnly {
                path: database.to_owned(),
                doing: format!("creating {}: {err}", folder.display()),
            },
            _ => StoreError::CreateFolder { path: folder.clone(), reason: err.to_string() },
        };
        std::fs::create_dir_all(&folder).map_err(failed)?;
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_nanos());
        let path = folder.join(format!("{}-{nanos}", std::process::id()));
        let file = OpenOptions::new().create_new(true).write(true).open(&path).map_err(failed)?;
        file.lock().map_err(failed)?;
        Ok(OpenMarker { path, _file: file, keep: false })
    }

    /// Leaves the marker in place when the store closes, so that the next open checks the database.
    pub(crate) fn keep(&mut self) {
        self.keep = true;
    }
}

impl Drop for OpenMarker {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
