//! Real HTTP servers on 127.0.0.1 that speak OpenAI's, Anthropic's and Ollama's API shapes: they check requests the
//! way the real services do (keys, required headers and fields), answer in the services' JSON formats, record every
//! request for the tests' assertions, and can be scripted to fail, stall or answer with given text.
#![allow(dead_code)]

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use connectors::ActionContext;
use connectors::Credential;
use connectors::ai::{AiSettings, Provider};
use expr_grammar::Value;
use serde_json::{Value as Json, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

pub const KEY: &str = "sk-test-0123456789abcdef";

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Json,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }
}

/// What the server does with the next request that passes validation.
#[derive(Debug, Clone)]
pub enum Script {
    /// A normal answer in the provider's format whose text is this (chat) ...
    Answer(String),
    /// ... with these token log-probabilities (OpenAI, when the request asked for them).
    AnswerWithLogprobs(String, Vec<(String, f64)>),
    /// A raw status, headers and body.
    Raw { status: u16, headers: Vec<(&'static str, String)>, body: String },
    /// Never answer (until the test ends).
    Stall,
}

impl Script {
    pub fn status(status: u16, body: &str) -> Script {
        Script::Raw { status, headers: Vec::new(), body: body.to_string() }
    }

    pub fn status_with_header(status: u16, header: &'static str, value: &str, body: &str) -> Script {
        Script::Raw { status, headers: vec![(header, value.to_string())], body: body.to_string() }
    }
}

struct ServerState {
    provider: Provider,
    /// Refuse requests without the test key, as the hosted services do.
    key_required: bool,
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Script>>,
    arrived: Notify,
}

pub struct FakeProvider {
    pub base_url: String,
    state: Arc<ServerState>,
}

impl FakeProvider {
    /// A server that checks the key as the provider's hosted service does.
    pub async fn start(provider: Provider) -> FakeProvider {
        FakeProvider::serve(provider, true).await
    }

    /// A server that needs no key, as llama.cpp's server, vLLM, LM Studio or LocalAI started without one.
    pub async fn start_keyless(provider: Provider) -> FakeProvider {
        FakeProvider::serve(provider, false).await
    }

    async fn serve(provider: Provider, key_required: bool) -> FakeProvider {
        let state = Arc::new(ServerState {
            provider,
            key_required,
            requests: Mutex::new(Vec::new()),
            script: Mutex::new(VecDeque::new()),
            arrived: Notify::new(),
        });
        let app = Router::new().fallback(handle).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let address = listener.local_addr().expect("local address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        FakeProvider { base_url: format!("http://{address}"), state }
    }

    /// Queues what to do with the next requests, in order; when the queue is empty, requests get a default answer.
    pub fn script(&self, steps: impl IntoIterator<Item = Script>) {
        self.state.script.lock().expect("script lock").extend(steps);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests.lock().expect("requests lock").clone()
    }

    pub fn request_count(&self) -> usize {
        self.state.requests.lock().expect("requests lock").len()
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
            if self.request_count() >= count {
                return;
            }
            notified.await;
        }
    }

    /// Settings pointing `provider` (the default provider) at this server, with model `test-model`, a retry
    /// policy with tiny waits and a generous timeout.
    pub fn settings(&self) -> AiSettings {
        AiSettings {
            default_provider: self.state.provider,
            initial_backoff_ms: 1,
            max_backoff_ms: 20,
            timeout_seconds: 30.0,
            ..AiSettings::default()
        }
        .with_base_url(self.state.provider, &self.base_url)
        .with_model(self.state.provider, "test-model")
    }
}

async fn handle(State(state): State<Arc<ServerState>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let body: Json = serde_json::from_slice(&body).unwrap_or(Json::Null);
    let recorded = Recorded { path: uri.path().to_string(), headers, body };
    state.requests.lock().expect("requests lock").push(recorded.clone());
    state.arrived.notify_waiters();
    let route = match state.provider {
        Provider::OpenAi => openai(&recorded, state.key_required),
        Provider::Anthropic => anthropic(&recorded, state.key_required),
        Provider::Ollama => ollama(&recorded),
    };
    let answer = match route {
        Ok(answer) => answer,
        Err(refusal) => return *refusal,
    };
    let next = state.script.lock().expect("script lock").pop_front();
    match next {
        None => answer.respond(&recorded, "Hello from the test server.", None),
        Some(Script::Answer(text)) => answer.respond(&recorded, &text, None),
        Some(Script::AnswerWithLogprobs(text, logprobs)) => answer.respond(&recorded, &text, Some(&logprobs)),
        Some(Script::Raw { status, headers, body }) => raw(status, &headers, body),
        Some(Script::Stall) => {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            raw(500, &[], "stalled".to_string())
        }
    }
}

fn raw(status: u16, headers: &[(&'static str, String)], body: String) -> Response {
    let mut response = (StatusCode::from_u16(status).expect("status"), body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(*name, value.parse().expect("header value"));
    }
    response.headers_mut().insert("content-type", "application/json".parse().expect("content type"));
    response
}

fn json_response(status: u16, body: Json) -> Response {
    raw(status, &[], body.to_string())
}

/// Which successful answer a request that passed validation gets.
enum Answer {
    OpenAiChat,
    OpenAiEmbeddings,
    AnthropicMessage,
    OllamaChat,
    OllamaEmbed,
}

impl Answer {
    fn respond(&self, request: &Recorded, text: &str, logprobs: Option<&[(String, f64)]>) -> Response {
        let model = request.body["model"].as_str().unwrap_or_default().to_string();
        let inputs = embed_inputs(&request.body);
        let body = match self {
            Answer::OpenAiChat => openai_completion(&model, text, request, logprobs),
            Answer::OpenAiEmbeddings => {
                // Listed last to first: clients must order by `index`, as the API documents.
                let data: Vec<Json> = inputs
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(index, text)| json!({"object": "embedding", "index": index, "embedding": fake_vector(text)}))
                    .collect();
                json!({"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": 8, "total_tokens": 8}})
            }
            Answer::AnthropicMessage => json!({
                "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 25, "output_tokens": 12}
            }),
            Answer::OllamaChat => json!({
                "model": model, "created_at": "2025-06-01T10:00:00.000000Z",
                "message": {"role": "assistant", "content": text}, "done_reason": "stop", "done": true,
                "total_duration": 4883583458u64, "load_duration": 1334875, "prompt_eval_count": 26,
                "prompt_eval_duration": 342546000, "eval_count": 9, "eval_duration": 4535599000u64
            }),
            Answer::OllamaEmbed => {
                let embeddings: Vec<Json> = inputs.iter().map(|text| json!(fake_vector(text))).collect();
                json!({"model": model, "embeddings": embeddings, "total_duration": 14143917, "load_duration": 1019500,
                       "prompt_eval_count": 8})
            }
        };
        json_response(200, body)
    }
}

fn openai_completion(model: &str, text: &str, request: &Recorded, logprobs: Option<&[(String, f64)]>) -> Json {
    let wants_logprobs = request.body["logprobs"] == json!(true);
    let logprobs = match (wants_logprobs, logprobs) {
        (true, Some(tokens)) => json!({"content": tokens.iter().map(|(token, logprob)| json!({
            "token": token, "logprob": logprob, "bytes": token.as_bytes(), "top_logprobs": []
        })).collect::<Vec<_>>(), "refusal": null}),
        _ => Json::Null,
    };
    json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion", "created": 1741569952,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null, "annotations": []},
                     "logprobs": logprobs, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29},
        "service_tier": "default", "system_fingerprint": "fp_fc9f1d7035"
    })
}

/// A deterministic 3-dimensional vector for a text, so tests can tell which vector belongs to which input.
pub fn fake_vector(text: &str) -> Vec<f64> {
    let first = text.bytes().next().map(f64::from).unwrap_or(0.0);
    vec![text.len() as f64, first / 256.0, 0.5]
}

fn embed_inputs(body: &Json) -> Vec<String> {
    match &body["input"] {
        Json::String(text) => vec![text.clone()],
        Json::Array(items) => items.iter().map(|item| item.as_str().unwrap_or_default().to_string()).collect(),
        _ => Vec::new(),
    }
}

fn openai(request: &Recorded, key_required: bool) -> Result<Answer, Box<Response>> {
    let error = |status: u16, message: String, code: &str| {
        json_response(
            status,
            json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}}),
        )
    };
    let answer = match request.path.as_str() {
        "/v1/chat/completions" => Answer::OpenAiChat,
        "/v1/embeddings" => Answer::OpenAiEmbeddings,
        other => return Err(Box::new(error(404, format!("Invalid URL (POST {other})"), "unknown_url"))),
    };
    match request.header("authorization") {
        _ if !key_required => {}
        Some(value) if value == format!("Bearer {KEY}") => {}
        // The real service masks most of a wrong key; this one echoes it whole, to prove we redact it.
        Some(value) => {
            let key = value.trim_start_matches("Bearer ");
            return Err(Box::new(error(401, format!("Incorrect API key provided: {key}."), "invalid_api_key")));
        }
        None => return Err(Box::new(error(401, "You didn't provide an API key.".to_string(), "missing_api_key"))),
    }
    if !request.body["model"].is_string() {
        return Err(Box::new(error(400, "you must provide a model parameter".to_string(), "missing_model")));
    }
    Ok(answer)
}

fn anthropic(request: &Recorded, key_required: bool) -> Result<Answer, Box<Response>> {
    let error = |status: u16, kind: &str, message: &str| {
        json_response(status, json!({"type": "error", "error": {"type": kind, "message": message}}))
    };
    if request.path != "/v1/messages" {
        return Err(Box::new(error(404, "not_found_error", "Not Found")));
    }
    if key_required && request.header("x-api-key") != Some(KEY) {
        return Err(Box::new(error(401, "authentication_error", "invalid x-api-key")));
    }
    if request.header("anthropic-version") != Some("2023-06-01") {
        return Err(Box::new(error(400, "invalid_request_error", "anthropic-version: header is required")));
    }
    if !request.body["max_tokens"].is_u64() {
        return Err(Box::new(error(400, "invalid_request_error", "max_tokens: Field required")));
    }
    let messages = request.body["messages"].as_array().cloned().unwrap_or_default();
    if messages.is_empty() || messages.iter().any(|m| !matches!(m["role"].as_str(), Some("user" | "assistant"))) {
        return Err(Box::new(error(400, "invalid_request_error", "messages: roles must be `user` or `assistant`")));
    }
    if request.body.get("system").is_some_and(|system| !system.is_string()) {
        return Err(Box::new(error(400, "invalid_request_error", "system: Input should be a valid string")));
    }
    Ok(Answer::AnthropicMessage)
}

fn ollama(request: &Recorded) -> Result<Answer, Box<Response>> {
    let error = |status: u16, message: &str| json_response(status, json!({"error": message}));
    let answer = match request.path.as_str() {
        "/api/chat" => Answer::OllamaChat,
        "/api/embed" => Answer::OllamaEmbed,
        _ => return Err(Box::new(raw(404, &[], "404 page not found".to_string()))),
    };
    if !request.body["model"].is_string() {
        return Err(Box::new(error(400, "model is required")));
    }
    if matches!(answer, Answer::OllamaChat) && request.body["stream"] != json!(false) {
        // Real Ollama streams NDJSON unless told not to.
        return Err(Box::new(raw(200, &[], "{\"done\":false}\n{\"done\":true}\n".to_string())));
    }
    Ok(answer)
}

// --- step helpers --------------------------------------------------------------------------------------------------

pub fn api_key_credential(data: Json) -> Credential {
    Credential { name: "ai-key".to_string(), provider: "api_key".to_string(), data }
}

pub fn ctx_with(credential: Option<Credential>) -> ActionContext {
    ActionContext {
        execution_id: "exec-1".to_string(),
        step_id: "ask".to_string(),
        cancel: CancellationToken::new(),
        credential,
        ..Default::default()
    }
}

/// A step context holding the test key as credential `ai-key`.
pub fn ctx() -> ActionContext {
    ctx_with(Some(api_key_credential(json!({"api_key": KEY}))))
}

/// A step input from JSON.
pub fn input(json: Json) -> Value {
    match json {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().expect("number")),
        },
        Json::String(s) => Value::String(s.into()),
        Json::Array(items) => Value::List(Arc::new(items.into_iter().map(input).collect())),
        Json::Object(fields) => Value::Object(Arc::new(fields.into_iter().map(|(k, v)| (k, input(v))).collect())),
    }
}

/// A field of an output object, following a `.`-separated path.
pub fn field<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(value, |value, name| match value {
        Value::Object(fields) => fields.get(name).unwrap_or_else(|| panic!("no field `{name}` in {value:?}")),
        other => panic!("`{name}` of a non-object {other:?}"),
    })
}

pub fn text<'a>(value: &'a Value, path: &str) -> &'a str {
    match field(value, path) {
        Value::String(text) => text,
        other => panic!("`{path}` is not a string: {other:?}"),
    }
}

pub fn floats(value: &Value) -> Vec<f64> {
    match value {
        Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Float(x) => *x,
                other => panic!("not a float: {other:?}"),
            })
            .collect(),
        other => panic!("not a list: {other:?}"),
    }
}
