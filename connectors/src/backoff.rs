//! How long to wait before trying again: the one backoff rule of Pilot, used by a step's `retry:` (in the
//! executor) and by the AI client's own retries.
//!
//! A [`Backoff`] waits `initial` after the first failure; when `doubling`, twice as long after each further one;
//! never more than `max`. With [`Jitter::Equal`] half of each wait is fixed and the other half random, so that many
//! executions failing together do not retry in lockstep, while each wait is still at least half the nominal one.
//! A server's own wait (`retry-after`) replaces the computed one, still capped at `max`.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// Whether waits are spread at random.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly the nominal wait.
    None,
    /// Uniform in `[nominal / 2, nominal]`.
    Equal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The wait after the first failure.
    pub initial: Duration,
    /// Double the wait after each further failure (`exponential`); otherwise every wait is `initial` (`fixed`).
    pub doubling: bool,
    /// No wait is longer, a server's `retry-after` included.
    pub max: Duration,
    pub jitter: Jitter,
}

impl Backoff {
    /// The wait before try `failed_attempt + 1`, after try `failed_attempt` (counted from 1) failed.
    pub fn delay(&self, failed_attempt: u32) -> Duration {
        let nominal = self.nominal(failed_attempt);
        match self.jitter {
            Jitter::None => nominal,
            Jitter::Equal => {
                let half = nominal / 2;
                half + random_up_to(nominal - half)
            }
        }
    }

    /// As [`Backoff::delay`], but a server's requested wait, when it gave one, replaces the computed wait.
    pub fn delay_or_requested(&self, failed_attempt: u32, requested: Option<Duration>) -> Duration {
        match requested {
            Some(wait) => wait.min(self.max),
            None => self.delay(failed_attempt),
        }
    }

    /// The wait without jitter: `initial * 2^(failed_attempt - 1)` when doubling, capped at `max`.
    pub fn nominal(&self, failed_attempt: u32) -> Duration {
        if !self.doubling {
            return self.initial.min(self.max);
        }
        let doublings = failed_attempt.saturating_sub(1).min(31);
        self.initial.checked_mul(1u32 << doublings).unwrap_or(self.max).min(self.max)
    }
}

/// A uniformly random duration in `[0, span]`. Randomness from the standard library's per-process hash keys:
/// jitter needs spread, not cryptographic quality.
fn random_up_to(span: Duration) -> Duration {
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let nanos = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(random % nanos.saturating_add(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn doubling(jitter: Jitter) -> Backoff {
        Backoff { initial: 100 * MS, doubling: true, max: 350 * MS, jitter }
    }

    #[test]
    fn fixed_waits_the_initial_delay_every_time() {
        let fixed = Backoff { initial: 100 * MS, doubling: false, max: Duration::from_secs(900), jitter: Jitter::None };
        for attempt in 1..6 {
            assert_eq!(fixed.delay(attempt), 100 * MS);
        }
    }

    #[test]
    fn doubling_doubles_and_is_capped() {
        let backoff = doubling(Jitter::None);
        assert_eq!([1, 2, 3, 40].map(|attempt| backoff.delay(attempt)), [100 * MS, 200 * MS, 350 * MS, 350 * MS]);
        let huge = Backoff { initial: Duration::from_secs(1), max: Duration::from_secs(900), ..backoff };
        assert_eq!(huge.nominal(3), Duration::from_secs(4));
        assert_eq!(huge.nominal(u32::MAX), Duration::from_secs(900));
    }

    #[test]
    fn equal_jitter_stays_within_the_upper_half_of_the_nominal_wait() {
        let backoff = Backoff { max: Duration::from_secs(900), ..doubling(Jitter::Equal) };
        for attempt in 1..6u32 {
            let nominal = 100 * MS * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                let delay = backoff.delay(attempt);
                assert!(delay >= nominal / 2 && delay <= nominal, "attempt {attempt}: {delay:?} vs {nominal:?}");
            }
        }
    }

    #[test]
    fn a_requested_wait_replaces_the_computed_one_within_the_cap() {
        let backoff = doubling(Jitter::None);
        assert_eq!(backoff.delay_or_requested(1, Some(10 * MS)), 10 * MS);
        assert_eq!(backoff.delay_or_requested(1, Some(Duration::from_secs(60))), 350 * MS);
        assert_eq!(backoff.delay_or_requested(2, None), 200 * MS);
    }
}
