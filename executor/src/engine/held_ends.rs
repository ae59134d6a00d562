//! When step records are queued, so that a step with an effect costs one commit.
//!
//! A step's end is not queued when the step ends: it is *held* in its execution's [`HeldEnds`]. The next step
//! that must commit before acting (see the engine's durability rule) takes every held end and queues them
//! together with its own start, as one write, so the store commits them in one transaction: the end of step i
//! and the start of step i+1 share a commit. Held ends that no such step is about to take are queued at once
//! (their commit not awaited): the scheduler does so as soon as it has started the steps that became ready,
//! unless one of them holds a [`StartClaim`], and the execution does so before its end is recorded.

use crate::store::{StepEnd, StepStart, Store, WriteAck};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Default)]
struct Held {
    ends: Vec<StepEnd>,
    /// Steps that must commit before acting, started but whose start is not queued yet.
    claims: usize,
}

/// The step ends of one execution not queued yet.
#[derive(Default)]
pub(crate) struct HeldEnds {
    held: Arc<Mutex<Held>>,
}

/// Says that a step about to start will take the held ends with its start; while any claim is out, the
/// scheduler leaves the held ends to it. Dropping the claim (the step skipped, or failed before starting) lets
/// the scheduler queue them.
pub(crate) struct StartClaim {
    held: Option<Arc<Mutex<Held>>>,
}

impl Drop for StartClaim {
    fn drop(&mut self) {
        if let Some(held) = self.held.take() {
            lock(&held).claims -= 1;
        }
    }
}

fn lock(held: &Mutex<Held>) -> MutexGuard<'_, Held> {
    held.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl HeldEnds {
    pub(crate) fn hold(&self, end: StepEnd) {
        lock(&self.held).ends.push(end);
    }

    pub(crate) fn claim(&self) -> StartClaim {
        lock(&self.held).claims += 1;
        StartClaim { held: Some(Arc::clone(&self.held)) }
    }

    /// Queues `start` after every held end, as one write. Under the lock, so that no end held before this start
    /// can be queued after it.
    pub(crate) fn queue_start(&self, store: &dyn Store, start: StepStart, claim: Option<StartClaim>) -> WriteAck<()> {
        let mut held = lock(&self.held);
        if let Some(mut claim) = claim
            && claim.held.take().is_some()
        {
            held.claims -= 1;
        }
        let ends = std::mem::take(&mut held.ends);
        store.record_steps(ends, Some(start))
    }

    /// Queues the held ends unless a claimed start will take them; the ids of the steps queued, and the ack.
    pub(crate) fn queue_unless_claimed(&self, store: &dyn Store) -> Option<(String, WriteAck<()>)> {
        let mut held = lock(&self.held);
        if held.claims > 0 {
            return None;
        }
        queue(&mut held, store)
    }

    /// Queues the held ends, claimed or not (the execution is ending).
    pub(crate) fn queue_all(&self, store: &dyn Store) -> Option<(String, WriteAck<()>)> {
        queue(&mut lock(&self.held), store)
    }
}

fn queue(held: &mut Held, store: &dyn Store) -> Option<(String, WriteAck<()>)> {
    if held.ends.is_empty() {
        return None;
    }
    let ends = std::mem::take(&mut held.ends);
    let steps = ends.iter().map(|end| end.step_id.as_str()).collect::<Vec<_>>().join("`, `");
    Some((steps, store.record_steps(ends, None)))
}
