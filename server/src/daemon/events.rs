//! Live events of executions and their steps, for `/api/v1/events` (server-sent events) and the desktop app.
//!
//! Every event has an increasing `id`. The bus keeps the last [`REPLAY`] events, so a client that reconnects with
//! `Last-Event-ID` gets what it missed (when it is still kept). Each client reads through its own bounded buffer
//! ([`CLIENT_BUFFER`] events): a client that falls that far behind is dropped, told so in a last `lagged` event,
//! and may reconnect with `Last-Event-ID`. Memory stays bounded whatever the clients do.
//!
//! On a shared store the bus also carries the events of the executions other nodes run (see `bus.rs`): each node
//! sends its own, and publishes those it receives under ids of its own.

use executor::engine::{Progress, ProgressEvent};
use executor::store::{Timestamp, rfc3339_micros};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use tokio::sync::{broadcast, mpsc};

/// Events kept for `Last-Event-ID`.
pub const REPLAY: usize = 4096;
/// Events a client may fall behind before it is dropped.
pub const CLIENT_BUFFER: usize = 1024;

/// One event, as sent (JSON in the SSE `data:` field; `event:` is its `type`, `id:` its id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    pub id: u64,
    pub execution_id: String,
    /// RFC 3339, UTC.
    pub at: String,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// A trigger was accepted: the execution waits in the queue.
    Queued {
        workflow: String,
        trigger_type: String,
    },
    /// It runs (or resumes after a restart).
    Started {
        workflow: String,
        resumed: bool,
    },
    StepStarted {
        step_id: String,
    },
    /// A step finished earlier (resume) or was copied from the retried execution.
    StepReused {
        step_id: String,
        status: String,
    },
    /// An attempt failed; the next follows after `delay_ms`.
    StepRetrying {
        step_id: String,
        failed_attempt: u32,
        delay_ms: u64,
        error: String,
    },
    /// `done` of a loop step's `total` items have finished.
    LoopProgress {
        step_id: String,
        done: usize,
        total: usize,
    },
    StepFinished {
        step_id: String,
        status: String,
        attempts: u32,
        duration_ms: u64,
        error: Option<String>,
    },
    /// A line of the execution's log (secrets masked).
    Log {
        step_id: Option<String>,
        level: String,
        message: String,
    },
    Finished {
        status: String,
        error: Option<String>,
    },
    /// Sent to a client that fell behind, just before it is dropped: reconnect with `Last-Event-ID`.
    Lagged {
        missed: u64,
    },
}

pub struct EventBus {
    sender: broadcast::Sender<Event>,
    recent: Mutex<VecDeque<Event>>,
    next_id: AtomicU64,
    /// On a shared store: where this node's own events go to be sent to the other nodes (see `bus.rs`).
    forward: OnceLock<mpsc::UnboundedSender<Event>>,
}

impl EventBus {
    /// Ids start at `first_id` (the daemon uses its start time, so ids keep growing across restarts).
    pub fn new(first_id: u64) -> EventBus {
        let (sender, _) = broadcast::channel(CLIENT_BUFFER);
        EventBus {
            sender,
            recent: Mutex::new(VecDeque::with_capacity(REPLAY)),
            next_id: AtomicU64::new(first_id),
            forward: OnceLock::new(),
        }
    }

    /// From now on this node's own events are also sent to `forward` (once; later calls change nothing).
    pub fn forward_to(&self, forward: mpsc::UnboundedSender<Event>) {
        let _ = self.forward.set(forward);
    }

    /// Publishes an event of this node (forwarded to the other nodes on a shared store).
    pub fn publish(&self, execution_id: &str, at: Timestamp, kind: EventKind) {
        self.push(execution_id.to_owned(), rfc3339_micros(at), kind, self.forward.get());
    }

    /// Publishes an event another node sent (with an id of this node's).
    pub fn publish_from_another_node(&self, execution_id: String, at: String, kind: EventKind) {
        self.push(execution_id, at, kind, None);
    }

    fn push(&self, execution_id: String, at: String, kind: EventKind, forward: Option<&mpsc::UnboundedSender<Event>>) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        // Under the lock: ids enter the replay buffer and the channel in order.
        let event = Event { id: self.next_id.fetch_add(1, Ordering::Relaxed), execution_id, at, kind };
        if recent.len() == REPLAY {
            recent.pop_front();
        }
        recent.push_back(event.clone());
        if let Some(forward) = forward {
            let _ = forward.send(event.clone());
        }
        // No receiver is no error: nobody is watching.
        let _ = self.sender.send(event);
    }

    /// A receiver of new events, and the kept events after `last_seen` (for `Last-Event-ID`).
    pub fn subscribe(&self, last_seen: Option<u64>) -> (Vec<Event>, broadcast::Receiver<Event>) {
        let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let receiver = self.sender.subscribe();
        let missed = match last_seen {
            Some(last) => recent.iter().filter(|event| event.id > last).cloned().collect(),
            None => Vec::new(),
        };
        (missed, receiver)
    }

    /// Publishes an engine progress event as the matching live event.
    pub fn publish_progress(&self, progress: ProgressEvent, at: Timestamp, workflow: &str) {
        let kind = match progress.event {
            Progress::Started { resumed, .. } => EventKind::Started { workflow: workflow.to_owned(), resumed },
            Progress::Reused { step_id, status } => EventKind::StepReused { step_id, status: status.to_string() },
            Progress::StepStarted { step_id, .. } => EventKind::StepStarted { step_id },
            Progress::LoopItems { step_id, done, total } => EventKind::LoopProgress { step_id, done, total },
            Progress::Log { step_id, level, message } => {
                EventKind::Log { step_id, level: level.as_str().to_owned(), message }
            }
            Progress::StepRetrying { step_id, failed_attempt, delay, error } => EventKind::StepRetrying {
                step_id,
                failed_attempt,
                delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                error,
            },
            Progress::StepFinished { step_id, status, attempts, started_at, completed_at, error } => {
                let duration_ms = u64::try_from((completed_at.0 - started_at.0) / 1000).unwrap_or(0);
                EventKind::StepFinished { step_id, status: status.to_string(), attempts, duration_ms, error }
            }
            Progress::Finished { status, error } => EventKind::Finished { status: status.to_string(), error },
        };
        self.publish(&progress.execution_id, at, kind);
    }
}

/// The SSE `event:` name of a kind (its `type`).
pub fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Queued { .. } => "queued",
        EventKind::Started { .. } => "started",
        EventKind::StepStarted { .. } => "step_started",
        EventKind::StepReused { .. } => "step_reused",
        EventKind::StepRetrying { .. } => "step_retrying",
        EventKind::LoopProgress { .. } => "loop_progress",
        EventKind::StepFinished { .. } => "step_finished",
        EventKind::Log { .. } => "log",
        EventKind::Finished { .. } => "finished",
        EventKind::Lagged { .. } => "lagged",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queued(bus: &EventBus, execution: &str) {
        bus.publish(execution, Timestamp(0), EventKind::Queued { workflow: "w".into(), trigger_type: "manual".into() });
    }

    #[test]
    fn a_reconnecting_client_gets_what_it_missed_in_order() {
        let bus = EventBus::new(100);
        for execution in ["a", "b", "c"] {
            queued(&bus, execution);
        }
        let (missed, _) = bus.subscribe(Some(100));
        let ids: Vec<(u64, &str)> = missed.iter().map(|e| (e.id, e.execution_id.as_str())).collect();
        assert_eq!(ids, [(101, "b"), (102, "c")]);
        assert!(bus.subscribe(None).0.is_empty(), "a new client starts from now");
    }

    #[test]
    fn the_replay_buffer_and_each_client_buffer_are_bounded() {
        let bus = EventBus::new(0);
        let (_, mut slow) = bus.subscribe(None);
        for index in 0..(REPLAY + 10) {
            queued(&bus, &format!("e{index}"));
        }
        assert_eq!(bus.recent.lock().unwrap().len(), REPLAY);
        assert!(matches!(slow.try_recv(), Err(broadcast::error::TryRecvError::Lagged(_))), "the slow client is told");
    }

    #[test]
    fn events_serialize_with_their_type_beside_the_common_fields() {
        let bus = EventBus::new(7);
        let (_, mut receiver) = bus.subscribe(None);
        bus.publish("e1", Timestamp(0), EventKind::LoopProgress { step_id: "copy".into(), done: 2, total: 5 });
        let event = receiver.try_recv().unwrap();
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"id": 7, "execution_id": "e1", "at": "1970-01-01T00:00:00.000000Z",
                               "type": "loop_progress", "step_id": "copy", "done": 2, "total": 5})
        );
        assert_eq!(kind_name(&event.kind), "loop_progress");
    }
}
