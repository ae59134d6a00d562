//! A client of the running daemon, shared by the `pilot` CLI and the desktop app.
//!
//! [`find_daemon`] tells whether a daemon runs for a `$PILOT_HOME`: while it runs, `pilot serve` holds an exclusive
//! lock on `run/daemon.lock`, whose text says `process PID, ADDR`. A lock file nobody holds was left by a daemon
//! that stopped. [`DaemonClient`] then calls the API under `/api/v1` (plain HTTP to that address, no proxy), with
//! `Authorization: Bearer TOKEN` when `$PILOT_HOME/api-token` exists, and answers with the API's own types.
//! Built on reqwest, as the connectors are (rustls with the ring provider, though no call here needs TLS).

use crate::api::{
    ApiToken, CancelResult, ExecutionDetail, Health, RunAccepted, RunRequest, ScheduledTrigger, WorkflowDetail,
    WorkflowSummary,
};
use crate::daemon::DaemonLock;
use crate::daemon::events::Event;
use crate::home::PilotHome;
use executor::store::Status;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// How long connecting to the daemon may take (it is on this machine, or near).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long an ordinary call may take; the events stream has no limit.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no daemon is running for {home} (start it with `pilot serve`)", home = home.display())]
    NotRunning { home: PathBuf },
    #[error("cannot read {path}: {reason}", path = path.display())]
    Unreadable { path: PathBuf, reason: String },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    #[error("cannot reach the daemon at {addr}: {reason}")]
    Unreachable { addr: String, reason: String },
    /// The daemon answered with an error: its status, `code` and message.
    #[error("{message}")]
    Api { status: u16, code: String, message: String, details: Option<Value> },
    #[error("the daemon's answer to {what} is not what this client reads: {reason}")]
    Answer { what: String, reason: String },
}

impl ClientError {
    /// The HTTP status of an answered error.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The daemon holding a `$PILOT_HOME`'s lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonProcess {
    pub pid: u32,
    /// The address it listens on, as it wrote it (`0.0.0.0:7777` when it listens on every address).
    pub addr: SocketAddr,
}

impl DaemonProcess {
    /// Where to reach it from this machine: loopback for a daemon listening on every address.
    pub fn connect_addr(&self) -> SocketAddr {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.addr.port())
    }
}

/// The daemon running for `home`, or `None` when none is.
pub fn find_daemon(home: &PilotHome) -> Result<Option<DaemonProcess>, ClientError> {
    let path = DaemonLock::path(home);
    let unreadable = |err: std::io::Error| ClientError::Unreadable { path: path.clone(), reason: err.to_string() };
    let file = match std::fs::File::open(&path) {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(unreadable(err)),
    };
    match file.try_lock_shared() {
        // Nobody holds it; ours goes with the file.
        Ok(()) => return Ok(None),
        Err(std::fs::TryLockError::WouldBlock) => {}
        Err(std::fs::TryLockError::Error(err)) => return Err(unreadable(err)),
    }
    drop(file);
    // The daemon rewrites the note once it knows its port: read again while it is being written.
    for _ in 0..20 {
        let note = std::fs::read_to_string(&path).map_err(unreadable)?;
        if let Some(process) = parse_lock_note(&note) {
            return Ok(Some(process));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let reason = "it is held, but does not say `process PID, ADDR`".to_owned();
    Err(ClientError::Unreadable { path, reason })
}

/// `process 4242, 127.0.0.1:7777`.
fn parse_lock_note(note: &str) -> Option<DaemonProcess> {
    let (pid, addr) = note.trim().strip_prefix("process ")?.split_once(", ")?;
    Some(DaemonProcess { pid: pid.parse().ok()?, addr: addr.trim().parse().ok()? })
}

/// Calls to one daemon's API.
#[derive(Clone)]
pub struct DaemonClient {
    process: DaemonProcess,
    /// `http://ADDR/api/v1`.
    base: reqwest::Url,
    http: reqwest::Client,
    token: Option<ApiToken>,
}

impl std::fmt::Debug for DaemonClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DaemonClient").field("base", &self.base.as_str()).field("token", &self.token).finish()
    }
}

impl DaemonClient {
    /// A client of the daemon running for `home`; [`ClientError::NotRunning`] when none is.
    pub fn connect(home: &PilotHome) -> Result<DaemonClient, ClientError> {
        let process = find_daemon(home)?.ok_or_else(|| ClientError::NotRunning { home: home.root().to_owned() })?;
        let token = ApiToken::load(home.root()).map_err(|err| ClientError::Unreadable {
            path: home.root().join(crate::api::TOKEN_FILE),
            reason: err.to_string(),
        })?;
        DaemonClient::new(process, token)
    }

    /// A client of the daemon `process`, sending `token` when given.
    pub fn new(process: DaemonProcess, token: Option<ApiToken>) -> Result<DaemonClient, ClientError> {
        let base = reqwest::Url::parse(&format!("http://{}/api/v1", process.connect_addr()))
            .map_err(|err| ClientError::Setup(err.to_string()))?;
        Ok(DaemonClient { process, base, http: http_client()?, token })
    }

    pub fn process(&self) -> &DaemonProcess {
        &self.process
    }

    /// The daemon's address as a URL (the UI is served there).
    pub fn url(&self) -> String {
        format!("http://{}/", self.process.connect_addr())
    }

    pub async fn health(&self) -> Result<Health, ClientError> {
        self.get(&["health"]).await
    }

    /// Every workflow the daemon knows, with its triggers' next fire times.
    pub async fn workflows(&self) -> Result<Vec<WorkflowSummary>, ClientError> {
        self.get(&["workflows"]).await
    }

    pub async fn workflow(&self, name: &str) -> Result<WorkflowDetail, ClientError> {
        self.get(&["workflows", name]).await
    }

    /// Enables or disables a workflow; answers it as it is now.
    pub async fn set_enabled(&self, name: &str, enabled: bool) -> Result<WorkflowSummary, ClientError> {
        let verb = if enabled { "enable" } else { "disable" };
        self.post(&["workflows", name, verb], &Value::Null).await
    }

    /// Every enabled schedule with its next fire time.
    pub async fn scheduled(&self) -> Result<Vec<ScheduledTrigger>, ClientError> {
        self.get(&["scheduled"]).await
    }

    /// Runs a workflow by name with `inputs` (checked by the daemon: a wrong one is a 422).
    pub async fn run(&self, name: &str, inputs: Map<String, Value>) -> Result<RunAccepted, ClientError> {
        self.post(&["workflows", name, "run"], &RunRequest { inputs }).await
    }

    pub async fn execution(&self, id: &str) -> Result<ExecutionDetail, ClientError> {
        self.get(&["executions", id]).await
    }

    /// Asks the daemon to cancel an execution (a 409 when it has already finished).
    pub async fn cancel(&self, id: &str) -> Result<CancelResult, ClientError> {
        self.post(&["executions", id, "cancel"], &Value::Null).await
    }

    /// Asks for the execution every `every` until it has finished.
    pub async fn wait_until_finished(&self, id: &str, every: Duration) -> Result<ExecutionDetail, ClientError> {
        loop {
            let detail = self.execution(id).await?;
            if is_finished(&detail.status) {
                return Ok(detail);
            }
            tokio::time::sleep(every).await;
        }
    }

    /// The live events (of one execution, or of all), from after `last_event_id` when given. Once this answers,
    /// the daemon is subscribed: nothing published later is missed.
    pub async fn events(
        &self,
        execution_id: Option<&str>,
        last_event_id: Option<u64>,
    ) -> Result<EventStream, ClientError> {
        let mut url = self.url_of(&["events"]);
        if let Some(id) = execution_id {
            url.query_pairs_mut().append_pair("execution_id", id);
        }
        let mut request = self.authorized(self.http.get(url));
        if let Some(last) = last_event_id {
            request = request.header("last-event-id", last.to_string());
        }
        let response = self.send(request, "GET /events").await?;
        Ok(EventStream {
            response,
            parser: SseParser::default(),
            ready: std::collections::VecDeque::new(),
            last_id: None,
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &[&str]) -> Result<T, ClientError> {
        let url = self.url_of(path);
        let what = format!("GET {}", url.path());
        let response = self.send(self.authorized(self.http.get(url)).timeout(CALL_TIMEOUT), &what).await?;
        read_json(response, &what).await
    }

    async fn post<T: DeserializeOwned>(&self, path: &[&str], body: &impl serde::Serialize) -> Result<T, ClientError> {
        let url = self.url_of(path);
        let what = format!("POST {}", url.path());
        let request = self.authorized(self.http.post(url)).timeout(CALL_TIMEOUT).json(body);
        let response = self.send(request, &what).await?;
        read_json(response, &what).await
    }

    /// `/api/v1/SEGMENT/...`, each segment percent-encoded (a workflow name may hold any character).
    fn url_of(&self, path: &[&str]) -> reqwest::Url {
        let mut url = self.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(path);
        }
        url
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(token) => request.bearer_auth(token.as_str()),
            None => request,
        }
    }

    /// Sends a request; an error status becomes [`ClientError::Api`] with the daemon's message.
    async fn send(&self, request: reqwest::RequestBuilder, what: &str) -> Result<reqwest::Response, ClientError> {
        let response = request.send().await.map_err(|err| ClientError::Unreachable {
            addr: self.process.connect_addr().to_string(),
            reason: error_chain(&err),
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let error = &body["error"];
        let text = |key: &str| error[key].as_str().map(str::to_owned);
        Err(ClientError::Api {
            status,
            code: text("code").unwrap_or_else(|| "unknown".to_owned()),
            message: text("message").unwrap_or_else(|| format!("{what} answered {status}")),
            details: error.get("details").cloned(),
        })
    }
}

fn http_client() -> Result<reqwest::Client, ClientError> {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        // Fails only when a provider is already installed (by the connectors, or an embedding program).
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    // No proxy: the daemon is reached directly, whatever HTTP_PROXY says.
    reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|err| ClientError::Setup(error_chain(&err)))
}

/// An error with its causes ("error sending request: connection refused").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response, what: &str) -> Result<T, ClientError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|err| ClientError::Answer { what: what.to_owned(), reason: error_chain(&err) })?;
    serde_json::from_slice(&bytes).map_err(|err| ClientError::Answer { what: what.to_owned(), reason: err.to_string() })
}

/// Whether an execution status (as the API writes it) is an end.
pub fn is_finished(status: &str) -> bool {
    Status::parse(status).is_some_and(Status::is_finished)
}

/// An execution as `pilot run --json` prints a local one (`ExecutionRecord::to_json`): the API's detail without
/// what only the API shows (version, trigger, inputs, durations, retry links).
pub fn execution_json(detail: &ExecutionDetail) -> Value {
    let steps: Vec<Value> = detail
        .steps
        .iter()
        .map(|step| {
            serde_json::json!({
                "id": step.id,
                "status": step.status,
                "attempts": step.attempts,
                "started_at": step.started_at,
                "completed_at": step.completed_at,
                "input": step.input.clone().unwrap_or(Value::Null),
                "output": step.output.clone().unwrap_or(Value::Null),
                "error": step.error,
            })
        })
        .collect();
    serde_json::json!({
        "id": detail.id,
        "workflow": detail.workflow,
        "status": detail.status,
        "started_at": detail.started_at,
        "completed_at": detail.completed_at,
        "error": detail.error,
        "steps": steps,
    })
}

/// The live events as they come. A client that fell behind gets a `lagged` event, then the stream ends:
/// reconnect with [`EventStream::last_event_id`].
pub struct EventStream {
    response: reqwest::Response,
    parser: SseParser,
    ready: std::collections::VecDeque<Event>,
    last_id: Option<u64>,
}

impl EventStream {
    /// The next event; `None` when the daemon closed the stream (it stops, or this client fell behind).
    pub async fn next(&mut self) -> Option<Result<Event, ClientError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                if event.id != 0 {
                    self.last_id = Some(event.id);
                }
                return Some(Ok(event));
            }
            let chunk = match self.response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return None,
                Err(err) => {
                    let what = "GET /events".to_owned();
                    return Some(Err(ClientError::Answer { what, reason: error_chain(&err) }));
                }
            };
            for message in self.parser.feed(&chunk) {
                match serde_json::from_str::<Event>(&message.data) {
                    Ok(event) => self.ready.push_back(event),
                    Err(err) => {
                        let what = format!("GET /events (event `{}`)", message.event.unwrap_or_default());
                        return Some(Err(ClientError::Answer { what, reason: err.to_string() }));
                    }
                }
            }
        }
    }

    /// The id of the last event read, for `Last-Event-ID` when reconnecting.
    pub fn last_event_id(&self) -> Option<u64> {
        self.last_id
    }
}

/// One server-sent event: its `event:` name and its `data:` lines joined.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SseMessage {
    event: Option<String>,
    data: String,
}

/// Reads `text/event-stream` bytes as they come, in chunks cut anywhere (even inside a character).
#[derive(Debug, Default)]
struct SseParser {
    line: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
}

impl SseParser {
    fn feed(&mut self, bytes: &[u8]) -> Vec<SseMessage> {
        let mut messages = Vec::new();
        for &byte in bytes {
            if byte != b'\n' {
                self.line.push(byte);
                continue;
            }
            let mut line = std::mem::take(&mut self.line);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if let Some(message) = self.take_line(&String::from_utf8_lossy(&line)) {
                messages.push(message);
            }
        }
        messages
    }

    /// A blank line ends a message; `:` starts a comment (the keep-alive).
    fn take_line(&mut self, line: &str) -> Option<SseMessage> {
        if line.is_empty() {
            let event = self.event.take();
            return self.data.take().map(|data| SseMessage { event, data });
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::events::EventKind;

    #[test]
    fn the_lock_note_gives_the_process_and_its_address() {
        let found = parse_lock_note("process 4242, 127.0.0.1:7777\n").unwrap();
        assert_eq!(found, DaemonProcess { pid: 4242, addr: "127.0.0.1:7777".parse().unwrap() });
        assert_eq!(parse_lock_note(""), None, "a note being rewritten");
        assert_eq!(parse_lock_note("process 4242, "), None);
    }

    #[test]
    fn a_daemon_listening_everywhere_is_reached_on_loopback() {
        let everywhere = DaemonProcess { pid: 1, addr: "0.0.0.0:7777".parse().unwrap() };
        assert_eq!(everywhere.connect_addr().to_string(), "127.0.0.1:7777");
        let v6 = DaemonProcess { pid: 1, addr: "[::]:80".parse().unwrap() };
        assert_eq!(v6.connect_addr().to_string(), "[::1]:80");
        let lan = DaemonProcess { pid: 1, addr: "192.168.1.5:7777".parse().unwrap() };
        assert_eq!(lan.connect_addr(), lan.addr);
    }

    #[test]
    fn no_lock_file_and_a_lock_file_nobody_holds_both_mean_no_daemon() {
        let dir = tempfile::tempdir().unwrap();
        let home = PilotHome::at(dir.path());
        assert_eq!(find_daemon(&home).unwrap(), None);
        let lock = DaemonLock::acquire(&home, "127.0.0.1:7001").unwrap();
        drop(lock);
        assert!(DaemonLock::path(&home).exists(), "the file stays behind");
        assert_eq!(find_daemon(&home).unwrap(), None);
    }

    #[test]
    fn a_held_lock_names_the_daemon_and_looking_never_stops_one_from_starting() {
        let dir = tempfile::tempdir().unwrap();
        let home = PilotHome::at(dir.path());
        let lock = DaemonLock::acquire(&home, "127.0.0.1:7001").unwrap();
        let found = find_daemon(&home).unwrap().unwrap();
        assert_eq!((found.pid, found.addr.port()), (std::process::id(), 7001));
        drop(lock);
        let looking = std::thread::spawn({
            let home = home.clone();
            move || (0..200).for_each(|_| drop(find_daemon(&home)))
        });
        for _ in 0..20 {
            drop(DaemonLock::acquire(&home, "127.0.0.1:7001").expect("a look is no daemon"));
        }
        looking.join().unwrap();
    }

    #[test]
    fn events_are_read_from_chunks_cut_anywhere() {
        let stream = concat!(
            ": keep-alive\n\n",
            "event: step_started\r\nid: 7\r\ndata: {\"id\":7,\"execution_id\":\"e1\",\"at\":\"t\",\"type\":\"step_started\",\"step_id\":\"caf\u{e9}\"}\r\n\r\n",
            "event: finished\ndata: {\"id\":8,\"execution_id\":\"e1\",\"at\":\"t\",\n",
            "data: \"type\":\"finished\",\"status\":\"success\",\"error\":null}\n\n",
        )
        .as_bytes();
        for cut in 1..stream.len() {
            let mut parser = SseParser::default();
            let mut messages = parser.feed(&stream[..cut]);
            messages.extend(parser.feed(&stream[cut..]));
            let events: Vec<Event> = messages.iter().map(|m| serde_json::from_str(&m.data).unwrap()).collect();
            assert_eq!(events.len(), 2, "cut at {cut}");
            assert_eq!(events[0].kind, EventKind::StepStarted { step_id: "café".into() });
            assert_eq!(events[1].kind, EventKind::Finished { status: "success".into(), error: None });
            assert_eq!(messages[1].event.as_deref(), Some("finished"));
        }
    }

    #[test]
    fn a_remote_execution_prints_as_a_local_one() {
        let detail: ExecutionDetail = serde_json::from_value(serde_json::json!({
            "id": "e1", "workflow": "w", "workflow_version": 2, "status": "failed",
            "trigger": {"type": "manual"}, "input": {"n": 1},
            "started_at": "2026-11-24T10:00:00.000000Z", "completed_at": "2026-11-24T10:00:01.000000Z",
            "duration_ms": 1000, "error": "boom", "retry_of": null, "retry_from": null,
            "steps": [{"id": "a", "status": "failed", "attempts": 2, "started_at": null, "completed_at": null,
                       "duration_ms": null, "input": null, "output": null, "error": "boom"}]
        }))
        .unwrap();
        assert_eq!(
            execution_json(&detail),
            serde_json::json!({
                "id": "e1", "workflow": "w", "status": "failed",
                "started_at": "2026-11-24T10:00:00.000000Z", "completed_at": "2026-11-24T10:00:01.000000Z",
                "error": "boom",
                "steps": [{"id": "a", "status": "failed", "attempts": 2, "started_at": null, "completed_at": null,
                           "input": null, "output": null, "error": "boom"}]
            })
        );
    }
}
