//! Step-end writes per second: SQLite with group commit vs one commit per write, from 1 writer and from 64
//! concurrent writers (each awaits its ack before its next write, like the engine), plus the in-memory store.
//! Logs are off so the numbers are the database's alone. `synchronous = FULL`: every commit is synced. The
//! baseline, one FULL commit of a one-row transaction straight on rusqlite, is measured first. PostgreSQL (group
//! commit, logs in the store) runs when a server is at hand (see `executor::store::postgres::test_server`; run
//! with `PILOT_TEST_POSTGRES_DURABLE=1` for a server that syncs its commits, as SQLite here does); `postgres_fenced`
//! is a daemon node's store, whose batches check the owner of the executions they write.
//!
//! `cargo bench --bench store -- --warm-up-time 1 --measurement-time 3`

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use executor::store::postgres::{PostgresOptions, PostgresStore, test_server};
use executor::store::{
    LogFolder, MemoryStore, NewExecution, SqliteStore, Status, StepEnd, Store, StoreOptions, Timestamp,
    WorkflowDefinition,
};
use serde_json::json;

/// The allocator the `pilot` binary uses (src/main.rs), so the numbers are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXECUTION: &str = "bench-execution";

/// A store with one running execution to write steps into; the folder lives as long as the store.
struct Fixture {
    store: Arc<dyn Store>,
    /// Commits so far, for the stores that count them.
    commits: Option<Box<dyn Fn() -> u64>>,
    _folder: Option<tempfile::TempDir>,
}

async fn fixture(kind: &str) -> Option<Fixture> {
    let (store, commits, folder): (Arc<dyn Store>, _, _) = match kind {
        "memory" => (Arc::new(MemoryStore::new()), None, None),
        "postgres_group_commit" | "postgres_fenced" => {
            let database = test_server::fresh_database("store bench").await?;
            let store = PostgresStore::connect(&database.url, PostgresOptions::default()).await.expect("connect");
            if kind == "postgres_fenced" {
                // A daemon node's store: each batch checks (and locks) the owners of the executions it writes.
                store.fence_for("bench-node");
            }
            // The test server lives as long as the bench process; its database needs no guard here.
            std::mem::forget(database);
            let store = Arc::new(store);
            let counted = Arc::clone(&store);
            let commits: Box<dyn Fn() -> u64> = Box::new(move || counted.commit_count());
            (store as Arc<dyn Store>, Some(commits), None)
        }
        _ => {
            let folder = tempfile::tempdir().expect("temporary folder");
            let options = StoreOptions {
                logs: LogFolder::Disabled,
                group_commit: kind == "sqlite_group_commit",
                ..StoreOptions::default()
            };
            let store = Arc::new(SqliteStore::open(folder.path().join("pilot.db"), options).expect("open store"));
            let counted = Arc::clone(&store);
            let commits: Box<dyn Fn() -> u64> = Box::new(move || counted.commit_count());
            (store as Arc<dyn Store>, Some(commits), Some(folder))
        }
    };
    let workflow = WorkflowDefinition {
        id: "bench".to_owned(),
        name: "bench".to_owned(),
        description: None,
        definition: "steps: []".to_owned(),
        saved_at: Timestamp(0),
    };
    store.save_workflow(workflow).await.expect("save workflow");
    let execution = NewExecution {
        id: EXECUTION.to_owned(),
        workflow_id: "bench".to_owned(),
        workflow_name: "bench".to_owned(),
        workflow_version: 1,
        trigger_id: None,
        trigger: json!({"type": "manual"}),
        input: json!({}),
        status: Status::Running,
        started_at: Timestamp(0),
        retry_of: None,
    };
    store.create_execution(execution).await.expect("create execution");
    Some(Fixture { store, commits, _folder: folder })
}

fn step_end(writer: usize, n: u64) -> StepEnd {
    StepEnd {
        execution_id: EXECUTION.to_owned(),
        step_id: format!("step-{writer}-{}", n % 32),
        status: Status::Success,
        attempts: 1,
        output: Some(json!({"status": 200, "body": {"id": n, "name": "a typical small step output"}})),
        error: None,
        completed_at: Timestamp(n as i64),
    }
}

/// `total` step ends shared by `writers` tasks, each awaiting its ack before the next write.
async fn write_step_ends(store: &Arc<dyn Store>, writers: usize, total: u64, written: &AtomicU64) -> Duration {
    let per_writer = total.div_ceil(writers as u64);
    written.fetch_add(per_writer * writers as u64, Ordering::Relaxed);
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let store = Arc::clone(store);
            tokio::spawn(async move {
                for n in 0..per_writer {
                    store.end_step(step_end(writer, n)).await.expect("step end");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("writer task");
    }
    started.elapsed()
}

fn step_end_writes(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    for writers in [1usize, 64] {
        let mut group = c.benchmark_group(format!("step_end/{writers}_writers"));
        group.throughput(Throughput::Elements(1));
        for kind in
            ["sqlite_group_commit", "sqlite_commit_per_write", "postgres_group_commit", "postgres_fenced", "memory"]
        {
            let Some(fixture) = runtime.block_on(fixture(kind)) else { continue };
            let written = AtomicU64::new(0);
            let commits_before = fixture.commits.as_ref().map_or(0, |count| count());
            group.bench_function(BenchmarkId::from_parameter(kind), |b| {
                b.to_async(&runtime).iter_custom(|iters| write_step_ends(&fixture.store, writers, iters, &written))
            });
            if let Some(count) = &fixture.commits {
                let commits = count() - commits_before;
                let writes = written.load(Ordering::Relaxed);
                eprintln!("{kind}, {writers} writers: {writes} step ends in {commits} commits");
            }
            drop(fixture);
        }
        group.finish();
    }
}

/// The unit the numbers above compare to: one durable commit of a one-row transaction, without Pilot.
fn full_commit_baseline(c: &mut Criterion) {
    common::bench_full_commit_one_row(c, &common::Tally::default());
}

criterion_group!(benches, full_commit_baseline, step_end_writes);
criterion_main!(benches);
