//! The acceptance tests of several `pilot serve` nodes on one PostgreSQL database (a real server on loopback, see
//! `executor::store::postgres::test_server`), three nodes each:
//! - a schedule firing every second, for a minute: every slot runs exactly once across the nodes;
//! - a node SIGKILLed while it runs multi-step executions: the other two finish them once its lease has run out,
//!   and no step recorded finished before the kill runs again;
//! - two minutes of chaos (`PILOT_CHAOS_SECONDS`, default 120): webhooks sent round-robin to whichever nodes are
//!   up while nodes are SIGKILLed and restarted at random (a fixed seed); every accepted execution then ran to its
//!   end once, no finished step was redone, and the database holds nothing half done.
//!
//! Every `shell/exec` step appends `STEP EXECUTION PID` to a file, the PID being the node that ran it (`$PPID` of
//! the shell), so that every effect says which step of which execution which process made.

mod serve_support;

use executor::store::postgres::test_server::{TestDatabase, fresh_database};
use serde_json::json;
use serve_support::http::Request;
use serve_support::{Daemon, Home};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long the end of a test (every execution finished) may take: the nodes share two cores with other tests.
const PATIENCE: Duration = Duration::from_secs(180);

/// The database the nodes share, read by the test with SQL.
struct Database {
    runtime: tokio::runtime::Runtime,
    client: tokio_postgres::Client,
    url: String,
    _database: TestDatabase,
}

impl Database {
    /// An empty database of its own for `test`, or `None` when no PostgreSQL server is available (see
    /// `fresh_database`).
    fn fresh(test: &str) -> Option<Database> {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let database = runtime.block_on(fresh_database(test))?;
        let (client, connection) =
            runtime.block_on(tokio_postgres::connect(&database.url, tokio_postgres::NoTls)).unwrap();
        runtime.spawn(connection);
        Some(Database { runtime, client, url: database.url.clone(), _database: database })
    }

    fn rows(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Vec<tokio_postgres::Row> {
        self.runtime.block_on(self.client.query(sql, params)).unwrap_or_else(|err| panic!("{sql}: {err}"))
    }

    fn count(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> i64 {
        self.rows(sql, params)[0].get(0)
    }

    /// The (execution, step) pairs recorded finished.
    fn finished_steps(&self) -> BTreeSet<(String, String)> {
        let rows = self.rows("SELECT execution_id, step_id FROM execution_steps WHERE status = 'success'", &[]);
        rows.iter().map(|row| (row.get(0), row.get(1))).collect()
    }

    /// How many executions are still pending or running.
    fn unfinished(&self) -> i64 {
        self.count("SELECT COUNT(*) FROM executions WHERE status IN ('pending', 'running')", &[])
    }

    /// Waits until `done` holds; fails the test with `what` after `patience`.
    fn wait_until(&self, what: &str, patience: Duration, mut done: impl FnMut(&Database) -> bool) {
        let started = Instant::now();
        while !done(self) {
            assert!(started.elapsed() < patience, "{what}: not after {patience:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Nodes on one database: a `$PILOT_HOME` each, with the same workflow and settings. A node is started (and
/// restarted) on its own home.
struct Cluster {
    homes: Vec<Home>,
    database: Database,
    /// Which node each instance (an execution's `owner`) was, over every start.
    instances: BTreeMap<String, usize>,
    /// Which node each process was.
    processes: BTreeMap<u32, usize>,
}

impl Cluster {
    fn new(test: &str, nodes: usize, workflow: (&str, &str), settings: &str) -> Option<Cluster> {
        let database = Database::fresh(test)?;
        let homes: Vec<Home> = (0..nodes).map(|_| Home::new()).collect();
        for home in &homes {
            home.write_workflow(workflow.0, workflow.1);
            std::fs::write(home.path().join("settings.json"), settings).unwrap();
        }
        Some(Cluster { homes, database, instances: BTreeMap::new(), processes: BTreeMap::new() })
    }

    /// Starts node `node` and learns its instance id (registered before it listens).
    fn start(&mut self, node: usize) -> Daemon {
        let daemon = self.homes[node].serve_with(&["--addr", "127.0.0.1:0"], &[("PILOT_STORE", &self.database.url)]);
        self.processes.insert(daemon.pid(), node);
        let pid = i64::from(daemon.pid());
        let rows = self.database.rows("SELECT id FROM instances WHERE pid = $1", &[&pid]);
        assert_eq!(rows.len(), 1, "node {node} (process {pid}) registered its instance");
        self.instances.insert(rows[0].get(0), node);
        daemon
    }

    /// How many of `executions` each node ran (its instance is their owner), for the test's output.
    fn ran_by(&self, owners: impl IntoIterator<Item = Option<String>>) -> BTreeMap<String, usize> {
        let mut ran_by = BTreeMap::new();
        for owner in owners {
            let node = match owner.as_ref().and_then(|owner| self.instances.get(owner)) {
                Some(node) => format!("node {node}"),
                None => format!("unknown owner {owner:?}"),
            };
            *ran_by.entry(node).or_default() += 1;
        }
        ran_by
    }
}

fn now_micros() -> i64 {
    i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_micros()).unwrap()
}

/// One effect on disk: which step of which execution, made by which process.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Effect {
    step: String,
    execution: String,
    pid: u32,
}

fn effects(file: &Path) -> Vec<Effect> {
    serve_support::lines_of(file)
        .iter()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            let (step, execution, pid) = (parts.next()?, parts.next()?, parts.next()?.trim().parse().ok()?);
            Some(Effect { step: step.to_owned(), execution: execution.to_owned(), pid })
        })
        .collect()
}

/// A workflow of `steps` `shell/exec` steps one after the other, each appending its effect between two naps of
/// `nap` (a node killed in the second nap leaves an effect its step is not recorded finished for: run again).
fn effect_steps(name: &str, steps: usize, nap: &str, effects: &Path) -> String {
    let mut yaml = format!(
        "name: {name}\ntriggers:\n  - type: webhook\n    path: /hooks/{name}\ninputs:\n  n:\n    type: int\nsteps:\n"
    );
    for index in 1..=steps {
        let needs = if index > 1 { format!("    needs: step_{}\n", index - 1) } else { String::new() };
        yaml.push_str(&format!(
            "  - id: step_{index}\n    action: shell/exec\n{needs}    input:\n      shell: true\n      command: \"sleep {nap}; echo step_{index} ${{execution.id}} $PPID >> '{}'; sleep {nap}\"\n",
            effects.display()
        ));
    }
    yaml
}

/// What a SIGKILL left: the (execution, step) pairs recorded finished just after it, and how many effects the
/// killed process had made.
struct Kill {
    finished: BTreeSet<(String, String)>,
    effects_made: usize,
}

/// SIGKILLs `daemon` and notes what the database says is finished once the kill is over (a commit it had sent may
/// still land just after: the pause lets it, so that the note is not missing a step that was in fact finished).
fn kill(daemon: Daemon, database: &Database, effects_file: &Path) -> (u32, Kill) {
    let pid = daemon.pid();
    daemon.kill();
    std::thread::sleep(Duration::from_millis(500));
    let effects_made = effects(effects_file).iter().filter(|effect| effect.pid == pid).count();
    (pid, Kill { finished: database.finished_steps(), effects_made })
}

/// Checks the effects of every step of `executions`: each was made by a node and has one, and one is repeated only when the process
/// that made it was killed before the step was recorded finished; a killed process made none after its kill.
/// Returns how many steps were run again (killed while they ran).
fn check_effects(
    cluster: &Cluster,
    effects_file: &Path,
    executions: &BTreeSet<String>,
    steps: usize,
    kills: &BTreeMap<u32, Kill>,
) -> usize {
    let effects = effects(effects_file);
    let strangers: Vec<&Effect> =
        effects.iter().filter(|effect| !cluster.processes.contains_key(&effect.pid)).collect();
    assert!(strangers.is_empty(), "effects made by a process that is not a node: {strangers:?}");
    let mut by_pair: BTreeMap<(String, String), Vec<u32>> = BTreeMap::new();
    for effect in &effects {
        by_pair.entry((effect.execution.clone(), effect.step.clone())).or_default().push(effect.pid);
    }
    for execution in executions {
        for index in 1..=steps {
            let pair = (execution.clone(), format!("step_{index}"));
            let pids = by_pair.get(&pair).unwrap_or_else(|| panic!("{pair:?} made no effect"));
            // Every effect but the last was made by a process killed before the step was recorded finished.
            for pid in &pids[..pids.len() - 1] {
                let kill = kills.get(pid).unwrap_or_else(|| panic!("{pair:?} made twice: {pids:?}, {pid} not killed"));
                assert!(!kill.finished.contains(&pair), "{pair:?} redone after it was recorded finished: {pids:?}");
            }
        }
    }
    for (pid, kill) in kills {
        let made = effects.iter().filter(|effect| effect.pid == *pid).count();
        assert_eq!(made, kill.effects_made, "process {pid} made no effect after its kill");
    }
    let unknown: Vec<&Effect> = effects.iter().filter(|effect| !executions.contains(&effect.execution)).collect();
    assert!(unknown.is_empty(), "effects of executions not checked: {unknown:?}");
    by_pair.values().filter(|pids| pids.len() > 1).count()
}

/// What the nodes leave in the database once every execution has ended: each finished `success` with its `steps`
/// steps recorded once, nothing else pending or running, no step or log line of an execution that does not exist,
/// every execution owned by a node the test started. Returns every execution id.
fn check_store(cluster: &Cluster, workflow: &str, steps: usize) -> BTreeSet<String> {
    let database = &cluster.database;
    assert_eq!(database.unfinished(), 0, "nothing left pending or running");
    let rows = database.rows("SELECT id, status, owner, workflow_name FROM executions", &[]);
    for row in &rows {
        let (id, status, owner, name): (String, String, Option<String>, String) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        assert_eq!((status.as_str(), name.as_str()), ("success", workflow), "execution {id}");
        let owner = owner.unwrap_or_else(|| panic!("execution {id} has no owner"));
        assert!(cluster.instances.contains_key(&owner), "execution {id} owned by {owner}, not a node of the test");
    }
    let ids: BTreeSet<String> = rows.iter().map(|row| row.get(0)).collect();
    assert_eq!(ids.len(), rows.len(), "one row per execution");
    let step_rows = database.rows("SELECT execution_id, step_id, status FROM execution_steps", &[]);
    let mut per_execution: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in &step_rows {
        let (execution, step, status): (String, String, String) = (row.get(0), row.get(1), row.get(2));
        assert_eq!(status, "success", "step {step} of {execution}");
        assert!(ids.contains(&execution), "step {step} of an execution that does not exist: {execution}");
        assert!(per_execution.entry(execution.clone()).or_default().insert(step.clone()), "{execution} {step} twice");
    }
    for id in &ids {
        let recorded = per_execution.get(id).map_or(0, BTreeSet::len);
        assert_eq!(recorded, steps, "execution {id}: each of its steps recorded once");
    }
    let stray_logs = database.count(
        "SELECT COUNT(*) FROM execution_logs l WHERE NOT EXISTS (SELECT 1 FROM executions e WHERE e.id = l.execution_id)",
        &[],
    );
    assert_eq!(stray_logs, 0, "no log line of an execution that does not exist");
    ids
}

const TICKER: &str = r#"
name: ticker
triggers:
  - type: schedule
    cron: "* * * * * *"
    timezone: UTC
steps:
  - id: tick
    action: log
    input:
      message: "tick ${trigger.scheduled_at}"
"#;

#[test]
fn a_per_second_schedule_on_three_nodes_runs_every_slot_of_a_minute_exactly_once() {
    let Some(mut cluster) = Cluster::new("per_second_schedule_on_three_nodes", 3, ("ticker.yaml", TICKER), "{}") else {
        return;
    };
    let nodes: Vec<Daemon> = (0..3).map(|node| cluster.start(node)).collect();
    // Every node fires every slot from here on; the database takes the first of each.
    let second = 1_000_000;
    let first = (now_micros() / second + 2) * second;
    let last = first + 59 * second;
    let database = &cluster.database;
    database.wait_until("the minute's last slot", Duration::from_secs(60) + PATIENCE, |database| {
        database.count("SELECT COUNT(*) FROM executions WHERE slot >= $1", &[&last]) > 0
    });
    database.wait_until("the minute's executions to end", PATIENCE, |database| {
        let sql = "SELECT COUNT(*) FROM executions WHERE slot <= $1 AND status IN ('pending', 'running')";
        database.count(sql, &[&last]) == 0
    });

    let triggers = database.rows("SELECT DISTINCT trigger_id FROM executions", &[]);
    assert_eq!(triggers.len(), 1, "the three nodes share the trigger's id");
    let rows = database.rows("SELECT slot, status, owner FROM executions ORDER BY slot", &[]);
    let slots: Vec<i64> = rows.iter().map(|row| row.get(0)).collect();
    // From the first slot the first node fired, none missed and none twice.
    let expected: Vec<i64> = (0..slots.len() as i64).map(|index| slots[0] + index * second).collect();
    assert_eq!(slots, expected, "one execution per second, in a row");
    assert!(slots.contains(&first) && slots.contains(&last), "the whole minute: {first}..={last} in {slots:?}");
    let minute: Vec<&tokio_postgres::Row> =
        rows.iter().filter(|row| (first..=last).contains(&row.get::<_, i64>(0))).collect();
    assert_eq!(minute.len(), 60);
    for row in &minute {
        assert_eq!(row.get::<_, String>(1), "success", "slot {}", row.get::<_, i64>(0));
    }
    let ran_by = cluster.ran_by(minute.iter().map(|row| row.get(2)));
    println!("the minute's 60 slots ran on: {ran_by:?}");
    assert!(ran_by.keys().all(|node| node.starts_with("node ")), "each slot ran on a node: {ran_by:?}");
    for node in nodes {
        assert!(node.stop().success());
    }
}

#[test]
fn the_executions_of_one_of_three_nodes_killed_mid_run_finish_on_the_other_two_without_redoing_a_step() {
    let settings = r#"{"daemon": {"lease_seconds": 3}}"#;
    let effects_dir = tempfile::tempdir().unwrap();
    let effects_file = effects_dir.path().join("effects.log");
    let workflow = effect_steps("relay", 5, "0.2", &effects_file);
    let Some(mut cluster) = Cluster::new("one_of_three_nodes_killed", 3, ("relay.yaml", &workflow), settings) else {
        return;
    };
    let mut nodes: Vec<Daemon> = (0..3).map(|node| cluster.start(node)).collect();
    let ids: Vec<String> = (0..12).map(|n| nodes[n % 3].trigger("/hooks/relay", &json!({"n": n}))).collect();

    // Killed once one of its executions is two steps in.
    let victim = cluster.instances.iter().find(|(_, node)| **node == 0).map(|(id, _)| id.clone()).unwrap();
    cluster.database.wait_until("the first node two steps into an execution", PATIENCE, |database| {
        let sql = "SELECT COUNT(*) FROM executions e WHERE e.owner = $1 AND e.status = 'running'
                   AND (SELECT COUNT(*) FROM execution_steps s WHERE s.execution_id = e.id AND s.status = 'success') >= 2";
        database.count(sql, &[&victim]) > 0
    });
    let (pid, killed) = kill(nodes.remove(0), &cluster.database, &effects_file);
    let orphans: Vec<String> = cluster
        .database
        .rows("SELECT id FROM executions WHERE owner = $1 AND status IN ('pending', 'running')", &[&victim])
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert!(!orphans.is_empty(), "the killed node left executions unfinished");

    for id in &ids {
        assert_eq!(nodes[0].wait_finished(id)["status"], "success");
    }
    let survivors: Vec<&String> = cluster.instances.iter().filter(|(_, node)| **node != 0).map(|(id, _)| id).collect();
    for id in &orphans {
        let owner: Option<String> =
            cluster.database.rows("SELECT owner FROM executions WHERE id = $1", &[id])[0].get(0);
        assert!(owner.as_ref().is_some_and(|owner| survivors.contains(&owner)), "{id} finished by another node");
        let log =
            String::from_utf8_lossy(&cluster.homes[1].pilot(&["logs", id, "--store", &cluster.database.url]).stdout)
                .into_owned();
        assert!(log.contains("execution resumed"), "{id} was resumed: {log}");
    }
    let executions = check_store(&cluster, "relay", 5);
    assert_eq!(executions, ids.iter().cloned().collect(), "the twelve executions and no other");
    let redone = check_effects(&cluster, &effects_file, &executions, 5, &BTreeMap::from([(pid, killed)]));
    println!(
        "{} executions of the killed node finished by the others ({redone} steps run again: killed after their effect): {orphans:?}",
        orphans.len()
    );
    for node in nodes {
        assert!(node.stop().success());
    }
}

/// A small deterministic generator: the chaos is the same every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

/// What the client saw: each execution it was answered 202 for, and the other answers by status.
#[derive(Default)]
struct Sent {
    accepted: Vec<String>,
    refused: BTreeMap<u16, usize>,
    unreachable: usize,
}

/// Sends a webhook every 100 ms, round-robin to the nodes that are up (`addrs`), until `stop`.
fn send_round_robin(addrs: Arc<Mutex<Vec<Option<String>>>>, stop: Arc<AtomicBool>) -> Sent {
    let mut sent = Sent::default();
    let mut next = 0;
    while !stop.load(Ordering::Relaxed) {
        let up: Vec<String> = addrs.lock().unwrap().iter().flatten().cloned().collect();
        let addr = &up[next % up.len()];
        let request = Request::new("POST", "/hooks/chaos").json(&json!({"n": next}));
        match request.try_send(addr) {
            Ok(response) if response.status == 202 => {
                sent.accepted.push(response.json()["execution_id"].as_str().unwrap().to_owned());
            }
            Ok(response) => *sent.refused.entry(response.status).or_default() += 1,
            Err(_) => sent.unreachable += 1, // killed meanwhile
        }
        next += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    sent
}

#[test]
fn three_nodes_killed_and_restarted_at_random_for_two_minutes_run_every_accepted_webhook_once() {
    let seconds: u64 = std::env::var("PILOT_CHAOS_SECONDS").map_or(120, |text| text.parse().expect("a whole number"));
    let settings = r#"{"daemon": {"lease_seconds": 3}}"#;
    let effects_dir = tempfile::tempdir().unwrap();
    let effects_file = effects_dir.path().join("effects.log");
    let workflow = effect_steps("chaos", 3, "0.1", &effects_file);
    let Some(mut cluster) = Cluster::new("three_nodes_chaos", 3, ("chaos.yaml", &workflow), settings) else {
        return;
    };
    let mut nodes: Vec<Option<Daemon>> = (0..3).map(|node| Some(cluster.start(node))).collect();
    let addrs = Arc::new(Mutex::new(nodes.iter().map(|node| node.as_ref().map(|d| d.addr.clone())).collect()));
    let stop = Arc::new(AtomicBool::new(false));
    let client = std::thread::spawn({
        let (addrs, stop) = (Arc::clone(&addrs), Arc::clone(&stop));
        move || send_round_robin(addrs, stop)
    });

    let mut random = Lcg(0x5eed_c4a0_5000_0003);
    let mut kills: BTreeMap<u32, Kill> = BTreeMap::new();
    let mut restarts = 0;
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        std::thread::sleep(Duration::from_millis(1500 + random.below(3000)));
        let node = usize::try_from(random.below(3)).unwrap();
        let up = nodes.iter().flatten().count();
        match nodes[node].take() {
            // At least one node stays up, for the client.
            Some(daemon) if up >= 2 => {
                // Killed first: a request on its way to it gets no answer, though it may have been accepted.
                let (pid, killed) = kill(daemon, &cluster.database, &effects_file);
                addrs.lock().unwrap()[node] = None;
                kills.insert(pid, killed);
            }
            Some(daemon) => nodes[node] = Some(daemon),
            None => {
                let daemon = cluster.start(node);
                addrs.lock().unwrap()[node] = Some(daemon.addr.clone());
                nodes[node] = Some(daemon);
                restarts += 1;
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let sent = client.join().unwrap();
    for (node, slot) in nodes.iter_mut().enumerate() {
        if slot.is_none() {
            *slot = Some(cluster.start(node));
        }
    }
    // A node restarted within its lease leaves the executions of its killed process until that lease runs out.
    cluster.database.wait_until("every execution to end", PATIENCE, |database| database.unfinished() == 0);

    let executions = check_store(&cluster, "chaos", 3);
    let accepted: BTreeSet<String> = sent.accepted.iter().cloned().collect();
    assert_eq!(accepted.len(), sent.accepted.len(), "each 202 a new execution");
    let missing: Vec<&String> = accepted.difference(&executions).collect();
    assert!(missing.is_empty(), "answered 202 but not in the database: {missing:?}");
    assert!(sent.refused.is_empty(), "only 202s or no answer at all: {:?}", sent.refused);
    let redone = check_effects(&cluster, &effects_file, &executions, 3, &kills);
    let owners = cluster.database.rows("SELECT owner FROM executions", &[]);
    println!(
        "{seconds} s: {} answered 202, {} accepted but unanswered (their node killed), {} unreachable; {} kills, \
         {restarts} restarts, {redone} steps run again (killed after their effect); ran by {:?}",
        accepted.len(),
        executions.len() - accepted.len(),
        sent.unreachable,
        kills.len(),
        cluster.ran_by(owners.iter().map(|row| row.get(0)))
    );
    assert!(!kills.is_empty(), "nodes were killed");
    for node in nodes.into_iter().flatten() {
        assert!(node.stop().success());
    }
}
