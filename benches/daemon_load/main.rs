//! Load on a real `pilot serve` over loopback, bounded in count and time, and the numbers the daemon is held to.
//! Every scenario starts its own daemon on a fresh `PILOT_HOME` (SQLite store, default settings) and stops it.
//!
//! - `steady`: webhook requests at 200/s for 30 s, a one-step workflow. Every request answered, every accepted
//!   one recorded (the daemon is SIGKILLed right after the last answer, then the store is read: an answer is
//!   only given once its pending row is committed), resident memory over time, answer latency, and request to
//!   first step start (`execution_steps.started_at` against the time the request was sent).
//! - `flood`: 10x a webhook's `rate_limit` (100/s) for 10 s: the excess answered 429, memory bounded.
//! - `sustained`: webhook requests at 2,000/s for 20 s: whether the daemon keeps up (every request accepted,
//!   request to first step start stays short, the last execution ends soon after the last request).
//! - `throughput`: 32 connections sending back to back for 10 s: accepted executions per second, and the rate at
//!   which they are run to their end.
//! - `schedule`: a schedule firing every second for 10 s: when each execution was accepted (`started_at`)
//!   and its step started, against its slot.
//! - `idle`: 100 workflows (schedules, webhooks, manual), nothing happening for 20 s: resident memory, CPU time and
//!   wake-ups (context switches of every thread).
//! - `claim`: from a webhook's answer (its 202) to its execution's first step start, requests sent one at a time
//!   at 50/s for 20 s (latency, not throughput), one-step workflow: SQLite with one node; PostgreSQL with 1, 2
//!   and 3 nodes (requests round-robin); and 2 PostgreSQL nodes where the node accepting every request is full
//!   (`max_concurrent: 1`, busy with a long execution), so that the other, idle, claims each one when `LISTEN
//!   pilot_pending` wakes it. The PostgreSQL server is the tests' (`executor::store::postgres::test_server`; set
//!   `PILOT_TEST_POSTGRES_DURABLE=1` for one that syncs its commits, as SQLite does); without one these cases are
//!   skipped.
//!
//! `cargo bench --bench daemon_load` runs them all (about 4 minutes); `cargo bench --bench daemon_load -- steady`
//! one. Under `cargo test` (no `--bench` argument) each runs for a fraction of a second against the debug
//! binary: a check that the generator and its store readings work, with no number asserted.

mod claim;
mod client;
mod process;
#[path = "../../tests/api/serve.rs"]
mod serve;

use client::Connection;
use rusqlite::OptionalExtension;
use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const LOAD: &str = "name: load
triggers:
  - type: webhook
    path: /hooks/load
steps:
  - id: note
    action: log
    input:
      message: request ${trigger.body.n}
";

const LIMITED: &str = "name: limited
triggers:
  - type: webhook
    path: /hooks/limited
    rate_limit: {requests: 100, per: 1s}
steps:
  - id: note
    action: log
    input:
      message: request ${trigger.body.n}
";

const TICK: &str = "name: tick
triggers:
  - type: schedule
    cron: \"* * * * * *\"
    catch_up: none
steps:
  - id: note
    action: log
    input:
      message: tick ${trigger.scheduled_at}
";

/// Full length under `cargo bench`, a glimpse under `cargo test`.
#[derive(Clone, Copy)]
struct Scale {
    full: bool,
}

impl Scale {
    fn seconds(self, full: f64, glimpse: f64) -> Duration {
        Duration::from_secs_f64(if self.full { full } else { glimpse })
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let scale = Scale { full: args.iter().any(|arg| arg == "--bench") };
    let filters: Vec<&str> = args.iter().filter(|arg| !arg.starts_with('-')).map(String::as_str).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    let program = Path::new(env!("CARGO_BIN_EXE_pilot"));
    println!("daemon_load: {} (load average before: {})", program.display(), process::load_average());
    for name in ["steady", "flood", "sustained", "throughput", "schedule", "idle", "claim"] {
        if filters.is_empty() || filters.iter().any(|filter| name.contains(filter)) {
            println!("\n== {name}");
            runtime.block_on(async {
                match name {
                    "steady" => steady(scale).await,
                    "flood" => flood(scale).await,
                    "sustained" => sustained(scale).await,
                    "throughput" => throughput(scale).await,
                    "schedule" => schedule(scale).await,
                    "idle" => idle(scale).await,
                    _ => claim::claim(scale).await,
                }
            });
            println!("   load average after: {}", process::load_average());
        }
    }
}

fn wall_micros() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// A `PILOT_HOME` holding these workflow files.
fn home_with(workflows: &[(String, String)]) -> tempfile::TempDir {
    let home = tempfile::tempdir().expect("a temporary PILOT_HOME");
    let folder = home.path().join("workflows");
    std::fs::create_dir_all(&folder).expect("the workflows folder");
    for (file, text) in workflows {
        std::fs::write(folder.join(file), text).expect("write a workflow");
    }
    home
}

fn start(home: &Path) -> serve::Serve {
    serve::Serve::start(Path::new(env!("CARGO_BIN_EXE_pilot")), home)
}

/// One request as the generator saw it.
struct Sent {
    status: Option<u16>,
    execution_id: Option<String>,
    /// Wall clock (µs since the epoch) when it was written.
    sent_at: i64,
    /// From when it was due (open loop) or written (closed loop) to its whole answer.
    latency: Duration,
}

/// Sends `rate` requests a second for `length`, spread over `connections` keep-alive connections; each request is
/// due at its slot whatever happened to the ones before (its latency counts from then).
async fn open_loop(addr: SocketAddr, path: &'static str, rate: f64, length: Duration, connections: usize) -> Vec<Sent> {
    let total = (rate * length.as_secs_f64()).round() as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let begin = tokio::time::Instant::now() + Duration::from_millis(100);
    let mut tasks = tokio::task::JoinSet::new();
    for first in 0..connections {
        tasks.spawn(async move {
            let mut connection = Connection::open(addr).await.expect("connect to the daemon");
            let mut sent = Vec::new();
            for index in (first..total).step_by(connections) {
                let due = begin + interval.mul_f64(index as f64);
                tokio::time::sleep_until(due).await;
                sent.push(send(&mut connection, path, index, due.into_std()).await);
            }
            sent
        });
    }
    tasks.join_all().await.into_iter().flatten().collect()
}

/// `connections` connections, each sending its next request as soon as the answer to the last came, for `length`.
async fn closed_loop(addr: SocketAddr, path: &'static str, length: Duration, connections: usize) -> Vec<Sent> {
    let end = Instant::now() + length;
    let mut tasks = tokio::task::JoinSet::new();
    for first in 0..connections {
        tasks.spawn(async move {
            let mut connection = Connection::open(addr).await.expect("connect to the daemon");
            let mut sent = Vec::new();
            let mut index = first;
            while Instant::now() < end {
                sent.push(send(&mut connection, path, index, Instant::now()).await);
                index += connections;
            }
            sent
        });
    }
    tasks.join_all().await.into_iter().flatten().collect()
}

async fn send(connection: &mut Connection, path: &str, index: usize, due: Instant) -> Sent {
    let body = format!("{{\"n\": {index}}}");
    let sent_at = wall_micros();
    let answer = connection.post(path, body.as_bytes()).await;
    let latency = due.elapsed();
    match answer {
        Ok(answer) => {
            let execution_id = (answer.status == 202)
                .then(|| serde_json::from_slice::<serde_json::Value>(&answer.body).ok())
                .flatten()
                .and_then(|body| body["execution_id"].as_str().map(str::to_owned));
            Sent { status: Some(answer.status), execution_id, sent_at, latency }
        }
        Err(_) => Sent { status: None, execution_id: None, sent_at, latency },
    }
}

/// Resident memory of `pid`, every half second, while `work` runs.
async fn with_memory_samples<T>(pid: u32, work: impl std::future::Future<Output = T>) -> (T, Vec<(Duration, u64)>) {
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        async move {
            let begin = Instant::now();
            let mut samples = Vec::new();
            while !done.load(Ordering::Relaxed) {
                samples.push((begin.elapsed(), process::rss_kib(pid)));
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            samples
        }
    };
    let work = async {
        let result = work.await;
        done.store(true, Ordering::Relaxed);
        result
    };
    tokio::join!(work, sampler)
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[index]
}

fn describe_latencies(what: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "   {what}: n={} p50={:.2} ms p99={:.2} ms max={:.2} ms",
        latencies.len(),
        millis(percentile(&latencies, 0.50)),
        millis(percentile(&latencies, 0.99)),
        millis(latencies.last().copied().unwrap_or_default())
    );
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn describe_statuses(sent: &[Sent]) -> HashMap<Option<u16>, usize> {
    let mut counts: HashMap<Option<u16>, usize> = HashMap::new();
    for request in sent {
        *counts.entry(request.status).or_default() += 1;
    }
    let mut listed: Vec<String> = counts
        .iter()
        .map(|(status, count)| match status {
            Some(status) => format!("{status}: {count}"),
            None => format!("no answer: {count}"),
        })
        .collect();
    listed.sort();
    println!("   requests: {} ({})", sent.len(), listed.join(", "));
    counts
}

/// Resident memory over the run: first and last second's average, lowest, highest.
fn describe_memory(samples: &[(Duration, u64)]) {
    let kib: Vec<u64> = samples.iter().map(|(_, kib)| *kib).collect();
    if kib.is_empty() {
        return;
    }
    let head = &kib[..kib.len().min(2)];
    let tail = &kib[kib.len().saturating_sub(2)..];
    let mean = |values: &[u64]| values.iter().sum::<u64>() as f64 / values.len() as f64 / 1024.0;
    println!(
        "   resident memory: first {:.1} MiB, last {:.1} MiB, min {:.1} MiB, max {:.1} MiB ({} samples)",
        mean(head),
        mean(tail),
        *kib.iter().min().unwrap_or(&0) as f64 / 1024.0,
        *kib.iter().max().unwrap_or(&0) as f64 / 1024.0,
        kib.len()
    );
    let per_5s: Vec<String> = samples
        .iter()
        .filter(|(at, _)| at.as_millis() % 5000 < 500)
        .map(|(at, kib)| format!("{}s {:.1}", at.as_secs(), *kib as f64 / 1024.0))
        .collect();
    println!("   resident memory every 5 s (MiB): {}", per_5s.join(", "));
}

fn open_store(home: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(home.join("pilot.db"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the daemon's store")
}

/// The executions of a workflow in the store, by id: (started_at, completed_at, status, first step's start).
type Recorded = HashMap<String, (i64, Option<i64>, String, Option<i64>)>;

fn recorded(home: &Path, workflow: &str) -> Recorded {
    let store = open_store(home);
    let mut query = store
        .prepare(
            "SELECT e.id, e.started_at, e.completed_at, e.status,
                    (SELECT MIN(s.started_at) FROM execution_steps s WHERE s.execution_id = e.id)
             FROM executions e WHERE e.workflow_name = ?1",
        )
        .expect("a query on executions");
    query
        .query_map([workflow], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?))))
        .expect("read executions")
        .map(|row| row.expect("an execution row"))
        .collect()
}

/// Every accepted request has its execution in the store; request to first step start, for those that started.
fn check_recorded(sent: &[Sent], recorded: &Recorded) {
    let accepted: Vec<&Sent> = sent.iter().filter(|request| request.execution_id.is_some()).collect();
    let missing =
        accepted.iter().filter(|request| !recorded.contains_key(request.execution_id.as_deref().unwrap())).count();
    let ids: HashSet<&str> = accepted.iter().filter_map(|request| request.execution_id.as_deref()).collect();
    println!(
        "   accepted: {}, recorded in the store: {}, accepted but missing: {missing}, recorded but never answered: {}",
        accepted.len(),
        recorded.len(),
        recorded.keys().filter(|id| !ids.contains(id.as_str())).count()
    );
    assert_eq!(missing, 0, "every accepted request is recorded");
    let first_steps: Vec<Duration> = accepted
        .iter()
        .filter_map(|request| {
            let (_, _, _, first_step) = recorded.get(request.execution_id.as_deref()?)?;
            let micros = first_step.as_ref()? - request.sent_at;
            Some(Duration::from_micros(u64::try_from(micros).unwrap_or(0)))
        })
        .collect();
    describe_latencies("request sent to first step start", first_steps);
    describe_worst_by_second(accepted.iter().filter_map(|request| {
        let (_, _, _, first_step) = recorded.get(request.execution_id.as_deref()?)?;
        Some((request.sent_at, first_step.as_ref()? - request.sent_at))
    }));
}

/// The worst request-to-first-step delay of each second of the run, to tell a steady cost from a stall.
fn describe_worst_by_second(delays: impl Iterator<Item = (i64, i64)>) {
    let delays: Vec<(i64, i64)> = delays.collect();
    let Some(begin) = delays.iter().map(|(sent, _)| *sent).min() else { return };
    let mut worst: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for (sent, delay) in delays {
        let second = (sent - begin) / 1_000_000;
        let slot = worst.entry(second).or_default();
        *slot = (*slot).max(delay);
    }
    let listed: Vec<String> = worst.values().map(|micros| format!("{:.1}", *micros as f64 / 1000.0)).collect();
    println!("   worst first-step delay of each second (ms): {}", listed.join(" "));
}

async fn steady(scale: Scale) {
    let home = home_with(&[("load.yaml".into(), LOAD.into())]);
    let daemon = start(home.path());
    let (rate, length) = (200.0, scale.seconds(30.0, 0.25));
    println!("   {rate} webhook requests/s for {length:?}, 8 connections, daemon pid {}", daemon.pid());
    let (sent, memory) =
        with_memory_samples(daemon.pid(), open_loop(daemon.addr, "/hooks/load", rate, length, 8)).await;
    daemon.kill();
    let counts = describe_statuses(&sent);
    assert_eq!(counts.get(&None).copied().unwrap_or(0), 0, "every request is answered");
    describe_latencies("answer (from when due)", sent.iter().map(|request| request.latency).collect());
    describe_memory(&memory);
    println!("   (the daemon was SIGKILLed right after the last answer; the store read after that)");
    check_recorded(&sent, &recorded(home.path(), "load"));
}

async fn flood(scale: Scale) {
    let home = home_with(&[("limited.yaml".into(), LIMITED.into())]);
    let daemon = start(home.path());
    let (rate, length) = (1000.0, scale.seconds(10.0, 0.2));
    println!("   {rate} requests/s for {length:?} at a webhook limited to 100/s, 16 connections");
    let work = open_loop(daemon.addr, "/hooks/limited", rate, length, 16);
    let (sent, memory) = with_memory_samples(daemon.pid(), work).await;
    let counts = describe_statuses(&sent);
    assert_eq!(counts.get(&None).copied().unwrap_or(0), 0, "every request is answered");
    describe_latencies("answer (from when due)", sent.iter().map(|request| request.latency).collect());
    let limited: Vec<Duration> =
        sent.iter().filter(|request| request.status == Some(429)).map(|request| request.latency).collect();
    describe_latencies("429 answers", limited);
    describe_memory(&memory);
    assert!(daemon.stop().success(), "the daemon stops cleanly");
    check_recorded(&sent, &recorded(home.path(), "limited"));
}

async fn sustained(scale: Scale) {
    let home = home_with(&[("load.yaml".into(), LOAD.into())]);
    let daemon = start(home.path());
    let (rate, length) = (2000.0, scale.seconds(20.0, 0.2));
    println!("   {rate} webhook requests/s for {length:?}, 32 connections");
    let begin = wall_micros();
    let work = open_loop(daemon.addr, "/hooks/load", rate, length, 32);
    let (sent, memory) = with_memory_samples(daemon.pid(), work).await;
    let counts = describe_statuses(&sent);
    assert_eq!(counts.get(&None).copied().unwrap_or(0), 0, "every request is answered");
    describe_latencies("answer (from when due)", sent.iter().map(|request| request.latency).collect());
    let last_sent = sent.iter().map(|request| request.sent_at).max().unwrap_or(begin);
    let (open, last_end) = wait_for_quiet(home.path()).await;
    let accepted = counts.get(&Some(202)).copied().unwrap_or(0);
    let ran_for = Duration::from_micros(u64::try_from(last_end.unwrap_or(begin) - begin).unwrap_or(0));
    println!(
        "   the last execution ended {:.0} ms after the last request ({open} still open): {:.0} executions/s end to end",
        (last_end.unwrap_or(last_sent) - last_sent) as f64 / 1000.0,
        accepted as f64 / ran_for.as_secs_f64().max(f64::EPSILON)
    );
    describe_memory(&memory);
    assert!(daemon.stop().success(), "the daemon stops cleanly");
    check_recorded(&sent, &recorded(home.path(), "load"));
}

/// Waits (up to two minutes) until no execution is pending or running; how many still are, and the last end.
async fn wait_for_quiet(home: &Path) -> (i64, Option<i64>) {
    let waited = Instant::now();
    let store = open_store(home);
    let open: i64 = loop {
        let open: i64 = store
            .query_row("SELECT COUNT(*) FROM executions WHERE status IN ('pending', 'running')", [], |row| row.get(0))
            .expect("count open executions");
        if open == 0 || waited.elapsed() > Duration::from_secs(120) {
            break open;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let last_end: Option<i64> = store
        .query_row("SELECT MAX(completed_at) FROM executions", [], |row| row.get(0))
        .optional()
        .expect("read the last end")
        .flatten();
    (open, last_end)
}

async fn throughput(scale: Scale) {
    let home = home_with(&[("load.yaml".into(), LOAD.into())]);
    let daemon = start(home.path());
    let length = scale.seconds(10.0, 0.2);
    println!("   32 connections sending back to back for {length:?}");
    let begin = wall_micros();
    let (sent, memory) = with_memory_samples(daemon.pid(), closed_loop(daemon.addr, "/hooks/load", length, 32)).await;
    let counts = describe_statuses(&sent);
    let accepted = counts.get(&Some(202)).copied().unwrap_or(0);
    println!("   accepted per second: {:.0}", accepted as f64 / length.as_secs_f64());
    describe_latencies("answer", sent.iter().map(|request| request.latency).collect());
    // Until the queue is empty: each accepted execution run to its end.
    let (open, last_end) = wait_for_quiet(home.path()).await;
    let ran_for = Duration::from_micros(u64::try_from(last_end.unwrap_or(begin) - begin).unwrap_or(0));
    println!(
        "   all {accepted} ran to their end {:.2} s after the first request ({} still open): {:.0} executions/s end to end",
        ran_for.as_secs_f64(),
        open,
        accepted as f64 / ran_for.as_secs_f64().max(f64::EPSILON)
    );
    describe_memory(&memory);
    assert!(daemon.stop().success(), "the daemon stops cleanly");
    check_recorded(&sent, &recorded(home.path(), "load"));
}

async fn schedule(scale: Scale) {
    let home = home_with(&[("tick.yaml".into(), TICK.into())]);
    let daemon = start(home.path());
    let length = scale.seconds(10.5, 2.2);
    println!("   a schedule firing every second, for {length:?}");
    tokio::time::sleep(length).await;
    assert!(daemon.stop().success(), "the daemon stops cleanly");
    let store = open_store(home.path());
    let mut query = store
        .prepare(
            "SELECT e.slot, e.started_at, (SELECT MIN(s.started_at) FROM execution_steps s WHERE s.execution_id = e.id)
             FROM executions e WHERE e.workflow_name = 'tick' AND e.slot IS NOT NULL",
        )
        .expect("a query on executions");
    let rows: Vec<(i64, i64, Option<i64>)> = query
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))
        .expect("read executions")
        .map(|row| row.expect("an execution row"))
        .collect();
    let after = |from: i64, to: i64| Duration::from_micros(u64::try_from(to - from).unwrap_or(0));
    describe_latencies(
        "slot to accepted (executions.started_at)",
        rows.iter().map(|(slot, at, _)| after(*slot, *at)).collect(),
    );
    let steps: Vec<Duration> = rows.iter().filter_map(|(slot, _, step)| Some(after(*slot, (*step)?))).collect();
    describe_latencies("slot to first step start", steps);
}

async fn idle(scale: Scale) {
    let count = if scale.full { 100 } else { 10 };
    let mut workflows = Vec::new();
    for index in 0..count {
        let trigger = match index % 3 {
            0 => format!("  - type: schedule\n    cron: \"{} 3 * * *\"\n    catch_up: none\n", index % 60),
            1 => format!("  - type: webhook\n    path: /hooks/idle-{index}\n"),
            _ => "  - type: manual\n".to_owned(),
        };
        let text = format!(
            "name: idle-{index}\ntriggers:\n{trigger}steps:\n  - id: note\n    action: log\n    input:\n      message: idle {index}\n"
        );
        workflows.push((format!("idle-{index}.yaml"), text));
    }
    let home = home_with(&workflows);
    let daemon = start(home.path());
    let pid = daemon.pid();
    tokio::time::sleep(scale.seconds(5.0, 0.5)).await; // Let start-up settle.
    let length = scale.seconds(20.0, 1.0);
    let (ticks, before) = (process::cpu_ticks(pid), process::context_switches(pid));
    let ((), memory) = with_memory_samples(pid, tokio::time::sleep(length)).await;
    let ticks = process::cpu_ticks(pid) - ticks;
    let switches = process::switches_between(&before, &process::context_switches(pid));
    println!("   {count} workflows, idle for {length:?}, {} threads", process::threads(pid));
    let by_thread = process::switches_by_thread_name(pid, &before);
    println!("   wake-ups by thread: {by_thread}");
    describe_memory(&memory);
    println!(
        "   CPU: {ticks} ticks ({:.0} ms) in {:?}; wake-ups (context switches, all threads): {switches} ({:.2}/s)",
        ticks as f64 * 1000.0 / process::ticks_per_second() as f64,
        length,
        switches as f64 / length.as_secs_f64()
    );
    assert!(daemon.stop().success(), "the daemon stops cleanly");
}
