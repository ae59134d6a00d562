//! fs/list and fs/watch against real folders.

mod fs_support;

use std::fs;
use std::path::Path;
use std::time::UNIX_EPOCH;

use connectors::ActionError;
use connectors::registry::ConnectorRegistry;
use expr_grammar::{Duration, Timestamp, Value};
use fs_support::{ctx_with, field, input, message, p, run, s};
use tokio_util::sync::CancellationToken;

fn paths_of(list: &Value) -> Vec<String> {
    let Value::List(items) = list else { panic!("expected a list, got {list:?}") };
    items.iter().map(|item| field(item, "name").to_string_lossy()).collect()
}

trait Lossy {
    fn to_string_lossy(&self) -> String;
}

impl Lossy for Value {
    fn to_string_lossy(&self) -> String {
        match self {
            Value::String(text) => text.to_string(),
            other => panic!("expected a string, got {other:?}"),
        }
    }
}

fn tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("docs/old")).unwrap();
    fs::write(dir.path().join("b.txt"), "bb").unwrap();
    fs::write(dir.path().join("a.docx"), "a").unwrap();
    fs::write(dir.path().join("docs/c.txt"), "ccc").unwrap();
    fs::write(dir.path().join("docs/old/d.txt"), "dddd").unwrap();
    dir
}

#[tokio::test]
async fn list_describes_each_entry_sorted_by_path() {
    let dir = tree();
    let out = run("fs/list", input([("path", p(dir.path()))])).await.unwrap();
    assert_eq!(paths_of(&out), ["a.docx", "b.txt", "docs"]);
    let Value::List(items) = &out else { unreachable!() };
    let file = &items[1];
    assert_eq!(field(file, "path"), &p(&dir.path().join("b.txt")));
    assert_eq!(field(file, "size"), &Value::Int(2));
    assert_eq!(field(file, "is_dir"), &Value::Bool(false));
    assert_eq!(field(file, "extension"), &s("txt"));
    let modified = fs::metadata(dir.path().join("b.txt")).unwrap().modified().unwrap();
    let micros = modified.duration_since(UNIX_EPOCH).unwrap().as_micros() as i64;
    assert_eq!(field(file, "modified_at"), &Value::Timestamp(Timestamp(micros)));
    assert!(matches!(field(file, "created_at"), Value::Timestamp(_)));
    let folder = &items[2];
    assert_eq!(field(folder, "is_dir"), &Value::Bool(true));
    assert_eq!(field(folder, "size"), &Value::Int(0));
    assert_eq!(field(folder, "extension"), &s(""));
}

#[tokio::test]
async fn list_filters_by_pattern_on_the_name() {
    let dir = tree();
    let out = run("fs/list", input([("path", p(dir.path())), ("pattern", s("*.docx"))])).await.unwrap();
    assert_eq!(paths_of(&out), ["a.docx"]);
}

#[tokio::test]
async fn recursive_list_matches_names_and_relative_paths() {
    let dir = tree();
    let recursive =
        |pattern: &str| input([("path", p(dir.path())), ("pattern", s(pattern)), ("recursive", Value::Bool(true))]);
    let by_name = run("fs/list", recursive("*.txt")).await.unwrap();
    assert_eq!(paths_of(&by_name), ["b.txt", "c.txt", "d.txt"]);
    let by_path = run("fs/list", recursive("docs/*.txt")).await.unwrap();
    assert_eq!(paths_of(&by_path), ["c.txt"]);
    let everything = run("fs/list", input([("path", p(dir.path())), ("recursive", Value::Bool(true))])).await.unwrap();
    assert_eq!(paths_of(&everything), ["a.docx", "b.txt", "docs", "c.txt", "old", "d.txt"]);
}

/// A link back to an ancestor would make the walk endless if it were followed.
#[cfg(unix)]
#[tokio::test]
async fn recursive_list_lists_folder_links_without_descending_into_them() {
    let dir = tree();
    std::os::unix::fs::symlink(dir.path(), dir.path().join("docs/loop")).unwrap();
    let everything = run("fs/list", input([("path", p(dir.path())), ("recursive", Value::Bool(true))])).await.unwrap();
    assert_eq!(paths_of(&everything), ["a.docx", "b.txt", "docs", "c.txt", "loop", "old", "d.txt"]);
}

#[tokio::test]
async fn list_of_a_missing_folder_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere");
    let text = message(run("fs/list", input([("path", p(&missing))])).await);
    assert_eq!(text, format!("cannot list {}: No such file or directory", missing.display()));
}

#[tokio::test]
async fn list_with_a_broken_pattern_blames_the_pattern_input() {
    let dir = tempfile::tempdir().unwrap();
    let result = run("fs/list", input([("path", p(dir.path())), ("pattern", s("[a-"))])).await;
    assert!(matches!(result, Err(ActionError::InvalidInput { ref field, .. }) if field == "pattern"), "{result:?}");
}

fn watch_input(dir: &std::path::Path, pattern: Option<&str>, timeout: Duration) -> Value {
    let mut pairs = vec![("path", p(dir)), ("timeout", Value::Duration(timeout))];
    if let Some(pattern) = pattern {
        pairs.push(("pattern", s(pattern)));
    }
    input(pairs)
}

const ONE_HOUR: Duration = Duration(3_600_000_000);
const ONE_MINUTE: Duration = Duration(60_000_000);

/// Runs `fs/watch` on `dir` with `pattern` while calling `change(round)` every 20ms until the watch answers.
/// The watch registers asynchronously, so the first rounds may happen before it listens; the watch's own
/// one-minute timeout ends the loop if no event ever arrives.
async fn watch_while(dir: &Path, pattern: &str, mut change: impl FnMut(usize)) -> Value {
    let (root, pattern) = (dir.to_path_buf(), pattern.to_string());
    let watch = tokio::spawn(async move {
        let ctx = ctx_with(CancellationToken::new());
        ConnectorRegistry::builtin().execute("fs/watch", watch_input(&root, Some(&pattern), ONE_MINUTE), &ctx).await
    });
    let mut round = 0;
    while !watch.is_finished() {
        change(round);
        round += 1;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    watch.await.unwrap().unwrap()
}

/// Each change is one `mkdir` (a single OS event), so the first event seen is always a creation; only names
/// matching the pattern may be reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reports_a_created_entry_that_matches_the_pattern() {
    let dir = tempfile::tempdir().unwrap();
    let out = watch_while(dir.path(), "*.txt", |round| {
        fs::create_dir(dir.path().join(format!("skip-{round}.log"))).unwrap();
        fs::create_dir(dir.path().join(format!("hit-{round}.txt"))).unwrap();
    })
    .await;
    let path = field(&out, "path").to_string_lossy();
    let name = path.strip_prefix(&format!("{}/", dir.path().display())).unwrap_or_else(|| panic!("{path}"));
    assert!(name.starts_with("hit-") && name.ends_with(".txt"), "{path}");
    assert_eq!(field(&out, "kind"), &s("created"));
}

/// A file written elsewhere and renamed into the watched folder is reported under its new name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_reports_a_file_renamed_into_the_folder() {
    let (watched, outside) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let out = watch_while(watched.path(), "*.csv", |round| {
        let staged = outside.path().join(format!("part-{round}"));
        fs::write(&staged, "a,b").unwrap();
        fs::rename(&staged, watched.path().join(format!("data-{round}.csv"))).unwrap();
    })
    .await;
    let path = field(&out, "path").to_string_lossy();
    assert!(path.starts_with(&format!("{}/data-", watched.path().display())), "{path}");
    assert_eq!(field(&out, "kind"), &s("renamed"));
}

#[tokio::test(start_paused = true)]
async fn watch_times_out_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = message(run("fs/watch", watch_input(dir.path(), None, ONE_HOUR)).await);
    assert_eq!(text, format!("no change under {} within 1h", dir.path().display()));
}

#[tokio::test]
async fn watch_stops_when_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let cancel = CancellationToken::new();
    let ctx = ctx_with(cancel.clone());
    let registry = ConnectorRegistry::builtin();
    let waiting = registry.execute("fs/watch", watch_input(dir.path(), None, ONE_HOUR), &ctx);
    cancel.cancel();
    assert_eq!(waiting.await, Err(ActionError::Cancelled));
}

#[tokio::test]
async fn watch_of_a_missing_path_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent");
    let text = message(run("fs/watch", watch_input(&missing, None, ONE_HOUR)).await);
    assert_eq!(text, format!("cannot watch {}: No such file or directory", missing.display()));
}
