//! The daemon's lease: registering its instance, renewing the lease, and what happens when it cannot.
//!
//! - The lease is renewed at a third of `daemon.lease_seconds`; on a shared store the database's clock measures
//!   it (see `executor::store::daemon`).
//! - A daemon that cannot renew its lease before it runs out (the database unreachable, the process paused) has
//!   lost it: another node may take its executions over. It starts nothing more, abandons its running executions
//!   (stopped here without recording anything more) and says so in its log. A renewal that finds its instance row
//!   gone has lost it too. Once it holds a lease again (registering anew if its row is gone) it starts work again
//!   and resumes the abandoned executions nobody took over; the ones taken over are another node's (the store
//!   refuses this node's writes for them).
//! - The previous daemon of the same `$PILOT_HOME` (named in `run/daemon.instance`) is certainly dead: this one
//!   holds the home's lock. Its instance row is removed at start, so its executions are taken over at once rather
//!   than when its lease would have run out.

use super::Daemon;
use executor::store::{InstanceRecord, Status, StoreError, Timestamp};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Whether the daemon holds its lease, and what it gave up when it lost it.
#[derive(Default)]
pub(super) struct LeaseState {
    lost: AtomicBool,
    /// Cancelled when the lease is lost: the executions running under it are abandoned. Replaced once regained.
    current: Mutex<CancellationToken>,
    /// Executions abandoned when the lease was lost: (id, workflow).
    abandoned: Mutex<Vec<(String, String)>>,
}

impl LeaseState {
    pub(super) fn is_lost(&self) -> bool {
        self.lost.load(Ordering::SeqCst)
    }

    /// Cancelled if the lease held now is lost.
    pub(super) fn token(&self) -> CancellationToken {
        self.current.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// An execution stopped because the lease was lost.
    pub(super) fn abandoned(&self, execution_id: String, workflow: String) {
        self.abandoned.lock().unwrap_or_else(|p| p.into_inner()).push((execution_id, workflow));
    }

    /// Marks the lease lost; false if it already was.
    fn lose(&self) -> bool {
        if self.lost.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.current.lock().unwrap_or_else(|p| p.into_inner()).cancel();
        true
    }

    /// Marks the lease held again; the executions abandoned meanwhile.
    fn regain(&self) -> Vec<(String, String)> {
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = CancellationToken::new();
        self.lost.store(false, Ordering::SeqCst);
        std::mem::take(&mut *self.abandoned.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// The file naming the instance id of the daemon of this home.
fn instance_file(daemon: &Daemon) -> std::path::PathBuf {
    daemon.home.root().join("run").join("daemon.instance")
}

impl Daemon {
    pub(super) fn lease_length(&self) -> Duration {
        Duration::from_secs(self.settings.daemon.lease_seconds)
    }

    fn lease_end(&self) -> Timestamp {
        let micros = i64::try_from(self.lease_length().as_micros()).unwrap_or(i64::MAX);
        Timestamp(self.clock.now().0.saturating_add(micros))
    }

    pub(super) async fn register_instance(&self) -> Result<(), StoreError> {
        let instance = InstanceRecord {
            id: self.instance_id.clone(),
            kind: "daemon".to_owned(),
            pid: std::process::id(),
            host: super::host_name(),
            started_at: self.started_at,
            lease_expires_at: self.lease_end(),
        };
        self.store.register_instance(instance).await
    }

    /// Forgets the previous daemon of this home (it is dead: this one holds the home's lock), so that its
    /// executions are taken over now, and names this one in its place.
    pub(super) async fn replace_previous_instance(&self) {
        let file = instance_file(self);
        if let Ok(previous) = std::fs::read_to_string(&file) {
            let previous = previous.trim();
            if !previous.is_empty()
                && previous != self.instance_id
                && let Err(err) = self.store.remove_instance(previous).await
            {
                tracing::warn!("cannot forget {previous}, the previous daemon of this home: {err}");
            }
        }
        if let Err(err) = std::fs::write(&file, &self.instance_id) {
            tracing::warn!("cannot write {}: {err}", file.display());
        }
    }

    /// Renews the lease at a third of its length: the only timer of an idle daemon. On a shared store it also takes
    /// over the executions of other nodes whose lease ran out.
    pub(super) async fn renew_lease(self: Arc<Daemon>) {
        let mut every = tokio::time::interval(self.lease_length() / 3);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // When the last renewal that succeeded was sent: the lease runs at most its length from then.
        let mut renewed_at = self.started_at;
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = self.stopping.cancelled() => return,
            }
            let sent_at = self.clock.now();
            let since_renewed = Duration::from_micros(u64::try_from(sent_at.0 - renewed_at.0).unwrap_or(0));
            let ran_out = since_renewed >= self.lease_length();
            let renewed = match self.store.renew_instance(&self.instance_id, sent_at, self.lease_length()).await {
                Ok(()) => {
                    if ran_out {
                        self.lose_lease("it ran out before this renewal: the node was paused or too busy");
                    }
                    true
                }
                Err(StoreError::UnknownInstance { .. }) => {
                    self.lose_lease("its instance row is gone (taken over or removed)");
                    self.register_instance().await.is_ok()
                }
                Err(err) => {
                    tracing::warn!("cannot renew the daemon's lease: {err}");
                    if ran_out {
                        self.lose_lease("it could not be renewed before it ran out");
                    }
                    false
                }
            };
            if renewed {
                renewed_at = sent_at;
                if self.lease.is_lost() {
                    self.regain_lease().await;
                }
            }
            // On a shared store another node may have died meanwhile: its executions are taken over once its
            // lease has run out, as at a start.
            if self.shared_store.is_some() && !self.lease.is_lost() {
                self.take_over_orphans().await;
            }
        }
    }

    fn lose_lease(&self, why: &str) {
        if self.lease.lose() {
            tracing::error!(
                "this node lost its lease ({why}): it starts nothing more and abandons its running executions, which \
                 belong to whichever node takes them over, until it holds a lease again"
            );
        }
    }

    /// Starts work again; resumes the abandoned executions that are still this node's.
    async fn regain_lease(&self) {
        // Nothing starts while the lease is lost: once nothing runs, every abandoned execution has been noted.
        self.queue.idle().await;
        let abandoned = self.lease.regain();
        tracing::info!("this node holds a lease again and starts work again");
        for (execution_id, workflow) in abandoned {
            let still_ours = matches!(
                self.store.load_execution(&execution_id).await,
                Ok(Some(record)) if matches!(record.status, Status::Pending | Status::Running)
                    && record.owner.as_deref() == Some(self.instance_id.as_str())
            );
            if still_ours {
                self.queue.push(execution_id, workflow);
            }
        }
        self.queue.nudge();
    }
}
