//! `http/get|post|put|delete`: reading the step's inputs into a request and running it.

use super::auth::Auth;
use super::client::Clients;
use super::errors::status_failure;
use super::response::receive;
use crate::fields::{Fields, invalid};
use crate::{ActionContext, ActionError};
use expr_grammar::Value;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use std::time::Duration;

pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What an error message says about the request it concerns.
pub(crate) struct Call<'a> {
    pub(crate) method: &'a Method,
    pub(crate) url: &'a Url,
    pub(crate) timeout: Option<Duration>,
}

/// The request body, at most one kind.
enum Body {
    None,
    Json(serde_json::Value),
    Form(Vec<(String, String)>),
    Text(String),
}

pub(crate) async fn run(
    clients: &Clients,
    method: Method,
    fields: &Fields<'_>,
    ctx: &ActionContext,
) -> Result<Value, ActionError> {
    let url = parse_url(fields, "url")?;
    let timeout = fields.optional_limit("timeout")?.unwrap_or(DEFAULT_TIMEOUT);
    let fail_on_status = fields.bool_or("fail_on_status", true)?;
    let client = clients.get(fields.bool_or("follow_redirects", true)?)?;
    let headers = request_headers(fields, ctx)?;
    let body = read_body(fields)?;
    let mut builder =
        client.request(method.clone(), url.clone()).headers(headers.clone()).query(&fields.string_pairs("query")?);
    builder = match body {
        Body::None => builder,
        Body::Json(json) => builder.json(&json),
        Body::Form(pairs) => builder.form(&pairs),
        Body::Text(text) if headers.contains_key(CONTENT_TYPE) => builder.body(text),
        Body::Text(text) => builder.header(CONTENT_TYPE, "text/plain; charset=utf-8").body(text),
    };
    let call = Call { method: &method, url: &url, timeout: Some(timeout) };
    let received = receive(builder.timeout(timeout), &call, &ctx.cancel).await?;
    if fail_on_status && !received.status.is_success() {
        return Err(status_failure(&call, received.status, &received.body));
    }
    Ok(received.to_value())
}

/// An absolute http or https URL from the input `field`.
pub(crate) fn parse_url(fields: &Fields<'_>, field: &str) -> Result<Url, ActionError> {
    let text = fields.required_string(field)?;
    let url =
        Url::parse(text).map_err(|err| invalid(field, format!("`{}` is not a valid URL: {err}", redact(text))))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(invalid(field, format!("the URL scheme must be http or https, not `{other}`"))),
    }
}

/// The URL text with any `user:password@` removed, for messages about an unparsable URL.
fn redact(text: &str) -> String {
    match (text.find("://"), text.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}[redacted]@{}", &text[..scheme_end + 3], &text[at + 1..])
        }
        _ => text.to_string(),
    }
}

/// How a URL appears in messages: no user info and no query, either of which may hold a secret.
pub(crate) fn display_url(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// The step's `headers`, then the credential's authentication (replacing the same header from `headers`).
pub(crate) fn request_headers(fields: &Fields<'_>, ctx: &ActionContext) -> Result<HeaderMap, ActionError> {
    let mut headers = header_map(fields, "headers")?;
    if let Some(credential) = &ctx.credential {
        Auth::from_credential(credential)?.apply(&mut headers)?;
    }
    Ok(headers)
}

/// The object input `field` as headers, in order, repeated names kept.
pub(crate) fn header_map(fields: &Fields<'_>, field: &str) -> Result<HeaderMap, ActionError> {
    let mut headers = HeaderMap::new();
    for (name, value) in fields.string_pairs(field)? {
        let place = format!("{field}.{name}");
        let header = HeaderName::try_from(name.as_str()).map_err(|_| invalid(&place, "not a valid header name"))?;
        let value = HeaderValue::try_from(value)
            .map_err(|_| invalid(&place, "a header value cannot hold line breaks or control characters"))?;
        headers.append(header, value);
    }
    Ok(headers)
}

fn read_body(fields: &Fields<'_>) -> Result<Body, ActionError> {
    let given: Vec<&str> = ["json", "form", "body"].into_iter().filter(|name| fields.get(name).is_some()).collect();
    if given.len() > 1 {
        return Err(invalid(given[1], format!("give one body only; `{}` is already set", given[0])));
    }
    if let Some(json) = fields.get("json") {
        return Ok(Body::Json(json.to_json()));
    }
    if fields.get("form").is_some() {
        return Ok(Body::Form(fields.string_pairs("form")?));
    }
    Ok(fields.optional_string("body")?.map_or(Body::None, |text| Body::Text(text.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_url_drops_user_info_and_query() {
        let url = Url::parse("https://ann:pw@example.test:8443/a/b?token=secret#frag").unwrap();
        assert_eq!(display_url(&url), "https://example.test:8443/a/b");
    }

    #[test]
    fn unparsable_urls_are_quoted_without_their_password() {
        assert_eq!(redact("http://ann:pw@[bad"), "http://[redacted]@[bad");
        assert_eq!(redact("not a url"), "not a url");
    }
}
