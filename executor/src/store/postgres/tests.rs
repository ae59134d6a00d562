//! The conformance suite on a real PostgreSQL server (see `test_server`), and what only several connections
//! (nodes) can show.

use super::test_server::{TestDatabase, fresh_database};
use super::*;

async fn fresh_store(test: &str) -> Option<(PostgresStore, TestDatabase)> {
    let database = fresh_database(test).await?;
    let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.expect("connect the store");
    Some((store, database))
}

crate::store_conformance_tests!(async fresh_store);

/// A second node on the same database.
async fn another_node(database: &TestDatabase) -> PostgresStore {
    PostgresStore::connect(&database.url, PostgresOptions::default()).await.expect("connect a second node")
}

async fn seed_pending(store: &PostgresStore, count: usize) -> Vec<String> {
    seed_pending_of(store, count, None).await
}

/// Pending executions accepted by `owner`.
async fn seed_pending_of(store: &PostgresStore, count: usize, owner: Option<&str>) -> Vec<String> {
    conformance::seed_workflow(store, "wf").await;
    let mut ids = Vec::new();
    for n in 0..count {
        let id = format!("p{n:03}");
        let new = NewExecution { status: Status::Pending, ..conformance::execution(&id, "wf", n as i64) };
        let owner = owner.map(str::to_owned);
        let acceptance = Acceptance { execution: new, owner, slot: None, idempotency: None, skipped: None };
        assert_eq!(store.accept_execution(acceptance).await.expect("accept"), Accepted::New);
        ids.push(id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_claiming_at_once_take_each_pending_execution_exactly_once() {
    let Some((first, database)) = fresh_store("two_nodes_claiming_at_once").await else { return };
    let second = another_node(&database).await;
    let ids = seed_pending(&first, 60).await;
    let claim_all = |store: PostgresStore, owner: &'static str| {
        tokio::spawn(async move {
            let mut claimed = Vec::new();
            let workflows = [("wf-name".to_owned(), None)];
            while let Some((id, _)) =
                store.claim_pending(owner, &workflows, conformance::at(1_000)).await.expect("claim")
            {
                claimed.push(id);
            }
            claimed
        })
    };
    let (a, b) = (claim_all(first, "node-a"), claim_all(second, "node-b"));
    let (a, b) = (a.await.expect("node a"), b.await.expect("node b"));
    let mut all: Vec<String> = a.iter().chain(&b).cloned().collect();
    all.sort();
    assert_eq!(all, ids, "every pending execution claimed once: node a took {}, node b {}", a.len(), b.len());
    let reader = another_node(&database).await;
    let record = conformance::load(&reader, &a[0]).await;
    assert_eq!((record.status, record.owner.as_deref()), (Status::Running, Some("node-a")));
    assert!(reader.read_log(&a[0]).await.expect("log").is_some_and(|log| log.contains("claimed by node-a")));
    let workflows = [("wf-name".to_owned(), None)];
    assert_eq!(reader.claim_pending("node-c", &workflows, conformance::at(2_000)).await.expect("claim"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_accepting_one_slot_make_one_execution() {
    let Some((first, database)) = fresh_store("two_nodes_accepting_one_slot").await else { return };
    let second = another_node(&database).await;
    conformance::seed_workflow(&first, "wf").await;
    for slot in 0..20 {
        let acceptance = |id: String| {
            let new = NewExecution {
                status: Status::Pending,
                trigger_id: Some("every-second".to_owned()),
                ..conformance::execution(&id, "wf", slot)
            };
            Acceptance {
                execution: new,
                owner: None,
                slot: Some(conformance::at(slot)),
                idempotency: None,
                skipped: None,
            }
        };
        let (a, b) = tokio::join!(
            first.accept_execution(acceptance(format!("a{slot}"))),
            second.accept_execution(acceptance(format!("b{slot}")))
        );
        let answers = [a.expect("node a accepts"), b.expect("node b accepts")];
        let new = answers.iter().filter(|answer| **answer == Accepted::New).count();
        assert_eq!(new, 1, "slot {slot}: {answers:?}");
    }
    let all = ExecutionFilter { limit: 100, ..ExecutionFilter::default() };
    assert_eq!(first.list_executions(&all).await.expect("list").len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_written_by_one_node_reads_the_same_on_another() {
    let Some((first, database)) = fresh_store("a_log_written_by_one_node").await else { return };
    conformance::seed_workflow(&first, "wf").await;
    first.create_execution(conformance::execution("e1", "wf", 1)).await.expect("create");
    first.append_log("e1", LogLine::info(conformance::at(2), Some("fetch"), "fetched 3 rows"));
    first.finish_execution(conformance::finish("e1", Status::Success, 3)).await.expect("finish");
    let second = another_node(&database).await;
    assert_eq!(second.read_log("e1").await.expect("read"), first.read_log("e1").await.expect("read"));
    let log = second.read_log("e1").await.expect("read").expect("logged");
    assert_eq!(log.lines().count(), 3, "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_share_commits() {
    let Some((store, _database)) = fresh_store("concurrent_writes_share_commits").await else { return };
    conformance::seed_workflow(&store, "wf").await;
    store.create_execution(conformance::execution("e1", "wf", 1)).await.expect("create");
    let before = store.commit_count();
    let acks: Vec<_> = (0..200)
        .map(|n| {
            store.end_step(StepEnd {
                execution_id: "e1".to_owned(),
                step_id: format!("s{n}"),
                status: Status::Success,
                attempts: 1,
                output: None,
                error: None,
                completed_at: conformance::at(n),
            })
        })
        .collect();
    for ack in acks {
        ack.await.expect("end");
    }
    let commits = store.commit_count() - before;
    assert!(commits < 100, "200 queued step ends took {commits} commits");
    assert_eq!(conformance::load(&store, "e1").await.steps.len(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused_and_nodes_migrate_once() {
    let Some((first, database)) = fresh_store("a_newer_schema_is_refused").await else { return };
    // Three more nodes starting at once find the schema migrated, none migrates it again.
    let (a, b, c) = tokio::join!(another_node(&database), another_node(&database), another_node(&database));
    drop((a, b, c));
    let (client, connection) = tokio_postgres::connect(&database.url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let version: i64 = client.query_one("SELECT version FROM pilot_schema", &[]).await.expect("version").get(0);
    assert_eq!(version, POSTGRES_SCHEMA_VERSION);
    client.execute("UPDATE pilot_schema SET version = version + 1", &[]).await.expect("pretend newer");
    drop(first);
    let refused = PostgresStore::connect(&database.url, PostgresOptions::default()).await;
    assert!(
        matches!(&refused, Err(StoreError::NewerSchema { found, .. }) if *found == POSTGRES_SCHEMA_VERSION + 1),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_password_of_the_url_never_shows() {
    assert_eq!(redact_url("postgres://pilot:s3cret@db:5432/pilot"), "postgres://pilot:***@db:5432/pilot");
    assert_eq!(
        redact_url("postgresql://pilot@db/pilot?password=s3cret&sslmode=disable"),
        "postgresql://pilot@db/pilot?password=***&sslmode=disable"
    );
    assert_eq!(redact_url("postgres://db/pilot"), "postgres://db/pilot");
    // tokio-postgres reads up to the first `@` as user and password, `/`, `?` and `#` included.
    assert_eq!(redact_url("postgres://pilot:ab/cd@db/pilot"), "postgres://pilot:***@db/pilot");
    assert_eq!(redact_url("postgres://pilot:a?b#c@db/pilot"), "postgres://pilot:***@db/pilot");
    // Query keys are percent-decoded by the driver: only parameters known to be harmless are shown.
    assert_eq!(redact_url("postgres://db/pilot?pass%77ord=s3cret"), "postgres://db/pilot?pass%77ord=***");
    assert_eq!(
        redact_url("postgres://db/pilot?sslmode=require&password=s3cret@x"),
        "postgres://db/pilot?sslmode=require&password=***"
    );
    // A server that does not answer: the error names the store without the password.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let url = format!("postgres://pilot:s3cret@127.0.0.1:{port}/pilot?connect_timeout=2");
    let error = PostgresStore::connect(&url, PostgresOptions::default()).await.expect_err("nothing listens");
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains(&format!("postgres://pilot:***@127.0.0.1:{port}/pilot")), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_fails_alone_in_a_shared_commit() {
    let Some((store, _database)) = fresh_store("a_refused_write_fails_alone").await else { return };
    conformance::seed_workflow(&store, "wf").await;
    store.create_execution(conformance::execution("e1", "wf", 1)).await.expect("create");
    let end = |execution_id: &str, step: &str| StepEnd {
        execution_id: execution_id.to_owned(),
        step_id: step.to_owned(),
        status: Status::Success,
        attempts: 1,
        output: None,
        error: None,
        completed_at: conformance::at(5),
    };
    // Queued together, so that they share transactions: the one for an unknown execution is rolled back alone.
    let acks = [end("e1", "a"), end("ghost", "b"), end("e1", "c")].map(|end| store.end_step(end));
    let [a, ghost, c] = acks;
    assert_eq!(ghost.await, Err(StoreError::UnknownExecution { id: "ghost".to_owned() }));
    a.await.expect("a");
    c.await.expect("c");
    let steps: Vec<String> = conformance::load(&store, "e1").await.steps.into_iter().map(|s| s.step_id).collect();
    assert_eq!(steps, ["a", "c"]);
    store.flush().await.expect("flush");
    let log = store.read_log("e1").await.expect("read").expect("logged");
    assert!(log.contains("[a] success") && log.contains("[c] success"), "{log}");
    assert_eq!(store.read_log("ghost").await.expect("read"), None, "nothing logged for the refused write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_connection_fails_the_writes_in_flight_and_the_writer_reconnects() {
    let Some((store, database)) = fresh_store("a_lost_connection").await else { return };
    conformance::seed_workflow(&store, "wf").await;
    let (admin, connection) = tokio_postgres::connect(&database.url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    // Every other session of this database ends: the writer's and the pool's.
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .await
        .expect("terminate");
    let mut created = store.create_execution(conformance::execution("e1", "wf", 1)).await;
    if let Err(error) = &created {
        assert!(matches!(error, StoreError::Database { .. }), "{error:?}");
        assert!(error.to_string().starts_with(&redact_url(&database.url)), "{error}");
        created = store.create_execution(conformance::execution("e1", "wf", 1)).await;
    }
    created.expect("the writer reconnected");
    assert_eq!(conformance::load(&store, "e1").await.status, Status::Running, "reads reconnect too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listening_node_is_woken_when_another_accepts_a_pending_execution() {
    let Some((first, database)) = fresh_store("a_listening_node_is_woken").await else { return };
    let second = another_node(&database).await;
    let mut wakeups = second.listen(&[PENDING_CHANNEL]).await.expect("listen");
    seed_pending(&first, 1).await;
    let woken = tokio::time::timeout(std::time::Duration::from_secs(30), wakeups.recv()).await;
    let expected = BusMessage::Notification { channel: PENDING_CHANNEL.to_owned(), payload: String::new() };
    assert_eq!(woken.expect("woken before the timeout"), Some(expected));
    let workflows = [("wf-name".to_owned(), None)];
    let claimed = second.claim_pending("node-b", &workflows, conformance::at(50)).await.expect("claim");
    assert_eq!(claimed, Some(("p000".to_owned(), "wf-name".to_owned())));
    let other = [("other".to_owned(), None)];
    seed_pending_more(&first).await;
    assert_eq!(
        second.claim_pending("node-b", &other, conformance::at(60)).await.expect("claim"),
        None,
        "only its workflows"
    );
}

async fn seed_pending_more(store: &PostgresStore) {
    let new = NewExecution { status: Status::Pending, ..conformance::execution("p999", "wf", 99) };
    let acceptance = Acceptance { execution: new, owner: None, slot: None, idempotency: None, skipped: None };
    assert_eq!(store.accept_execution(acceptance).await.expect("accept"), Accepted::New);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claiming_by_id_and_claiming_the_oldest_never_both_win() {
    let Some((first, database)) = fresh_store("claiming_by_id_and_claiming_the_oldest").await else { return };
    let second = another_node(&database).await;
    let ids = seed_pending(&first, 80).await;
    // Node a claims each execution by id (as the node that accepted it does); node b takes the oldest pending.
    let by_id = {
        let ids = ids.clone();
        tokio::spawn(async move {
            let mut won = Vec::new();
            for id in ids {
                if first.claim_execution(&id, "node-a", conformance::at(1_000)).await.expect("claim") {
                    won.push(id);
                }
            }
            won
        })
    };
    let oldest = tokio::spawn(async move {
        let (workflows, mut won) = ([("wf-name".to_owned(), None)], Vec::new());
        while let Some((id, _)) =
            second.claim_pending("node-b", &workflows, conformance::at(1_000)).await.expect("claim")
        {
            won.push(id);
        }
        won
    });
    let (a, b) = (by_id.await.expect("node a"), oldest.await.expect("node b"));
    let mut all: Vec<String> = a.iter().chain(&b).cloned().collect();
    all.sort();
    assert_eq!(all.len(), ids.len(), "no execution claimed twice (a {}, b {})", a.len(), b.len());
    all.dedup();
    assert_eq!(all, ids, "and none left unclaimed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listening_connection_is_reopened_and_said_so() {
    let Some((first, database)) = fresh_store("a_lost_listening_connection").await else { return };
    let second = another_node(&database).await;
    let mut messages = second.listen(&[PENDING_CHANNEL, CANCEL_CHANNEL]).await.expect("listen");
    let (admin, connection) = tokio_postgres::connect(&database.url, tokio_postgres::NoTls).await.expect("connect");
    tokio::spawn(connection);
    let ended = admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name = $1",
            &[&LISTENER_NAME],
        )
        .await
        .expect("terminate");
    assert_eq!(ended, 1, "one listening connection");
    assert_eq!(
        next(&mut messages).await,
        Some(BusMessage::Reconnected),
        "notifications may have been missed meanwhile"
    );
    first.notify(&[(CANCEL_CHANNEL, "e1".to_owned()), (CANCEL_CHANNEL, "e2".to_owned())]).await.expect("notify");
    let expected =
        |payload: &str| BusMessage::Notification { channel: CANCEL_CHANNEL.to_owned(), payload: payload.into() };
    assert_eq!(next(&mut messages).await, Some(expected("e1")), "heard on the new connection");
    assert_eq!(next(&mut messages).await, Some(expected("e2")), "several sent in one statement");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workflow_limit_holds_over_two_nodes_claiming_at_once() {
    let Some((first, database)) = fresh_store("a_workflow_limit_holds_over_two_nodes").await else { return };
    let second = another_node(&database).await;
    let ids = seed_pending_of(&first, 40, Some("node-a")).await;
    // Node a claims by id, node b the oldest; the workflow allows two running executions over both.
    let by_id = tokio::spawn(async move {
        let mut won = Vec::new();
        for id in ids {
            if first.claim_within_limit(&id, "node-a", conformance::at(1_000), 2).await.expect("claim") {
                won.push(id);
            }
        }
        won
    });
    let oldest = tokio::spawn(async move {
        let workflows = [("wf-name".to_owned(), Some(2))];
        let mut won = Vec::new();
        while let Some((id, _)) =
            second.claim_pending("node-b", &workflows, conformance::at(1_000)).await.expect("claim")
        {
            won.push(id);
        }
        won
    });
    let (a, b) = (by_id.await.expect("node a"), oldest.await.expect("node b"));
    assert_eq!(a.len() + b.len(), 2, "two claimed in all: node a {a:?}, node b {b:?}");
    let reader = another_node(&database).await;
    let active = reader.active_executions("wf-name").await.expect("active");
    let running = active.iter().filter(|(_, status, _)| *status == Status::Running).count();
    assert_eq!((running, active.len()), (2, 40), "the rest stay pending");
    let refused = active.iter().find(|(_, status, _)| *status == Status::Pending).expect("a pending one");
    assert_eq!(refused.2, None, "a refused claim leaves the execution to any node");
}

async fn next(messages: &mut tokio::sync::mpsc::UnboundedReceiver<BusMessage>) -> Option<BusMessage> {
    tokio::time::timeout(std::time::Duration::from_secs(30), messages.recv()).await.expect("a message in time")
}

const HOUR: i64 = 3_600_000_000;

/// A daemon instance whose clock reads `now`, with a 30 s lease.
fn instance_at(id: &str, now: Timestamp) -> InstanceRecord {
    InstanceRecord {
        id: id.to_owned(),
        kind: "daemon".to_owned(),
        pid: 1,
        host: id.to_owned(),
        started_at: now,
        lease_expires_at: Timestamp(now.0 + 30_000_000),
    }
}

fn wall_clock() -> Timestamp {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timestamp(i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX))
}

/// A running execution owned by `owner`.
async fn owned_by(store: &PostgresStore, id: &str, owner: &str) {
    let new = NewExecution { status: Status::Pending, ..conformance::execution(id, "wf", 10) };
    let acceptance =
        Acceptance { execution: new, owner: Some(owner.to_owned()), slot: None, idempotency: None, skipped: None };
    assert_eq!(store.accept_execution(acceptance).await.expect("accept"), Accepted::New);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_are_kept_on_the_databases_clock_whatever_the_nodes_clocks_say() {
    let Some((late, database)) = fresh_store("leases_on_the_database_clock").await else { return };
    let early = another_node(&database).await;
    conformance::seed_workflow(&late, "wf").await;
    let now = wall_clock();
    // Node a's clock is an hour behind, node b's an hour ahead.
    let (a_now, b_now) = (Timestamp(now.0 - HOUR), Timestamp(now.0 + HOUR));
    late.register_instance(instance_at("node-a", a_now)).await.expect("register a");
    late.renew_instance("node-a", a_now, std::time::Duration::from_secs(30)).await.expect("renew a");
    early.register_instance(instance_at("node-b", b_now)).await.expect("register b");
    owned_by(&late, "e1", "node-a").await;
    owned_by(&early, "e2", "node-b").await;

    // Node b sees node a alive, and cannot take its execution even when it tries without looking.
    assert_eq!(early.live_instances(b_now).await.expect("live"), ["node-a", "node-b"]);
    assert!(!early.adopt_execution("e1", "node-b", Some("node-a")).await.expect("adopt"), "node a is alive");
    assert_eq!(conformance::load(&early, "e1").await.owner.as_deref(), Some("node-a"));

    // Node b's lease runs out on the database's clock (renewed for no time): node a takes its execution at once,
    // although node a's clock is two hours behind node b's.
    early.renew_instance("node-b", b_now, std::time::Duration::ZERO).await.expect("renew b");
    assert_eq!(late.live_instances(a_now).await.expect("live"), ["node-a"]);
    assert!(late.adopt_execution("e2", "node-a", Some("node-b")).await.expect("adopt"), "node b's lease is over");
    assert_eq!(conformance::load(&late, "e2").await.owner.as_deref(), Some("node-a"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_cannot_write_an_execution_another_node_took_over() {
    let Some((node_a, database)) = fresh_store("fenced_writes").await else { return };
    let node_b = another_node(&database).await;
    assert!(node_a.fence_for("node-a") && node_b.fence_for("node-b"));
    conformance::seed_workflow(&node_a, "wf").await;
    owned_by(&node_a, "e1", "node-a").await;
    assert!(node_a.claim_execution("e1", "node-a", conformance::at(11)).await.expect("claim"));
    node_a.record_steps(Vec::new(), Some(conformance::step_start("e1", "s1", 1, 12))).await.expect("node a's own");

    // Node a's lease ran out (it never registered one here): node b takes the execution over.
    assert!(node_b.adopt_execution("e1", "node-b", Some("node-a")).await.expect("adopt"));
    let refusal = StoreError::TakenOver { id: "e1".to_owned(), owner: "node-b".to_owned() };
    let taken = Err(refusal.clone());
    let end = conformance::step_end("e1", "s1", Status::Success, 1, 13);
    let next = conformance::step_start("e1", "s2", 1, 14);
    assert_eq!(node_a.record_steps(vec![end.clone()], Some(next)).await, taken);
    assert_eq!(node_a.end_step(end).await, taken);
    assert_eq!(node_a.start_resume("e1", conformance::at(15)).await.map(drop), taken);
    node_a.append_log("e1", LogLine::info(conformance::at(16), None, "still here".to_owned()));
    assert_eq!(node_a.finish_execution(conformance::finish("e1", Status::Success, 17)).await, taken);
    let message = refusal.to_string();
    assert!(message.contains("execution e1 was taken over by node node-b"), "{message}");

    let record = conformance::load(&node_b, "e1").await;
    assert_eq!((record.status, record.owner.as_deref()), (Status::Running, Some("node-b")));
    let steps: Vec<(&str, Status)> = record.steps.iter().map(|step| (step.step_id.as_str(), step.status)).collect();
    assert_eq!(steps, [("s1", Status::Running)], "nothing of node a's after the take-over");
    let log = node_b.read_log("e1").await.expect("log").unwrap_or_default();
    assert!(!log.contains("still here") && !log.contains("finished"), "{log}");

    // The new owner writes, and so does a process that is no node (`pilot resume`, `pilot run`).
    node_b.end_step(conformance::step_end("e1", "s1", Status::Success, 1, 20)).await.expect("node b's own");
    let no_node = another_node(&database).await;
    no_node.append_log("e1", LogLine::info(conformance::at(21), None, "from pilot resume".to_owned()));
    no_node.finish_execution(conformance::finish("e1", Status::Success, 22)).await.expect("no node is fenced");
    assert!(node_b.read_log("e1").await.expect("log").unwrap_or_default().contains("from pilot resume"));
}

/// An error the server raised with `code`.
async fn error_with_code(client: &tokio_postgres::Client, code: &str) -> tokio_postgres::Error {
    let raise = format!("DO $$ BEGIN RAISE EXCEPTION 'provoked' USING ERRCODE = '{code}'; END $$");
    client.batch_execute(&raise).await.expect_err("the server raises it")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadlocks_and_serialization_failures_are_the_errors_worth_running_a_batch_again() {
    let Some(database) = fresh_database("retryable_errors").await else { return };
    let (client, connection) =
        database.url.parse::<tokio_postgres::Config>().unwrap().connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    assert!(writer::is_retryable(&error_with_code(&client, "40P01").await), "deadlock detected");
    assert!(writer::is_retryable(&error_with_code(&client, "40001").await), "serialization failure");
    for code in ["23505", "23503", "53100", "57014"] {
        assert!(!writer::is_retryable(&error_with_code(&client, code).await), "{code} is not retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_that_loses_a_deadlock_is_run_again_whole() {
    let Some((store, database)) = fresh_store("batch_retried_after_deadlock").await else { return };
    conformance::seed_workflow(&store, "wf").await;
    owned_by(&store, "e1", "node-a").await;
    let (client, connection) =
        database.url.parse::<tokio_postgres::Config>().unwrap().connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    // The next two commits' log lines lose a deadlock (a sequence counts outside transactions).
    client
        .batch_execute(
            "CREATE SEQUENCE provoked;
             CREATE FUNCTION lose_twice() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 IF nextval('provoked') <= 2 THEN
                     RAISE EXCEPTION 'deadlock detected (provoked)' USING ERRCODE = '40P01';
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER lose_twice BEFORE INSERT ON execution_logs FOR EACH STATEMENT EXECUTE FUNCTION lose_twice();",
        )
        .await
        .unwrap();
    let start = conformance::step_start("e1", "s1", 1, 12);
    store.record_steps(Vec::new(), Some(start)).await.expect("committed at the third attempt");
    let record = conformance::load(&store, "e1").await;
    assert_eq!(record.steps.len(), 1);
    let attempts: i64 = client.query_one("SELECT last_value FROM provoked", &[]).await.unwrap().get(0);
    assert_eq!(attempts, 3, "two lost, the third committed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_batch_waits_for_a_take_over_in_progress_and_is_then_refused() {
    let Some((node_a, database)) = fresh_store("fence_waits_for_take_over").await else { return };
    assert!(node_a.fence_for("node-a"));
    conformance::seed_workflow(&node_a, "wf").await;
    owned_by(&node_a, "e1", "node-a").await;
    let config = database.url.parse::<tokio_postgres::Config>().unwrap();
    let (mut taker, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    // Another node's take-over, not committed yet.
    let take_over = taker.transaction().await.unwrap();
    take_over.execute("UPDATE executions SET owner = 'node-b' WHERE id = 'e1'", &[]).await.unwrap();
    let write = node_a.start_step(conformance::step_start("e1", "s1", 1, 12));
    let write = tokio::spawn(write);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!write.is_finished(), "the batch waits for the take-over to end");
    take_over.commit().await.unwrap();
    let refused = write.await.unwrap();
    assert_eq!(refused, Err(StoreError::TakenOver { id: "e1".to_owned(), owner: "node-b".to_owned() }));
    assert!(conformance::load(&node_a, "e1").await.steps.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_change_waits_for_the_node_that_saw_it() {
    let Some((first, database)) = fresh_store("a_file_change_waits_for_its_node").await else { return };
    conformance::seed_workflow(&first, "wf").await;
    let accept = |id: &str, trigger: serde_json::Value| {
        let new = NewExecution { status: Status::Pending, trigger, ..conformance::execution(id, "wf", 1) };
        Acceptance { execution: new, owner: Some("node-a".to_owned()), slot: None, idempotency: None, skipped: None }
    };
    let change = serde_json::json!({"type": "file_watch", "event": {"path": "/data/in/a.csv", "kind": "create"}});
    first.accept_execution(accept("changed", change)).await.expect("accept");
    first.accept_execution(accept("called", serde_json::json!({"type": "webhook"}))).await.expect("accept");
    let second = another_node(&database).await;
    let workflows = [("wf-name".to_owned(), None)];
    let claim = || second.claim_pending("node-b", &workflows, conformance::at(50));
    assert_eq!(claim().await.expect("claim"), Some(("called".to_owned(), "wf-name".to_owned())));
    assert_eq!(claim().await.expect("claim"), None, "the file is on node a's disk: node a runs it");
}
