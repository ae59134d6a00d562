//! The cluster bus of the nodes sharing a PostgreSQL store: one listening connection per node (reopened when
//! lost, see `PostgresStore::listen`) and `NOTIFY` to the others.
//!
//! - `pilot_pending`: a pending execution was accepted, or an execution of a workflow with a concurrency limit
//!   ended: the node claims what it has room for ([`super::queue::claim_others`]).
//! - `pilot_events`: the live events of the executions this node runs, sent by one forwarder task in batches (one
//!   statement each, so an execution never waits for it), and published here by the other nodes under ids of
//!   their own.
//! - `pilot_cancel`: an execution id whose owner is asked to cancel it ([`Daemon::cancel`] on another node).

use super::Daemon;
use super::events::{Event, EventKind};
use executor::store::postgres::{
    BusMessage, CANCEL_CHANNEL, EVENTS_CHANNEL, MAX_PAYLOAD, PENDING_CHANNEL, PostgresStore,
};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::mpsc;

/// At most this many events share one `NOTIFY` statement.
const EVENTS_PER_STATEMENT: usize = 200;
/// A long text of an event (a log message, an error) is cut to this many bytes in what other nodes receive.
const LONG_TEXT: usize = 4000;

/// An event as sent to the other nodes: without this node's id, with the node it comes from.
#[derive(Debug, Serialize, Deserialize)]
struct Forwarded {
    origin: String,
    execution_id: String,
    at: String,
    #[serde(flatten)]
    kind: EventKind,
}

/// Starts listening to the other nodes and forwarding this node's events to them. Without a listening connection
/// (the first could not be opened) the node is still woken at each lease renewal, and no event is forwarded.
pub(super) async fn start(daemon: &Arc<Daemon>, shared: &Arc<PostgresStore>) {
    let messages = match shared.listen(&[PENDING_CHANNEL, EVENTS_CHANNEL, CANCEL_CHANNEL]).await {
        Ok(messages) => messages,
        Err(err) => {
            tracing::warn!(
                "not listening to the other nodes (their work is claimed at each lease renewal only, their events \
                 not shown, their cancel requests not heard): {err}"
            );
            return;
        }
    };
    tokio::spawn(receive(Arc::clone(daemon), messages));
    let (forward, events) = mpsc::unbounded_channel();
    daemon.events.forward_to(forward);
    tokio::spawn(send_events(daemon.instance_id.clone(), Arc::clone(shared), events));
}

async fn receive(daemon: Arc<Daemon>, mut messages: mpsc::UnboundedReceiver<BusMessage>) {
    loop {
        let message = tokio::select! {
            message = messages.recv() => message,
            () = daemon.stopped.cancelled() => return,
        };
        match message {
            // Notifications may have been missed while the connection was lost: look for work once.
            Some(BusMessage::Reconnected) => daemon.queue.wake_claimer(),
            Some(BusMessage::Notification { channel, payload }) => match channel.as_str() {
                PENDING_CHANNEL => daemon.queue.wake_claimer(),
                EVENTS_CHANNEL => publish_forwarded(&daemon, &payload),
                CANCEL_CHANNEL => {
                    let daemon = Arc::clone(&daemon);
                    tokio::spawn(async move { daemon.cancel_asked_by_another_node(&payload).await });
                }
                _ => {}
            },
            None => return,
        }
    }
}

fn publish_forwarded(daemon: &Daemon, payload: &str) {
    match serde_json::from_str::<Forwarded>(payload) {
        Ok(event) if event.origin != daemon.instance_id => {
            daemon.events.publish_from_another_node(event.execution_id, event.at, event.kind);
        }
        Ok(_) => {}
        Err(err) => tracing::debug!("an event from another node is not understood: {err}"),
    }
}

/// Sends this node's events to the others, in batches of those queued meanwhile. A failure is logged once until
/// sending works again; the events it held are not sent (the store keeps what they describe).
async fn send_events(origin: String, shared: Arc<PostgresStore>, mut events: mpsc::UnboundedReceiver<Event>) {
    let mut failing = false;
    while let Some(first) = events.recv().await {
        let mut batch = vec![first];
        while batch.len() < EVENTS_PER_STATEMENT {
            match events.try_recv() {
                Ok(event) => batch.push(event),
                Err(_) => break,
            }
        }
        let payloads: Vec<(&str, String)> =
            batch.into_iter().filter_map(|event| payload(&origin, event)).map(|text| (EVENTS_CHANNEL, text)).collect();
        match shared.notify(&payloads).await {
            Ok(()) => failing = false,
            Err(err) if !failing => {
                failing = true;
                tracing::warn!("cannot send live events to the other nodes: {err}");
            }
            Err(_) => {}
        }
    }
}

/// The `NOTIFY` payload of an event: its JSON, long texts cut (with a mark) to stay under PostgreSQL's limit;
/// `None` if it cannot fit.
fn payload(origin: &str, event: Event) -> Option<String> {
    let mut forwarded =
        Forwarded { origin: origin.to_owned(), execution_id: event.execution_id, at: event.at, kind: event.kind };
    let mut keep = LONG_TEXT;
    loop {
        let text = serde_json::to_string(&forwarded).ok()?;
        if text.len() <= MAX_PAYLOAD {
            return Some(text);
        }
        if keep < 64 || !cut_long_text(&mut forwarded.kind, keep) {
            tracing::debug!("an event of execution {} is too long to send to the other nodes", forwarded.execution_id);
            return None;
        }
        keep /= 2; // Escapes can make the JSON longer than the text.
    }
}

/// Cuts the long text of an event (a log message, an error) to `keep` bytes; whether it has one.
fn cut_long_text(kind: &mut EventKind, keep: usize) -> bool {
    let text = match kind {
        EventKind::Log { message, .. } => message,
        EventKind::StepRetrying { error, .. } => error,
        EventKind::StepFinished { error: Some(error), .. } | EventKind::Finished { error: Some(error), .. } => error,
        _ => return false,
    };
    if text.len() > keep {
        let mut end = keep;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let cut = text.len() - end;
        text.truncate(end);
        text.push_str(&format!(" [… {cut} more bytes cut: see the execution's log]"));
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: EventKind) -> Event {
        Event { id: 9, execution_id: "e1".into(), at: "2026-01-01T00:00:00.000000Z".into(), kind }
    }

    #[test]
    fn an_event_is_sent_with_its_origin_and_without_its_id() {
        let kind = EventKind::Started { workflow: "w".into(), resumed: false };
        let text = payload("daemon-a", event(kind.clone())).expect("fits");
        let sent: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            sent,
            serde_json::json!({"origin": "daemon-a", "execution_id": "e1", "at": "2026-01-01T00:00:00.000000Z",
                               "type": "started", "workflow": "w", "resumed": false})
        );
        let received: Forwarded = serde_json::from_str(&text).unwrap();
        assert_eq!(received.kind, kind);
    }

    #[test]
    fn a_long_log_line_is_cut_with_a_mark_to_fit_a_notification() {
        let message = "x".repeat(20_000);
        let text = payload("a", event(EventKind::Log { step_id: None, level: "info".into(), message })).unwrap();
        assert!(text.len() <= MAX_PAYLOAD, "{}", text.len());
        let received: Forwarded = serde_json::from_str(&text).unwrap();
        let EventKind::Log { message, .. } = received.kind else { panic!("a log event") };
        assert!(message.starts_with("xxx") && message.ends_with("bytes cut: see the execution's log]"), "{message}");
        // Escaped characters take six bytes each in JSON: still cut to fit.
        let error = "\u{1}é".repeat(5_000);
        let finished = EventKind::Finished { status: "failed".into(), error: Some(error) };
        let text = payload("a", event(finished)).expect("fits once cut");
        assert!(text.len() <= MAX_PAYLOAD, "{}", text.len());
    }
}
