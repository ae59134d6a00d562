//! The `fs` connector: `fs/read`, `fs/write`, `fs/copy`, `fs/move`, `fs/delete`, `fs/list` and `fs/watch`.
//!
//! - Paths expand a leading `~` to the home folder. Errors name the path and the OS's reason:
//!   `cannot read /x/y: No such file or directory`.
//! - `fs/write` and `fs/copy` write into a temporary file beside the destination and rename it into place, so a
//!   crash or a failure never leaves half a file at the destination (see [`atomic`]). They, and `fs/move`, create
//!   the destination's missing parent folders: a workflow has no other way to make a folder.
//! - `fs/copy` and `fs/move` replace an existing destination by default, as `cp` and `mv` do, so a backup or sync
//!   run on a schedule succeeds again tomorrow; `overwrite: false` refuses an existing destination instead.
//! - Blocking file system calls run on tokio's blocking pool, never on its workers. Once started, a call runs to
//!   its end (a single file copy cannot be interrupted); a folder copy checks for cancellation between files.

pub(crate) mod atomic;
mod list;
mod watch;

use std::path::{Path, PathBuf};

use expr_grammar::Value;
use tokio_util::sync::CancellationToken;

use crate::catalogue::Catalogue;
use crate::fields::{Fields, failed, io_failure, object, path_value, size_value, string};
use crate::{ActionContext, ActionDefinition, ActionError, Connector};

/// Runs the `fs/*` actions on the local file system.
#[derive(Debug, Default, Clone)]
pub struct FsConnector;

impl FsConnector {
    pub fn new() -> Self {
        FsConnector
    }
}

#[async_trait::async_trait]
impl Connector for FsConnector {
    fn id(&self) -> &str {
        "fs"
    }

    fn actions(&self) -> Vec<ActionDefinition> {
        Catalogue::builtin().iter().filter(|def| def.name.starts_with("fs/")).cloned().collect()
    }

    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        let fields = Fields::new(&input)?;
        match action.strip_prefix("fs/").unwrap_or(action) {
            "read" => read(&fields).await,
            "write" => write(&fields).await,
            "copy" => copy(&fields, ctx.cancel.clone()).await,
            "move" => move_path(&fields, ctx.cancel.clone()).await,
            "delete" => delete(&fields).await,
            "list" => list::list(&fields).await,
            "watch" => watch::watch(&fields, &ctx.cancel).await,
            _ => Err(ActionError::Unavailable { reason: format!("the fs connector has no action `{action}`") }),
        }
    }
}

/// Runs blocking file system work on tokio's blocking pool.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ActionError> + Send + 'static,
) -> Result<T, ActionError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(join) => Err(failed(format!("the file system call stopped unexpectedly: {join}"))),
    }
}

async fn read(fields: &Fields<'_>) -> Result<Value, ActionError> {
    let path = fields.path("path")?;
    blocking(move || {
        let bytes = std::fs::read(&path).map_err(|err| io_failure("read", &path, &err))?;
        let size = bytes.len() as u64;
        let content = String::from_utf8(bytes).map_err(|err| {
            let at = err.utf8_error().valid_up_to();
            failed(format!("cannot read {}: not UTF-8 text (invalid byte at offset {at})", path.display()))
        })?;
        Ok(object([("path", path_value(&path)), ("content", string(content)), ("size", size_value(size))]))
    })
    .await
}

async fn write(fields: &Fields<'_>) -> Result<Value, ActionError> {
    let path = fields.path("path")?;
    let content = fields.required_text("content")?.to_string();
    let append = fields.bool_or("append", false)?;
    blocking(move || {
        let size = atomic::write_file(&path, content.as_bytes(), append)?;
        Ok(object([("path", path_value(&path)), ("size", size_value(size))]))
    })
    .await
}

async fn copy(fields: &Fields<'_>, cancel: CancellationToken) -> Result<Value, ActionError> {
    let source = fields.path("source")?;
    let destination = fields.path("destination")?;
    let overwrite = fields.bool_or("overwrite", true)?;
    blocking(move || {
        let size = atomic::copy_path(&source, &destination, overwrite, &cancel)?;
        Ok(object([
            ("source", path_value(&source)),
            ("destination", path_value(&destination)),
            ("size", size_value(size)),
        ]))
    })
    .await
}

async fn move_path(fields: &Fields<'_>, cancel: CancellationToken) -> Result<Value, ActionError> {
    let source = fields.path("source")?;
    let destination = fields.path("destination")?;
    let overwrite = fields.bool_or("overwrite", true)?;
    blocking(move || {
        atomic::move_path(&source, &destination, overwrite, &cancel)?;
        Ok(object([("source", path_value(&source)), ("destination", path_value(&destination))]))
    })
    .await
}

async fn delete(fields: &Fields<'_>) -> Result<Value, ActionError> {
    let path = fields.path("path")?;
    let recursive = fields.bool_or("recursive", false)?;
    let missing_ok = fields.bool_or("missing_ok", false)?;
    blocking(move || {
        let deleted = delete_path(&path, recursive, missing_ok)?;
        Ok(object([("path", path_value(&path)), ("deleted", Value::Bool(deleted))]))
    })
    .await
}

/// Deletes a file, a symbolic link (not its target) or a folder. Returns false when the path did not exist.
fn delete_path(path: &Path, recursive: bool, missing_ok: bool) -> Result<bool, ActionError> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound && missing_ok => return Ok(false),
        Err(err) => return Err(io_failure("delete", path, &err)),
    };
    let result = if !meta.is_dir() {
        std::fs::remove_file(path)
    } else if recursive {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_dir(path)
    };
    match result {
        Ok(()) => Ok(true),
        Err(err) if err.kind() == std::io::ErrorKind::DirectoryNotEmpty => Err(failed(format!(
            "cannot delete {}: the folder is not empty (set `recursive: true` to delete it with its contents)",
            path.display()
        ))),
        Err(err) => Err(io_failure("delete", path, &err)),
    }
}

/// Creates the missing parent folders of `path`.
fn create_parent(path: &Path, verb: &str) -> Result<(), ActionError> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent).map_err(|err| {
            failed(format!(
                "cannot {verb} {}: cannot create folder {}: {}",
                path.display(),
                parent.display(),
                crate::fields::os_reason(&err)
            ))
        }),
        _ => Ok(()),
    }
}

/// The folder a path's temporary sibling goes in: its parent, or the current folder for a bare name.
fn parent_folder(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
