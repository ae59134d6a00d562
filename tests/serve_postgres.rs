//! `pilot serve` nodes sharing one PostgreSQL store (a real server on loopback, see
//! `executor::store::postgres::test_server`): webhooks sent to two or three nodes are each run exactly once (and
//! every node runs some), an idempotency key holds across nodes, and either node's API lists every execution.
//! The cluster bus: a node's lost listening connection is reopened, the live events of every node show on any,
//! cancelling works from any node, and a workflow's concurrency limit and policies hold over all of them.

mod serve_support;

use executor::store::postgres::test_server::fresh_database;
use executor::store::postgres::{PostgresOptions, PostgresStore};
use executor::store::{ExecutionFilter, Store};
use serde_json::json;
use serve_support::Home;
use serve_support::http::{EventStream, Request};
use std::time::{Duration, Instant};

/// Homes, each with `workflow` as `workflows/FILE` and, if given, `settings` as its settings.json.
fn homes_with<const N: usize>(file: &str, workflow: &str, settings: Option<&str>) -> [Home; N] {
    std::array::from_fn(|_| {
        let home = Home::new();
        home.write_workflow(file, workflow);
        if let Some(settings) = settings {
            std::fs::write(home.path().join("settings.json"), settings).unwrap();
        }
        home
    })
}

/// `pilot serve ARGS` on `home` with the store at `url`, on an ephemeral port.
fn node(home: &Home, url: &str, args: &[&str]) -> serve_support::Daemon {
    let args: Vec<&str> = ["--addr", "127.0.0.1:0"].into_iter().chain(args.iter().copied()).collect();
    home.serve_with(&args, &[("PILOT_STORE", url)])
}

const COUNT: &str = r#"
name: count
triggers:
  - type: webhook
    path: /hooks/count
inputs:
  n:
    type: int
steps:
  - id: record
    action: fs/write
    input: {path: "RAN/${inputs.n}.txt", content: "ran\n", append: true}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_sent_to_two_nodes_on_one_database_each_run_exactly_once() {
    let Some(database) = fresh_database("webhooks_sent_to_two_nodes").await else { return };
    // One file per webhook, appended to: a second run of one would leave two lines in it.
    let ran = tempfile::tempdir().unwrap();
    let ran = ran.path();
    let [first_home, second_home] = homes_with("count.yaml", &COUNT.replace("RAN", &ran.display().to_string()), None);
    let (first, second) = (node(&first_home, &database.url, &[]), node(&second_home, &database.url, &[]));
    let nodes = [&first, &second];

    let total = 40;
    let ids: Vec<String> = (0..total).map(|n| nodes[n % 2].trigger("/hooks/count", &json!({"n": n}))).collect();
    for (n, id) in ids.iter().enumerate() {
        let execution = nodes[n % 2].wait_finished(id);
        assert_eq!(execution["status"], "success", "{execution:#}");
    }
    for (n, id) in ids.iter().enumerate() {
        let runs = std::fs::read_to_string(ran.join(format!("{n}.txt"))).unwrap_or_default();
        let log = first_home.pilot(&["logs", id, "--store", &database.url]);
        assert_eq!(runs, "ran\n", "webhook {n} ran once; its log:\n{}", String::from_utf8_lossy(&log.stdout));
    }
    for node in nodes {
        assert_eq!(node.executions("count").len(), total, "each node lists the executions of both");
    }
    let other = second.execution(&ids[0]);
    assert_eq!(other["status"], "success", "the second node reads what the first ran: {other:#}");

    // A key sent to one node and repeated to the other answers the first execution.
    let with_key = |node: &serve_support::Daemon| {
        let request =
            Request::new("POST", "/hooks/count").header("Idempotency-Key", "order-7").json(&json!({"n": 1000}));
        let response = node.send(request);
        assert_eq!(response.status, 202, "{}", response.text());
        response.json()
    };
    let (sent, repeated) = (with_key(&first), with_key(&second));
    assert_eq!((sent["status"].as_str(), repeated["status"].as_str()), (Some("queued"), Some("existing")));
    assert_eq!(repeated["execution_id"], sent["execution_id"]);
    first.wait_finished(sent["execution_id"].as_str().unwrap());

    assert!(first.stop().success() && second.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_webhooks_sent_round_robin_to_three_nodes_each_run_once_and_every_node_runs_some() {
    let Some(database) = fresh_database("a_thousand_webhooks_three_nodes").await else { return };
    let ran = tempfile::tempdir().unwrap();
    let ran = ran.path();
    let homes: [Home; 3] = homes_with("count.yaml", &COUNT.replace("RAN", &ran.display().to_string()), None);
    let nodes = homes.each_ref().map(|home| node(home, &database.url, &[]));

    let total = 1000;
    let ids: Vec<String> = (0..total).map(|n| nodes[n % 3].trigger("/hooks/count", &json!({"n": n}))).collect();
    for (n, id) in ids.iter().enumerate() {
        let execution = nodes[n % 3].wait_finished(id);
        assert_eq!(execution["status"], "success", "{execution:#}");
    }
    for n in 0..total {
        let runs = std::fs::read_to_string(ran.join(format!("{n}.txt"))).unwrap_or_default();
        assert_eq!(runs, "ran\n", "webhook {n} ran exactly once");
    }
    // Who ran each: the node that claimed it is its owner.
    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let mut ran_by: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for id in &ids {
        let record = store.load_execution(id).await.unwrap().expect("recorded");
        *ran_by.entry(record.owner.expect("run by a node")).or_default() += 1;
    }
    assert_eq!(ran_by.len(), 3, "every node ran some: {ran_by:?}");
    assert_eq!(ran_by.values().sum::<usize>(), total);
    for node in nodes {
        assert!(node.stop().success());
    }
}

const SLOW: &str = r#"
name: slow
triggers:
  - type: webhook
    path: /hooks/slow
steps:
  - id: first
    action: fs/write
    input: {path: "WORK/first.txt", content: "ran\n", append: true}
  - id: nap
    action: sleep
    needs: first
    input: {duration: 3s}
  - id: last
    action: fs/write
    needs: nap
    input: {path: "WORK/last.txt", content: "ran\n", append: true}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_executions_of_a_killed_node_finish_on_another_once_its_lease_expires() {
    let Some(database) = fresh_database("the_executions_of_a_killed_node").await else { return };
    let work = tempfile::tempdir().unwrap();
    let workflow = SLOW.replace("WORK", &work.path().display().to_string());
    let [first_home, second_home] = homes_with("slow.yaml", &workflow, Some(r#"{"daemon": {"lease_seconds": 3}}"#));
    let first = node(&first_home, &database.url, &[]);
    let id = first.trigger("/hooks/slow", &json!({}));
    first.wait_for_execution(&id, "to reach its nap", |execution| {
        execution["steps"]
            .as_array()
            .is_some_and(|steps| steps.iter().any(|step| step["id"] == "nap" && step["status"] == "running"))
    });
    // Started once the first node runs it, so that the second can only take it over.
    let second = node(&second_home, &database.url, &[]);
    first.kill();

    let execution = second.wait_finished(&id);
    assert_eq!(execution["status"], "success", "{execution:#}");
    assert_eq!(
        std::fs::read_to_string(work.path().join("first.txt")).unwrap(),
        "ran\n",
        "the finished step is not redone"
    );
    assert_eq!(std::fs::read_to_string(work.path().join("last.txt")).unwrap(), "ran\n");
    let log = second_home.pilot(&["logs", &id, "--store", &database.url]);
    let log = String::from_utf8_lossy(&log.stdout).into_owned();
    // Started by the first node (a first start, no resume), resumed once by the second.
    assert_eq!(log.matches("execution running").count(), 1, "{log}");
    assert_eq!(log.matches("execution resumed").count(), 1, "{log}");
    assert!(second.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_on_its_home_takes_over_its_killed_predecessors_work_at_once() {
    let Some(database) = fresh_database("a_node_restarted_on_its_home").await else { return };
    let home = Home::new();
    let work = home.work_dir();
    home.write_workflow("slow.yaml", &SLOW.replace("WORK", &work.display().to_string()));
    // A lease far longer than the test's patience: only knowing that the previous daemon is dead can help.
    std::fs::write(home.path().join("settings.json"), r#"{"daemon": {"lease_seconds": 600}}"#).unwrap();
    let env = [("PILOT_STORE", database.url.as_str())];
    let first = home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let id = first.trigger("/hooks/slow", &json!({}));
    first.wait_for_execution(&id, "to reach its nap", |execution| {
        execution["steps"]
            .as_array()
            .is_some_and(|steps| steps.iter().any(|step| step["id"] == "nap" && step["status"] == "running"))
    });
    first.kill();

    let restarted = home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let execution = restarted.wait_finished(&id);
    assert_eq!(execution["status"], "success", "{execution:#}");
    assert_eq!(std::fs::read_to_string(work.join("first.txt")).unwrap(), "ran\n", "the finished step is not redone");
    assert_eq!(std::fs::read_to_string(work.join("last.txt")).unwrap(), "ran\n");
    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let instances: Vec<String> = store.instances().await.unwrap().into_iter().map(|instance| instance.id).collect();
    assert_eq!(instances.len(), 1, "the killed daemon's instance is forgotten: {instances:?}");
    assert!(restarted.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_node_whose_work_was_taken_over_writes_none_of_it_when_it_wakes() {
    let Some(database) = fresh_database("a_paused_node_is_fenced").await else { return };
    let (paused_home, other_home) = (Home::new(), Home::new());
    let work = paused_home.work_dir();
    let workflow = SLOW.replace("WORK", &work.display().to_string());
    for home in [&paused_home, &other_home] {
        home.write_workflow("slow.yaml", &workflow);
        std::fs::write(home.path().join("settings.json"), r#"{"daemon": {"lease_seconds": 3}}"#).unwrap();
    }
    let env = [("PILOT_STORE", database.url.as_str())];
    let paused = paused_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let id = paused.trigger("/hooks/slow", &json!({}));
    paused.wait_for_execution(&id, "to reach its nap", |execution| {
        execution["steps"]
            .as_array()
            .is_some_and(|steps| steps.iter().any(|step| step["id"] == "nap" && step["status"] == "running"))
    });
    let other = other_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    paused.pause();
    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let paused_owner = store.load_execution(&id).await.unwrap().unwrap().owner;
    let started = std::time::Instant::now();
    loop {
        let now_owner = store.load_execution(&id).await.unwrap().unwrap().owner;
        if now_owner != paused_owner {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "never taken over:\n{}", other.stderr());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Its nap is over when it wakes: it would record it and write `last` now, had it not lost the execution.
    paused.unpause();

    let execution = other.wait_finished(&id);
    assert_eq!(execution["status"], "success", "{execution:#}");
    assert_eq!(std::fs::read_to_string(work.join("first.txt")).unwrap(), "ran\n");
    assert_eq!(std::fs::read_to_string(work.join("last.txt")).unwrap(), "ran\n", "only the new owner wrote `last`");
    paused.wait_until("the woken node to say it lost its lease", || {
        paused.stderr().contains("lost its lease").then_some(())
    });
    let log = other_home.pilot(&["logs", &id, "--store", &database.url]);
    let log = String::from_utf8_lossy(&log.stdout).into_owned();
    assert_eq!(log.matches("execution success").count(), 1, "{log}");
    assert!(!log.contains("execution failed") && !log.contains("execution cancelled"), "{log}");
    assert!(other.stop().success() && paused.stop().success());
}

const NAP: &str = r#"
name: nap
triggers:
  - type: webhook
    path: /hooks/nap
inputs:
  n:
    type: int
steps:
  - id: nap
    action: sleep
    input: {duration: 500ms}
  - id: record
    action: fs/write
    needs: nap
    input: {path: "RAN/${inputs.n}.txt", content: "ran\n", append: true}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_node_claims_the_work_a_busy_one_accepted() {
    let Some(database) = fresh_database("an_idle_node_claims").await else { return };
    let ran = tempfile::tempdir().unwrap();
    let ran = ran.path();
    let [busy_home, idle_home] = homes_with("nap.yaml", &NAP.replace("RAN", &ran.display().to_string()), None);
    // The busy node runs one execution at a time.
    std::fs::write(busy_home.path().join("settings.json"), r#"{"daemon": {"max_concurrent": 1}}"#).unwrap();
    let (busy, idle) = (node(&busy_home, &database.url, &[]), node(&idle_home, &database.url, &[]));

    let total = 8;
    let ids: Vec<String> = (0..total).map(|n| busy.trigger("/hooks/nap", &json!({"n": n}))).collect();
    for id in &ids {
        assert_eq!(busy.wait_finished(id)["status"], "success");
    }
    for n in 0..total {
        let runs = std::fs::read_to_string(ran.join(format!("{n}.txt"))).unwrap_or_default();
        assert_eq!(runs, "ran\n", "webhook {n} ran once");
    }
    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let filter = ExecutionFilter { workflow_name: Some("nap".to_owned()), limit: 100, ..ExecutionFilter::default() };
    let listed = store.list_executions(&filter).await.unwrap();
    let owners: std::collections::BTreeSet<Option<String>> = listed.into_iter().map(|e| e.owner).collect();
    assert_eq!(owners.len(), 2, "the idle node ran some of what the busy one accepted: {owners:?}");
    assert!(busy.stop().success() && idle.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stopped_cleanly_hands_what_it_did_not_finish_to_another() {
    let Some(database) = fresh_database("a_node_stopped_cleanly").await else { return };
    let work = tempfile::tempdir().unwrap();
    let workflow = SLOW.replace("WORK", &work.path().display().to_string());
    let [first_home, second_home] = homes_with("slow.yaml", &workflow, Some(r#"{"daemon": {"lease_seconds": 3}}"#));
    let first = node(&first_home, &database.url, &["--drain", "200ms"]);
    let id = first.trigger("/hooks/slow", &json!({}));
    first.wait_for_execution(&id, "to reach its nap", |execution| {
        execution["steps"]
            .as_array()
            .is_some_and(|steps| steps.iter().any(|step| step["id"] == "nap" && step["status"] == "running"))
    });
    let second = node(&second_home, &database.url, &[]);
    // Removing a node: SIGTERM. Its drain time runs out in the nap; it gives up its lease and exits.
    assert_eq!(first.stop().code(), Some(0));

    let execution = second.wait_finished(&id);
    assert_eq!(execution["status"], "success", "{execution:#}");
    assert_eq!(
        std::fs::read_to_string(work.path().join("first.txt")).unwrap(),
        "ran\n",
        "the finished step is not redone"
    );
    assert_eq!(std::fs::read_to_string(work.path().join("last.txt")).unwrap(), "ran\n");
    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let record = store.load_execution(&id).await.unwrap().expect("recorded");
    let instances: Vec<String> = store.instances().await.unwrap().into_iter().map(|instance| instance.id).collect();
    assert_eq!(instances, [record.owner.clone().unwrap()], "the stopped node left no lease; the other finished it");
    assert!(second.stop().success());
}

/// The backends of the nodes' listening connections on this database (`application_name` set by the nodes), once
/// they listen.
async fn listeners(admin: &tokio_postgres::Client) -> Vec<i32> {
    let rows = admin
        .query(
            "SELECT pid FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1 AND query LIKE 'LISTEN%'",
            &[&executor::store::postgres::LISTENER_NAME],
        )
        .await
        .unwrap();
    rows.iter().map(|row| row.get(0)).collect()
}

/// Waits until `count` listening connections are open, none of them one of `ended`; returns them.
async fn wait_for_listeners(admin: &tokio_postgres::Client, count: usize, ended: &[i32]) -> Vec<i32> {
    let started = Instant::now();
    loop {
        let pids = listeners(admin).await;
        if pids.len() == count && pids.iter().all(|pid| !ended.contains(pid)) {
            return pids;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{count} nodes never listened: {pids:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_listening_connection_was_ended_is_woken_by_the_next_notification() {
    let Some(database) = fresh_database("a_node_whose_listening_connection").await else { return };
    let (busy_home, idle_home) = (Home::new(), Home::new());
    let ran = busy_home.work_dir().join("ran");
    std::fs::create_dir_all(&ran).unwrap();
    let workflow = NAP.replace("RAN", &ran.display().to_string());
    busy_home.write_workflow("nap.yaml", &workflow);
    idle_home.write_workflow("nap.yaml", &workflow);
    // A long lease: no renewal tick wakes the idle node during the test, only a notification can.
    let settings = |max_concurrent: usize| {
        format!(r#"{{"daemon": {{"lease_seconds": 3600, "max_concurrent": {max_concurrent}}}}}"#)
    };
    std::fs::write(busy_home.path().join("settings.json"), settings(1)).unwrap();
    std::fs::write(idle_home.path().join("settings.json"), settings(16)).unwrap();
    let env = [("PILOT_STORE", database.url.as_str())];
    let busy = busy_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let idle = idle_home.serve_with(&["--addr", "127.0.0.1:0"], &env);

    let admin = admin(&database.url).await;
    let first = wait_for_listeners(&admin, 2, &[]).await;
    admin.execute("SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid", &[&first]).await.unwrap();
    wait_for_listeners(&admin, 2, &first).await;
    idle.wait_until("the idle node says it lost its listening connection", || {
        idle.stderr().contains("lost the connection listening to the other nodes").then_some(())
    });

    let total = 8;
    let ids: Vec<String> = (0..total).map(|n| busy.trigger("/hooks/nap", &json!({"n": n}))).collect();
    for id in &ids {
        assert_eq!(busy.wait_finished(id)["status"], "success");
    }
    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let filter = ExecutionFilter { workflow_name: Some("nap".to_owned()), limit: 100, ..ExecutionFilter::default() };
    let owners: std::collections::BTreeSet<Option<String>> =
        store.list_executions(&filter).await.unwrap().into_iter().map(|e| e.owner).collect();
    assert_eq!(owners.len(), 2, "the idle node, woken on its new connection, ran some: {owners:?}");
    assert!(busy.stop().success() && idle.stop().success());
}

/// The events of one execution read from a stream until its `finished`.
fn events_until_finished(stream: &mut EventStream, id: &str) -> Vec<serde_json::Value> {
    let mut events = Vec::new();
    loop {
        let event = stream.next().json();
        if event["execution_id"] == id {
            let finished = event["type"] == "finished";
            events.push(event);
            if finished {
                return events;
            }
        }
    }
}

const HELLO: &str = r#"
name: hello
triggers:
  - type: webhook
    path: /hooks/hello
steps:
  - id: greet
    action: log
    input: {message: "hello from the other node"}
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_stream_of_a_node_shows_the_executions_another_node_runs() {
    let Some(database) = fresh_database("the_event_stream_of_a_node").await else { return };
    let (watched_home, running_home) = (Home::new(), Home::new());
    // Only the running node loads the workflow: the watched node cannot claim its executions.
    running_home.write_workflow("hello.yaml", HELLO);
    let env = [("PILOT_STORE", database.url.as_str())];
    let watched = watched_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let running = running_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let mut stream = EventStream::open(&watched.addr, "/api/v1/events", &[]);

    let id = running.trigger("/hooks/hello", &json!({}));
    let events = events_until_finished(&mut stream, &id);
    let kinds: Vec<&str> = events.iter().map(|event| event["type"].as_str().unwrap()).filter(|t| *t != "log").collect();
    assert_eq!(kinds, ["queued", "started", "step_started", "step_finished", "finished"], "{events:#?}");
    assert_eq!(events.last().unwrap()["status"], "success");
    let log = events.iter().find(|event| event["type"] == "log" && event["step_id"] == "greet");
    assert!(log.is_some_and(|event| event["message"] == "hello from the other node"), "{events:#?}");
    let ids: Vec<u64> = events.iter().map(|event| event["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids of the watched node, growing: {ids:?}");
    assert!(watched.stop().success() && running.stop().success());
}

/// A workflow `NAME`, started by a webhook on `/hooks/NAME`, whose one step `nap` sleeps for `duration`; with
/// `concurrency` (a YAML line, or nothing).
fn napping(name: &str, duration: &str, concurrency: &str) -> String {
    format!(
        "name: {name}\ntriggers:\n  - type: webhook\n    path: /hooks/{name}\n{concurrency}\nsteps:\n  - id: nap\n    \
         action: sleep\n    input: {{duration: {duration}}}\n"
    )
}

fn is_napping(execution: &serde_json::Value) -> bool {
    execution["steps"]
        .as_array()
        .is_some_and(|steps| steps.iter().any(|s| s["id"] == "nap" && s["status"] == "running"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_execution_another_node_runs_or_queues_is_cancelled_from_any_node() {
    let Some(database) = fresh_database("an_execution_another_node_runs").await else { return };
    let (asked_home, running_home) = (Home::new(), Home::new());
    running_home.write_workflow("long-nap.yaml", &napping("long-nap", "60s", ""));
    std::fs::write(running_home.path().join("settings.json"), r#"{"daemon": {"max_concurrent": 1}}"#).unwrap();
    let env = [("PILOT_STORE", database.url.as_str())];
    let asked = asked_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let running = running_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let [first, second, third, fourth] = [(); 4].map(|()| running.trigger("/hooks/long-nap", &json!({})));
    running.wait_for_execution(&first, "to nap", is_napping);
    let cancel = |id: &str| {
        let response = asked.post_json(&format!("/api/v1/executions/{id}/cancel"), &json!({}));
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()["status"].as_str().unwrap().to_owned()
    };

    // Queued on the running node, started nowhere: cancelled at once.
    assert_eq!(cancel(&second), "cancelled");
    let execution = asked.execution(&second);
    assert_eq!(execution["status"], "cancelled", "{execution:#}");
    // Running on the other node: that node is asked, and stops it.
    assert_eq!(cancel(&first), "cancelling");
    assert_eq!(running.wait_finished(&first)["status"], "cancelled");

    // `pilot cancel` beside the asked node's daemon goes through it.
    running.wait_for_execution(&third, "to nap", is_napping);
    let output = asked_home.pilot(&["cancel", &third, "--store", &database.url]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("cancelled"), "{stdout}");
    assert_eq!(running.execution(&third)["status"], "cancelled");

    // And with no daemon beside it, `pilot cancel` asks the node that runs it.
    running.wait_for_execution(&fourth, "to nap", is_napping);
    let output = Home::new().pilot(&["cancel", &fourth, "--store", &database.url]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(running.execution(&fourth)["status"], "cancelled", "{stdout}");
    let second_steps = running.execution(&second)["steps"].as_array().map_or(0, Vec::len);
    assert_eq!(second_steps, 0, "the execution cancelled before it started never ran");
    assert!(asked.stop().success() && running.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrency_limit_of_one_holds_over_two_nodes() {
    let Some(database) = fresh_database("a_concurrency_limit_of_one").await else { return };
    let homes: [Home; 2] = homes_with("one.yaml", &napping("one", "300ms", "concurrency: {limit: 1}"), None);
    let nodes = homes.each_ref().map(|home| node(home, &database.url, &[]));
    let total = 8;
    let ids: Vec<String> = (0..total).map(|n| nodes[n % 2].trigger("/hooks/one", &json!({}))).collect();
    for (n, id) in ids.iter().enumerate() {
        assert_eq!(nodes[n % 2].wait_finished(id)["status"], "success");
    }

    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let mut spans = Vec::new();
    for id in &ids {
        let record = store.load_execution(id).await.unwrap().expect("recorded");
        let nap = record.steps.iter().find(|step| step.step_id == "nap").expect("napped");
        spans.push((nap.started_at.expect("started").0, nap.completed_at.expect("ended").0, record.owner));
    }
    spans.sort();
    for pair in spans.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "two ran at once: {:?} and {:?}", pair[0], pair[1]);
    }
    for node in nodes {
        assert!(node.stop().success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_skip_policy_counts_what_another_node_runs() {
    let Some(database) = fresh_database("the_skip_policy_counts").await else { return };
    let [first_home, second_home] =
        homes_with("skip.yaml", &napping("skip", "60s", "concurrency: {limit: 1, policy: skip}"), None);
    let (first, second) = (node(&first_home, &database.url, &[]), node(&second_home, &database.url, &[]));
    let napping = first.trigger("/hooks/skip", &json!({}));
    first.wait_for_execution(&napping, "to nap", is_napping);

    let response = second.post_json("/hooks/skip", &json!({}));
    assert_eq!(response.status, 202, "{}", response.text());
    assert_eq!(response.json()["status"], "skipped", "the other node's execution counts");
    let cancelled = second.post_json(&format!("/api/v1/executions/{napping}/cancel"), &json!({}));
    assert_eq!(cancelled.json()["status"], "cancelling");
    assert_eq!(first.wait_finished(&napping)["status"], "cancelled");
    assert!(first.stop().success() && second.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_previous_cancels_the_execution_another_node_runs() {
    let Some(database) = fresh_database("cancel_previous_cancels").await else { return };
    let [first_home, second_home] =
        homes_with("newest.yaml", &napping("newest", "60s", "concurrency: {limit: 1, policy: cancel_previous}"), None);
    let (first, second) = (node(&first_home, &database.url, &[]), node(&second_home, &database.url, &[]));
    let older = first.trigger("/hooks/newest", &json!({}));
    first.wait_for_execution(&older, "to nap", is_napping);

    let newer = second.trigger("/hooks/newest", &json!({}));
    assert_eq!(first.wait_finished(&older)["status"], "cancelled", "the older one stopped where it ran");
    let running = second.wait_for_execution(&newer, "to nap", is_napping);
    assert_eq!(running["status"], "running");
    let cancelled = first.post_json(&format!("/api/v1/executions/{newer}/cancel"), &json!({}));
    assert_eq!(cancelled.json()["status"], "cancelling");
    assert_eq!(second.wait_finished(&newer)["status"], "cancelled");
    assert!(first.stop().success() && second.stop().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_on_the_accepting_node_reaches_the_node_that_claimed_it() {
    let Some(database) = fresh_database("cancelling_on_the_accepting_node").await else { return };
    let (busy_home, idle_home) = (Home::new(), Home::new());
    let workflow = napping("newest", "60s", "");
    busy_home.write_workflow("newest.yaml", &workflow);
    idle_home.write_workflow("newest.yaml", &workflow);
    // The busy node runs one at a time: the others wait in its queue, and the idle node claims them from there.
    std::fs::write(busy_home.path().join("settings.json"), r#"{"daemon": {"max_concurrent": 1}}"#).unwrap();
    let env = [("PILOT_STORE", database.url.as_str())];
    let busy = busy_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let idle = idle_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let idle_instance = idle.get("/api/v1/health").json()["instance"].as_str().unwrap().to_owned();

    let ids: Vec<String> = (0..3).map(|_| busy.trigger("/hooks/newest", &json!({}))).collect();
    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.unwrap();
    let mut owners = Vec::new();
    for id in &ids {
        busy.wait_for_execution(id, "to nap", is_napping);
        owners.push(store.load_execution(id).await.unwrap().expect("recorded").owner.unwrap());
    }
    // The ones the idle node claimed first: they are still in the busy node's queue, waiting for its one slot.
    let mut order: Vec<usize> = (0..ids.len()).collect();
    order.sort_by_key(|&n| owners[n] != idle_instance);
    assert_eq!(owners[order[0]], idle_instance, "the idle node claimed some of what waited in the busy node's queue");
    for n in order {
        // Asked of the node that accepted it, wherever it runs.
        let answer = busy.post_json(&format!("/api/v1/executions/{}/cancel", ids[n]), &json!({}));
        assert_eq!(answer.status, 200, "run by {}: {}", owners[n], answer.text());
        assert_eq!(answer.json()["status"], "cancelling");
    }
    for id in &ids {
        assert_eq!(busy.wait_finished(id)["status"], "cancelled");
    }
    assert!(busy.stop().success() && idle.stop().success());
}
