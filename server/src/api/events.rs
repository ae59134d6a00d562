//! `GET /api/v1/events`: the live events as server-sent events. Each SSE message has `id:` (for `Last-Event-ID`),
//! `event:` (the event's `type`) and `data:` (the event as JSON). A client that falls behind gets a `lagged`
//! event and is dropped; it reconnects with `Last-Event-ID` to get what is still kept. Streams end once the daemon
//! has stopped (after the drain), or a client reading them would keep the HTTP server from stopping.

use crate::daemon::Daemon;
use crate::daemon::events::{Event, EventKind, kind_name};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Only the events of this execution.
    execution_id: Option<String>,
}

/// The live events of every execution (or of one), as server-sent events.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsQuery,
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this event id")),
    responses((status = 200, description = "A stream of events (text/event-stream); each `data:` is an Event",
        content_type = "text/event-stream", body = Event)))]
pub async fn stream(
    State(daemon): State<Arc<Daemon>>,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let last_seen = headers.get("last-event-id").and_then(|value| value.to_str().ok()).and_then(|v| v.parse().ok());
    let (missed, receiver) = daemon.events.subscribe(last_seen);
    let only: Arc<Option<String>> = Arc::new(query.execution_id);
    let state = (missed.into_iter(), receiver, false);
    let events = futures::stream::unfold(state, move |(mut missed, mut receiver, done)| {
        let only = Arc::clone(&only);
        async move {
            let wanted = |event: &Event| only.as_ref().as_ref().is_none_or(|id| &event.execution_id == id);
            if done {
                return None;
            }
            if let Some(event) = missed.by_ref().find(|event| wanted(event)) {
                return Some((to_sse(&event), (missed, receiver, false)));
            }
            loop {
                match receiver.recv().await {
                    Ok(event) if wanted(&event) => return Some((to_sse(&event), (missed, receiver, false))),
                    Ok(_) => {}
                    Err(RecvError::Lagged(count)) => {
                        let kind = EventKind::Lagged { missed: count };
                        let note = Event { id: 0, execution_id: String::new(), at: String::new(), kind };
                        return Some((to_sse(&note), (missed, receiver, true)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        }
    });
    Sse::new(events.take_until(daemon.stopped())).keep_alive(KeepAlive::default())
}

fn to_sse(event: &Event) -> Result<SseEvent, Infallible> {
    let data = serde_json::to_string(event).unwrap_or_default();
    let sse = SseEvent::default().event(kind_name(&event.kind)).data(data);
    Ok(if event.id == 0 { sse } else { sse.id(event.id.to_string()) })
}
