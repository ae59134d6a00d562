//! What the daemon (`pilot serve`) keeps in the store besides executions: who runs what (instances and their
//! leases), the triggers of the loaded workflows, and the accepting of a trigger as a queued execution.
//!
//! **The queue is the executions table.** An accepted trigger (a webhook call, a schedule slot, a file event) is
//! a `pending` execution row, inserted by [`crate::store::Store::accept_execution`] in one transaction with what
//! makes it unique: the (trigger, slot) pair of a schedule (a slot never runs twice, even across a crash) and the
//! idempotency key of a webhook call. Its answer says whether the row is new or which execution already holds
//! the slot or the key. There is no second queue to get out of step with the database.
//!
//! **Ownership.** A pending or running execution accepted by a daemon names its `owner`, the daemon's instance id;
//! the instance row carries a lease the daemon renews. An execution whose owner's lease ran out (or whose owner
//! row is gone) is orphaned: `pilot resume` and a starting daemon take it over ([`crate::store::Store::adopt_execution`],
//! a compare-and-set on the owner). Executions started by `pilot run` have no owner; their process holds
//! `$PILOT_HOME/run/<id>.pid` instead. On a store several daemons share, a daemon starts a pending execution only
//! after [`crate::store::Store::claim_execution`] (pending -> running under it) answered that it won.
//!
//! **Leases on one clock.** A store of one machine (SQLite, memory) writes and compares leases with the caller's
//! clock. The PostgreSQL store, which nodes with differing clocks share, writes them as the database's now plus
//! the lease length ([`crate::store::Store::renew_instance`] carries the length) and answers which are live on the
//! database's now ([`crate::store::Store::live_instances`]); its take-over re-checks the old owner's lease in the
//! same statement, and a daemon node's writes for executions another node owns are refused (fencing, see
//! `postgres/writer.rs`).

use super::NewExecution;
use expr_grammar::Timestamp;
use serde_json::Value as Json;

/// A process that runs executions accepted through the store, and the lease it renews.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRecord {
    pub id: String,
    /// `daemon`.
    pub kind: String,
    pub pid: u32,
    pub host: String,
    pub started_at: Timestamp,
    pub lease_expires_at: Timestamp,
}

/// A trigger of a loaded workflow (the spec's `triggers` table). The id is stable across restarts and across
/// edits that leave the trigger as it was.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerRecord {
    pub id: String,
    pub workflow_id: String,
    /// `schedule`, `webhook`, `file_watch` or `manual`.
    pub trigger_type: String,
    pub config: Json,
    pub is_enabled: bool,
}

/// A webhook call's `Idempotency-Key`, unique per `scope` (the trigger) while younger than the window.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    /// A key recorded before this instant has expired: a call that repeats it starts a new execution.
    pub expired_before: Timestamp,
}

/// An accepted trigger, to record as one execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Acceptance {
    /// Status `pending` (queued); its `trigger_id` names the trigger.
    pub execution: NewExecution,
    /// The daemon instance that will run it.
    pub owner: Option<String>,
    /// The schedule slot it is due for: (trigger, slot) is unique.
    pub slot: Option<Timestamp>,
    pub idempotency: Option<IdempotencyKey>,
    /// Record it `skipped` at once, with this reason (a concurrency policy `skip`): the trigger leaves a trace.
    pub skipped: Option<String>,
}

/// Whether an acceptance made a new execution or found the one already made for its slot or key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    New,
    Existing { execution_id: String },
}

/// A daemon write, queued like any other write.
#[derive(Debug, Clone)]
pub(crate) enum DaemonWrite {
    /// Inserts or replaces the instance.
    RegisterInstance(InstanceRecord),
    RenewInstance {
        id: String,
        /// The caller's now; a shared store uses its own.
        at: Timestamp,
        lease: std::time::Duration,
    },
    RemoveInstance(String),
    Accept(Box<Acceptance>),
    /// Sets the owner of a pending or running execution if it is still `from`.
    Adopt {
        execution_id: String,
        owner: String,
        from: Option<String>,
    },
    /// Marks a pending execution running under `owner`; with a limit, only while fewer of its workflow's
    /// executions run (a store shared by several nodes counts them all; refused, it stays pending for any node).
    Claim {
        execution_id: String,
        owner: String,
        at: Timestamp,
        limit: Option<u32>,
    },
    /// Replaces the triggers of a workflow.
    SyncTriggers {
        workflow_id: String,
        triggers: Vec<TriggerRecord>,
    },
    SetWorkflowEnabled {
        workflow_id: String,
        enabled: bool,
    },
}

/// What a daemon write answers, and to whom.
#[derive(Debug)]
pub(crate) enum DaemonAck {
    Done(super::AckSender<()>),
    Accepted(super::AckSender<Accepted>),
    Adopted(super::AckSender<bool>),
}

/// What a daemon write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DaemonAnswer {
    Done,
    Accepted(Accepted),
    /// Whether the compare-and-set took the execution.
    Adopted(bool),
}

impl DaemonAck {
    /// Sends the outcome; false when nobody waits for it.
    pub(crate) fn send(self, outcome: Result<DaemonAnswer, super::StoreError>) -> bool {
        match self {
            DaemonAck::Done(ack) => ack.send(outcome.map(drop)).is_ok(),
            DaemonAck::Accepted(ack) => ack
                .send(outcome.map(|answer| match answer {
                    DaemonAnswer::Accepted(accepted) => accepted,
                    _ => Accepted::New,
                }))
                .is_ok(),
            DaemonAck::Adopted(ack) => ack.send(outcome.map(|answer| answer == DaemonAnswer::Adopted(true))).is_ok(),
        }
    }
}

/// A lease length in microseconds, small enough to add to any now without overflowing.
pub(crate) fn lease_micros(lease: std::time::Duration) -> i64 {
    i64::try_from(lease.as_micros()).unwrap_or(i64::MAX).min(LONGEST_LEASE)
}

/// Longer leases are cut to this (about 73,000 years).
pub(crate) const LONGEST_LEASE: i64 = i64::MAX / 4;

impl DaemonWrite {
    pub(crate) fn describe(&self) -> String {
        match self {
            DaemonWrite::RegisterInstance(instance) => format!("registering instance {}", instance.id),
            DaemonWrite::RenewInstance { id, .. } => format!("renewing the lease of instance {id}"),
            DaemonWrite::RemoveInstance(id) => format!("removing instance {id}"),
            DaemonWrite::Accept(acceptance) => format!("accepting execution {}", acceptance.execution.id),
            DaemonWrite::Adopt { execution_id, .. } => format!("taking over execution {execution_id}"),
            DaemonWrite::Claim { execution_id, .. } => format!("claiming execution {execution_id}"),
            DaemonWrite::SyncTriggers { workflow_id, .. } => format!("recording the triggers of {workflow_id}"),
            DaemonWrite::SetWorkflowEnabled { workflow_id, enabled } => {
                format!("{} workflow {workflow_id}", if *enabled { "enabling" } else { "disabling" })
            }
        }
    }

    pub(crate) fn at(&self) -> Option<Timestamp> {
        match self {
            DaemonWrite::RegisterInstance(instance) => Some(instance.started_at),
            DaemonWrite::Accept(acceptance) => Some(acceptance.execution.started_at),
            DaemonWrite::Claim { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// The execution this write creates, for its log line.
    pub(crate) fn accepted_execution(&self) -> Option<&NewExecution> {
        match self {
            DaemonWrite::Accept(acceptance) => Some(&acceptance.execution),
            _ => None,
        }
    }
}
