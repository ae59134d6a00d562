//! `fs/watch`: wait for the next change under a path.
//!
//! The first OS event that matches becomes the output `{path, kind}`; `kind` is `created`, `modified`, `removed`
//! or `renamed` (for a rename, `path` is the new name). Reads (access events) are not changes. The wait ends with
//! an error after `timeout`, or with `Cancelled` when the step is cancelled.

use std::path::{Path, PathBuf};

use ::notify::event::{AccessKind, AccessMode, ModifyKind};
use ::notify::{Event, EventKind, RecursiveMode, Watcher};
use expr_grammar::Value;
use globset::GlobMatcher;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::blocking;
use super::list::{compile_pattern, matches};
use crate::ActionError;
use crate::fields::{Fields, failed, object, path_value, show_duration, string};

pub(super) async fn watch(fields: &Fields<'_>, cancel: &CancellationToken) -> Result<Value, ActionError> {
    let root = fields.path("path")?;
    let pattern = fields.optional_string("pattern")?.map(compile_pattern).transpose()?;
    let timeout = fields.required_duration("timeout")?;
    let (events, mut changes) = mpsc::unbounded_channel();
    // Keep the watcher alive for the whole wait; dropping it stops the OS watch.
    let _watcher = start_watcher(root.clone(), events).await?;
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return Err(ActionError::Cancelled),
            _ = &mut deadline => {
                return Err(failed(format!("no change under {} within {}", root.display(), show_duration(timeout))));
            }
            event = changes.recv() => match event {
                Some(Ok(event)) => {
                    if let Some((path, kind)) = matching_change(&event, &root, pattern.as_ref()) {
                        return Ok(object([("path", path_value(&path)), ("kind", string(kind))]));
                    }
                }
                Some(Err(err)) => return Err(failed(format!("cannot watch {}: {err}", root.display()))),
                None => return Err(failed(format!("cannot watch {}: the watcher stopped", root.display()))),
            },
        }
    }
}

/// Registers the OS watch (a recursive watch walks the tree, so it runs on the blocking pool).
async fn start_watcher(
    root: PathBuf,
    events: mpsc::UnboundedSender<::notify::Result<Event>>,
) -> Result<::notify::RecommendedWatcher, ActionError> {
    blocking(move || {
        let fail = |err: ::notify::Error| failed(format!("cannot watch {}: {}", root.display(), reason(&err)));
        let mut watcher = ::notify::recommended_watcher(move |event| {
            let _ = events.send(event);
        })
        .map_err(fail)?;
        watcher.watch(&root, RecursiveMode::Recursive).map_err(fail)?;
        Ok(watcher)
    })
    .await
}

fn reason(err: &::notify::Error) -> String {
    match &err.kind {
        ::notify::ErrorKind::Io(io) => crate::fields::os_reason(io),
        ::notify::ErrorKind::PathNotFound => "No such file or directory".into(),
        _ => err.to_string(),
    }
}

/// The changed path and its kind, when the event is a change that `pattern` accepts.
fn matching_change(event: &Event, root: &Path, pattern: Option<&GlobMatcher>) -> Option<(PathBuf, &'static str)> {
    let kind = change_kind(&event.kind)?;
    // A rename carries [from, to]: report the new name.
    let path = event.paths.last()?;
    if pattern.is_some_and(|pattern| !matches(pattern, root, path)) {
        return None;
    }
    Some((path.clone(), kind))
}

fn change_kind(kind: &EventKind) -> Option<&'static str> {
    match kind {
        EventKind::Create(_) => Some("created"),
        EventKind::Remove(_) => Some("removed"),
        EventKind::Modify(ModifyKind::Name(_)) => Some("renamed"),
        EventKind::Modify(_) | EventKind::Any => Some("modified"),
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => Some("modified"),
        EventKind::Access(_) | EventKind::Other => None,
    }
}
