//! What the tray shows and what the app notifies: the daemon's queued and running executions, kept from its live
//! events (`/api/v1/events`) after one listing, and the executions that end `failed`.

use server::api::{ApiToken, ExecutionPage};
use server::client::{ClientError, DaemonClient, EventStream};
use server::daemon::events::{Event, EventKind};
use std::collections::BTreeMap;
use std::time::Duration;

/// The most executions one listing asks for (the API's page limit).
const LIST_LIMIT: usize = 500;
/// Waits between reconnections to a daemon that closed the stream or cannot be reached: the first, then doubled.
const RECONNECT_FIRST: Duration = Duration::from_millis(500);
const RECONNECT_MOST: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Accepted, waiting for a free slot.
    Queued,
    Running,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub id: String,
    pub workflow: String,
    pub phase: Phase,
}

/// An execution that ended `failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub execution_id: String,
    /// Its workflow, when this app saw it start.
    pub workflow: Option<String>,
    pub error: Option<String>,
}

/// The unfinished executions, oldest first (execution ids are UUIDv7: their order is their start order).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Running {
    executions: BTreeMap<String, Execution>,
}

impl Running {
    pub fn executions(&self) -> impl Iterator<Item = &Execution> {
        self.executions.values()
    }

    pub fn len(&self) -> usize {
        self.executions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.executions.is_empty()
    }

    /// Adds an execution a listing found (`pending` or `running`).
    pub fn insert(&mut self, id: &str, workflow: &str, status: &str) {
        let phase = if status == "pending" { Phase::Queued } else { Phase::Running };
        self.executions.insert(id.to_owned(), Execution { id: id.to_owned(), workflow: workflow.to_owned(), phase });
    }

    /// Takes one live event; answers the failure when it ends an execution as `failed`.
    pub fn apply(&mut self, event: &Event) -> Option<Failure> {
        let id = &event.execution_id;
        match &event.kind {
            EventKind::Queued { workflow, .. } => {
                self.executions.entry(id.clone()).or_insert_with(|| Execution {
                    id: id.clone(),
                    workflow: workflow.clone(),
                    phase: Phase::Queued,
                });
            }
            EventKind::Started { workflow, .. } => {
                let execution = Execution { id: id.clone(), workflow: workflow.clone(), phase: Phase::Running };
                self.executions.insert(id.clone(), execution);
            }
            EventKind::Finished { status, error } => {
                let ended = self.executions.remove(id);
                if status == "failed" {
                    return Some(Failure {
                        execution_id: id.clone(),
                        workflow: ended.map(|execution| execution.workflow),
                        error: error.clone(),
                    });
                }
            }
            _ => {}
        }
        None
    }
}

/// What [`follow`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// The unfinished executions changed (or were listed anew).
    Running(Running),
    Failed(Failure),
    /// The daemon cannot be reached for now; [`follow`] keeps trying.
    Unreachable(String),
}

/// Keeps `report` told of the daemon's unfinished executions and failures, until the task is dropped.
/// Reconnects (with `Last-Event-ID`) when the daemon closes the stream: it stopped, or this app fell behind.
pub async fn follow(client: DaemonClient, token: Option<ApiToken>, mut report: impl FnMut(Update) + Send) {
    let lister = Lister::new(&client, token);
    let mut last_event_id = None;
    let mut wait = RECONNECT_FIRST;
    loop {
        match watch(&client, &lister, &mut last_event_id, &mut report).await {
            // Read for a while: the next break starts over from a short wait.
            Ok(true) => wait = RECONNECT_FIRST,
            Ok(false) => {}
            Err(err) => report(Update::Unreachable(err.to_string())),
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RECONNECT_MOST);
    }
}

/// One connection: subscribes, lists, then applies events until the stream ends. Answers whether any event came.
async fn watch(
    client: &DaemonClient,
    lister: &Lister,
    last_event_id: &mut Option<u64>,
    report: &mut impl FnMut(Update),
) -> Result<bool, ClientError> {
    // Subscribed before listing, so nothing that happens in between is missed.
    let mut stream: EventStream = client.events(None, *last_event_id).await?;
    let mut running = lister.unfinished().await?;
    report(Update::Running(running.clone()));
    let mut read_any = false;
    while let Some(event) = stream.next().await {
        let event = event?;
        read_any = true;
        if let EventKind::Lagged { missed } = event.kind {
            tracing::warn!("fell {missed} events behind the daemon; reconnecting");
            continue;
        }
        let before = running.clone();
        if let Some(failure) = running.apply(&event) {
            report(Update::Failed(failure));
        }
        if running != before {
            report(Update::Running(running.clone()));
        }
        *last_event_id = stream.last_event_id().or(*last_event_id);
    }
    Ok(read_any)
}

/// Lists the pending and running executions (`GET /api/v1/executions?status=...`), as the web UI does.
struct Lister {
    http: reqwest::Client,
    executions: reqwest::Url,
    token: Option<ApiToken>,
}

impl Lister {
    fn new(client: &DaemonClient, token: Option<ApiToken>) -> Lister {
        let executions = reqwest::Url::parse(&client.url())
            .and_then(|base| base.join("api/v1/executions"))
            .expect("the daemon's URL is http://ADDR/");
        // No proxy: the daemon is on this machine, whatever HTTP_PROXY says.
        let http = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap_or_default();
        Lister { http, executions, token }
    }

    async fn unfinished(&self) -> Result<Running, ClientError> {
        let mut running = Running::default();
        for status in ["pending", "running"] {
            let mut request =
                self.http.get(self.executions.clone()).query(&[("status", status), ("limit", &LIST_LIMIT.to_string())]);
            if let Some(token) = &self.token {
                request = request.bearer_auth(token.as_str());
            }
            let what = format!("GET /api/v1/executions?status={status}");
            let response = request.send().await.map_err(|err| ClientError::Unreachable {
                addr: self.executions.authority().to_owned(),
                reason: err.to_string(),
            })?;
            let status_code = response.status();
            if !status_code.is_success() {
                return Err(ClientError::Api {
                    status: status_code.as_u16(),
                    code: "unexpected".to_owned(),
                    message: format!("{what} answered {status_code}"),
                    details: None,
                });
            }
            let page: ExecutionPage = response
                .json()
                .await
                .map_err(|err| ClientError::Answer { what: what.clone(), reason: err.to_string() })?;
            for item in &page.items {
                running.insert(&item.id, &item.workflow, &item.status);
            }
        }
        Ok(running)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u64, execution_id: &str, kind: EventKind) -> Event {
        Event { id, execution_id: execution_id.to_owned(), at: "2026-11-29T10:00:00Z".to_owned(), kind }
    }

    fn ids(running: &Running) -> Vec<(&str, &str, Phase)> {
        running.executions().map(|e| (e.id.as_str(), e.workflow.as_str(), e.phase)).collect()
    }

    #[test]
    fn an_execution_is_listed_from_queued_to_finished() {
        let mut running = Running::default();
        let queued = EventKind::Queued { workflow: "backup".into(), trigger_type: "schedule".into() };
        assert_eq!(running.apply(&event(1, "e1", queued)), None);
        assert_eq!(ids(&running), [("e1", "backup", Phase::Queued)]);
        running.apply(&event(2, "e1", EventKind::Started { workflow: "backup".into(), resumed: false }));
        assert_eq!(ids(&running), [("e1", "backup", Phase::Running)]);
        running.apply(&event(3, "e1", EventKind::StepStarted { step_id: "copy".into() }));
        assert_eq!(running.len(), 1, "step events change nothing");
        let finished = EventKind::Finished { status: "success".into(), error: None };
        assert_eq!(running.apply(&event(4, "e1", finished)), None, "a success is no failure");
        assert!(running.is_empty());
    }

    #[test]
    fn a_failed_end_is_reported_with_its_workflow_and_error() {
        let mut running = Running::default();
        running.insert("e1", "deploy", "running");
        let failed = EventKind::Finished { status: "failed".into(), error: Some("step `push`: exit 1".into()) };
        let failure = running.apply(&event(9, "e1", failed.clone())).unwrap();
        assert_eq!(
            failure,
            Failure {
                execution_id: "e1".into(),
                workflow: Some("deploy".into()),
                error: Some("step `push`: exit 1".into())
            }
        );
        assert!(running.is_empty());
        // One this app never saw start (it started before the listing, and ended before the subscription).
        assert_eq!(running.apply(&event(10, "e0", failed)).unwrap().workflow, None);
    }

    #[test]
    fn cancelled_and_skipped_ends_are_not_failures() {
        let mut running = Running::default();
        running.insert("e1", "a", "pending");
        running.insert("e2", "b", "running");
        assert_eq!(
            running.apply(&event(1, "e1", EventKind::Finished { status: "cancelled".into(), error: None })),
            None
        );
        assert_eq!(running.apply(&event(2, "e2", EventKind::Finished { status: "skipped".into(), error: None })), None);
        assert!(running.is_empty());
    }

    #[test]
    fn a_late_queued_event_does_not_turn_a_running_execution_back_to_queued() {
        let mut running = Running::default();
        running.insert("e1", "a", "running");
        running.apply(&event(1, "e1", EventKind::Queued { workflow: "a".into(), trigger_type: "manual".into() }));
        assert_eq!(ids(&running), [("e1", "a", Phase::Running)]);
    }
}
