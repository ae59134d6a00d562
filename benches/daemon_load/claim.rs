//! `claim`: how long an accepted webhook waits for a node to start it, from its answer (the 202, sent once its
//! pending row is committed) to its execution's first step start in the store. See the scenario list in main.rs.

use super::client::Connection;
use super::serve::Serve;
use super::{LOAD, Scale, describe_latencies, home_with, recorded, wall_micros};
use executor::store::postgres::test_server::{self, TestDatabase};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

/// Keeps a node busy: its one execution slot taken for the whole case.
const BLOCK: &str = "name: block
triggers:
  - type: webhook
    path: /hooks/block
steps:
  - id: nap
    action: sleep
    input: {duration: 1h}
";

/// One case: the store, how many nodes, and whether the first node, the one every request then goes to, is full.
struct Case {
    label: &'static str,
    postgres: bool,
    nodes: usize,
    first_full: bool,
}

pub async fn claim(scale: Scale) {
    let cases = [
        Case { label: "SQLite, 1 node", postgres: false, nodes: 1, first_full: false },
        Case { label: "PostgreSQL, 1 node", postgres: true, nodes: 1, first_full: false },
        Case { label: "PostgreSQL, 2 nodes", postgres: true, nodes: 2, first_full: false },
        Case { label: "PostgreSQL, 3 nodes", postgres: true, nodes: 3, first_full: false },
        Case { label: "PostgreSQL, 2 nodes, the accepting one full", postgres: true, nodes: 2, first_full: true },
    ];
    for case in cases {
        run(scale, &case).await;
    }
}

/// The store the nodes of a case share, read by the bench.
enum Shared {
    Sqlite,
    Postgres { database: TestDatabase, client: Box<tokio_postgres::Client> },
}

impl Shared {
    async fn open(postgres: bool) -> Option<Shared> {
        if !postgres {
            return Some(Shared::Sqlite);
        }
        let database = test_server::fresh_database("claim bench").await?;
        let (client, connection) =
            tokio_postgres::connect(&database.url, tokio_postgres::NoTls).await.expect("connect to the database");
        tokio::spawn(connection);
        Some(Shared::Postgres { database, client: Box::new(client) })
    }

    fn env(&self) -> Vec<(&str, &str)> {
        match self {
            Shared::Sqlite => Vec::new(),
            Shared::Postgres { database, .. } => vec![("PILOT_STORE", database.url.as_str())],
        }
    }

    /// Each execution of `workflow`: (status, owner, first step's start).
    async fn executions(&self, home: &Path, workflow: &str) -> HashMap<String, (String, Option<String>, Option<i64>)> {
        match self {
            Shared::Sqlite => recorded(home, workflow)
                .into_iter()
                .map(|(id, (_, _, status, first_step))| (id, (status, None, first_step)))
                .collect(),
            Shared::Postgres { client, .. } => {
                let sql = "SELECT e.id, e.status, e.owner,
                                  (SELECT MIN(s.started_at) FROM execution_steps s WHERE s.execution_id = e.id)
                           FROM executions e WHERE e.workflow_name = $1";
                let rows = client.query(sql, &[&workflow]).await.expect("read the executions");
                rows.iter().map(|row| (row.get(0), (row.get(1), row.get(2), row.get(3)))).collect()
            }
        }
    }
}

async fn run(scale: Scale, case: &Case) {
    println!("   -- {}", case.label);
    let Some(shared) = Shared::open(case.postgres).await else {
        println!("   skipped: no PostgreSQL server");
        return;
    };
    let workflows = [("load.yaml".to_owned(), LOAD.to_owned()), ("block.yaml".to_owned(), BLOCK.to_owned())];
    let homes: Vec<tempfile::TempDir> = (0..case.nodes).map(|_| home_with(&workflows)).collect();
    let program = Path::new(env!("CARGO_BIN_EXE_pilot"));
    if case.first_full {
        std::fs::write(homes[0].path().join("settings.json"), r#"{"daemon": {"max_concurrent": 1}}"#)
            .expect("write settings.json");
    }
    let mut nodes = vec![Serve::start_with(program, homes[0].path(), &shared.env())];
    if case.first_full {
        // Running on the first node before the others start, so that none of them takes it.
        let mut connection = Connection::open(nodes[0].addr).await.expect("connect to the first node");
        let answer = connection.post("/hooks/block", b"{}").await.expect("the blocking webhook");
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        let started = Instant::now();
        while !shared.executions(homes[0].path(), "block").await.values().any(|(status, ..)| status == "running") {
            assert!(started.elapsed() < Duration::from_secs(60), "the blocking execution never started");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    for home in &homes[1..] {
        nodes.push(Serve::start_with(program, home.path(), &shared.env()));
    }

    let (rate, length) = (50.0, scale.seconds(20.0, 0.2));
    let total = (rate * length.as_secs_f64()).round() as usize;
    println!(
        "   {total} webhook requests one at a time, {rate}/s, to {}",
        if case.first_full { "the full node".to_owned() } else { format!("{} node(s) round-robin", case.nodes) }
    );
    let mut connections = Vec::new();
    for node in &nodes {
        connections.push(Connection::open(node.addr).await.expect("connect to a node"));
    }
    let mut answered: HashMap<String, i64> = HashMap::new();
    let begin = tokio::time::Instant::now();
    for index in 0..total {
        tokio::time::sleep_until(begin + Duration::from_secs_f64(index as f64 / rate)).await;
        let node = if case.first_full { 0 } else { index % nodes.len() };
        let answer = connections[node].post("/hooks/load", format!("{{\"n\": {index}}}").as_bytes()).await;
        let at = wall_micros();
        let answer = answer.expect("an answer");
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        let body: serde_json::Value = serde_json::from_slice(&answer.body).expect("a JSON answer");
        answered.insert(body["execution_id"].as_str().expect("an execution id").to_owned(), at);
    }

    let started = Instant::now();
    let executions = loop {
        let executions = shared.executions(homes[0].path(), "load").await;
        let done = executions.values().filter(|(status, ..)| status == "success").count();
        if done >= total || started.elapsed() > Duration::from_secs(120) {
            break executions;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut early = 0;
    let mut delays = Vec::new();
    for (id, at) in &answered {
        let Some((_, _, Some(first_step))) = executions.get(id) else { continue };
        // The node may start it before the client has read the answer: counted as no wait.
        early += usize::from(*first_step < *at);
        delays.push(Duration::from_micros(u64::try_from(first_step - at).unwrap_or(0)));
    }
    describe_latencies("answer (202) to first step start", delays);
    println!("   started before the client read its answer: {early}");
    if case.first_full {
        let full = shared.executions(homes[0].path(), "block").await.into_values().find_map(|(_, owner, _)| owner);
        let by_full = executions.values().filter(|(_, owner, _)| *owner == full).count();
        println!("   run by the full node: {by_full}, by the other: {}", executions.len() - by_full);
    } else if case.postgres {
        let mut by_owner: BTreeMap<String, usize> = BTreeMap::new();
        for (_, owner, _) in executions.values() {
            *by_owner.entry(owner.clone().unwrap_or_default()).or_default() += 1;
        }
        println!("   run by each node: {:?}", by_owner.values().collect::<Vec<_>>());
    }
    for node in nodes {
        node.kill(); // The blocking execution would hold a clean stop for its drain time.
    }
}
