//! One execution in flight: its plan, slot table and the services its steps use.

use super::actions::Actions;
use super::clock::Clock;
use super::context::{Progress, ProgressEvent, ProgressSender};
use super::held_ends::{HeldEnds, StartClaim};
use super::redact::Redactor;
use super::slots::{EnvSnapshot, ExecutionScope, SlotTable};
use crate::store::{LogLine, StepEnd, StepStart, Store, StoreError, WriteAck};
use compiler::{Plan, PlanStep};
use connectors::{ChildRecorder, Credential};
use expr_grammar::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// A main step or an `on_failure:` step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StepRef {
    Main(usize),
    OnFailure(usize),
}

pub(crate) struct ExecutionRun {
    pub id: String,
    pub workflow_name: String,
    pub plan: Arc<Plan>,
    pub slots: SlotTable,
    pub env: Arc<EnvSnapshot>,
    pub clock: Arc<dyn Clock>,
    /// The expression budget every evaluation of this run gets (`expressions` in settings.json).
    pub budget: expr_grammar::Budget,
    pub store: Arc<dyn Store>,
    pub actions: Arc<dyn Actions>,
    /// Cancelled by [`super::WorkflowEngine::cancel`]; the main steps run under a child of it that the
    /// execution timeout also cancels.
    pub user_cancel: CancellationToken,
    pub redactor: Redactor,
    pub credentials: HashMap<String, Credential>,
    pub progress: Option<ProgressSender>,
    pub children: ChildRecorder,
    /// Acks of step records not awaited when queued, with the step they record; settled before the end.
    pub pending_writes: Mutex<Vec<(String, WriteAck<()>)>>,
    /// Step ends waiting to share the commit of the next start that must be committed (see `held_ends`).
    pub held_ends: HeldEnds,
    /// Set when the store refused a write because another node took the execution over: the run stops here and
    /// records nothing more (no `on_failure` steps, no end).
    pub taken_over: std::sync::OnceLock<String>,
}

impl ExecutionRun {
    pub(crate) fn step(&self, step: StepRef) -> &PlanStep {
        match step {
            StepRef::Main(index) => &self.plan.steps[index],
            StepRef::OnFailure(index) => &self.plan.on_failure[index],
        }
    }

    /// A scope over the slot table with `now` read once.
    pub(crate) fn scope(&self) -> ExecutionScope<'_> {
        ExecutionScope { table: &self.slots, env: &self.env, now: self.clock.now(), budget: self.budget }
    }

    /// A scope over the slot table with a given `now` (one `now` for every element a filter checks).
    pub(crate) fn scope_at(&self, now: Timestamp) -> ExecutionScope<'_> {
        ExecutionScope { table: &self.slots, env: &self.env, now, budget: self.budget }
    }

    pub(crate) fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub(crate) fn report(&self, event: Progress) {
        if let Some(progress) = &self.progress {
            // A closed receiver only means nobody watches any more.
            let _ = progress.send(ProgressEvent { execution_id: self.id.clone(), event });
        }
    }

    /// Keeps the ack of a step record whose commit nobody waits for now, to check it before the execution ends.
    pub(crate) fn keep_ack(&self, step_id: &str, ack: WriteAck<()>) {
        self.pending_writes.lock().unwrap_or_else(|p| p.into_inner()).push((step_id.to_string(), ack));
    }

    /// Holds a step's end until the next start that must be committed takes it (or the scheduler queues it).
    pub(crate) fn hold_end(&self, end: StepEnd) {
        self.held_ends.hold(end);
    }

    /// For a step that must commit its start before acting: keeps the held ends for it.
    pub(crate) fn claim_start(&self) -> StartClaim {
        self.held_ends.claim()
    }

    /// Queues a step's start after every held end, in one write; resolves once they are all committed.
    pub(crate) fn queue_start_after_held_ends(&self, start: StepStart, claim: Option<StartClaim>) -> WriteAck<()> {
        self.held_ends.queue_start(self.store.as_ref(), start, claim)
    }

    /// Queues the held ends (without waiting for their commit) unless a claimed start will take them.
    pub(crate) fn queue_unclaimed_ends(&self) {
        if let Some((steps, ack)) = self.held_ends.queue_unless_claimed(self.store.as_ref()) {
            self.keep_ack(&steps, ack);
        }
    }

    /// Notes a failed write: if another node took the execution over, the run stops (its steps are cancelled).
    pub(crate) fn note_write_failure(&self, err: &StoreError) {
        if let StoreError::TakenOver { .. } = err
            && self.taken_over.set(err.to_string()).is_ok()
        {
            self.user_cancel.cancel();
        }
    }

    /// Why the run stopped without recording more, if another node took the execution over.
    pub(crate) fn taken_over(&self) -> Option<&str> {
        self.taken_over.get().map(String::as_str)
    }

    /// Queues every held end, waits for every kept ack; the first failure, naming its step.
    pub(crate) async fn settle_writes(&self) -> Option<String> {
        if let Some((steps, ack)) = self.held_ends.queue_all(self.store.as_ref()) {
            self.keep_ack(&steps, ack);
        }
        let pending = std::mem::take(&mut *self.pending_writes.lock().unwrap_or_else(|p| p.into_inner()));
        let mut first_failure = None;
        for (step_id, ack) in pending {
            if let Err(err) = ack.await {
                self.note_write_failure(&err);
                first_failure.get_or_insert_with(|| format!("could not record step `{step_id}`: {err}"));
            }
        }
        first_failure
    }

    /// Appends a (redacted) line to the execution's log and reports it to whoever watches.
    pub(crate) fn log(&self, line: LogLine) {
        let message = self.redactor.text(&line.message).into_owned();
        if self.progress.is_some() {
            self.report(Progress::Log { step_id: line.step_id.clone(), level: line.level, message: message.clone() });
        }
        self.store.append_log(&self.id, LogLine { message, ..line });
    }
}
