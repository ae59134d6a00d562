//! One HTTP POST of JSON to a provider, with the retry policy: 429 and 5xx answers are retried with exponential
//! backoff, honouring `retry-after` (seconds or an HTTP date) and `retry-after-ms`, at most `max_attempts` tries in
//! all, every wait capped at `max_backoff_ms`. Connection failures and timeouts are not retried: a local server that
//! is down stays down, and a timed-out generation would only time out again. The whole call stops at once when the
//! step's cancel token fires.

use super::settings::{AiSettings, Provider};
use crate::ActionError;
use crate::backoff::{Backoff, Jitter};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Where and how to send one call.
pub struct Target {
    pub provider: Provider,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    /// The API key, removed from any error text that could echo it.
    pub secret: Option<String>,
    /// What the call returns, for error messages: "a chat completion", "embeddings".
    pub expected: &'static str,
}

/// The client's own retries: at most `max_attempts` tries, waits by the shared [`Backoff`] rule.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub backoff: Backoff,
}

impl RetryPolicy {
    pub fn from_settings(settings: &AiSettings) -> RetryPolicy {
        RetryPolicy {
            max_attempts: settings.max_attempts.max(1),
            backoff: Backoff {
                initial: Duration::from_millis(settings.initial_backoff_ms),
                doubling: true,
                max: Duration::from_millis(settings.max_backoff_ms),
                jitter: Jitter::None,
            },
        }
    }
}

pub struct Transport {
    /// Why no client could be built, if so: every call then fails saying it.
    client: Result<reqwest::Client, String>,
    timeout: Duration,
    retry: RetryPolicy,
}

/// An answer that was not a success.
struct Refusal {
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    body: String,
}

impl Transport {
    pub fn new(settings: &AiSettings) -> Transport {
        Transport {
            client: crate::tls::http_client().build().map_err(|err| err.to_string()),
            timeout: settings.timeout(),
            retry: RetryPolicy::from_settings(settings),
        }
    }

    /// POSTs `body` and returns the parsed JSON answer, retrying as the module docs say. `retried_by_step`: the
    /// step has its own `retry:`, which then replaces these retries (one try here per step attempt).
    pub async fn post_json(
        &self,
        target: &Target,
        body: &serde_json::Value,
        cancel: &CancellationToken,
        retried_by_step: bool,
    ) -> Result<serde_json::Value, ActionError> {
        let max_attempts = if retried_by_step { 1 } else { self.retry.max_attempts };
        let mut attempt = 1;
        loop {
            let refusal = tokio::select! {
                _ = cancel.cancelled() => return Err(ActionError::Cancelled),
                outcome = self.send_once(target, body) => match outcome? {
                    Ok(text) => return parse_answer(target, &text),
                    Err(refusal) => refusal,
                },
            };
            let retryable = refusal.status.as_u16() == 429 || refusal.status.is_server_error();
            if !retryable || attempt >= max_attempts {
                return Err(refusal_error(target, &refusal, attempt));
            }
            let wait = self.retry.backoff.delay_or_requested(attempt, refusal.retry_after);
            tokio::select! {
                _ = cancel.cancelled() => return Err(ActionError::Cancelled),
                _ = tokio::time::sleep(wait) => {}
            }
            attempt += 1;
        }
    }

    /// One try: `Ok(Ok(body))` on 2xx, `Ok(Err(refusal))` on another status, `Err` when no answer came.
    async fn send_once(
        &self,
        target: &Target,
        body: &serde_json::Value,
    ) -> Result<Result<String, Refusal>, ActionError> {
        let client = self.client.as_ref().map_err(|reason| ActionError::Unavailable {
            reason: format!("cannot set up the HTTP client: {reason}"),
        })?;
        let mut request = client.post(&target.url).timeout(self.timeout).json(body);
        for (name, value) in &target.headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.map_err(|err| transport_error(target, &err, self.timeout))?;
        let status = response.status();
        let retry_after = retry_after(response.headers(), chrono::Utc::now());
        let text = response.text().await.map_err(|err| transport_error(target, &err, self.timeout))?;
        if status.is_success() { Ok(Ok(text)) } else { Ok(Err(Refusal { status, retry_after, body: text })) }
    }
}

fn parse_answer(target: &Target, text: &str) -> Result<serde_json::Value, ActionError> {
    serde_json::from_str(text).map_err(|err| {
        failed(
            target,
            format!(
                "{} answered POST {} with malformed JSON (expected {}): {err}; the body starts: {}",
                target.provider,
                target.url,
                target.expected,
                excerpt(text)
            ),
        )
    })
}

fn transport_error(target: &Target, err: &reqwest::Error, timeout: Duration) -> ActionError {
    let (provider, url) = (target.provider, &target.url);
    let message = if err.is_timeout() {
        format!("{provider} at {url} did not answer within {:.1}s (timeout_seconds in settings)", timeout.as_secs_f64())
    } else if err.is_connect() {
        format!(
            "cannot connect to {provider} at {url}: {} (is the server running and the base_url right?)",
            root_cause(err)
        )
    } else {
        format!("request to {provider} at {url} failed: {}", root_cause(err))
    };
    failed(target, message)
}

/// The innermost error text (`Connection refused (os error 111)`), which says more than reqwest's wrapper.
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

fn refusal_error(target: &Target, refusal: &Refusal, attempts: u32) -> ActionError {
    let tries = if attempts > 1 { format!(" (after {attempts} tries)") } else { String::new() };
    let detail = match provider_error_message(&refusal.body) {
        Some(message) => message,
        None => excerpt(&refusal.body),
    };
    let status = match refusal.status.canonical_reason() {
        Some(reason) => format!("{} {reason}", refusal.status.as_u16()),
        None => refusal.status.as_u16().to_string(),
    };
    let mut message = format!("{} answered POST {} with HTTP {status}{tries}: {detail}", target.provider, target.url);
    if target.secret.is_none() && matches!(refusal.status.as_u16(), 401 | 403) {
        message.push_str(
            " (no API key was sent: this server wants one; add `credential: <name>` to the step, naming a credential \
             of provider `api_key`)",
        );
    }
    failed(target, message)
}

/// The provider's own message when the body has the usual `{"error": {"message": ...}}` shape (OpenAI,
/// Anthropic) or Ollama's `{"error": "..."}`.
pub fn provider_error_message(body: &str) -> Option<String> {
    let document: serde_json::Value = serde_json::from_str(body).ok()?;
    let error = document.get("error")?;
    let message = match error {
        serde_json::Value::String(message) => message.as_str(),
        serde_json::Value::Object(fields) => fields.get("message")?.as_str()?,
        _ => return None,
    };
    Some(message.to_string())
}

/// The first 300 characters of a body, quoted (the key is removed by [`failed`]).
fn excerpt(body: &str) -> String {
    match crate::fields::excerpt(body, 300) {
        text if text.is_empty() => "(empty body)".to_string(),
        text => format!("`{text}`"),
    }
}

/// Every message leaving this module goes through here so that the API key never appears in it.
fn failed(target: &Target, message: String) -> ActionError {
    let message = match &target.secret {
        Some(secret) if !secret.is_empty() => message.replace(secret.as_str(), "[redacted]"),
        _ => message,
    };
    ActionError::Failed { message }
}

/// The wait a server asks for: `retry-after-ms`, else `retry-after` as seconds or as an HTTP date.
pub fn retry_after(headers: &reqwest::header::HeaderMap, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    if let Some(millis) = header_text(headers, "retry-after-ms").and_then(|text| text.parse::<f64>().ok()) {
        return duration_from_secs(millis / 1000.0);
    }
    parse_retry_after(header_text(headers, "retry-after")?, now)
}

fn header_text<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

/// `retry-after` in either form of RFC 9110: delay-seconds or an HTTP date (a past date means no wait).
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<f64>() {
        return duration_from_secs(seconds);
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = date.with_timezone(&chrono::Utc) - now;
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

fn duration_from_secs(seconds: f64) -> Option<Duration> {
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339(text).map(|date| date.with_timezone(&chrono::Utc)).expect("test date")
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = at("2015-10-21T07:27:00Z");
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-3", now), None);
    }

    #[test]
    fn the_settings_give_a_doubling_backoff_without_jitter() {
        let settings = AiSettings { initial_backoff_ms: 100, max_backoff_ms: 350, ..AiSettings::default() };
        let policy = RetryPolicy::from_settings(&settings);
        assert_eq!(policy.max_attempts, 3);
        assert_eq!(policy.backoff.delay(2), Duration::from_millis(200));
        assert_eq!(policy.backoff.delay(3), Duration::from_millis(350));
        assert_eq!(policy.backoff.delay_or_requested(1, Some(Duration::from_secs(60))), Duration::from_millis(350));
    }

    #[test]
    fn provider_error_message_reads_openai_anthropic_and_ollama_shapes() {
        let openai = r#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}"#;
        let anthropic = r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
        let ollama = r#"{"error": "model 'llama9' not found"}"#;
        assert_eq!(provider_error_message(openai).as_deref(), Some("Incorrect API key provided"));
        assert_eq!(provider_error_message(anthropic).as_deref(), Some("Overloaded"));
        assert_eq!(provider_error_message(ollama).as_deref(), Some("model 'llama9' not found"));
        assert_eq!(provider_error_message("<html>bad gateway</html>"), None);
    }
}
