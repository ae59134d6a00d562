//! Accepting triggers and running what was accepted.
//!
//! [`Daemon::accept`] turns a trigger into a `pending` execution row in one committed transaction (with its
//! schedule slot or idempotency key) before anyone is answered: an accepted trigger is never lost. The queue here
//! only remembers, in acceptance order, which of this daemon's pending rows to start next; after a restart it is
//! rebuilt from the rows. The runner starts them while fewer than `daemon.max_concurrent` run, and no more of
//! one workflow than its `concurrency.limit`.

use super::Daemon;
use super::catalog::LoadedWorkflow;
use super::events::EventKind;
use crate::credentials::Secrets;
use executor::engine::{Context, EngineError, InputError, check_inputs, mask_secrets};
use executor::store::{
    Acceptance, Accepted as StoreAccepted, ExecutionEnd, IdempotencyKey, NewExecution, Status, StoreError, Timestamp,
    new_execution_id,
};
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::{Notify, watch};

/// A trigger to accept.
#[derive(Debug, Clone)]
pub struct AcceptRequest {
    pub workflow: Arc<LoadedWorkflow>,
    pub trigger_id: Option<String>,
    /// `{"type": ...}` and what the trigger provides (a webhook's body, a schedule's slot, a file event).
    pub trigger: Json,
    pub inputs: Map<String, Json>,
    /// The schedule slot it is due for: accepted once per (trigger, slot).
    pub slot: Option<Timestamp>,
    /// A webhook call's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
}

/// What became of an accepted trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// A new pending execution.
    Queued { execution_id: String },
    /// The slot or idempotency key already has this execution; nothing new was started.
    Existing { execution_id: String },
    /// Recorded `skipped` at once (concurrency policy `skip`), so the trigger leaves a trace.
    Skipped { execution_id: String, reason: String },
}

impl Accepted {
    pub fn execution_id(&self) -> &str {
        match self {
            Accepted::Queued { execution_id }
            | Accepted::Existing { execution_id }
            | Accepted::Skipped { execution_id, .. } => execution_id,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("pilot serve is shutting down and accepts no new work")]
    Stopping,
    #[error("workflow `{name}` is disabled (`pilot workflows enable {name}`)")]
    Disabled { name: String },
    #[error(transparent)]
    Inputs(#[from] InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub(super) struct Queue {
    state: Mutex<QueueState>,
    wake: Notify,
    /// Wakes the claimer of other nodes' work (`claim_others`).
    others: Notify,
    running_count: watch::Sender<usize>,
    max_concurrent: usize,
}

#[derive(Default)]
struct QueueState {
    /// Accepted, not started: (execution id, workflow name), oldest first.
    waiting: VecDeque<(String, String)>,
    /// Started and not ended, with their workflow.
    running: HashMap<String, String>,
    /// Waiting executions this daemon claimed from pending (another node accepted them): first starts.
    claimed: std::collections::HashSet<String>,
    /// Of `running`: asked to cancel before the engine ran them.
    cancel_before_start: std::collections::HashSet<String>,
}

impl Queue {
    pub(super) fn new(max_concurrent: usize) -> Queue {
        Queue {
            state: Mutex::default(),
            wake: Notify::new(),
            others: Notify::new(),
            running_count: watch::Sender::new(0),
            max_concurrent: max_concurrent.max(1),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn push(&self, execution_id: String, workflow: String) {
        self.state().waiting.push_back((execution_id, workflow));
        self.wake.notify_one();
    }

    /// Queues an execution this daemon has just claimed from pending (see [`Queue::was_claimed`]).
    pub(super) fn push_claimed(&self, execution_id: String, workflow: String) {
        self.state().claimed.insert(execution_id.clone());
        self.push(execution_id, workflow);
    }

    /// Whether the execution was queued by [`Queue::push_claimed`] (asked once, as it starts).
    fn was_claimed(&self, execution_id: &str) -> bool {
        self.state().claimed.remove(execution_id)
    }

    /// Makes the claimer of other nodes' work look for some (a notification, or a lost one).
    pub(super) fn wake_claimer(&self) {
        self.others.notify_one();
    }

    /// Marks an execution taken from the queue but not yet run by the engine to be cancelled instead of run;
    /// whether it is one.
    fn cancel_before_start(&self, execution_id: &str) -> bool {
        let mut state = self.state();
        if !state.running.contains_key(execution_id) {
            return false;
        }
        state.cancel_before_start.insert(execution_id.to_owned());
        true
    }

    fn is_cancelled_before_start(&self, execution_id: &str) -> bool {
        self.state().cancel_before_start.contains(execution_id)
    }

    /// (waiting, running).
    pub(super) fn depth(&self) -> (usize, usize) {
        let state = self.state();
        (state.waiting.len(), state.running.len())
    }

    /// Whether nothing waits here and fewer than `max_concurrent` run: room for another node's work.
    fn has_room(&self) -> bool {
        let state = self.state();
        state.waiting.is_empty() && state.running.len() < self.max_concurrent
    }

    /// How many executions of `workflow` wait or run here.
    fn active_of(&self, workflow: &str) -> usize {
        let state = self.state();
        state.waiting.iter().filter(|(_, name)| name == workflow).count()
            + state.running.values().filter(|name| *name == workflow).count()
    }

    /// Resolves once nothing runs.
    pub(super) async fn idle(&self) {
        let mut count = self.running_count.subscribe();
        let _ = count.wait_for(|running| *running == 0).await;
    }

    /// The next waiting executions that fit the limits, moved to `running`. `limit_of` gives a workflow's own
    /// concurrency limit.
    fn take_startable(&self, limit_of: impl Fn(&str) -> Option<usize>) -> Vec<(String, String)> {
        let mut state = self.state();
        let mut started = Vec::new();
        let mut index = 0;
        while index < state.waiting.len() && state.running.len() < self.max_concurrent {
            let workflow = state.waiting[index].1.clone();
            let running_here = state.running.values().filter(|name| **name == workflow).count();
            if limit_of(&workflow).is_some_and(|limit| running_here >= limit) {
                index += 1; // This workflow is at its limit; others may go ahead.
                continue;
            }
            if let Some((id, workflow)) = state.waiting.remove(index) {
                state.running.insert(id.clone(), workflow.clone());
                started.push((id, workflow));
            }
        }
        self.running_count.send_replace(state.running.len());
        started
    }

    fn finished(&self, execution_id: &str) {
        let mut state = self.state();
        state.running.remove(execution_id);
        state.cancel_before_start.remove(execution_id);
        self.running_count.send_replace(state.running.len());
        drop(state);
        self.wake.notify_one();
    }

    /// Wakes the runner (the lease is held again).
    pub(super) fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Removes one waiting execution; whether it was waiting.
    fn remove_waiting(&self, execution_id: &str) -> bool {
        let mut state = self.state();
        let before = state.waiting.len();
        state.waiting.retain(|(id, _)| id != execution_id);
        state.claimed.remove(execution_id);
        before != state.waiting.len()
    }

    /// Removes waiting executions of a workflow (policy `cancel_previous`); returns their ids.
    fn remove_waiting_of(&self, workflow: &str) -> Vec<String> {
        let mut state = self.state();
        let (removed, kept): (Vec<_>, Vec<_>) = state.waiting.drain(..).partition(|(_, name)| name == workflow);
        state.waiting = kept.into();
        for (id, _) in &removed {
            state.claimed.remove(id);
        }
        removed.into_iter().map(|(id, _)| id).collect()
    }

    /// The running executions of a workflow, oldest first (ids are time-ordered).
    fn running_of(&self, workflow: &str) -> Vec<String> {
        let mut ids: Vec<String> =
            self.state().running.iter().filter(|(_, name)| *name == workflow).map(|(id, _)| id.clone()).collect();
        ids.sort();
        ids
    }
}

impl Daemon {
    /// Accepts a trigger: checks the inputs, applies the workflow's concurrency policy and records a pending
    /// execution (committed before this returns). The queue runner starts it.
    ///
    /// It runs in a task of its own: a caller dropped midway (a schedule's task aborted by a disable or an edit, a
    /// webhook handler whose client hung up) must not stop it between the commit of the pending row and its
    /// place in the queue, which would leave a pending execution that nothing runs.
    pub async fn accept(self: &Arc<Self>, request: AcceptRequest) -> Result<Accepted, AcceptError> {
        let daemon = Arc::clone(self);
        tokio::spawn(async move { daemon.accept_whole(request).await }).await.unwrap_or_else(|err| {
            Err(AcceptError::Store(StoreError::Invalid { reason: format!("accepting the trigger failed: {err}") }))
        })
    }

    async fn accept_whole(&self, request: AcceptRequest) -> Result<Accepted, AcceptError> {
        if self.is_stopping() {
            return Err(AcceptError::Stopping);
        }
        let loaded = &request.workflow;
        if !self.is_enabled(&loaded.name).await {
            return Err(AcceptError::Disabled { name: loaded.name.clone() });
        }
        let inputs = check_inputs(&loaded.workflow.plan, &request.inputs)?;
        let masking = self.masking_context().await;
        let skipped = self.apply_concurrency_policy(loaded).await;
        let version = self.engine.register(&loaded.workflow).await.map_err(|err| match err {
            EngineError::Store(err) => AcceptError::Store(err),
            other => AcceptError::Store(StoreError::Invalid { reason: other.to_string() }),
        })?;
        let execution_id = new_execution_id();
        let now = self.clock.now();
        let trigger_type = request.trigger.get("type").and_then(Json::as_str).unwrap_or("manual").to_owned();
        let idempotency = request.idempotency_key.map(|key| IdempotencyKey {
            scope: request.trigger_id.clone().unwrap_or_else(|| loaded.name.clone()),
            key,
            expired_before: Timestamp(now.0 - seconds(self.settings.daemon.idempotency_window_seconds)),
        });
        let acceptance = Acceptance {
            execution: NewExecution {
                id: execution_id.clone(),
                workflow_id: loaded.workflow.id.clone(),
                workflow_name: loaded.name.clone(),
                workflow_version: version,
                trigger_id: request.trigger_id,
                trigger: mask_secrets(&masking, request.trigger),
                input: mask_secrets(&masking, Json::Object(inputs)),
                status: Status::Pending,
                started_at: now,
                retry_of: None,
            },
            owner: Some(self.instance_id.clone()),
            slot: request.slot,
            idempotency,
            skipped: skipped.clone(),
        };
        match self.store.accept_execution(acceptance).await? {
            StoreAccepted::Existing { execution_id } => Ok(Accepted::Existing { execution_id }),
            StoreAccepted::New => {
                let queued = EventKind::Queued { workflow: loaded.name.clone(), trigger_type };
                self.events.publish(&execution_id, now, queued);
                match skipped {
                    Some(reason) => {
                        let finished =
                            EventKind::Finished { status: "skipped".to_owned(), error: Some(reason.clone()) };
                        self.events.publish(&execution_id, now, finished);
                        Ok(Accepted::Skipped { execution_id, reason })
                    }
                    None => {
                        self.queue.push(execution_id.clone(), loaded.name.clone());
                        Ok(Accepted::Queued { execution_id })
                    }
                }
            }
        }
    }

    /// A context holding every stored secret, to mask what is stored before the execution runs.
    async fn masking_context(&self) -> Context {
        let mut context = Context::default();
        self.secrets().await.fill(&mut context);
        context
    }

    /// Every stored credential, decrypted (nothing, and no master key needed, when none is stored).
    pub async fn secrets(&self) -> Secrets {
        match crate::credentials::all(&self.home, self.store.clone()).await {
            Ok(secrets) => secrets,
            Err(err) => {
                tracing::warn!("cannot open the credentials: {err}");
                Secrets::default()
            }
        }
    }

    /// `skip`: the reason to record the new execution skipped, when the limit is reached. `cancel_previous`:
    /// cancels what runs or waits of the workflow first. `queue` (and no policy): nothing.
    /// On a shared store the executions of every node count, and the previous ones are cancelled where they run.
    async fn apply_concurrency_policy(&self, loaded: &LoadedWorkflow) -> Option<String> {
        let (limit, policy) = super::concurrency_of(loaded)?;
        if policy != compiler::ConcurrencyPolicy::Queue
            && let Some(shared) = &self.shared_store
        {
            match shared.active_executions(&loaded.name).await {
                Ok(active) => return self.apply_policy_over_nodes(loaded, limit, policy, active).await,
                Err(err) => tracing::warn!("concurrency policy of {} applied to this node only: {err}", loaded.name),
            }
        }
        match policy {
            compiler::ConcurrencyPolicy::Queue => None,
            compiler::ConcurrencyPolicy::Skip => (self.queue.active_of(&loaded.name) >= limit).then(|| {
                format!(
                    "skipped: workflow `{}` already has {limit} execution(s) queued or running (concurrency policy skip)",
                    loaded.name
                )
            }),
            compiler::ConcurrencyPolicy::CancelPrevious => {
                if self.queue.active_of(&loaded.name) < limit {
                    return None;
                }
                for id in self.queue.remove_waiting_of(&loaded.name) {
                    let reason = "cancelled by a newer execution (concurrency policy cancel_previous)";
                    if let Err(err) = self.record_cancelled(&id, reason).await {
                        tracing::warn!("cannot cancel queued execution {id}: {err}");
                    }
                }
                // The oldest running ones, until the new one has room.
                let running = self.queue.running_of(&loaded.name);
                for id in running.iter().take((running.len() + 1).saturating_sub(limit)) {
                    let _ = self.engine.cancel(id).await;
                }
                None
            }
        }
    }

    /// [`Daemon::apply_concurrency_policy`] (`skip`, `cancel_previous`) over the `active` (pending and running)
    /// executions of every node, oldest first.
    async fn apply_policy_over_nodes(
        &self,
        loaded: &LoadedWorkflow,
        limit: usize,
        policy: compiler::ConcurrencyPolicy,
        active: Vec<(String, Status, Option<String>)>,
    ) -> Option<String> {
        if active.len() < limit {
            return None;
        }
        if policy == compiler::ConcurrencyPolicy::Skip {
            return Some(format!(
                "skipped: workflow `{}` already has {limit} execution(s) queued or running on the nodes of this store \
                 (concurrency policy skip)",
                loaded.name
            ));
        }
        let (pending, running): (Vec<_>, Vec<_>) =
            active.into_iter().partition(|(_, status, _)| *status == Status::Pending);
        let excess = (running.len() + 1).saturating_sub(limit);
        for (id, ..) in pending.iter().chain(running.iter().take(excess)) {
            if let Err(err) = self.cancel(id).await {
                tracing::debug!("execution {id} not cancelled for a newer one: {err}");
            }
        }
        None
    }

    /// A run's context: every stored secret, and progress events forwarded to the live events (the task that
    /// forwards them ends when the run does).
    async fn run_context(self: &Arc<Daemon>, workflow: &str) -> (Context, tokio::task::JoinHandle<()>) {
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let mut context = Context { progress: Some(sender), ..Context::default() };
        self.secrets().await.fill(&mut context);
        let daemon = Arc::clone(self);
        let workflow = workflow.to_owned();
        let forwarder = tokio::spawn(async move {
            while let Some(progress) = receiver.recv().await {
                daemon.events.publish_progress(progress, daemon.clock.now(), &workflow);
            }
        });
        (context, forwarder)
    }

    /// Starts one accepted execution and follows it to its end.
    async fn run_accepted(self: Arc<Daemon>, execution_id: String, workflow: String) {
        let limit = self.limit_of(&workflow);
        let claimed = match &self.shared_store {
            Some(_) if self.queue.was_claimed(&execution_id) => true,
            Some(_) => match self.claim(&execution_id, limit).await {
                Claim::Now => true,
                Claim::Before => false,
                Claim::Unknown => {
                    // The store did not answer: tried again shortly rather than left pending with nobody on it.
                    self.queue.finished(&execution_id);
                    let daemon = Arc::clone(&self);
                    tokio::spawn(async move {
                        tokio::select! {
                            () = tokio::time::sleep(CLAIM_RETRY) => daemon.queue.push(execution_id, workflow),
                            () = daemon.stopping.cancelled() => {}
                        }
                    });
                    return;
                }
                Claim::Lost => {
                    if self.queue.is_cancelled_before_start(&execution_id) {
                        // Refused at the limit, it is pending still: cancelled as one no node has started.
                        let _ = self.cancel_elsewhere(execution_id.clone()).await;
                    }
                    self.queue.finished(&execution_id);
                    return;
                }
            },
            None => false,
        };
        if self.queue.is_cancelled_before_start(&execution_id) {
            self.record_cancelled_before_start(&execution_id).await;
        } else {
            let (context, forwarder) = self.run_context(&workflow).await;
            let lease = self.lease.token();
            match self.engine.start_accepted(&execution_id, context, claimed).await {
                Ok(handle) => {
                    if self.queue.is_cancelled_before_start(&execution_id) {
                        let _ = self.engine.cancel(&execution_id).await;
                    }
                    // Past the drain time, or once the lease is lost, the execution is left running in the store:
                    // to resume at the next start, or by whichever node takes it over.
                    let abandon = self.abandon.clone();
                    let stop = async move {
                        tokio::select! { () = abandon.cancelled() => {}, () = lease.cancelled() => {} }
                    };
                    if handle.wait_unless(stop).await.is_none() && self.lease.is_lost() {
                        self.lease.abandoned(execution_id.clone(), workflow.clone());
                    }
                }
                Err(err) => self.fail_unstartable(&execution_id, &err).await,
            }
            let _ = forwarder.await;
        }
        self.queue.finished(&execution_id);
        if limit.is_some()
            && let Some(shared) = &self.shared_store
        {
            // Another node may hold executions of this workflow back, waiting for room.
            if let Err(err) = shared.notify(&[(executor::store::postgres::PENDING_CHANNEL, String::new())]).await {
                tracing::warn!("cannot tell the other nodes that an execution of {workflow} ended: {err}");
            }
        }
    }

    /// The workflow's concurrency limit, if it has one.
    fn limit_of(&self, workflow: &str) -> Option<u32> {
        let (limit, _) = super::concurrency_of(self.workflow(workflow)?.as_ref())?;
        Some(u32::try_from(limit).unwrap_or(u32::MAX))
    }

    /// Records cancelled an execution asked to stop before it ran.
    async fn record_cancelled_before_start(&self, execution_id: &str) {
        if let Err(err) = self.record_cancelled(execution_id, "cancelled before it started").await {
            tracing::warn!("cannot record execution {execution_id} cancelled: {err}");
        }
    }

    /// Records an execution that never ran cancelled, for `reason`, and says so on the event stream.
    async fn record_cancelled(&self, execution_id: &str, reason: &str) -> Result<(), StoreError> {
        let end = ExecutionEnd {
            execution_id: execution_id.to_owned(),
            status: Status::Cancelled,
            error: Some(reason.to_owned()),
            context: None,
            completed_at: self.clock.now(),
        };
        self.store.finish_execution(end).await?;
        let finished = EventKind::Finished { status: "cancelled".to_owned(), error: None };
        self.events.publish(execution_id, self.clock.now(), finished);
        Ok(())
    }

    /// Whether this daemon may start the execution: it claimed it now (pending -> running under this daemon), or
    /// had claimed or taken it over before. Another node that claimed it first runs it instead. With a limit, the
    /// claim is refused while the workflow has that many running on all nodes (it then waits for any node).
    async fn claim(&self, execution_id: &str, limit: Option<u32>) -> Claim {
        let now = self.clock.now();
        let claimed = match (&self.shared_store, limit) {
            (Some(shared), Some(limit)) => shared.claim_within_limit(execution_id, &self.instance_id, now, limit).await,
            _ => self.store.claim_execution(execution_id, &self.instance_id, now).await,
        };
        match claimed {
            Ok(true) => Claim::Now,
            Ok(false) => match self.store.load_execution(execution_id).await {
                Ok(Some(record))
                    if record.status == Status::Running
                        && record.owner.as_deref() == Some(self.instance_id.as_str()) =>
                {
                    Claim::Before
                }
                Ok(_) => Claim::Lost,
                Err(err) => {
                    tracing::warn!("cannot read execution {execution_id} after claiming it: {err}");
                    Claim::Unknown
                }
            },
            Err(err) => {
                tracing::warn!("cannot claim execution {execution_id} (tried again in a moment): {err}");
                Claim::Unknown
            }
        }
    }

    /// The loaded, enabled workflows that may start one more execution here, with their concurrency limit (which
    /// the store checks over all nodes).
    async fn workflows_with_room(&self) -> Vec<(String, Option<u32>)> {
        let mut names = Vec::new();
        for loaded in self.workflows() {
            let limit = super::concurrency_of(&loaded).map(|(limit, _)| limit);
            if self.queue.active_of(&loaded.name) < limit.unwrap_or(usize::MAX) && self.is_enabled(&loaded.name).await {
                names.push((loaded.name.clone(), limit.map(|limit| u32::try_from(limit).unwrap_or(u32::MAX))));
            }
        }
        names
    }

    /// An accepted execution that cannot start (its definition no longer compiles, ...) is recorded failed with
    /// the reason rather than left pending for ever.
    async fn fail_unstartable(&self, execution_id: &str, err: &EngineError) {
        if matches!(err, EngineError::AlreadyFinished { .. }) {
            return;
        }
        let end = ExecutionEnd {
            execution_id: execution_id.to_owned(),
            status: Status::Failed,
            error: Some(format!("could not start: {err}")),
            context: None,
            completed_at: self.clock.now(),
        };
        if let Err(store_err) = self.store.finish_execution(end).await {
            tracing::warn!("execution {execution_id} could not start ({err}) nor be recorded failed: {store_err}");
        }
        let finished =
            EventKind::Finished { status: "failed".to_owned(), error: Some(format!("could not start: {err}")) };
        self.events.publish(execution_id, self.clock.now(), finished);
    }
}

impl Daemon {
    /// Cancels an execution: a queued one here is recorded cancelled at once (`cancelled`); a running one (here,
    /// or in a `pilot run` process of this home) is asked to stop (`cancelling`). On a shared store, one another
    /// live node runs is asked to stop through the bus (`cancelling`), and a pending one no node has started is
    /// claimed here and recorded cancelled (`cancelled`).
    pub async fn cancel(&self, execution_id: &str) -> Result<&'static str, EngineError> {
        match self.cancel_here(execution_id).await {
            Err(EngineError::NotRunningHere { id }) if self.shared_store.is_some() => self.cancel_elsewhere(id).await,
            answer => answer,
        }
    }

    /// A cancel request of another node (`pilot_cancel`): done as if asked here; nothing if this node does not run
    /// the execution.
    pub(super) async fn cancel_asked_by_another_node(&self, execution_id: &str) {
        match self.cancel_here(execution_id).await {
            Ok(answer) => tracing::info!("execution {execution_id}: {answer} (asked by another node)"),
            Err(err) => tracing::debug!("another node asked to cancel execution {execution_id}: {err}"),
        }
    }

    /// [`Daemon::cancel`] of an execution this node neither queues nor runs, on a shared store.
    async fn cancel_elsewhere(&self, id: String) -> Result<&'static str, EngineError> {
        use executor::store::postgres::CANCEL_CHANNEL;
        let shared = self.shared_store.as_ref().ok_or_else(|| EngineError::NotRunningHere { id: id.clone() })?;
        // Twice at most: a pending execution may be claimed by its node meanwhile, and is then running there.
        for _ in 0..2 {
            let Some(record) = self.store.load_execution(&id).await? else { break };
            match record.status {
                Status::Pending => {
                    if self.store.claim_execution(&id, &self.instance_id, self.clock.now()).await? {
                        self.record_cancelled_before_start(&id).await;
                        return Ok("cancelled");
                    }
                }
                Status::Running => {
                    let live_owner = match &record.owner {
                        Some(owner) if *owner != self.instance_id => self.is_live(owner).await?,
                        _ => false,
                    };
                    if !live_owner {
                        break;
                    }
                    shared.notify(&[(CANCEL_CHANNEL, id.clone())]).await.map_err(EngineError::Store)?;
                    return Ok("cancelling");
                }
                status => return Err(EngineError::AlreadyFinished { id, status }),
            }
        }
        Err(EngineError::NotRunningHere { id })
    }

    /// Whether the node `instance_id` holds a lease that has not run out.
    async fn is_live(&self, instance_id: &str) -> Result<bool, StoreError> {
        Ok(self.store.live_instances(self.clock.now()).await?.iter().any(|node| node == instance_id))
    }

    /// [`Daemon::cancel`] of what this node queues or runs (or a `pilot run` process of its home).
    async fn cancel_here(&self, execution_id: &str) -> Result<&'static str, EngineError> {
        if self.queue.remove_waiting(execution_id) {
            // On a shared store an idle node may have claimed it meanwhile: cancelled here only once claimed here.
            if self.shared_store.is_some()
                && !self.store.claim_execution(execution_id, &self.instance_id, self.clock.now()).await?
            {
                return Err(EngineError::NotRunningHere { id: execution_id.to_owned() });
            }
            self.record_cancelled(execution_id, "cancelled before it started").await?;
            return Ok("cancelled");
        }
        match self.engine.cancel(execution_id).await {
            Ok(()) => Ok("cancelling"),
            Err(EngineError::NotRunningHere { .. }) if self.queue.cancel_before_start(execution_id) => Ok("cancelling"),
            Err(EngineError::NotRunningHere { id }) => {
                let runs = crate::runs::ActiveRuns::at(crate::runs::runs_folder(self.home.root()));
                match runs.owner(&id) {
                    crate::runs::Owner::Process(_) => {
                        runs.request_cancel(&id)
                            .map_err(|err| EngineError::Store(StoreError::Invalid { reason: err.to_string() }))?;
                        Ok("cancelling")
                    }
                    crate::runs::Owner::Nobody => Err(EngineError::NotRunningHere { id }),
                }
            }
            Err(err) => Err(err),
        }
    }

    /// Starts a retry of a finished execution (see [`executor::WorkflowEngine::retry_with`]); answers its id.
    pub async fn retry(
        self: &Arc<Daemon>,
        execution_id: &str,
        rerun: executor::engine::Rerun,
        current: Option<&executor::Workflow>,
    ) -> Result<String, EngineError> {
        let record = self.store.load_execution(execution_id).await?;
        let workflow = record.map(|record| record.workflow_name).unwrap_or_default();
        let (mut context, forwarder) = self.run_context(&workflow).await;
        let id = new_execution_id();
        context.execution_id = Some(id.clone());
        let handle = self.engine.retry_with(execution_id, rerun, current, context).await?;
        let daemon = Arc::clone(self);
        tokio::spawn(async move {
            let _ = handle.wait_unless(daemon.abandon.cancelled()).await;
            let _ = forwarder.await;
        });
        Ok(id)
    }
}

/// What claiming an execution found.
enum Claim {
    /// Claimed now: it was pending.
    Now,
    /// Claimed or taken over by this daemon earlier: it ran before (a resume).
    Before,
    /// Another node runs it, it ended, or it waits at its workflow's limit for any node.
    Lost,
    /// The store did not answer.
    Unknown,
}

/// How long after a claim the store did not answer it is tried again.
const CLAIM_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// On a shared store: while this daemon has room, claims the pending executions other nodes accepted and have
/// not started, or left to any node at a concurrency limit (the oldest first, `FOR UPDATE SKIP LOCKED`), and runs
/// them. It is woken by the cluster bus (a node accepted work, an execution of a limited workflow ended, the
/// listening connection was reopened), when one of its own executions ends, and at each lease renewal in case a
/// notification was missed.
pub(super) async fn claim_others(daemon: Arc<Daemon>, shared: Arc<executor::store::postgres::PostgresStore>) {
    let mut every = tokio::time::interval(daemon.lease_length() / 3);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // An execution ending here makes room for one more.
    let mut running = daemon.queue.running_count.subscribe();
    loop {
        tokio::select! {
            _ = running.changed() => {}
            () = daemon.queue.others.notified() => {}
            _ = every.tick() => {}
            () = daemon.stopping.cancelled() => return,
        }
        // A node without a lease takes no work: another may be taking its own over.
        while daemon.queue.has_room() && !daemon.lease.is_lost() && !daemon.is_stopping() {
            let workflows = daemon.workflows_with_room().await;
            if workflows.is_empty() {
                break;
            }
            match shared.claim_pending(&daemon.instance_id, &workflows, daemon.clock.now()).await {
                Ok(Some((execution_id, workflow))) => daemon.queue.push_claimed(execution_id, workflow),
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!("cannot claim other nodes' pending executions: {err}");
                    break;
                }
            }
        }
    }
}

/// Starts waiting executions whenever there is room, until the daemon stops accepting work.
pub(super) async fn run(daemon: Arc<Daemon>) {
    loop {
        // Nothing starts while the lease is lost: another node may be taking this one's work over.
        let startable = if daemon.lease.is_lost() {
            Vec::new()
        } else {
            daemon.queue.take_startable(|name| {
                daemon.workflow(name).and_then(|loaded| super::concurrency_of(&loaded)).map(|(limit, _)| limit)
            })
        };
        for (execution_id, workflow) in startable {
            tokio::spawn(Arc::clone(&daemon).run_accepted(execution_id, workflow));
        }
        tokio::select! {
            () = daemon.queue.wake.notified() => {}
            () = daemon.stopping.cancelled() => return,
        }
    }
}

fn seconds(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX / 1_000_000).saturating_mul(1_000_000)
}
