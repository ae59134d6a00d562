//! The engine's own cost: per-step overhead of a 1,000-step chain of `transform` steps (memory store and
//! SQLite; and of 1,000 `log` steps, which have effects and so wait for their commit), 64 concurrent `log`
//! chains (commits per step), a fan-out of 1,000 independent steps, the start latency from YAML text to the first
//! step running (the seed's daily-backup example), and 10,000 concurrent executions of a 10-step workflow on
//! each store (time and peak memory, printed before the criterion groups). One durable commit of a one-row
//! transaction is measured in the same run, and the `log` chain's per-step cost is printed as a ratio to it.
//!
//! `cargo bench --bench executor -- --warm-up-time 1 --measurement-time 3`

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use connectors::catalogue::Catalogue;
use connectors::registry::ConnectorRegistry;
use criterion::{Criterion, Throughput};
use executor::engine::{Context, EnvSnapshot, Progress};
use executor::store::{LogFolder, MemoryStore, SqliteStore, Status, Store, StoreOptions};
use executor::{Workflow, WorkflowEngine};

/// The allocator the `pilot` binary uses (src/main.rs), so the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `s0 -> s1 -> ... -> s(n-1)`: each step reads the previous one's output.
fn chain(steps: usize) -> String {
    let mut yaml = String::from("name: chain\nsteps:\n  - id: s0\n    action: transform\n    input: {v: 0}\n");
    for i in 1..steps {
        yaml.push_str(&format!("  - id: s{i}\n    action: transform\n    input: {{v: \"${{s{}.v + 1}}\"}}\n", i - 1));
    }
    yaml
}

/// `n` `log` steps: each has an effect (write), so they run in file order and each waits for its start record
/// to be committed before it acts.
fn log_chain(steps: usize) -> String {
    let mut yaml = String::from("name: log-chain\nsteps:\n");
    for i in 0..steps {
        yaml.push_str(&format!("  - id: s{i}\n    action: log\n    input: {{message: \"step {i}\", level: debug}}\n"));
    }
    yaml
}

/// `n` steps with no edges between them.
fn fan_out(steps: usize) -> String {
    let mut yaml = String::from("name: fan-out\nsteps:\n");
    for i in 0..steps {
        yaml.push_str(&format!("  - id: s{i}\n    action: transform\n    input: {{v: {i}}}\n"));
    }
    yaml
}

fn engine(store: Arc<dyn Store>) -> WorkflowEngine {
    WorkflowEngine::new(store, Arc::new(ConnectorRegistry::builtin()), Arc::new(Catalogue::builtin()))
}

fn compile(yaml: &str) -> Workflow {
    Workflow::compile(yaml, "bench", &Catalogue::builtin()).expect("the bench workflow compiles")
}

fn sqlite_store(folder: &tempfile::TempDir) -> Arc<SqliteStore> {
    let options = StoreOptions { logs: LogFolder::Disabled, ..StoreOptions::default() };
    Arc::new(SqliteStore::open(folder.path().join("pilot.db"), options).expect("open store"))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}

async fn run_to_success(engine: &WorkflowEngine, workflow: &Workflow) {
    let outcome = engine.execute(workflow, Context::default()).await.expect("starts");
    assert_eq!(outcome.status, Status::Success, "{outcome:?}");
}

/// Runs `workflow` to success on the memory store and on SQLite, as one criterion group (throughput in steps).
/// Returns the SQLite runs' mean time per step and commits per step.
fn bench_on_both_stores(
    c: &mut Criterion,
    runtime: &tokio::runtime::Runtime,
    name: &str,
    workflow: &Workflow,
) -> (Option<Duration>, f64) {
    let steps = workflow.plan.steps.len() as u64;
    let mut group = c.benchmark_group(name);
    group.sample_size(10).throughput(Throughput::Elements(steps));
    let memory = engine(Arc::new(MemoryStore::new()));
    group.bench_function("memory_store", |b| b.to_async(runtime).iter(|| run_to_success(&memory, workflow)));
    let folder = tempfile::tempdir().expect("temporary folder");
    let store = sqlite_store(&folder);
    let durable = engine(Arc::clone(&store) as Arc<dyn Store>);
    let tally = common::Tally::default();
    let commits_before = store.commit_count();
    group.bench_function("sqlite_store", |b| {
        b.to_async(runtime).iter_custom(|iterations| {
            let (durable, tally) = (&durable, &tally);
            async move {
                let began = Instant::now();
                for _ in 0..iterations {
                    run_to_success(durable, workflow).await;
                }
                let took = began.elapsed();
                tally.add(took, iterations * steps);
                took
            }
        })
    });
    group.finish();
    let commits = (store.commit_count() - commits_before) as f64;
    (tally.mean(), commits / tally.iterations().max(1) as f64)
}

fn bench_chain(c: &mut Criterion, runtime: &tokio::runtime::Runtime, full_commit: &common::Tally) {
    bench_on_both_stores(c, runtime, "chain_1000_transform_steps", &compile(&chain(1000)));
    let (per_step, commits_per_step) =
        bench_on_both_stores(c, runtime, "chain_1000_log_steps_with_effects", &compile(&log_chain(1000)));
    if let (Some(per_step), Some(commit)) = (per_step, full_commit.mean()) {
        println!(
            "chain_1000_log_steps_with_effects/sqlite_store: {:.1} µs per step, {commits_per_step:.2} commits per \
             step; one FULL commit of a one-row transaction: {:.1} µs; ratio {:.2}",
            per_step.as_secs_f64() * 1e6,
            commit.as_secs_f64() * 1e6,
            per_step.as_secs_f64() / commit.as_secs_f64()
        );
    }
}

/// 64 executions of a 100-step `log` chain started at once: their step records share commits (group commit).
fn bench_concurrent_log_chains(c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    const EXECUTIONS: usize = 64;
    let workflow = Arc::new(compile(&log_chain(100)));
    let steps = (EXECUTIONS * workflow.plan.steps.len()) as u64;
    let folder = tempfile::tempdir().expect("temporary folder");
    let store = sqlite_store(&folder);
    let durable = Arc::new(engine(Arc::clone(&store) as Arc<dyn Store>));
    let tally = common::Tally::default();
    let commits_before = store.commit_count();
    let mut group = c.benchmark_group("concurrent_64_log_chains_of_100_steps");
    group.sample_size(10).throughput(Throughput::Elements(steps));
    group.bench_function("sqlite_store", |b| {
        b.to_async(runtime).iter_custom(|iterations| {
            let (durable, workflow, tally) = (&durable, &workflow, &tally);
            async move {
                let began = Instant::now();
                for _ in 0..iterations {
                    let mut executions = tokio::task::JoinSet::new();
                    for _ in 0..EXECUTIONS {
                        let (engine, workflow) = (Arc::clone(durable), Arc::clone(workflow));
                        executions.spawn(async move { run_to_success(&engine, &workflow).await });
                    }
                    while let Some(done) = executions.join_next().await {
                        done.expect("execution task");
                    }
                }
                let took = began.elapsed();
                tally.add(took, iterations * steps);
                took
            }
        })
    });
    group.finish();
    let commits = (store.commit_count() - commits_before) as f64;
    println!(
        "concurrent_64_log_chains_of_100_steps/sqlite_store: {:.1} µs per step, {:.3} commits per step",
        tally.mean().unwrap_or_default().as_secs_f64() * 1e6,
        commits / tally.iterations().max(1) as f64
    );
}

fn bench_fan_out(c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    bench_on_both_stores(c, runtime, "fan_out_1000_parallel_steps", &compile(&fan_out(1000)));
}

/// From the YAML text to the first step's start event: compile, type inputs, record the execution, evaluate
/// the variables, schedule.
fn bench_start_latency(c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
    let yaml = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/daily-backup.yaml"))
        .expect("the seed example");
    let home = tempfile::tempdir().expect("temporary folder");
    std::fs::create_dir(home.path().join("Documents")).expect("Documents");
    let env = EnvSnapshot::from_vars([("HOME".to_string(), home.path().display().to_string())]);
    let catalogue = Catalogue::builtin();
    let memory = engine(Arc::new(MemoryStore::new())).with_env(env);
    c.bench_function("start_latency_yaml_to_first_step/daily_backup", |b| {
        b.to_async(runtime).iter_custom(|iterations| {
            let (memory, yaml, catalogue) = (&memory, &yaml, &catalogue);
            async move {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let (sender, mut events) = tokio::sync::mpsc::unbounded_channel();
                    let began = Instant::now();
                    let workflow = Workflow::compile(yaml, "daily-backup", catalogue).expect("compiles");
                    let context = Context { progress: Some(sender), ..Context::default() };
                    let handle = memory.start(&workflow, context).await.expect("starts");
                    while let Some(event) = events.recv().await {
                        if matches!(event.event, Progress::StepStarted { .. }) {
                            break;
                        }
                    }
                    total += began.elapsed();
                    handle.wait().await;
                }
                total
            }
        })
    });
}

/// Peak resident memory of this process so far, from `/proc/self/status`.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn current_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak resident memory to the current one (Linux: `5` into `/proc/self/clear_refs`), so that each
/// measurement reports its own peak.
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// 10,000 executions of a 10-step chain, all started at once (each from its own task, so their store writes
/// share commits as a busy server's would); reports wall time and peak RSS.
fn concurrent_executions(runtime: &tokio::runtime::Runtime, label: &str, store: Arc<dyn Store>) {
    // `cargo test --all-targets` runs this file once as a smoke test (without `--bench`): 100 are enough there.
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let count = if measuring { 10_000 } else { 100 };
    let workflow = Arc::new(compile(&chain(10)));
    let engine = Arc::new(engine(store));
    reset_peak_memory();
    let before = current_memory_kib().unwrap_or(0);
    let began = Instant::now();
    runtime.block_on(async {
        let mut executions = tokio::task::JoinSet::new();
        for _ in 0..count {
            let (engine, workflow) = (Arc::clone(&engine), Arc::clone(&workflow));
            executions.spawn(async move { engine.execute(&workflow, Context::default()).await });
        }
        while let Some(outcome) = executions.join_next().await {
            assert_eq!(outcome.expect("task").expect("starts").status, Status::Success);
        }
    });
    let took = began.elapsed();
    let peak = peak_memory_kib().unwrap_or(0);
    println!(
        "concurrent_executions/{count}x10_steps/{label}: {:.2} s, {:.1} µs per step, peak RSS {} MiB (RSS before \
         {} MiB)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / (count * 10) as f64,
        peak / 1024,
        before / 1024
    );
}

fn main() {
    let runtime = runtime();
    let folder = tempfile::tempdir().expect("temporary folder");
    concurrent_executions(&runtime, "sqlite_store", sqlite_store(&folder));
    concurrent_executions(&runtime, "memory_store", Arc::new(MemoryStore::new()));
    let mut criterion = Criterion::default().configure_from_args();
    let full_commit = common::Tally::default();
    common::bench_full_commit_one_row(&mut criterion, &full_commit);
    bench_chain(&mut criterion, &runtime, &full_commit);
    bench_concurrent_log_chains(&mut criterion, &runtime);
    bench_fan_out(&mut criterion, &runtime);
    bench_start_latency(&mut criterion, &runtime);
    criterion.final_summary();
}
