//! fs/read, fs/write, fs/copy, fs/move and fs/delete against real files in temporary folders.

mod fs_support;

use std::fs;

use expr_grammar::Value;
use fs_support::{field, input, message, names_in, p, run, s};

#[tokio::test]
async fn read_returns_content_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    fs::write(&file, "héllo").unwrap();
    let out = run("fs/read", input([("path", p(&file))])).await.unwrap();
    assert_eq!(field(&out, "content"), &s("héllo"));
    assert_eq!(field(&out, "size"), &Value::Int(6));
    assert_eq!(field(&out, "path"), &p(&file));
}

#[tokio::test]
async fn read_of_a_missing_file_names_the_path_and_the_os_reason() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("missing.txt");
    let text = message(run("fs/read", input([("path", p(&file))])).await);
    assert_eq!(text, format!("cannot read {}: No such file or directory", file.display()));
}

#[tokio::test]
async fn read_of_binary_data_says_it_is_not_text() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("image.bin");
    fs::write(&file, [b'o', b'k', 0xff, 0xfe]).unwrap();
    let text = message(run("fs/read", input([("path", p(&file))])).await);
    assert_eq!(text, format!("cannot read {}: not UTF-8 text (invalid byte at offset 2)", file.display()));
}

#[tokio::test]
async fn read_with_a_wrongly_typed_path_names_the_input() {
    let text = message(run("fs/read", input([("path", Value::Int(3))])).await);
    assert_eq!(text, "input `path`: expected a string, got an int");
}

#[tokio::test]
async fn write_creates_missing_folders_and_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a/b/out.txt");
    let out = run("fs/write", input([("path", p(&file)), ("content", s("first"))])).await.unwrap();
    assert_eq!(field(&out, "size"), &Value::Int(5));
    assert_eq!(fs::read_to_string(&file).unwrap(), "first");
    assert_eq!(names_in(&dir.path().join("a/b")), ["out.txt"]);
}

#[tokio::test]
async fn write_replaces_and_append_extends() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("log.txt");
    fs::write(&file, "old content").unwrap();
    run("fs/write", input([("path", p(&file)), ("content", s("new"))])).await.unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), "new");
    let out = run("fs/write", input([("path", p(&file)), ("content", s("+more")), ("append", Value::Bool(true))]))
        .await
        .unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), "new+more");
    assert_eq!(field(&out, "size"), &Value::Int(8));
    assert_eq!(names_in(dir.path()), ["log.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appends_from_executions_running_at_once_all_land() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shared.log");
    let appends = (0..200).map(|n| {
        let path = p(&file);
        tokio::spawn(async move {
            let line = s(format!("line {n}\n"));
            run("fs/write", input([("path", path), ("content", line), ("append", Value::Bool(true))])).await.unwrap()
        })
    });
    for append in appends.collect::<Vec<_>>() {
        append.await.unwrap();
    }
    let written = fs::read_to_string(&file).unwrap();
    let mut lines: Vec<&str> = written.lines().collect();
    lines.sort_unstable();
    let mut expected: Vec<String> = (0..200).map(|n| format!("line {n}")).collect();
    expected.sort_unstable();
    assert_eq!(lines, expected, "every append kept, none twice");
    assert_eq!(names_in(dir.path()), ["shared.log"]);
}

#[cfg(unix)]
#[tokio::test]
async fn write_keeps_the_permissions_of_the_file_it_replaces() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret.txt");
    fs::write(&file, "x").unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    run("fs/write", input([("path", p(&file)), ("content", s("y"))])).await.unwrap();
    assert_eq!(fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
}

#[cfg(unix)]
#[tokio::test]
async fn write_through_a_symbolic_link_changes_its_target() {
    let dir = tempfile::tempdir().unwrap();
    let (target, link) = (dir.path().join("real.txt"), dir.path().join("link.txt"));
    fs::write(&target, "old").unwrap();
    std::os::unix::fs::symlink(&target, &link).unwrap();
    run("fs/write", input([("path", p(&link)), ("content", s("new"))])).await.unwrap();
    assert_eq!(fs::read_to_string(&target).unwrap(), "new");
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
}

#[tokio::test]
async fn failed_write_leaves_the_destination_intact_and_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    // The final rename fails: the destination is a folder that holds a file.
    let target = dir.path().join("target");
    fs::create_dir(&target).unwrap();
    fs::write(target.join("keep.txt"), "kept").unwrap();
    let text = message(run("fs/write", input([("path", p(&target)), ("content", s("data"))])).await);
    assert!(text.starts_with(&format!("cannot write {}: ", target.display())), "{text}");
    assert_eq!(fs::read_to_string(target.join("keep.txt")).unwrap(), "kept");
    assert_eq!(names_in(dir.path()), ["target"]);
}

#[tokio::test]
async fn copy_replaces_an_existing_file_like_cp_and_refuses_with_overwrite_false() {
    let dir = tempfile::tempdir().unwrap();
    let (source, destination) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
    fs::write(&source, "alpha").unwrap();
    let out = run("fs/copy", input([("source", p(&source)), ("destination", p(&destination))])).await.unwrap();
    assert_eq!(field(&out, "size"), &Value::Int(5));
    assert_eq!(fs::read_to_string(&destination).unwrap(), "alpha");

    fs::write(&source, "beta").unwrap();
    run("fs/copy", input([("source", p(&source)), ("destination", p(&destination))])).await.unwrap();
    assert_eq!(fs::read_to_string(&destination).unwrap(), "beta");

    fs::write(&source, "gamma").unwrap();
    let refuse = input([("source", p(&source)), ("destination", p(&destination)), ("overwrite", Value::Bool(false))]);
    let text = message(run("fs/copy", refuse).await);
    assert_eq!(
        text,
        format!(
            "cannot copy {} to {}: the destination exists and `overwrite` is false",
            source.display(),
            destination.display()
        )
    );
    assert_eq!(fs::read_to_string(&destination).unwrap(), "beta");
    assert_eq!(names_in(dir.path()), ["a.txt", "b.txt"]);
}

#[tokio::test]
async fn copy_of_a_folder_again_merges_into_the_earlier_copy() {
    let dir = tempfile::tempdir().unwrap();
    let (source, destination) = (dir.path().join("src"), dir.path().join("copy"));
    fs::create_dir(&source).unwrap();
    fs::write(source.join("kept.txt"), "day one").unwrap();
    run("fs/copy", input([("source", p(&source)), ("destination", p(&destination))])).await.unwrap();
    fs::write(source.join("kept.txt"), "day two").unwrap();
    fs::write(source.join("new.txt"), "new").unwrap();
    run("fs/copy", input([("source", p(&source)), ("destination", p(&destination))])).await.unwrap();
    assert_eq!(fs::read_to_string(destination.join("kept.txt")).unwrap(), "day two");
    assert_eq!(names_in(&destination), ["kept.txt", "new.txt"]);
}

#[tokio::test]
async fn copy_of_a_folder_copies_everything_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    fs::create_dir_all(source.join("deep/er")).unwrap();
    fs::write(source.join("one.txt"), "1").unwrap();
    fs::write(source.join("deep/er/two.txt"), "22").unwrap();
    let destination = dir.path().join("backup/src-copy");
    let out = run("fs/copy", input([("source", p(&source)), ("destination", p(&destination))])).await.unwrap();
    assert_eq!(field(&out, "size"), &Value::Int(3));
    assert_eq!(fs::read_to_string(destination.join("one.txt")).unwrap(), "1");
    assert_eq!(fs::read_to_string(destination.join("deep/er/two.txt")).unwrap(), "22");
    assert_eq!(names_in(&destination.join("deep/er")), ["two.txt"]);
}

#[tokio::test]
async fn copy_of_a_folder_into_itself_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    fs::create_dir(&source).unwrap();
    fs::write(source.join("f"), "x").unwrap();
    let inside = source.join("nested");
    let text = message(run("fs/copy", input([("source", p(&source)), ("destination", p(&inside))])).await);
    assert!(text.ends_with("the destination is inside the folder being copied"), "{text}");
    assert_eq!(names_in(&source), ["f"]);
}

#[tokio::test]
async fn copy_of_a_missing_source_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("nope");
    let text =
        message(run("fs/copy", input([("source", p(&source)), ("destination", p(&dir.path().join("x")))])).await);
    assert_eq!(text, format!("cannot copy {}: No such file or directory", source.display()));
}

/// Reading `/proc/self/mem` from offset 0 fails with an I/O error after the copy has started: the destination
/// must keep its old content and the temporary file must be gone.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn copy_failing_midway_leaves_the_destination_intact() {
    let dir = tempfile::tempdir().unwrap();
    let destination = dir.path().join("dest.txt");
    fs::write(&destination, "original").unwrap();
    let broken = input([("source", s("/proc/self/mem")), ("destination", p(&destination))]);
    let text = message(run("fs/copy", broken).await);
    assert!(text.starts_with(&format!("cannot copy /proc/self/mem to {}: ", destination.display())), "{text}");
    assert_eq!(fs::read_to_string(&destination).unwrap(), "original");
    assert_eq!(names_in(dir.path()), ["dest.txt"]);
}

#[tokio::test]
async fn move_replaces_an_existing_file_like_mv_and_refuses_with_overwrite_false() {
    let dir = tempfile::tempdir().unwrap();
    let (source, destination) = (dir.path().join("a.txt"), dir.path().join("sub/b.txt"));
    fs::write(&source, "moved").unwrap();
    run("fs/move", input([("source", p(&source)), ("destination", p(&destination))])).await.unwrap();
    assert!(!source.exists());
    assert_eq!(fs::read_to_string(&destination).unwrap(), "moved");

    fs::write(&source, "second").unwrap();
    run("fs/move", input([("source", p(&source)), ("destination", p(&destination))])).await.unwrap();
    assert!(!source.exists());
    assert_eq!(fs::read_to_string(&destination).unwrap(), "second");

    fs::write(&source, "third").unwrap();
    let refuse = input([("source", p(&source)), ("destination", p(&destination)), ("overwrite", Value::Bool(false))]);
    let text = message(run("fs/move", refuse).await);
    assert!(text.ends_with("the destination exists and `overwrite` is false"), "{text}");
    assert_eq!(fs::read_to_string(&source).unwrap(), "third");
    assert_eq!(fs::read_to_string(&destination).unwrap(), "second");
}

#[tokio::test]
async fn move_of_a_folder_onto_a_folder_with_files_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (source, destination) = (dir.path().join("new"), dir.path().join("old"));
    fs::create_dir(&source).unwrap();
    fs::write(source.join("a.txt"), "a").unwrap();
    fs::create_dir(&destination).unwrap();
    fs::write(destination.join("b.txt"), "b").unwrap();
    let text = message(run("fs/move", input([("source", p(&source)), ("destination", p(&destination))])).await);
    assert!(text.ends_with("the destination is a folder that is not empty"), "{text}");
    assert_eq!(names_in(&source), ["a.txt"]);
    assert_eq!(names_in(&destination), ["b.txt"]);
}

#[tokio::test]
async fn move_of_a_missing_source_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("ghost");
    let text =
        message(run("fs/move", input([("source", p(&source)), ("destination", p(&dir.path().join("x")))])).await);
    assert_eq!(text, format!("cannot move {}: No such file or directory", source.display()));
}

/// /dev/shm is a tmpfs, a different file system from the temporary folder: rename fails with EXDEV there and
/// the move falls back to copy and delete.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn move_across_file_systems_copies_then_deletes() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let Ok(other) = tempfile::tempdir_in("/dev/shm") else {
        eprintln!("skipped: /dev/shm is not writable here");
        return;
    };
    if fs::metadata(dir.path()).unwrap().dev() == fs::metadata(other.path()).unwrap().dev() {
        eprintln!("skipped: /dev/shm is on the same file system as the temporary folder");
        return;
    }
    let folder = dir.path().join("folder");
    fs::create_dir_all(folder.join("inner")).unwrap();
    fs::write(folder.join("inner/f.txt"), "across").unwrap();
    let destination = other.path().join("folder");
    run("fs/move", input([("source", p(&folder)), ("destination", p(&destination))])).await.unwrap();
    assert!(!folder.exists());
    assert_eq!(fs::read_to_string(destination.join("inner/f.txt")).unwrap(), "across");
}

#[tokio::test]
async fn delete_removes_files_and_empty_folders() {
    let dir = tempfile::tempdir().unwrap();
    let (file, folder) = (dir.path().join("f.txt"), dir.path().join("empty"));
    fs::write(&file, "x").unwrap();
    fs::create_dir(&folder).unwrap();
    let out = run("fs/delete", input([("path", p(&file))])).await.unwrap();
    assert_eq!(field(&out, "deleted"), &Value::Bool(true));
    run("fs/delete", input([("path", p(&folder))])).await.unwrap();
    assert!(names_in(dir.path()).is_empty());
}

#[tokio::test]
async fn delete_refuses_a_full_folder_unless_recursive() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("full");
    fs::create_dir_all(folder.join("sub")).unwrap();
    fs::write(folder.join("sub/f.txt"), "x").unwrap();
    let text = message(run("fs/delete", input([("path", p(&folder))])).await);
    assert_eq!(
        text,
        format!(
            "cannot delete {}: the folder is not empty (set `recursive: true` to delete it with its contents)",
            folder.display()
        )
    );
    assert!(folder.join("sub/f.txt").exists());
    run("fs/delete", input([("path", p(&folder)), ("recursive", Value::Bool(true))])).await.unwrap();
    assert!(!folder.exists());
}

#[tokio::test]
async fn delete_of_a_missing_path_fails_unless_missing_ok() {
    let dir = tempfile::tempdir().unwrap();
    let gone = dir.path().join("gone");
    let text = message(run("fs/delete", input([("path", p(&gone))])).await);
    assert_eq!(text, format!("cannot delete {}: No such file or directory", gone.display()));
    let out = run("fs/delete", input([("path", p(&gone)), ("missing_ok", Value::Bool(true))])).await.unwrap();
    assert_eq!(field(&out, "deleted"), &Value::Bool(false));
}
