//! Shared by the benches: the cost of one durable SQLite commit on this disk, the unit the executor's per-step
//! costs are compared against.

use std::cell::Cell;
use std::time::{Duration, Instant};

use criterion::Criterion;

/// Total time and iterations a bench function measured (warm-up included), for ratios printed after the run.
#[derive(Default)]
pub struct Tally {
    total: Cell<Duration>,
    iterations: Cell<u64>,
}

// Each bench file uses only part of this module.
#[allow(dead_code)]
impl Tally {
    pub fn add(&self, took: Duration, iterations: u64) {
        self.total.set(self.total.get() + took);
        self.iterations.set(self.iterations.get() + iterations);
    }

    pub fn iterations(&self) -> u64 {
        self.iterations.get()
    }

    /// Mean time of one iteration.
    pub fn mean(&self) -> Option<Duration> {
        let iterations = u32::try_from(self.iterations.get()).ok().filter(|&n| n > 0)?;
        Some(self.total.get() / iterations)
    }
}

/// One transaction inserting one row, committed with `synchronous = FULL` in WAL mode (what the store uses):
/// the cost of one durable commit. Directly on rusqlite, so nothing of Pilot is in the number.
pub fn bench_full_commit_one_row(c: &mut Criterion, tally: &Tally) {
    let folder = tempfile::tempdir().expect("temporary folder");
    let conn = rusqlite::Connection::open(folder.path().join("baseline.db")).expect("open");
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0)).expect("WAL");
    conn.pragma_update(None, "synchronous", "FULL").expect("synchronous");
    conn.execute_batch("CREATE TABLE rows (id INTEGER PRIMARY KEY, value TEXT NOT NULL)").expect("table");
    let mut next = 0_i64;
    c.bench_function("sqlite_full_commit/one_row_transaction", |b| {
        b.iter_custom(|iterations| {
            let began = Instant::now();
            for _ in 0..iterations {
                next += 1;
                conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
                conn.execute("INSERT INTO rows (id, value) VALUES (?1, 'a small step record')", [next])
                    .expect("insert");
                conn.execute_batch("COMMIT").expect("commit");
            }
            let took = began.elapsed();
            tally.add(took, iterations);
            took
        })
    });
}
