//! Real HTTP servers on 127.0.0.1 for the http, notify and shell tests: each records every request exactly as it
//! arrived (method, path, query, headers, body bytes) and answers as the test's responder says.
#![allow(dead_code)]

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use connectors::{ActionContext, ActionError, Connector, Credential};
use expr_grammar::Value;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8(self.body.to_vec()).expect("request body is UTF-8")
    }

    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// What the server does with a request.
pub enum Reply {
    Now(Response),
    /// Never answer: for timeout and cancel tests.
    Never,
}

pub fn reply(status: u16, content_type: &str, body: impl Into<Body>) -> Reply {
    let status = StatusCode::from_u16(status).expect("valid status");
    Reply::Now((status, [("content-type", content_type.to_string())], body.into()).into_response())
}

pub fn json_reply(status: u16, json: serde_json::Value) -> Reply {
    reply(status, "application/json", json.to_string())
}

type Responder = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

struct ServerState {
    requests: Mutex<Vec<Recorded>>,
    arrived: Notify,
    responder: Responder,
}

pub struct TestServer {
    pub address: SocketAddr,
    state: Arc<ServerState>,
}

impl TestServer {
    pub async fn start(responder: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> TestServer {
        let state = Arc::new(ServerState {
            requests: Mutex::new(Vec::new()),
            arrived: Notify::new(),
            responder: Arc::new(responder),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        TestServer { address, state }
    }

    /// A server answering every request `200 {"ok": true}`.
    pub async fn ok() -> TestServer {
        TestServer::start(|_| json_reply(200, serde_json::json!({"ok": true}))).await
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{path_and_query}", self.address)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("requests lock").clone()
    }

    pub fn only_request(&self) -> Recorded {
        let requests = self.requests();
        assert_eq!(requests.len(), 1, "expected exactly one request, got {requests:#?}");
        requests.into_iter().next().expect("one request")
    }

    /// Waits until `count` requests have arrived.
    pub async fn wait_for_requests(&self, count: usize) {
        loop {
            let notified = self.state.arrived.notified();
            if self.requests().len() >= count {
                return;
            }
            notified.await;
        }
    }
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let recorded =
        Recorded { method, path: uri.path().to_string(), query: uri.query().map(str::to_string), headers, body };
    let answer = (state.responder)(&recorded);
    state.requests.lock().expect("requests lock").push(recorded);
    state.arrived.notify_waiters();
    match answer {
        Reply::Now(response) => response,
        Reply::Never => std::future::pending().await,
    }
}

/// A port on 127.0.0.1 nothing listens on (bound, then released).
pub async fn closed_port() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    listener.local_addr().expect("address").port()
}

pub fn ctx() -> ActionContext {
    ActionContext {
        execution_id: "exec-test".to_string(),
        step_id: "step-test".to_string(),
        cancel: CancellationToken::new(),
        credential: None,
        ..Default::default()
    }
}

pub fn ctx_with_credential(provider: &str, data: serde_json::Value) -> ActionContext {
    ActionContext {
        credential: Some(Credential { name: "test-cred".to_string(), provider: provider.to_string(), data }),
        ..ctx()
    }
}

/// An input object from JSON, plus typed extras (durations have no JSON form).
pub fn input(json: serde_json::Value) -> Value {
    Value::from_json(&json)
}

pub fn input_with<const N: usize>(json: serde_json::Value, extras: [(&str, Value); N]) -> Value {
    let Value::Object(object) = Value::from_json(&json) else { panic!("input must be an object") };
    let mut object = (*object).clone();
    for (name, value) in extras {
        object.insert(name.to_string(), value);
    }
    Value::from(object)
}

pub fn millis(ms: i64) -> Value {
    Value::Duration(expr_grammar::Duration(ms * 1000))
}

pub fn seconds(s: i64) -> Value {
    Value::Duration(expr_grammar::Duration(s * 1_000_000))
}

/// A field of an output object.
pub fn field<'a>(value: &'a Value, name: &str) -> &'a Value {
    value.get(name).unwrap_or_else(|| panic!("output has no `{name}`: {value:?}"))
}

pub fn text_of<'a>(value: &'a Value, name: &str) -> &'a str {
    field(value, name).as_str().unwrap_or_else(|| panic!("`{name}` is not a string: {value:?}"))
}

/// The message of a `Failed` error; panics on success or another kind of error.
pub fn failure_message(result: Result<Value, ActionError>) -> String {
    match result {
        Err(ActionError::Failed { message }) => message,
        other => panic!("expected a failure, got {other:?}"),
    }
}

pub async fn run(
    connector: &dyn Connector,
    action: &str,
    input: Value,
    ctx: &ActionContext,
) -> Result<Value, ActionError> {
    connector.execute(action, input, ctx).await
}
