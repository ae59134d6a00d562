//! `notify/slack`: post a message through an incoming webhook or the Web API.
//!
//! Inputs: `text`, `blocks` (Block Kit, optional), `channel`, `thread_ts`, `webhook_url`, `api_base`, `timeout`.
//!
//! Which way the message goes:
//! 1. `webhook_url` given: an incoming webhook. `POST {text, blocks?, channel?, thread_ts?}` to it; Slack answers
//!    200 `ok`, or an error status with a code such as `invalid_payload` or `no_service` as the body.
//! 2. Otherwise the step's `credential:`. Data holding `webhook_url` (or `url`) is an incoming webhook as above.
//!    A credential of provider `bearer`, `token`, `api_key` or `slack` with `{"token": "xoxb-..."}` (or
//!    `{"api_key": ...}`) is a bot token: `POST {api_base}/chat.postMessage` with `Authorization: Bearer <token>`
//!    and `{channel, text, blocks?, thread_ts?}`; `channel` is then required. `api_base` defaults to
//!    `https://slack.com/api`.
//!
//! The Web API answers 200 even on failure, with `{"ok": false, "error": "channel_not_found"}`: that fails the
//! step with Slack's error code in the message. The output is `{ok, channel, ts}`; `channel` and `ts` (the
//! message's id, for replies in a thread) are null for incoming webhooks, which do not report them.

use super::{origin, post_json, timeout};
use crate::fields::{Fields, excerpt, invalid, wrong_kind};
use crate::http::{Clients, Received, parse_url, status_text, token_of};
use crate::{ActionContext, ActionError, Credential};
use expr_grammar::Value;
use reqwest::Url;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::{Map, Value as Json};

pub const DEFAULT_API_BASE: &str = "https://slack.com/api";

/// Where the message goes.
enum Route {
    IncomingWebhook(Url),
    WebApi { token: String },
}

pub(crate) async fn send(clients: &Clients, fields: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
    let text = fields.required_string("text")?;
    let limit = timeout(fields)?;
    match route(fields, ctx.credential.as_ref())? {
        Route::IncomingWebhook(url) => {
            let body = message_body(fields, text, fields.optional_string("channel")?)?;
            let received = post_json(clients, &url, HeaderMap::new(), body, limit, ctx).await?;
            check_webhook_answer(&url, &received)?;
            Ok(output(None, None))
        }
        Route::WebApi { token } => {
            let channel = fields.required_string("channel").map_err(|_| {
                invalid("channel", "required when posting with a bot token (chat.postMessage needs a channel)")
            })?;
            let url = post_message_url(fields)?;
            let body = message_body(fields, text, Some(channel))?;
            let received = post_json(clients, &url, bearer(&token)?, body, limit, ctx).await?;
            let (channel, ts) = check_api_answer(&url, &received)?;
            Ok(output(channel, ts))
        }
    }
}

fn route(fields: &Fields<'_>, credential: Option<&Credential>) -> Result<Route, ActionError> {
    if fields.optional_string("webhook_url")?.is_some() {
        return Ok(Route::IncomingWebhook(parse_url(fields, "webhook_url")?));
    }
    let Some(credential) = credential else {
        return Err(invalid(
            "webhook_url",
            "give `webhook_url`, or a `credential:` holding a `webhook_url` or a bot `token`",
        ));
    };
    let webhook = ["webhook_url", "url"].iter().find_map(|key| credential.data.get(key).and_then(Json::as_str));
    if let Some(webhook) = webhook {
        let url = Url::parse(webhook).ok().filter(|url| matches!(url.scheme(), "http" | "https"));
        return url
            .map(Route::IncomingWebhook)
            .ok_or_else(|| bad_credential(credential, "its webhook URL is not a valid http or https URL"));
    }
    if matches!(credential.provider.as_str(), "bearer" | "token" | "api_key" | "slack")
        && let Some(token) = token_of(credential)
    {
        return Ok(Route::WebApi { token });
    }
    Err(bad_credential(credential, "it holds neither a `webhook_url` nor a bot `token`"))
}

fn bad_credential(credential: &Credential, reason: &str) -> ActionError {
    ActionError::InvalidInput {
        field: "credential".to_string(),
        message: format!("credential `{}` cannot be used for Slack: {reason}", credential.name),
    }
}

fn post_message_url(fields: &Fields<'_>) -> Result<Url, ActionError> {
    let base = fields.optional_string("api_base")?.unwrap_or(DEFAULT_API_BASE);
    let joined = format!("{}/chat.postMessage", base.trim_end_matches('/'));
    let url = Url::parse(&joined).map_err(|err| invalid("api_base", format!("`{base}` is not a valid URL: {err}")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(invalid("api_base", format!("the URL scheme must be http or https, not `{other}`"))),
    }
}

fn bearer(token: &str) -> Result<HeaderMap, ActionError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| ActionError::Failed {
        message: "the Slack token holds characters that cannot be sent in an HTTP header".to_string(),
    })?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    Ok(headers)
}

/// `{channel?, text, blocks?, thread_ts?}` as JSON bytes.
fn message_body(fields: &Fields<'_>, text: &str, channel: Option<&str>) -> Result<Vec<u8>, ActionError> {
    let mut body = Map::new();
    if let Some(channel) = channel {
        body.insert("channel".into(), Json::from(channel));
    }
    body.insert("text".into(), Json::from(text));
    if let Some(blocks) = fields.get("blocks") {
        if !matches!(blocks, Value::List(_)) {
            return Err(wrong_kind("blocks", "a list of Block Kit blocks", blocks));
        }
        body.insert("blocks".into(), blocks.to_json());
    }
    if let Some(thread) = fields.optional_string("thread_ts")? {
        body.insert("thread_ts".into(), Json::from(thread));
    }
    serde_json::to_vec(&Json::Object(body))
        .map_err(|err| invalid("blocks", format!("cannot be written as JSON: {err}")))
}

fn check_webhook_answer(url: &Url, received: &Received) -> Result<(), ActionError> {
    if received.status.is_success() {
        return Ok(());
    }
    Err(ActionError::Failed {
        message: format!(
            "Slack incoming webhook at {} answered {}: {}",
            origin(url),
            status_text(received.status),
            excerpt(&received.text(), 200)
        ),
    })
}

/// Slack's `{ok, channel, ts}` or its error code.
fn check_api_answer(url: &Url, received: &Received) -> Result<(Option<String>, Option<String>), ActionError> {
    let failed = |detail: String| ActionError::Failed { message: format!("Slack chat.postMessage at {url} {detail}") };
    let answer = received.json();
    let field = |name: &str| answer.as_ref().and_then(|json| json.get(name)).and_then(Json::as_str).map(str::to_string);
    match answer.as_ref().and_then(|json| json.get("ok")).and_then(Json::as_bool) {
        Some(true) if received.status.is_success() => Ok((field("channel"), field("ts"))),
        Some(_) => Err(failed(format!(
            "failed: {} (status {})",
            field("error").unwrap_or_else(|| "no error code given".to_string()),
            status_text(received.status)
        ))),
        None => Err(failed(format!(
            "answered {} without Slack's `ok` field: {}",
            status_text(received.status),
            excerpt(&received.text(), 200)
        ))),
    }
}

fn output(channel: Option<String>, ts: Option<String>) -> Value {
    Value::object([
        ("ok", Value::Bool(true)),
        ("channel", channel.map_or(Value::Null, Value::from)),
        ("ts", ts.map_or(Value::Null, Value::from)),
    ])
}
