//! Webhook triggers: every path a loaded workflow's `webhook` trigger names, served after the API's routes (a
//! path under `/api/` is refused by the compiler). In order, a request is:
//! 1. matched by path (else the UI's files, else 404) and method (else 405);
//! 2. refused when its workflow is disabled (409);
//! 3. limited: the trigger's `rate_limit` (429 with `Retry-After`) and body size (413);
//! 4. authenticated when the trigger has `auth`: `bearer` (`Authorization: Bearer SECRET`) or `hmac`
//!    (`X-Pilot-Timestamp` within `daemon.signature_tolerance_seconds` of now and `X-Pilot-Signature:
//!    sha256=HEX` of `TIMESTAMP.BODY`, as `notify/webhook` signs), compared in constant time; else 401 and
//!    nothing recorded;
//! 5. accepted: a pending execution committed before the answer, `202 {"execution_id", "status"}`; a repeated
//!    `Idempotency-Key` (within `daemon.idempotency_window_seconds`) answers the first execution and starts
//!    nothing. With `wait: true` the answer waits for the end (up to `wait_timeout`) and carries the steps'
//!    outputs; past the timeout it is the 202.
//!
//! The request reaches the workflow as `trigger.body` (parsed JSON, else the text), `trigger.headers` (the
//! `Authorization`, signature and cookie headers masked), `trigger.query`, `trigger.method`, `trigger.path`. A JSON
//! object body also fills the workflow's declared `inputs:` (its other keys are left to `trigger.body`); inputs
//! that do not fit are a 422 naming them.

use crate::api::ApiError;
use crate::daemon::catalog::{LoadedTrigger, LoadedWorkflow};
use crate::daemon::events::EventKind;
use crate::daemon::{AcceptRequest, Accepted, Daemon};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use compiler::{TriggerPlan, WebhookAuthScheme, WebhookSecret, WebhookTriggerPlan};
use serde_json::{Map, Value as Json, json};
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use subtle::ConstantTimeEq;

/// Headers never stored or served as they came.
const MASKED_HEADERS: &[&str] = &["authorization", "x-pilot-signature", "cookie", "proxy-authorization"];

type Limiter = governor::DefaultDirectRateLimiter;

/// Each webhook trigger's rate limiter, by trigger id (created when first needed, kept while the trigger exists).
#[derive(Default)]
pub struct RateLimits {
    limiters: Mutex<HashMap<String, Arc<Limiter>>>,
}

impl RateLimits {
    /// `Err(wait)` when the trigger is over its limit.
    fn check(&self, trigger: &LoadedTrigger, plan: &WebhookTriggerPlan) -> Result<(), Duration> {
        let Some(limit) = plan.rate_limit else { return Ok(()) };
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|p| p.into_inner());
            Arc::clone(limiters.entry(trigger.id.clone()).or_insert_with(|| Arc::new(limiter_for(limit))))
        };
        limiter.check().map_err(|not_until| {
            not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()))
        })
    }
}

fn limiter_for(limit: compiler::RateLimit) -> Limiter {
    let requests = NonZeroU32::new(limit.requests.max(1)).unwrap_or(NonZeroU32::MIN);
    let per = limit.per.to_std().unwrap_or(Duration::from_secs(1)).max(Duration::from_micros(1));
    let quota = governor::Quota::with_period(per / requests.get())
        .unwrap_or_else(|| governor::Quota::per_second(requests))
        .allow_burst(requests);
    governor::RateLimiter::direct(quota)
}

/// The fallback route: a webhook, else the UI.
pub async fn handle(State(daemon): State<Arc<Daemon>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let routes = matching_triggers(&daemon, &path);
    if routes.is_empty() {
        return crate::ui::serve(&daemon, request).await;
    }
    let Some((loaded, trigger)) = routes.iter().find(|(_, trigger)| method_of(trigger) == Some(method.as_str())) else {
        let allowed: Vec<&str> = routes.iter().filter_map(|(_, trigger)| method_of(trigger)).collect();
        let mut response = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("{path} takes {}, not {method}", allowed.join(", ")),
        )
        .into_response();
        if let Ok(value) = allowed.join(", ").parse() {
            response.headers_mut().insert(header::ALLOW, value);
        }
        return response;
    };
    match accept(&daemon, loaded, trigger, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn method_of(trigger: &LoadedTrigger) -> Option<&str> {
    match &trigger.plan {
        TriggerPlan::Webhook(webhook) => Some(webhook.method.as_str()),
        _ => None,
    }
}

/// The running workflows' webhook triggers on `path`.
fn matching_triggers(daemon: &Daemon, path: &str) -> Vec<(Arc<LoadedWorkflow>, LoadedTrigger)> {
    let mut found = Vec::new();
    for loaded in daemon.workflows() {
        for trigger in &loaded.triggers {
            if let TriggerPlan::Webhook(webhook) = &trigger.plan
                && webhook.path == path
            {
                found.push((Arc::clone(&loaded), trigger.clone()));
            }
        }
    }
    found
}

async fn accept(
    daemon: &Arc<Daemon>,
    loaded: &Arc<LoadedWorkflow>,
    trigger: &LoadedTrigger,
    request: Request,
) -> Result<Response, ApiError> {
    let TriggerPlan::Webhook(plan) = &trigger.plan else { return Err(ApiError::internal("not a webhook")) };
    if !daemon.is_enabled_now(&loaded.name) {
        return Err(ApiError::conflict(format!("workflow `{}` is disabled; its webhook accepts nothing", loaded.name)));
    }
    if let Err(wait) = daemon.rate_limits.check(trigger, plan) {
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "this webhook takes at most {} requests per {}: try again in {seconds} s",
                plan.rate_limit.map_or(0, |limit| limit.requests),
                plan.rate_limit.map_or_else(String::new, |limit| limit.per.to_string())
            ),
        )
        .into_response();
        response.headers_mut().insert(header::RETRY_AFTER, seconds.max(1).into());
        return Ok(response);
    }
    let (parts, body) = request.into_parts();
    let limit = plan.max_body_size.map_or(daemon.settings.daemon.max_body_bytes, |size| size as usize);
    let body = read_body(body, &parts.headers, limit).await?;
    if let Some(auth) = &plan.auth {
        authenticate(daemon, auth, &parts.headers, &body).await?;
    }
    let trigger_data = trigger_data(&parts, &body);
    let inputs = declared_inputs(&loaded.workflow.plan, &trigger_data["body"]);
    let idempotency_key = parts
        .headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .filter(|key| !key.is_empty());
    // Subscribed before accepting, so a quick end is not missed.
    let mut events = plan.wait.then(|| daemon.events.subscribe(None).1);
    let accepted = daemon
        .accept(AcceptRequest {
            workflow: Arc::clone(loaded),
            trigger_id: Some(trigger.id.clone()),
            trigger: trigger_data,
            inputs,
            slot: None,
            idempotency_key,
        })
        .await?;
    let answer = crate::api::RunAccepted::from(accepted.clone());
    if let (Some(events), Accepted::Queued { execution_id }) = (events.as_mut(), &accepted) {
        let timeout = plan.wait_timeout.to_std().unwrap_or(Duration::from_secs(30));
        if let Some(done) = wait_for_end(daemon, events, execution_id, timeout).await {
            return Ok((StatusCode::OK, axum::Json(done)).into_response());
        }
    }
    Ok((StatusCode::ACCEPTED, axum::Json(answer)).into_response())
}

/// The body, at most `limit` bytes (413 beyond, before reading it when `Content-Length` says so).
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Vec<u8>, ApiError> {
    let too_large =
        || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", format!("the body is over {limit} bytes"));
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map(|bytes| bytes.to_vec()).map_err(|_| too_large())
}

async fn authenticate(
    daemon: &Daemon,
    auth: &compiler::WebhookAuth,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let unauthorized = |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why.to_owned());
    let Some(secret) = secret_of(daemon, &auth.secret).await else {
        tracing::warn!("a webhook's secret is not available ({:?}): its requests are refused", auth.secret);
        return Err(unauthorized("this webhook's secret is not available on the server"));
    };
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    match auth.scheme {
        WebhookAuthScheme::Bearer => {
            let offered = header("authorization").and_then(|value| value.strip_prefix("Bearer ")).unwrap_or_default();
            if bool::from(offered.trim().as_bytes().ct_eq(secret.as_bytes())) {
                Ok(())
            } else {
                Err(unauthorized("missing or wrong bearer token"))
            }
        }
        WebhookAuthScheme::Hmac => {
            let timestamp = header("x-pilot-timestamp").and_then(|value| value.trim().parse::<u64>().ok());
            let Some(timestamp) = timestamp else { return Err(unauthorized("missing X-Pilot-Timestamp")) };
            let now = u64::try_from(daemon.clock.now().0 / 1_000_000).unwrap_or(0);
            if now.abs_diff(timestamp) > daemon.settings.daemon.signature_tolerance_seconds {
                return Err(unauthorized("X-Pilot-Timestamp is too far from now (a replay?)"));
            }
            let offered =
                header("x-pilot-signature").and_then(|value| value.strip_prefix("sha256=")).unwrap_or_default();
            let expected = connectors::notify::webhook::signature_hex(secret.as_bytes(), timestamp, body);
            if bool::from(offered.trim().to_ascii_lowercase().as_bytes().ct_eq(expected.as_bytes())) {
                Ok(())
            } else {
                Err(unauthorized("missing or wrong X-Pilot-Signature"))
            }
        }
    }
}

async fn secret_of(daemon: &Daemon, secret: &WebhookSecret) -> Option<String> {
    match secret {
        WebhookSecret::Literal(text) => Some(text.clone()),
        WebhookSecret::Env(name) => std::env::var(name).ok().filter(|value| !value.is_empty()),
        WebhookSecret::Credential(name) => daemon.secrets().await.texts.get(name).cloned(),
    }
}

/// `{type, method, path, headers, query, body}`, with the credentials among the headers masked.
fn trigger_data(parts: &axum::http::request::Parts, body: &[u8]) -> Json {
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let text = if MASKED_HEADERS.contains(&name.as_str()) {
            "***".to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        headers.insert(name.as_str().to_owned(), Json::String(text));
    }
    let query: Map<String, Json> = parts
        .uri
        .query()
        .map(|query| url_decode_pairs(query).into_iter().map(|(key, value)| (key, Json::String(value))).collect())
        .unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    let body = if body.is_empty() {
        Json::Null
    } else {
        serde_json::from_slice(body).unwrap_or_else(|_| Json::String(text.into_owned()))
    };
    json!({
        "type": "webhook",
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "headers": headers,
        "query": query,
        "body": body,
    })
}

fn url_decode_pairs(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes()).map(|(key, value)| (key.into_owned(), value.into_owned())).collect()
}

/// The keys of a JSON object body that the workflow declares as `inputs:` (none when it declares none).
fn declared_inputs(plan: &compiler::Plan, body: &Json) -> Map<String, Json> {
    let Json::Object(fields) = body else { return Map::new() };
    plan.inputs
        .iter()
        .filter_map(|input| fields.get(&input.name).map(|value| (input.name.clone(), value.clone())))
        .collect()
}

/// Waits for the execution's `finished` event (or, if events were missed, its stored end) up to `timeout`.
async fn wait_for_end(
    daemon: &Daemon,
    events: &mut tokio::sync::broadcast::Receiver<crate::daemon::events::Event>,
    execution_id: &str,
    timeout: Duration,
) -> Option<Json> {
    let ended = async {
        loop {
            match events.recv().await {
                Ok(event) if event.execution_id == execution_id && matches!(event.kind, EventKind::Finished { .. }) => {
                    return;
                }
                Ok(_) => {}
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    let stored = daemon.store.load_execution(execution_id).await.ok().flatten();
                    if stored.is_some_and(|record| record.status.is_finished()) {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    };
    tokio::time::timeout(timeout, ended).await.ok()?;
    let record = daemon.store.load_execution(execution_id).await.ok().flatten()?;
    let outputs: Map<String, Json> =
        record.steps.iter().map(|step| (step.step_id.clone(), step.output.clone().unwrap_or(Json::Null))).collect();
    Some(json!({
        "execution_id": record.id,
        "status": record.status.as_str(),
        "error": record.error,
        "outputs": outputs,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            url_decode_pairs("name=Ann+Lee&city=K%C3%B6ln&empty=&flag"),
            vec![
                ("name".to_owned(), "Ann Lee".to_owned()),
                ("city".to_owned(), "Köln".to_owned()),
                ("empty".to_owned(), String::new()),
                ("flag".to_owned(), String::new())
            ]
        );
    }
}
