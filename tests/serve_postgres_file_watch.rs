//! File watches of `pilot serve` nodes sharing one PostgreSQL store: two nodes of one machine watching one
//! folder fire each change once, and `daemon.file_watches` says which workflows' watches a node runs.

mod serve_support;

use executor::store::postgres::test_server::fresh_database;
use serde_json::Value as Json;
use serve_support::{Daemon, Home};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// A workflow `NAME` run once per change of a file matching `PATTERN` in `FOLDER`.
fn watching(name: &str, folder: &Path, pattern: &str) -> String {
    format!(
        r#"
name: {name}
triggers:
  - type: file_watch
    path: {}
    pattern: "{pattern}"
    events: [create]
steps:
  - id: seen
    action: log
    input:
      message: "${{trigger.event.path}}"
"#,
        folder.display()
    )
}

/// How many executions each created file started, by file name.
fn runs_by_file(node: &Daemon, workflow: &str) -> BTreeMap<String, usize> {
    let mut runs = BTreeMap::new();
    for execution in node.executions(workflow) {
        let id = execution["id"].as_str().unwrap();
        let trigger: Json = node.execution(id)["trigger"].clone();
        let path = trigger["event"]["path"].as_str().unwrap_or_default();
        let name = Path::new(path).file_name().unwrap().to_string_lossy().into_owned();
        *runs.entry(name).or_default() += 1;
    }
    runs
}

/// Creates warm-up files until one starts an execution: the node's watch is armed.
fn warm_up(node: &Daemon, workflow: &str, folder: &Path, extension: &str) {
    let mut round = 0;
    node.wait_until("the watch to see a file", || {
        round += 1;
        std::fs::write(folder.join(format!("warm-up-{round}.{extension}")), "x").unwrap();
        std::thread::sleep(Duration::from_millis(200));
        (!node.executions(workflow).is_empty()).then_some(())
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_watching_one_folder_of_one_machine_fire_each_change_once() {
    let Some(database) = fresh_database("two_nodes_watching_one_folder").await else { return };
    let (first_home, second_home) = (Home::new(), Home::new());
    let inbox = first_home.work_dir().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    for home in [&first_home, &second_home] {
        home.write_workflow("inbox.yaml", &watching("inbox", &inbox, "*.csv"));
    }
    let env = [("PILOT_STORE", database.url.as_str())];
    let first = first_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let second = second_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    warm_up(&first, "inbox", &inbox, "csv");
    // Both nodes started their watch tasks at their start; give the second one's watch time to be armed too.
    std::thread::sleep(Duration::from_secs(1));

    let files: Vec<String> = (0..10).map(|n| format!("report-{n}.csv")).collect();
    for file in &files {
        std::fs::write(inbox.join(file), "rows").unwrap();
    }
    first.wait_until("an execution for every file", || {
        let runs = runs_by_file(&first, "inbox");
        files.iter().all(|file| runs.contains_key(file)).then_some(())
    });
    // Both nodes saw every change; a second execution of one would come within the debounce time.
    std::thread::sleep(Duration::from_secs(2));
    let runs = runs_by_file(&second, "inbox");
    for (file, count) in &runs {
        assert_eq!(*count, 1, "{file} started {count} executions: {runs:?}");
    }
    assert!(first.stop().success() && second.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_runs_only_the_file_watches_its_settings_name() {
    let Some(database) = fresh_database("a_node_runs_only_named_watches").await else { return };
    let home = Home::new();
    let inbox = home.work_dir().join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    home.write_workflow("reports.yaml", &watching("reports", &inbox, "*.csv"));
    home.write_workflow("notes.yaml", &watching("notes", &inbox, "*.txt"));
    std::fs::write(home.path().join("settings.json"), r#"{"daemon": {"file_watches": ["notes"]}}"#).unwrap();
    let node = home.serve_with(&["--addr", "127.0.0.1:0"], &[("PILOT_STORE", database.url.as_str())]);
    warm_up(&node, "notes", &inbox, "txt");

    std::fs::write(inbox.join("report.csv"), "rows").unwrap();
    std::fs::write(inbox.join("last.txt"), "a barrier: seen after the csv").unwrap();
    node.wait_until("the last note's execution", || runs_by_file(&node, "notes").get("last.txt").map(|_| ()));
    std::thread::sleep(Duration::from_secs(1));
    assert!(node.executions("reports").is_empty(), "`reports` is not in this node's file_watches");
    assert!(node.stop().success());
}
