//! The one way Pilot writes a file in place: the data goes into a temporary file in the destination's folder (same
//! file system, so the rename is atomic), is flushed to disk, and is renamed into place once complete. On any
//! failure, or when dropped (a cancelled download), the temporary file is removed and the destination is untouched.
//! `fs/write`, `fs/copy`, `fs/move` across file systems and `http/download` all write through [`AtomicFile`].

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::Path;

use tokio_util::sync::CancellationToken;

use super::{create_parent, parent_folder};
use crate::ActionError;
use crate::fields::{failed, io_failure, os_reason};

/// A file being written beside its destination; deleted when dropped without [`AtomicFile::commit`].
pub(crate) struct AtomicFile {
    temp: tempfile::NamedTempFile,
}

impl AtomicFile {
    /// `.{name}.pilot-XXXXXX.tmp` in the destination's folder, with the permissions the finished file should have:
    /// those of the file it replaces, else the usual ones for a new file (0666 less the umask on Unix), not
    /// tempfile's private 0600.
    pub(crate) fn beside(destination: &Path) -> io::Result<AtomicFile> {
        let name: String =
            destination.file_name().map(|n| n.to_string_lossy().chars().take(100).collect()).unwrap_or_default();
        let prefix = format!(".{name}.pilot-");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder.tempfile_in(parent_folder(destination))?;
        if let Ok(existing) = fs::metadata(destination) {
            fs::set_permissions(temp.path(), existing.permissions())?;
        }
        Ok(AtomicFile { temp })
    }

    pub(crate) fn file(&self) -> &File {
        self.temp.as_file()
    }

    pub(crate) fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Flushes the data to disk, then renames the file to `destination`. With `replace` false an existing
    /// destination is kept and the commit fails (`AlreadyExists`).
    pub(crate) fn commit(self, destination: &Path, replace: bool) -> io::Result<()> {
        self.temp.as_file().sync_all()?;
        let placed = if replace { self.temp.persist(destination) } else { self.temp.persist_noclobber(destination) };
        placed.map(drop).map_err(|err| err.error)
    }
}

/// Replaces (or appends to) the file at `path`. Returns the file's new size. A symbolic link is written through
/// to its target; a replaced file keeps its permissions.
pub(super) fn write_file(path: &Path, content: &[u8], append: bool) -> Result<u64, ActionError> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    create_parent(&target, "write")?;
    let fail = |err: io::Error| io_failure("write", path, &err);
    if append {
        return append_to(&target, content).map_err(fail);
    }
    let temp = AtomicFile::beside(&target).map_err(fail)?;
    temp.file().write_all(content).map_err(fail)?;
    temp.commit(&target, true).map_err(fail)?;
    Ok(content.len() as u64)
}

/// Appends as `>>` does (`O_APPEND`): two executions appending to one file at once both keep their lines, which a
/// copy renamed into place would not (the later rename drops the other's line), and a long log is not rewritten
/// each time. The data is on disk before this returns.
fn append_to(target: &Path, content: &[u8]) -> io::Result<u64> {
    let mut file = fs::OpenOptions::new().create(true).append(true).open(target)?;
    file.write_all(content)?;
    file.sync_data()?;
    Ok(file.metadata()?.len())
}

fn copy_failure(source: &Path, destination: &Path, err: &io::Error) -> ActionError {
    failed(format!("cannot copy {} to {}: {}", source.display(), destination.display(), os_reason(err)))
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn refuse_existing(verb: &str, source: &Path, destination: &Path) -> ActionError {
    failed(format!(
        "cannot {verb} {} to {}: the destination exists and `overwrite` is false",
        source.display(),
        destination.display()
    ))
}

/// Copies a file, or a folder with its contents (merged into an existing folder when `overwrite`).
/// Returns the number of bytes copied.
pub(super) fn copy_path(
    source: &Path,
    destination: &Path,
    overwrite: bool,
    cancel: &CancellationToken,
) -> Result<u64, ActionError> {
    let meta = fs::metadata(source).map_err(|err| io_failure("copy", source, &err))?;
    if !overwrite && exists(destination) {
        return Err(refuse_existing("copy", source, destination));
    }
    create_parent(destination, "copy to")?;
    if !meta.is_dir() {
        return copy_file(source, destination);
    }
    if is_inside(source, destination) {
        return Err(failed(format!(
            "cannot copy {} to {}: the destination is inside the folder being copied",
            source.display(),
            destination.display()
        )));
    }
    copy_folder(source, destination, cancel)
}

/// Whether `path` is `folder` or lies under it, following symbolic links.
fn is_inside(folder: &Path, path: &Path) -> bool {
    let (Ok(folder), Ok(parent)) = (fs::canonicalize(folder), fs::canonicalize(parent_folder(path))) else {
        return false;
    };
    let resolved = match path.file_name() {
        Some(name) => parent.join(name),
        None => parent,
    };
    resolved.starts_with(folder)
}

fn copy_file(source: &Path, destination: &Path) -> Result<u64, ActionError> {
    let fail = |err: io::Error| copy_failure(source, destination, &err);
    let temp = AtomicFile::beside(destination).map_err(fail)?;
    let size = fs::copy(source, temp.path()).map_err(fail)?;
    temp.commit(destination, true).map_err(fail)?;
    Ok(size)
}

fn copy_folder(source: &Path, destination: &Path, cancel: &CancellationToken) -> Result<u64, ActionError> {
    let fail = |err: io::Error| copy_failure(source, destination, &err);
    fs::create_dir_all(destination).map_err(fail)?;
    let mut total = 0;
    for entry in fs::read_dir(source).map_err(fail)? {
        if cancel.is_cancelled() {
            return Err(ActionError::Cancelled);
        }
        let entry = entry.map_err(fail)?;
        let kind = entry.file_type().map_err(fail)?;
        let (from, to) = (entry.path(), destination.join(entry.file_name()));
        if kind.is_dir() {
            total += copy_folder(&from, &to, cancel)?;
        } else if kind.is_symlink() {
            copy_symlink(&from, &to)?;
        } else {
            total += copy_file(&from, &to)?;
        }
    }
    Ok(total)
}

/// Inside a copied folder, a symbolic link is copied as a link (following it could loop).
#[cfg(unix)]
fn copy_symlink(from: &Path, to: &Path) -> Result<(), ActionError> {
    let fail = |err: io::Error| copy_failure(from, to, &err);
    let target = fs::read_link(from).map_err(fail)?;
    if exists(to) {
        fs::remove_file(to).map_err(fail)?;
    }
    std::os::unix::fs::symlink(target, to).map_err(fail)
}

#[cfg(not(unix))]
fn copy_symlink(from: &Path, to: &Path) -> Result<(), ActionError> {
    copy_file(from, to).map(|_| ())
}

fn is_folder_with_entries(path: &Path) -> bool {
    fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_some())
}

/// Renames `source`; across file systems, copies it and then deletes the source.
pub(super) fn move_path(
    source: &Path,
    destination: &Path,
    overwrite: bool,
    cancel: &CancellationToken,
) -> Result<(), ActionError> {
    let meta = fs::symlink_metadata(source).map_err(|err| io_failure("move", source, &err))?;
    if !overwrite && exists(destination) {
        return Err(refuse_existing("move", source, destination));
    }
    if meta.is_dir() && is_folder_with_entries(destination) {
        // rename(2) refuses this on one file system; the copy fallback would merge instead. Refuse both ways.
        return Err(failed(format!(
            "cannot move {} to {}: the destination is a folder that is not empty",
            source.display(),
            destination.display()
        )));
    }
    create_parent(destination, "move to")?;
    let fail = |err: &io::Error| {
        failed(format!("cannot move {} to {}: {}", source.display(), destination.display(), os_reason(err)))
    };
    match fs::rename(source, destination) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::CrossesDevices => {
            copy_path(source, destination, overwrite, cancel)?;
            let removed = if meta.is_dir() { fs::remove_dir_all(source) } else { fs::remove_file(source) };
            removed.map_err(|err| {
                failed(format!(
                    "moved {} to {} by copying, but cannot delete the source: {}",
                    source.display(),
                    destination.display(),
                    os_reason(&err)
                ))
            })
        }
        Err(err) => Err(fail(&err)),
    }
}
