//! A step's `retry:` policy as the shared [`connectors::backoff::Backoff`] rule: `fixed` waits `initial_delay`
//! every time; `exponential` doubles it after each failure (capped at [`MAX_DELAY`]) with equal jitter, so that many
//! executions failing together do not retry in lockstep.

use compiler::{Backoff as Shape, RetryPolicy};
use connectors::backoff::{Backoff, Jitter};
use std::time::Duration;

pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);

/// The wait after attempt `failed_attempt` (1-based) failed.
pub(crate) fn retry_delay(policy: &RetryPolicy, failed_attempt: u32) -> Duration {
    backoff(policy).delay(failed_attempt)
}

fn backoff(policy: &RetryPolicy) -> Backoff {
    let initial = policy.initial_delay.to_std().unwrap_or_default();
    match policy.backoff {
        Shape::Fixed => Backoff { initial, doubling: false, max: MAX_DELAY, jitter: Jitter::None },
        Shape::Exponential => Backoff { initial, doubling: true, max: MAX_DELAY, jitter: Jitter::Equal },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expr_grammar::Duration as PlanDuration;

    fn policy(backoff: Shape) -> RetryPolicy {
        RetryPolicy { max_attempts: 5, backoff, initial_delay: PlanDuration::from_millis(100) }
    }

    #[test]
    fn fixed_retries_wait_the_initial_delay_every_time() {
        for attempt in 1..5 {
            assert_eq!(retry_delay(&policy(Shape::Fixed), attempt), Duration::from_millis(100));
        }
    }

    #[test]
    fn exponential_retries_double_with_jitter_in_the_upper_half_and_are_capped() {
        for attempt in 1..6u32 {
            let nominal = Duration::from_millis(100) * 2u32.pow(attempt - 1);
            let delay = retry_delay(&policy(Shape::Exponential), attempt);
            assert!(delay >= nominal / 2 && delay <= nominal, "attempt {attempt}: {delay:?} vs {nominal:?}");
        }
        assert!(retry_delay(&policy(Shape::Exponential), 40) <= MAX_DELAY);
        assert!(retry_delay(&policy(Shape::Exponential), 40) >= MAX_DELAY / 2);
    }
}
