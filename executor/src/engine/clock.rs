//! Where the engine reads the time: `now()` in expressions and the start and end times it records.
//! Injected so that tests can fix it.

use expr_grammar::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Timestamp(i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX))
    }
}

/// Always the same instant: tests that evaluate `now()` get a known answer.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Wall time that follows tokio's clock: a fixed origin plus the time elapsed on `tokio::time::Instant`.
/// Under paused tokio time (`#[tokio::test(start_paused = true)]`) it advances exactly as sleeps do, so the start
/// and end times the engine records are deterministic.
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    origin: Timestamp,
    started: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `origin` now. Must be created inside a tokio runtime when time is paused.
    pub fn starting_at(origin: Timestamp) -> TokioClock {
        TokioClock { origin, started: tokio::time::Instant::now() }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Timestamp {
        let elapsed = i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX);
        Timestamp(self.origin.0.saturating_add(elapsed))
    }
}
