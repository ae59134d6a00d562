//! `notify/webhook`: POST the JSON `payload` to `url`, optionally signed.
//!
//! Inputs: `url`, `payload` (any value, sent as JSON), `secret`, `headers`, `timeout` (default 30s). The output is
//! `{status}`; a status outside 2xx fails the step with the status and the first 200 characters of the answer.
//!
//! # Signing
//!
//! With a signing secret (the `secret` input, or the step's `credential:` of provider `hmac` or `webhook` whose
//! data is `{"secret": "..."}`), two headers are added:
//!
//! - `X-Pilot-Timestamp`: the send time, in whole seconds since the Unix epoch;
//! - `X-Pilot-Signature: sha256=<hex>`: the HMAC-SHA256, under the secret, of the timestamp's decimal digits, a
//!   `.`, and the exact body bytes (`1700000000.{"event":...}`), in lower-case hexadecimal.
//!
//! A receiver verifies by building the same signed bytes from the timestamp header and the raw request body as
//! received (before any JSON parsing or re-serialising), computing the HMAC, and comparing it with the header's
//! value after `sha256=` in constant time. It should also reject a timestamp more than a few minutes from its own
//! clock: because the timestamp is signed, a captured request cannot be replayed later with a fresh one.
//!
//! A credential of another provider (`basic`, `bearer`, `api_key`) authenticates the call as in `http/*`.

use super::{origin, post_json, timeout};
use crate::fields::{Fields, invalid};
use crate::http::{Auth, Call, Clients, header_map, parse_url, status_failure};
use crate::{ActionContext, ActionError, Credential};
use expr_grammar::Value;
use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use ring::hmac;

pub const SIGNATURE_HEADER: &str = "x-pilot-signature";
pub const TIMESTAMP_HEADER: &str = "x-pilot-timestamp";

pub(crate) async fn send(clients: &Clients, fields: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
    let url = parse_url(fields, "url")?;
    let payload = fields.required("payload")?;
    let body = serde_json::to_vec(&payload.to_json())
        .map_err(|err| invalid("payload", format!("cannot be written as JSON: {err}")))?;
    let mut headers = header_map(fields, "headers")?;
    let (secret, auth) = signing_secret(fields, ctx.credential.as_ref())?;
    if let Some(auth) = auth {
        auth.apply(&mut headers)?;
    }
    if let Some(secret) = secret {
        sign(&mut headers, secret.as_bytes(), &body, unix_seconds());
    }
    let limit = timeout(fields)?;
    let received = post_json(clients, &url, headers, body, limit, ctx).await?;
    if !received.status.is_success() {
        let shown = origin(&url);
        let call = Call { method: &Method::POST, url: &shown, timeout: Some(limit) };
        return Err(status_failure(&call, received.status, &received.body));
    }
    Ok(Value::object([("status", Value::Int(i64::from(received.status.as_u16())))]))
}

/// The signing secret (from `secret` or an `hmac`/`webhook` credential), and authentication from any other
/// credential.
fn signing_secret(
    fields: &Fields<'_>,
    credential: Option<&Credential>,
) -> Result<(Option<String>, Option<Auth>), ActionError> {
    let from_input = fields.optional_string("secret")?.map(str::to_string);
    if from_input.as_deref() == Some("") {
        return Err(invalid("secret", "must not be empty"));
    }
    let Some(credential) = credential else {
        return Ok((from_input, None));
    };
    if matches!(credential.provider.as_str(), "hmac" | "webhook") {
        let secret = credential.data.get("secret").and_then(|v| v.as_str()).filter(|s| !s.is_empty());
        let secret = secret.ok_or_else(|| ActionError::InvalidInput {
            field: "credential".to_string(),
            message: format!("credential `{}` has no `secret` string in its data", credential.name),
        })?;
        return Ok((from_input.or_else(|| Some(secret.to_string())), None));
    }
    Ok((from_input, Some(Auth::from_credential(credential)?)))
}

/// Adds `X-Pilot-Timestamp` and `X-Pilot-Signature` for `body` sent at `timestamp`.
pub(crate) fn sign(headers: &mut HeaderMap, secret: &[u8], body: &[u8], timestamp: u64) {
    let signature = format!("sha256={}", signature_hex(secret, timestamp, body));
    headers.insert(HeaderName::from_static(TIMESTAMP_HEADER), HeaderValue::from(timestamp));
    if let Ok(value) = HeaderValue::from_str(&signature) {
        headers.insert(HeaderName::from_static(SIGNATURE_HEADER), value);
    }
}

/// Lower-case hex HMAC-SHA256 of `TIMESTAMP.BODY` under `secret`.
pub fn signature_hex(secret: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    crate::http::hex(context.sign().as_ref())
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2 (key "Jefe"), with the message split as `TIMESTAMP.BODY`.
    #[test]
    fn signature_matches_rfc_4231_test_case_2() {
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        assert_eq!(hmac_of_parts(b"Jefe", &[b"what do ya want for nothing?"]), expected);
    }

    fn hmac_of_parts(secret: &[u8], parts: &[&[u8]]) -> String {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
        crate::http::hex(hmac::sign(&key, &parts.concat()).as_ref())
    }

    #[test]
    fn the_signature_covers_the_timestamp_and_the_body() {
        let body = br#"{"event":"done"}"#;
        let expected = hmac_of_parts(b"Jefe", &[b"1700000000", b".", body]);
        assert_eq!(signature_hex(b"Jefe", 1_700_000_000, body), expected);
        assert_ne!(signature_hex(b"Jefe", 1_700_000_001, body), expected);
    }

    #[test]
    fn signing_sets_both_headers() {
        let mut headers = HeaderMap::new();
        sign(&mut headers, b"Jefe", b"{}", 1_700_000_000);
        assert_eq!(headers[TIMESTAMP_HEADER], "1700000000");
        let expected = format!("sha256={}", hmac_of_parts(b"Jefe", &[b"1700000000.{}"]));
        assert_eq!(headers[SIGNATURE_HEADER], expected.as_str());
    }
}
