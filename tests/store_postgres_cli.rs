//! The CLI on a PostgreSQL store (`--store URL` / `PILOT_STORE`), against a real server on loopback
//! (`executor::store::postgres::test_server`: skipped with a line on stderr when there is none, failed under
//! `PILOT_REQUIRE_POSTGRES=1`).

use executor::store::postgres::test_server::fresh_database;
use std::path::Path;
use std::process::{Command, Output};

fn pilot(home: &Path, store: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .env("PILOT_HOME", home)
        .env("PILOT_STORE", store)
        .env_remove("RUST_LOG")
        .output()
        .expect("run pilot")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}: {}", text(&output.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pilot_run_records_in_postgres_and_executions_show_reads_it_back() {
    let Some(database) = fresh_database("pilot_run_records_in_postgres").await else { return };
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().display().to_string();
    let yaml = format!(
        r#"
name: needs-flag
steps:
  - id: first
    action: fs/write
    input: {{path: "{dir}/log.txt", content: "first\n", append: true}}
  - id: check
    action: fs/read
    input: {{path: "{dir}/flag.txt"}}
  - id: say
    action: log
    input: {{message: "saw ${{check.content}}"}}
"#
    );
    let file = home.path().join("flag.yaml");
    std::fs::write(&file, yaml).unwrap();
    let file = file.display().to_string();

    let failed = pilot(home.path(), &database.url, &["run", &file, "--json"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    let failed = json(&failed);
    assert_eq!(failed["steps"][1]["status"], "failed");
    let id = failed["id"].as_str().unwrap().to_owned();

    // Read back by another process, the store named by the flag this time (PILOT_STORE empty).
    let shown = pilot(home.path(), "", &["executions", "show", &id, "--json", "--store", &database.url]);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    assert_eq!(json(&shown), failed, "the execution as `pilot run` reported it");
    assert!(!home.path().join("pilot.db").exists(), "nothing was recorded in SQLite");

    // Retry reads the definition version that ran from the store; the log is the store's too.
    std::fs::write(home.path().join("flag.txt"), "the flag").unwrap();
    let retried = pilot(home.path(), &database.url, &["retry", &id, "--json"]);
    assert_eq!(retried.status.code(), Some(0), "{}", text(&retried.stderr));
    let retried = json(&retried);
    assert_eq!((retried["status"].as_str(), &retried["steps"][0]), (Some("success"), &failed["steps"][0]));
    let retried_id = retried["id"].as_str().unwrap();
    let log = pilot(home.path(), &database.url, &["logs", retried_id]);
    assert!(text(&log.stdout).contains("[say] saw the flag"), "{}{}", text(&log.stdout), text(&log.stderr));
    let listed = pilot(home.path(), &database.url, &["executions", "list", "--json"]);
    assert_eq!(json(&listed).as_array().map(Vec::len), Some(2), "{}", text(&listed.stdout));
}

#[test]
fn a_store_that_does_not_answer_fails_the_command_without_showing_its_password() {
    let home = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://pilot:s3cret@127.0.0.1:{port}/pilot");
    let output = pilot(home.path(), "", &["executions", "list", "--store", &url]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains(&format!("postgres://pilot:***@127.0.0.1:{port}/pilot")), "{stderr}");
    assert!(!stderr.contains("s3cret") && !text(&output.stdout).contains("s3cret"), "{stderr}");
    let refused = pilot(home.path(), "", &["executions", "list", "--store", "/srv/pilot.db"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("is not a store URL"), "{}", text(&refused.stderr));
}
