//! File changes, debounced: the workflows folder (an edit takes effect for the next execution) and the
//! `file_watch` triggers.
//!
//! The operating system reports a write as several events (open, write, close; an editor's save as a rename of a
//! temporary file). Here a burst of events on one path becomes one change: each event restarts a quiet period of
//! [`QUIET`], and when it passes the burst is reported once, as what it amounts to (created then written is
//! `create`; written then deleted is `delete`; created then deleted within the burst is nothing). Waiting uses
//! timers set by the events themselves: an idle watcher costs nothing.

use super::Daemon;
use notify::event::{ModifyKind, RenameMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long a path must stay quiet before its burst of events is reported.
pub const QUIET: Duration = Duration::from_millis(300);

/// What a burst of events on one path amounts to, in the words of a trigger's `events:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Create,
    Modify,
    Delete,
    Rename,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Create => "create",
            ChangeKind::Modify => "modify",
            ChangeKind::Delete => "delete",
            ChangeKind::Rename => "rename",
        }
    }
}

/// One debounced change. For a rename, `path` is the new name and `from` the old one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: PathBuf,
    pub kind: ChangeKind,
    pub from: Option<PathBuf>,
}

impl Change {
    /// What tells this change apart from any other on this machine, the same for every process that saw it: the
    /// file's device, inode, change time and size (for a deletion, those of its folder, whose entries changed).
    /// `None` when the file and its folder are gone.
    pub fn identity(&self) -> Option<String> {
        use std::os::unix::fs::MetadataExt;
        let described = match self.kind {
            ChangeKind::Delete => self.path.parent(),
            _ => Some(self.path.as_path()),
        };
        let metadata = std::fs::metadata(described?).ok()?;
        let from = self.from.as_ref().map(|from| from.display().to_string()).unwrap_or_default();
        Some(format!(
            "file_watch {} {} {from} {}:{} {}.{:09} {}",
            self.kind.as_str(),
            self.path.display(),
            metadata.dev(),
            metadata.ino(),
            metadata.ctime(),
            metadata.ctime_nsec(),
            metadata.size()
        ))
    }
}

/// A burst in progress on one path.
struct Burst {
    first: ChangeKind,
    last: ChangeKind,
    from: Option<PathBuf>,
    quiet_at: Instant,
    /// Only one half of a rename so far (the watcher reports the halves, then the pair).
    rename_half: bool,
}

impl Burst {
    /// What the burst amounts to; `None` for a file created and deleted within it.
    fn settle(self, path: PathBuf) -> Option<Change> {
        let kind = match (self.first, self.last) {
            (ChangeKind::Create, ChangeKind::Delete) => return None,
            (_, ChangeKind::Delete) => ChangeKind::Delete,
            (ChangeKind::Create, _) => ChangeKind::Create,
            (ChangeKind::Rename, _) | (_, ChangeKind::Rename) => ChangeKind::Rename,
            _ => ChangeKind::Modify,
        };
        let from = if kind == ChangeKind::Rename { self.from } else { None };
        Some(Change { path, kind, from })
    }
}

/// Watches `root` and sends its debounced changes; the watch lasts as long as the returned watcher.
pub fn watch(root: &Path, recursive: bool) -> notify::Result<(RecommendedWatcher, mpsc::UnboundedReceiver<Change>)> {
    let (raw_sender, raw) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event| {
        let _ = raw_sender.send(event);
    })?;
    let mode = if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
    watcher.watch(root, mode)?;
    let (changes, receiver) = mpsc::unbounded_channel();
    tokio::spawn(debounce(raw, changes));
    Ok((watcher, receiver))
}

async fn debounce(
    mut raw: mpsc::UnboundedReceiver<notify::Result<notify::Event>>,
    changes: mpsc::UnboundedSender<Change>,
) {
    let mut bursts: HashMap<PathBuf, Burst> = HashMap::new();
    loop {
        let next_quiet = bursts.values().map(|burst| burst.quiet_at).min();
        tokio::select! {
            event = raw.recv() => match event {
                Some(Ok(event)) => note(&mut bursts, &event),
                Some(Err(err)) => tracing::warn!("file watch: {err}"),
                None => return,
            },
            () = sleep_until(next_quiet), if next_quiet.is_some() => {
                let now = Instant::now();
                let settled: Vec<PathBuf> =
                    bursts.iter().filter(|(_, burst)| burst.quiet_at <= now).map(|(path, _)| path.clone()).collect();
                for path in settled {
                    if let Some(change) = bursts.remove(&path).and_then(|burst| burst.settle(path))
                        && changes.send(change).is_err()
                    {
                        return;
                    }
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}

fn note(bursts: &mut HashMap<PathBuf, Burst>, event: &notify::Event) {
    let rename_half = matches!(event.kind, EventKind::Modify(ModifyKind::Name(RenameMode::From | RenameMode::To)));
    if let (EventKind::Modify(ModifyKind::Name(RenameMode::Both)), [old, new]) = (&event.kind, event.paths.as_slice()) {
        // The pair replaces the halves reported before it.
        for path in [old, new] {
            if bursts.get(path).is_some_and(|burst| burst.rename_half) {
                bursts.remove(path);
            }
        }
    }
    let (kind, path, from) = match &event.kind {
        EventKind::Create(_) => (ChangeKind::Create, event.paths.first(), None),
        EventKind::Remove(_) => (ChangeKind::Delete, event.paths.first(), None),
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            (ChangeKind::Rename, event.paths.last(), event.paths.first().cloned())
        }
        // Halves of a rename the watcher could not pair: the old name went, the new one came.
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) => (ChangeKind::Delete, event.paths.first(), None),
        EventKind::Modify(ModifyKind::Name(_)) => (ChangeKind::Create, event.paths.first(), None),
        EventKind::Modify(ModifyKind::Metadata(_)) | EventKind::Access(_) | EventKind::Other => return,
        EventKind::Modify(_) | EventKind::Any => (ChangeKind::Modify, event.paths.first(), None),
    };
    let Some(path) = path else { return };
    let quiet_at = Instant::now() + QUIET;
    match bursts.get_mut(path) {
        Some(burst) => {
            burst.last = kind;
            burst.quiet_at = quiet_at;
            burst.rename_half = false;
            if from.is_some() {
                burst.from = from;
            }
        }
        None => {
            bursts.insert(path.clone(), Burst { first: kind, last: kind, from, quiet_at, rename_half });
        }
    }
}

/// Reloads a workflow file whenever it changes; runs as long as the daemon accepts work.
pub(super) fn watch_workflows_folder(daemon: &Arc<Daemon>) -> notify::Result<()> {
    let folder = daemon.home.workflows();
    let (watcher, mut changes) = watch(&folder, false)?;
    let daemon = Arc::clone(daemon);
    tokio::spawn(async move {
        let _watcher = watcher;
        loop {
            tokio::select! {
                change = changes.recv() => match change {
                    Some(change) => {
                        if let Some(from) = change.from.filter(|from| super::catalog::is_workflow_file(from)) {
                            daemon.reload_file(&from).await;
                        }
                        if super::catalog::is_workflow_file(&change.path) {
                            daemon.reload_file(&change.path).await;
                        }
                    }
                    None => return,
                },
                () = daemon.stopping.cancelled() => return,
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn next(changes: &mut mpsc::UnboundedReceiver<Change>) -> Change {
        tokio::time::timeout(Duration::from_secs(10), changes.recv()).await.expect("a change").expect("open")
    }

    #[tokio::test]
    async fn a_burst_of_writes_to_one_file_is_one_change() {
        let dir = tempfile::tempdir().unwrap();
        let (_watcher, mut changes) = watch(dir.path(), false).unwrap();
        let file = dir.path().join("report.txt");
        for round in 0..20 {
            std::fs::write(&file, format!("version {round}")).unwrap();
        }
        let change = next(&mut changes).await;
        assert_eq!((change.kind, change.path.file_name().unwrap().to_str()), (ChangeKind::Create, Some("report.txt")));
        tokio::time::sleep(QUIET * 3).await;
        assert!(changes.try_recv().is_err(), "one change for the whole burst");
        std::fs::write(&file, "edited later").unwrap();
        assert_eq!(next(&mut changes).await.kind, ChangeKind::Modify);
        std::fs::rename(&file, dir.path().join("renamed.txt")).unwrap();
        let renamed = next(&mut changes).await;
        assert_eq!(renamed.kind, ChangeKind::Rename);
        assert_eq!(renamed.from.as_deref(), Some(file.as_path()));
        std::fs::remove_file(dir.path().join("renamed.txt")).unwrap();
        assert_eq!(next(&mut changes).await.kind, ChangeKind::Delete);
    }

    #[tokio::test]
    async fn a_file_created_and_deleted_within_a_burst_is_nothing() {
        let burst = Burst {
            first: ChangeKind::Create,
            last: ChangeKind::Delete,
            from: None,
            quiet_at: Instant::now(),
            rename_half: false,
        };
        assert_eq!(burst.settle(PathBuf::from("/tmp/x")), None);
    }
}
