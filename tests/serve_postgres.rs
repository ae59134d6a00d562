//! `pilot serve` nodes sharing one PostgreSQL store (a real server on loopback, see
//! `executor::store::postgres::test_server`): webhooks sent to two or three nodes are each run exactly once (and
//! every node runs some), an idempotency key holds across nodes, and either node's API lists every execution.

mod serve_support;

use executor::store::postgres::test_server::fresh_database;
use executor::store::postgres::{PostgresOptions, PostgresStore};
use executor::store::{ExecutionFilter, Store};
use serde_json::json;
use serve_support::Home;
use serve_support::http::Request;

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
    let (first_home, second_home) = (Home::new(), Home::new());
    // One file per webhook, appended to: a second run of one would leave two lines in it.
    let ran = first_home.work_dir().join("ran");
    std::fs::create_dir_all(&ran).unwrap();
    let workflow = COUNT.replace("RAN", &ran.display().to_string());
    first_home.write_workflow("count.yaml", &workflow);
    second_home.write_workflow("count.yaml", &workflow);
    let env = [("PILOT_STORE", database.url.as_str())];
    let first = first_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let second = second_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
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
    let homes = [Home::new(), Home::new(), Home::new()];
    let ran = homes[0].work_dir().join("ran");
    std::fs::create_dir_all(&ran).unwrap();
    let workflow = COUNT.replace("RAN", &ran.display().to_string());
    let env = [("PILOT_STORE", database.url.as_str())];
    let nodes: Vec<_> = homes
        .iter()
        .map(|home| {
            home.write_workflow("count.yaml", &workflow);
            home.serve_with(&["--addr", "127.0.0.1:0"], &env)
        })
        .collect();

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
    let (first_home, second_home) = (Home::new(), Home::new());
    let work = first_home.work_dir();
    let workflow = SLOW.replace("WORK", &work.display().to_string());
    for home in [&first_home, &second_home] {
        home.write_workflow("slow.yaml", &workflow);
        std::fs::write(home.path().join("settings.json"), r#"{"daemon": {"lease_seconds": 3}}"#).unwrap();
    }
    let env = [("PILOT_STORE", database.url.as_str())];
    let first = first_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let id = first.trigger("/hooks/slow", &json!({}));
    first.wait_for_execution(&id, "to reach its nap", |execution| {
        execution["steps"]
            .as_array()
            .is_some_and(|steps| steps.iter().any(|step| step["id"] == "nap" && step["status"] == "running"))
    });
    // Started once the first node runs it, so that the second can only take it over.
    let second = second_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    first.kill();

    let execution = second.wait_finished(&id);
    assert_eq!(execution["status"], "success", "{execution:#}");
    assert_eq!(std::fs::read_to_string(work.join("first.txt")).unwrap(), "ran\n", "the finished step is not redone");
    assert_eq!(std::fs::read_to_string(work.join("last.txt")).unwrap(), "ran\n");
    let log = second_home.pilot(&["logs", &id, "--store", &database.url]);
    let log = String::from_utf8_lossy(&log.stdout).into_owned();
    // Started by the first node, resumed by the second.
    assert_eq!(log.matches("execution resumed").count(), 2, "{log}");
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
    let (busy_home, idle_home) = (Home::new(), Home::new());
    let ran = busy_home.work_dir().join("ran");
    std::fs::create_dir_all(&ran).unwrap();
    let workflow = NAP.replace("RAN", &ran.display().to_string());
    busy_home.write_workflow("nap.yaml", &workflow);
    idle_home.write_workflow("nap.yaml", &workflow);
    // The busy node runs one execution at a time.
    std::fs::write(busy_home.path().join("settings.json"), r#"{"daemon": {"max_concurrent": 1}}"#).unwrap();
    let env = [("PILOT_STORE", database.url.as_str())];
    let busy = busy_home.serve_with(&["--addr", "127.0.0.1:0"], &env);
    let idle = idle_home.serve_with(&["--addr", "127.0.0.1:0"], &env);

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
