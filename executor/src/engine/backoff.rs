//! How long to wait before retrying a failed attempt.
//!
//! `fixed`: always the initial delay. `exponential`: the initial delay doubled after each failure (capped at
//! [`MAX_DELAY`]), with "equal jitter": half of it fixed, the other half random, so that many executions
//! failing together do not retry in lockstep, while each wait is still at least half the nominal one.

use compiler::{Backoff, RetryPolicy};
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// The wait after attempt `failed_attempt` (1-based) failed.
pub(crate) fn retry_delay(policy: &RetryPolicy, failed_attempt: u32) -> Duration {
    let initial = policy.initial_delay.to_std().unwrap_or_default();
    match policy.backoff {
        Backoff::Fixed => initial,
        Backoff::Exponential => {
            let nominal = nominal_exponential(initial, failed_attempt);
            let half = nominal / 2;
            half + random_fraction_of(nominal - half)
        }
    }
}

/// `initial * 2^(failed_attempt - 1)`, capped.
pub(crate) fn nominal_exponential(initial: Duration, failed_attempt: u32) -> Duration {
    let doublings = failed_attempt.saturating_sub(1).min(32);
    initial.checked_mul(1u32 << doublings.min(31)).unwrap_or(MAX_DELAY).min(MAX_DELAY)
}

/// A uniformly random duration in `[0, span]`. Randomness from the standard library's per-process hash keys:
/// jitter needs spread, not cryptographic quality.
fn random_fraction_of(span: Duration) -> Duration {
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    let nanos = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
    Duration::from_nanos(if nanos == 0 { 0 } else { random % (nanos + 1) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use expr_grammar::Duration as PlanDuration;

    fn policy(backoff: Backoff) -> RetryPolicy {
        RetryPolicy { max_attempts: 5, backoff, initial_delay: PlanDuration::from_millis(100) }
    }

    #[test]
    fn fixed_backoff_waits_the_initial_delay_every_time() {
        for attempt in 1..5 {
            assert_eq!(retry_delay(&policy(Backoff::Fixed), attempt), Duration::from_millis(100));
        }
    }

    #[test]
    fn exponential_backoff_doubles_and_jitters_within_the_upper_half() {
        for attempt in 1..6u32 {
            let nominal = Duration::from_millis(100) * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                let delay = retry_delay(&policy(Backoff::Exponential), attempt);
                assert!(delay >= nominal / 2 && delay <= nominal, "attempt {attempt}: {delay:?} vs {nominal:?}");
            }
        }
    }

    #[test]
    fn exponential_backoff_is_capped() {
        assert_eq!(nominal_exponential(Duration::from_secs(1), 40), MAX_DELAY);
        assert_eq!(nominal_exponential(Duration::from_secs(1), 3), Duration::from_secs(4));
    }
}
