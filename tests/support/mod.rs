//! Helpers shared by the end-to-end tests: a pseudo-terminal to run `pilot` on, and waiting for a step to run.

#![allow(dead_code)] // Each test file uses a part of it.

pub mod pty;

use executor::store::{ExecutionFilter, SqliteStore, Status, Store, StoreOptions};
use std::path::Path;
use std::time::{Duration, Instant};

/// Waits (up to a minute) until the newest execution in `home` has `step` running.
pub fn wait_for_step_running(home: &Path, step: &str) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(60), "step `{step}` never started");
        std::thread::sleep(Duration::from_millis(50));
        let Ok(store) = SqliteStore::open(home.join("pilot.db"), StoreOptions::default()) else { continue };
        let running = runtime.block_on(async {
            let listed = store.list_executions(&ExecutionFilter::default()).await.ok()?;
            let record = store.load_execution(&listed.first()?.id).await.ok()??;
            Some(record.steps.iter().any(|s| s.step_id == step && s.status == Status::Running))
        });
        if running == Some(true) {
            return;
        }
    }
}
