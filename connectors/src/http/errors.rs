//! Turning transport failures and refused statuses into plain messages that name the place and the reason.

use super::request::{Call, display_url};
use crate::ActionError;
use crate::fields::excerpt;

/// How much of a refused response's body an error quotes.
const BODY_EXCERPT_CHARS: usize = 200;

/// A request that got no complete answer: timeout, DNS, refused connection, TLS, redirects, broken body.
pub(crate) fn describe_error(err: &reqwest::Error, call: &Call<'_>) -> ActionError {
    let request = format!("{} {}", call.method, display_url(call.url));
    let place = host_port(call.url);
    let cause = root_cause(err);
    let message = if err.is_timeout() {
        match call.timeout {
            Some(limit) => format!("{request} timed out after {}", expr_grammar::Duration(micros(limit))),
            None => format!("{request} timed out"),
        }
    } else if err.is_dns() {
        format!("cannot resolve host `{}` ({request}): {cause}", call.url.host_str().unwrap_or_default())
    } else if err.is_connect() && has_io_kind(err, std::io::ErrorKind::ConnectionRefused) {
        format!("cannot connect to {place}: connection refused ({request}); is the server running?")
    } else if err.is_connect() && call.url.scheme() == "https" && looks_like_tls(err) {
        format!("TLS handshake with {place} failed ({request}): {cause}")
    } else if err.is_connect() {
        format!("cannot connect to {place} ({request}): {cause}")
    } else if err.is_redirect() {
        format!("{request} failed while following redirects: {cause}")
    } else if err.is_body() || err.is_decode() {
        format!("reading the response of {request} failed: {cause}")
    } else {
        format!("{request} failed: {cause}")
    };
    ActionError::Failed { message }
}

/// A response whose status the step does not accept.
pub(crate) fn status_failure(call: &Call<'_>, status: reqwest::StatusCode, body: &[u8]) -> ActionError {
    let text = String::from_utf8_lossy(body);
    let quoted = if text.trim().is_empty() { "(empty body)".to_string() } else { excerpt(&text, BODY_EXCERPT_CHARS) };
    ActionError::Failed {
        message: format!("{} {} answered {}: {quoted}", call.method, display_url(call.url), status_text(status)),
    }
}

/// `404 Not Found`.
pub(crate) fn status_text(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    }
}

fn micros(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

fn host_port(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

fn chain<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |&current| current.source())
}

/// The innermost error's text (`Connection refused (os error 111)`), which says more than the wrappers.
fn root_cause(err: &reqwest::Error) -> String {
    chain(err).last().map(|cause| cause.to_string()).unwrap_or_default()
}

fn has_io_kind(err: &reqwest::Error, kind: std::io::ErrorKind) -> bool {
    chain(err).any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == kind))
}

/// rustls reports handshake failures as `InvalidData` I/O errors wrapping its own error (certificate problems,
/// alerts, a peer that does not speak TLS).
fn looks_like_tls(err: &reqwest::Error) -> bool {
    has_io_kind(err, std::io::ErrorKind::InvalidData)
        || chain(err).any(|cause| {
            let text = cause.to_string().to_ascii_lowercase();
            text.contains("certificate") || text.contains("tls") || text.contains("handshake")
        })
}
