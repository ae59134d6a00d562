//! `pilot store migrate`: an SQLite home with a thousand executions copied into PostgreSQL, read back through
//! `--store URL`, against a real server on loopback (`executor::store::postgres::test_server`: skipped with a line
//! on stderr when there is none, failed under `PILOT_REQUIRE_POSTGRES=1`).

use executor::store::postgres::test_server::fresh_database;
use executor::store::postgres::{PostgresOptions, PostgresStore};
use executor::store::{
    Acceptance, ConnectorRecord, ExecutionEnd, IdempotencyKey, InstanceRecord, LogFolder, LogLine, NewExecution,
    SqliteStore, Status, StepEnd, StepStart, Store, StoreOptions, Timestamp, TriggerRecord, new_execution_id,
};
use serde_json::{Value as Json, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const MASTER_KEY: &str = "a master key every node shares";

fn pilot(home: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .env("PILOT_HOME", home)
        .env("PILOT_MASTER_KEY", MASTER_KEY)
        .env("PILOT_KEYRING", "off")
        .env_remove("PILOT_STORE")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run pilot")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(output: &Output) -> Json {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}{}", text(&output.stdout), text(&output.stderr)))
}

fn set_credential(home: &Path, name: &str, secret: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(["credentials", "set", name, "--provider", "api_key"])
        .env("PILOT_HOME", home)
        .env("PILOT_MASTER_KEY", MASTER_KEY)
        .env("PILOT_KEYRING", "off")
        .env_remove("PILOT_STORE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pilot starts");
    child.stdin.take().expect("stdin").write_all(format!("{secret}\n").as_bytes()).expect("write secret");
    let output = child.wait_with_output().expect("pilot ends");
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
}

/// `greet` writes the credential `api` into a file (so a run proves the credential decrypts); `needs-flag`
/// fails reading a missing file.
fn write_workflows(dir: &Path, comment: &str) -> (String, String) {
    let out = dir.join("secret.txt").display().to_string();
    let greet = format!(
        r#"# {comment}
name: greet
steps:
  - id: shape
    action: transform
    input: {{who: "world", n: 3}}
  - id: say
    action: log
    input: {{message: "hello ${{shape.who}}"}}
  - id: save
    action: fs/write
    input: {{path: "{out}", content: "${{secrets.api}}"}}
"#
    );
    let flag = dir.join("flag.txt").display().to_string();
    let needs_flag = format!(
        r#"name: needs-flag
steps:
  - id: check
    action: fs/read
    input: {{path: "{flag}"}}
"#
    );
    let greet_file = dir.join("greet.yaml");
    let flag_file = dir.join("needs-flag.yaml");
    std::fs::write(&greet_file, greet).unwrap();
    std::fs::write(&flag_file, needs_flag).unwrap();
    (greet_file.display().to_string(), flag_file.display().to_string())
}

/// Records `count` executions of `greet` through the store API, as the engine would: three steps each, every
/// tenth failing at its last step, a log line of its own beside the store's lifecycle lines.
async fn record_executions(store: &SqliteStore, workflow_id: &str, count: usize) -> Vec<String> {
    let base = 1_790_000_000_000_000;
    let mut ids = Vec::new();
    // Queued without waiting, as the engine queues steps; every ack is awaited at the end.
    let mut acks = Vec::new();
    for i in 0..count {
        let id = new_execution_id();
        let at = |offset: i64| Timestamp(base + (i as i64) * 1_000 + offset);
        acks.push(store.create_execution(NewExecution {
            id: id.clone(),
            workflow_id: workflow_id.to_owned(),
            workflow_name: "greet".to_owned(),
            workflow_version: 1,
            trigger_id: None,
            trigger: json!({"type": "manual"}),
            input: json!({"row": i}),
            status: Status::Running,
            started_at: at(0),
            retry_of: None,
        }));
        let fails = i % 10 == 9;
        for (n, step) in ["shape", "say", "save"].into_iter().enumerate() {
            let n = n as i64;
            let failed = fails && step == "save";
            let input = json!({"row": i, "step": step});
            let start = StepStart {
                execution_id: id.clone(),
                step_id: step.to_owned(),
                attempt: 1,
                input,
                started_at: at(10 * n),
            };
            acks.push(store.start_step(start));
            acks.push(store.end_step(StepEnd {
                execution_id: id.clone(),
                step_id: step.to_owned(),
                status: if failed { Status::Failed } else { Status::Success },
                attempts: 1,
                output: (!failed).then(|| json!({"row": i, "text": format!("row {i} of {step}"), "z": 1, "a": 2})),
                error: failed.then(|| format!("disk full at row {i}")),
                completed_at: at(10 * n + 5),
            }));
            if step == "say" {
                store
                    .append_log(&id, LogLine::info(at(10 * n + 6), Some("say"), format!("hello row {i}\nsecond line")));
            }
        }
        acks.push(store.finish_execution(ExecutionEnd {
            execution_id: id.clone(),
            status: if fails { Status::Failed } else { Status::Success },
            error: fails.then(|| format!("step save failed: disk full at row {i}")),
            context: Some(json!({"row": i})),
            completed_at: at(40),
        }));
        ids.push(id);
    }
    for ack in acks {
        ack.await.expect("every execution recorded");
    }
    store.flush().await.expect("and logged");
    ids
}

/// The rows the test put in: what `pilot store migrate` must report and verify.
fn tables(json: &Json) -> Vec<(String, u64)> {
    let mut tables: Vec<(String, u64)> = json
        .as_object()
        .expect("tables")
        .iter()
        .map(|(table, count)| (table.clone(), count.as_u64().expect("a count")))
        .collect();
    tables.sort();
    tables
}

fn log_lines(logs: &Path) -> u64 {
    std::fs::read_dir(logs)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap().split_inclusive('\n').count() as u64)
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_executions_move_to_postgres_with_their_steps_logs_and_credentials() {
    let Some(database) = fresh_database("store_migrate_thousand").await else { return };
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();

    // Real runs first: a credential, two versions of `greet`, a failing workflow.
    set_credential(home.path(), "api", "s3cret-token");
    let (greet, needs_flag) = write_workflows(dir.path(), "first");
    let mut runs = Vec::new();
    for file in [&greet, &needs_flag] {
        let output = pilot(home.path(), &["run", file, "--json"]);
        runs.push(json(&output));
    }
    write_workflows(dir.path(), "second version");
    runs.push(json(&pilot(home.path(), &["run", &greet, "--json"])));
    assert_eq!(
        runs.iter().map(|run| run["status"].as_str().unwrap()).collect::<Vec<_>>(),
        ["success", "failed", "success"],
        "{runs:#?}"
    );

    // Then copies through the store API, a trigger, an accepted webhook with its idempotency key, a connector.
    let api_executions = 996;
    let sample;
    {
        let options = StoreOptions { logs: LogFolder::At(home.path().join("logs")), ..StoreOptions::default() };
        let store = SqliteStore::open(home.path().join("pilot.db"), options).unwrap();
        let workflow = store.workflow_by_name("greet").await.unwrap().expect("greet saved by pilot run");
        let ids = record_executions(&store, &workflow.id, api_executions).await;
        sample = ids.iter().step_by(97).cloned().collect::<Vec<_>>();
        let trigger = TriggerRecord {
            id: "greet-hook".to_owned(),
            workflow_id: workflow.id.clone(),
            trigger_type: "webhook".to_owned(),
            config: json!({"path": "/greet"}),
            is_enabled: true,
        };
        store.sync_triggers(&workflow.id, vec![trigger]).await.unwrap();
        let webhook = NewExecution {
            id: new_execution_id(),
            workflow_id: workflow.id.clone(),
            workflow_name: "greet".to_owned(),
            workflow_version: 2,
            trigger_id: Some("greet-hook".to_owned()),
            trigger: json!({"type": "webhook", "path": "/greet"}),
            input: json!({"body": {"hello": 1}}),
            status: Status::Pending,
            started_at: Timestamp(1_790_000_000_000_000),
            retry_of: None,
        };
        let idempotency = IdempotencyKey {
            scope: "webhook:/greet".to_owned(),
            key: "delivery-1".to_owned(),
            expired_before: Timestamp(0),
        };
        let acceptance =
            Acceptance { execution: webhook, owner: None, slot: None, idempotency: Some(idempotency), skipped: None };
        store.accept_execution(acceptance).await.unwrap();
        let manifest = json!({"id": "acme", "version": "1.0.0", "actions": {}});
        let connector = ConnectorRecord {
            id: "acme".to_owned(),
            name: "Acme".to_owned(),
            version: "1.0.0".to_owned(),
            manifest,
            is_enabled: true,
            installed_at: Timestamp(1_790_000_000_000_000),
        };
        store.record_connector(connector).await.unwrap();
    }
    let run_steps: u64 = runs.iter().map(|run| run["steps"].as_array().unwrap().len() as u64).sum();
    let mut expected = vec![
        ("connectors".to_owned(), 1),
        ("credentials".to_owned(), 1),
        ("execution_logs".to_owned(), log_lines(&home.path().join("logs"))),
        ("execution_steps".to_owned(), run_steps + 3 * api_executions as u64),
        ("executions".to_owned(), 1000),
        ("idempotency_keys".to_owned(), 1),
        ("triggers".to_owned(), 1),
        ("workflow_versions".to_owned(), 3),
        ("workflows".to_owned(), 2),
    ];
    expected.sort();

    let url = database.url.as_str();
    let migrated = pilot(home.path(), &["store", "migrate", "--to", url, "--json"]);
    assert_eq!(migrated.status.code(), Some(0), "{}", text(&migrated.stderr));
    let report = json(&migrated);
    assert_eq!(tables(&report["tables"]), expected);
    eprintln!("migrated in {} s: {}", report["seconds"], report["tables"]);

    // Read back through the CLI: the same listing, executions and logs from either store.
    let list = ["executions", "list", "--json", "--limit", "5000"];
    let from_sqlite = json(&pilot(home.path(), &list));
    let from_postgres = json(&pilot(home.path(), &[&list[..], &["--store", url]].concat()));
    assert_eq!(from_postgres.as_array().map(Vec::len), Some(1000));
    assert_eq!(from_postgres, from_sqlite);
    let shown: Vec<String> =
        runs.iter().map(|run| run["id"].as_str().unwrap().to_owned()).chain(sample.iter().cloned()).collect();
    for id in &shown {
        let show = pilot(home.path(), &["executions", "show", id, "--json", "--store", url]);
        assert_eq!(show.status.code(), Some(0), "{}", text(&show.stderr));
        assert_eq!(json(&show), json(&pilot(home.path(), &["executions", "show", id, "--json"])), "execution {id}");
        let log = pilot(home.path(), &["logs", id, "--store", url]);
        assert_eq!(log.status.code(), Some(0), "{}", text(&log.stderr));
        assert!(!log.stdout.is_empty(), "execution {id} has a log");
        assert_eq!(text(&log.stdout), text(&pilot(home.path(), &["logs", id]).stdout), "log of {id}");
    }
    let first = &runs[0];
    assert_eq!(
        json(&pilot(home.path(), &["executions", "show", first["id"].as_str().unwrap(), "--json", "--store", url])),
        *first
    );

    // A second copy into the filled store is refused, and leaves it as it was.
    let refused = pilot(home.path(), &["store", "migrate", "--to", url, "--json"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    let refusal = json(&refused);
    assert_eq!(refusal["exit_code"], 2);
    let message = refusal["error"].as_str().unwrap();
    assert!(message.contains("is not empty (workflows 2,") && message.contains("--force"), "{message}");

    // Not while a node serves it, even with --force.
    let target = PostgresStore::connect(url, PostgresOptions::default()).await.unwrap();
    let node = InstanceRecord {
        id: "node-a".to_owned(),
        kind: "serve".to_owned(),
        pid: 4242,
        host: "db-node".to_owned(),
        started_at: Timestamp(0),
        lease_expires_at: Timestamp(i64::MAX),
    };
    target.register_instance(node).await.unwrap();
    let busy = pilot(home.path(), &["store", "migrate", "--to", url, "--force"]);
    assert_eq!(busy.status.code(), Some(2), "{}", text(&busy.stderr));
    assert!(text(&busy.stderr).contains("in use by node-a (host db-node, pid 4242)"), "{}", text(&busy.stderr));
    target.remove_instance("node-a").await.unwrap();

    // --force replaces the contents: the same counts, nothing doubled.
    let replaced = pilot(home.path(), &["store", "migrate", "--to", url, "--force", "--json"]);
    assert_eq!(replaced.status.code(), Some(0), "{}", text(&replaced.stderr));
    assert_eq!(tables(&json(&replaced)["tables"]), expected);
    assert_eq!(json(&replaced)["replaced"], true);

    // The credential decrypts on the new store with the same master key.
    std::fs::remove_file(dir.path().join("secret.txt")).unwrap();
    let run = pilot(home.path(), &["run", &greet, "--json", "--store", url]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    assert_eq!(std::fs::read_to_string(dir.path().join("secret.txt")).unwrap(), "s3cret-token");
    assert_eq!(json(&run)["steps"][2]["status"], "success");
}

#[test]
fn a_migrate_that_cannot_start_says_why_without_showing_a_password() {
    let home = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("postgres://pilot:s3cret@127.0.0.1:{port}/pilot");

    let no_source = pilot(home.path(), &["store", "migrate", "--to", &url, "--json"]);
    assert_eq!(no_source.status.code(), Some(2));
    assert!(json(&no_source)["error"].as_str().unwrap().starts_with("there is no SQLite store at"));

    // A home with a store, and a target that does not answer.
    set_credential(home.path(), "api", "token");
    let unreachable = pilot(home.path(), &["store", "migrate", "--to", &url]);
    assert_eq!(unreachable.status.code(), Some(1), "{}", text(&unreachable.stderr));
    let stderr = text(&unreachable.stderr);
    assert!(stderr.contains(&format!("postgres://pilot:***@127.0.0.1:{port}/pilot")), "{stderr}");
    assert!(!stderr.contains("s3cret") && !text(&unreachable.stdout).contains("s3cret"), "{stderr}");

    // Not while a daemon runs on the source (it holds this lock while it runs).
    let daemon = server::daemon::DaemonLock::acquire(&server::home::PilotHome::at(home.path()), "127.0.0.1:7777");
    let serving = pilot(home.path(), &["store", "migrate", "--to", &url]);
    assert_eq!(serving.status.code(), Some(2), "{}", text(&serving.stderr));
    assert!(text(&serving.stderr).contains(", 127.0.0.1:7777): stop it first"), "{}", text(&serving.stderr));
    drop(daemon);

    let not_a_url = pilot(home.path(), &["store", "migrate", "--to", "/srv/pilot.db"]);
    assert_eq!(not_a_url.status.code(), Some(2));
    assert!(text(&not_a_url.stderr).contains("--to: `/srv/pilot.db` is not a PostgreSQL URL"));
    let no_target = pilot(home.path(), &["store", "migrate"]);
    assert_eq!(no_target.status.code(), Some(2));
    assert!(text(&no_target.stderr).contains("give the PostgreSQL store to copy into"), "{}", text(&no_target.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_that_differs_commits_nothing() {
    let Some(database) = fresh_database("store_migrate_mismatch").await else { return };
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (_, needs_flag) = write_workflows(dir.path(), "first");
    let run = json(&pilot(home.path(), &["run", &needs_flag, "--json"]));
    // A step whose execution is gone (a store written with foreign keys off): counted, but never exported.
    let conn = rusqlite::Connection::open(home.path().join("pilot.db")).unwrap();
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF;
         INSERT INTO execution_steps (id, execution_id, step_id, status) VALUES ('gone/check', 'gone', 'check', 'success');",
    )
    .unwrap();
    drop(conn);

    let url = database.url.as_str();
    let failed = pilot(home.path(), &["store", "migrate", "--to", url, "--json"]);
    assert_eq!(failed.status.code(), Some(1), "{}", text(&failed.stderr));
    assert_eq!(
        json(&failed)["error"],
        "table execution_steps: 2 rows read from the source but 1 in the target; nothing was committed"
    );
    let listed = json(&pilot(home.path(), &["executions", "list", "--json", "--store", url]));
    assert_eq!(listed, json!([]), "nothing of {} was committed", run["id"]);
}
