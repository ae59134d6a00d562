//! `fs/list`: a folder's entries, optionally recursive and filtered by a glob, sorted by path.
//!
//! An entry's `created_at` is its birth time where the file system records one, else its modification time
//! (never null: see the catalogue). `size` is 0 for folders. Sub-folders reached through symbolic links are not
//! descended into (a link can point back up the tree).

use std::fs;
use std::path::{Path, PathBuf};

use expr_grammar::Value;
use globset::{GlobBuilder, GlobMatcher};

use super::blocking;
use crate::ActionError;
use crate::fields::{Fields, failed, invalid, io_failure, object, path_value, size_value, string, timestamp_value};

pub(super) async fn list(fields: &Fields<'_>) -> Result<Value, ActionError> {
    let root = fields.path("path")?;
    let pattern = fields.optional_string("pattern")?.map(compile_pattern).transpose()?;
    let recursive = fields.bool_or("recursive", false)?;
    blocking(move || {
        let mut entries = Vec::new();
        collect(&root, &root, pattern.as_ref(), recursive, &mut entries)?;
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Value::List(std::sync::Arc::new(entries.into_iter().map(|(_, entry)| entry).collect())))
    })
    .await
}

/// A glob whose `*` stops at `/`, so `*.txt` means "in this folder" and `**/*.txt` "at any depth".
pub(crate) fn compile_pattern(pattern: &str) -> Result<GlobMatcher, ActionError> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|glob| glob.compile_matcher())
        .map_err(|err| invalid("pattern", format!("`{pattern}` is not a valid glob: {}", err.kind())))
}

/// Whether a path under `root` matches: by its file name, or by its path relative to `root`.
pub(crate) fn matches(pattern: &GlobMatcher, root: &Path, path: &Path) -> bool {
    let by_name = path.file_name().is_some_and(|name| pattern.is_match(name));
    by_name || path.strip_prefix(root).is_ok_and(|relative| pattern.is_match(relative))
}

fn collect(
    root: &Path,
    folder: &Path,
    pattern: Option<&GlobMatcher>,
    recursive: bool,
    out: &mut Vec<(PathBuf, Value)>,
) -> Result<(), ActionError> {
    let read = fs::read_dir(folder).map_err(|err| io_failure("list", folder, &err))?;
    for entry in read {
        let entry = entry.map_err(|err| io_failure("list", folder, &err))?;
        let path = entry.path();
        let kind = entry.file_type().map_err(|err| io_failure("list", &path, &err))?;
        if pattern.is_none_or(|pattern| matches(pattern, root, &path)) {
            out.push((path.clone(), describe(&path)?));
        }
        if recursive && kind.is_dir() {
            collect(root, &path, pattern, recursive, out)?;
        }
    }
    Ok(())
}

/// One entry's record. A broken symbolic link is described by the link itself.
fn describe(path: &Path) -> Result<Value, ActionError> {
    let meta =
        fs::metadata(path).or_else(|_| fs::symlink_metadata(path)).map_err(|err| io_failure("list", path, &err))?;
    let modified = meta
        .modified()
        .map_err(|err| failed(format!("cannot list {}: no modification time: {err}", path.display())))?;
    let created = meta.created().unwrap_or(modified);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let extension = path.extension().map(|e| e.to_string_lossy().into_owned()).unwrap_or_default();
    let size = if meta.is_dir() { 0 } else { meta.len() };
    Ok(object([
        ("path", path_value(path)),
        ("name", string(name)),
        ("size", size_value(size)),
        ("modified_at", timestamp_value(modified)),
        ("created_at", timestamp_value(created)),
        ("is_dir", Value::Bool(meta.is_dir())),
        ("extension", string(extension)),
    ]))
}
