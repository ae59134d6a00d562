//! The `http` connector: `http/get`, `http/post`, `http/put`, `http/delete` and `http/download`.
//!
//! # Requests
//!
//! Inputs: `url` (http or https), `headers` and `query` (objects of names to values; a list value repeats the
//! name), one body at most: `json` (any value, sent as JSON with `content-type: application/json`), `form` (an
//! object, sent URL-encoded) or `body` (raw text, `content-type: text/plain; charset=utf-8` unless `headers` set
//! one). `timeout` bounds the whole call, body included (default 30s). Redirects are followed (at most 10) unless
//! `follow_redirects: false`; on a redirect to another host, `authorization` is not sent on.
//!
//! The output is `{status, headers, body, text}`: `headers` with lower-case names (repeated headers joined by
//! `, `), `text` the body as text, `body` the body parsed as JSON when the response says it is JSON
//! (`application/json` or `+json`) and parses, else the text. Bodies kept in memory are capped at 64 MiB: use
//! `http/download` for larger ones.
//!
//! A status outside 2xx (after redirects) fails the step with the status and the first 200 characters of the body,
//! unless `fail_on_status: false`.
//!
//! # Credentials
//!
//! The step's `credential:` adds authentication, by its provider:
//! - `basic`: `{"username": "...", "password": "..."}`, sent as `Authorization: Basic ...`.
//! - `bearer`, `token` or `api_key`: `{"token": "..."}` or `{"api_key": "..."}`, sent as
//!   `Authorization: Bearer ...`; with `"header": "X-Api-Key"` in the data, the key is sent raw in that header.
//!
//! A credential replaces an `authorization` header (or the named header) given in `headers`.
//!
//! # Downloads
//!
//! `http/download` takes `url`, `path`, `headers`, `query`, `timeout` (none by default; a stall of 60s without a
//! byte fails it anyway), `follow_redirects` and `overwrite` (default true). The body streams to a temporary file
//! in the destination folder, hashed on the way, and is renamed to `path` only when complete: `path` never holds
//! a partial file. A leading `~/` in `path` is the home folder. When `path` is an existing folder, the file is named after the URL's last path segment. Missing
//! parent folders are created. A new file gets the usual permissions (0666 less the umask); a replaced file keeps
//! its own. The output is `{path, size, sha256, status}`. Any status outside 2xx fails.
//!
//! # Errors
//!
//! Messages name the method and URL (without its query and user info, which may hold secrets) and the reason in
//! plain words: connection refused (with host:port), a host name that does not resolve, a timeout (with its
//! length), a TLS failure (such as a certificate no trusted authority signed), too many redirects, or the status.
//! Cancelling the step aborts the request at once.

mod auth;
mod client;
mod download;
mod errors;
mod request;
mod response;

// Shared with the notify connector, which makes HTTP calls of its own.
pub(crate) use auth::{Auth, token_of};
pub(crate) use client::Clients;
pub(crate) use download::hex;
pub(crate) use errors::{status_failure, status_text};
pub(crate) use request::{Call, header_map, parse_url};
pub(crate) use response::{Received, receive};

use crate::fields::Fields;
use crate::{ActionContext, ActionDefinition, ActionError, Connector};
use expr_grammar::Value;
use reqwest::Method;

/// The `http` connector. Holds the HTTP clients, so connections are reused across steps.
#[derive(Default)]
pub struct HttpConnector {
    clients: Clients,
}

impl HttpConnector {
    pub fn new() -> HttpConnector {
        HttpConnector::default()
    }
}

#[async_trait::async_trait]
impl Connector for HttpConnector {
    fn id(&self) -> &str {
        "http"
    }

    fn actions(&self) -> Vec<ActionDefinition> {
        crate::catalogue::Catalogue::builtin().iter().filter(|def| def.name.starts_with("http/")).cloned().collect()
    }

    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        let fields = Fields::new(&input)?;
        let method = match action.strip_prefix("http/").unwrap_or(action) {
            "get" => Method::GET,
            "post" => Method::POST,
            "put" => Method::PUT,
            "delete" => Method::DELETE,
            "download" => return download::run(&self.clients, &fields, ctx).await,
            other => {
                return Err(ActionError::Unavailable { reason: format!("the http connector has no action `{other}`") });
            }
        };
        request::run(&self.clients, method, &fields, ctx).await
    }
}
