//! Sending a request and reading its whole answer into memory, abortable by the step's cancel token.

use super::errors::describe_error;
use super::request::{Call, display_url};
use crate::ActionError;
use expr_grammar::{Object, Value};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use tokio_util::sync::CancellationToken;

/// Bodies larger than this are refused rather than held in memory.
pub(crate) const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A complete answer.
pub(crate) struct Received {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Sends `request` and reads the body, unless the step is cancelled first.
pub(crate) async fn receive(
    request: reqwest::RequestBuilder,
    call: &Call<'_>,
    cancel: &CancellationToken,
) -> Result<Received, ActionError> {
    tokio::select! {
        _ = cancel.cancelled() => Err(ActionError::Cancelled),
        received = send_and_read(request, call) => received,
    }
}

async fn send_and_read(request: reqwest::RequestBuilder, call: &Call<'_>) -> Result<Received, ActionError> {
    let mut response = request.send().await.map_err(|err| describe_error(&err, call))?;
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|err| describe_error(&err, call))? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ActionError::Failed {
                message: format!(
                    "the response of {} {} is larger than {} MiB; use http/download to save it to a file",
                    call.method,
                    display_url(call.url),
                    MAX_BODY_BYTES / (1024 * 1024)
                ),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Received { status, headers, body })
}

impl Received {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `{status, headers, body, text}`: `body` is the parsed JSON when the response declares JSON and parses.
    pub(crate) fn to_value(&self) -> Value {
        let text = self.text();
        let body = if is_json(&self.headers) {
            serde_json::from_slice::<serde_json::Value>(&self.body).ok().map(|json| Value::from_json(&json))
        } else {
            None
        };
        Value::object([
            ("status", Value::Int(i64::from(self.status.as_u16()))),
            ("headers", headers_value(&self.headers)),
            ("body", body.unwrap_or_else(|| Value::string(&text))),
            ("text", Value::from(text)),
        ])
    }

    /// The parsed JSON body, if the body is JSON (whatever the declared type).
    pub(crate) fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// `application/json`, `application/problem+json`, ... with or without parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(content_type) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// Header names in lower case; a repeated header's values joined by `, `.
fn headers_value(headers: &HeaderMap) -> Value {
    let mut object = Object::new();
    for name in headers.keys() {
        let values: Vec<String> =
            headers.get_all(name).iter().map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned()).collect();
        object.insert(name.as_str().to_string(), Value::from(values.join(", ")));
    }
    Value::from(object)
}
