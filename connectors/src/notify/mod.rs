//! The `notify` connector: one connector for every `notify/*` action (`notification/*` is an alias). Each action
//! lives in its own submodule; add one with a `mod` line, an entry in [`ACTIONS`] and an arm in `execute`.
//!
//! - [`webhook`]: `notify/webhook`, a JSON POST, optionally signed with HMAC-SHA256.
//! - [`slack`]: `notify/slack`, through an incoming webhook or the Web API's `chat.postMessage`.
//! - [`email`]: `notify/email`, over SMTP (STARTTLS, implicit TLS, or plain to a local relay).
//! - [`desktop`]: `notify/desktop`, through the desktop's notification service (D-Bus on Linux).
//!
//! Messages about these calls name only the scheme, host and port of the URL: webhook URLs carry their secret in
//! the path (Slack, Discord, Teams), so the path never appears in an error or log.

pub mod desktop;
pub mod email;
pub mod slack;
pub mod webhook;

use crate::fields::Fields;
use crate::http::{Call, Clients, Received, receive};
use crate::{ActionContext, ActionDefinition, ActionError, Connector};
use expr_grammar::Value;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use std::time::Duration;

/// The actions this connector runs (registered by [`crate::registry::ConnectorRegistry::builtin`]).
pub const ACTIONS: &[&str] = &["notify/webhook", "notify/slack", "notify/email", "notify/desktop"];

/// Default limit for one notification call.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct NotifyConnector {
    clients: Clients,
    smtp: email::SmtpDefaults,
}

impl NotifyConnector {
    /// No `smtp` settings: email steps give their server in their inputs.
    pub fn new() -> NotifyConnector {
        NotifyConnector::default()
    }

    /// `notify/email` defaults from the `smtp` section of `$PILOT_HOME/settings.json` (see [`email`]).
    pub fn from_environment() -> NotifyConnector {
        let smtp = email::SmtpDefaults::from_settings_file(&email::settings_file_from_environment());
        NotifyConnector { smtp, ..NotifyConnector::default() }
    }

    /// `notify/email` defaults given in hand (embedding code, tests).
    pub fn with_smtp_settings(settings: email::SmtpSettings) -> NotifyConnector {
        NotifyConnector { smtp: email::SmtpDefaults::new(settings), ..NotifyConnector::default() }
    }
}

#[async_trait::async_trait]
impl Connector for NotifyConnector {
    fn id(&self) -> &str {
        "notify"
    }

    fn actions(&self) -> Vec<ActionDefinition> {
        crate::catalogue::Catalogue::builtin()
            .iter()
            .filter(|def| ACTIONS.contains(&def.name.as_str()))
            .cloned()
            .collect()
    }

    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        let fields = Fields::new(&input)?;
        let name = action.strip_prefix("notify/").or_else(|| action.strip_prefix("notification/")).unwrap_or(action);
        match name {
            "webhook" => webhook::send(&self.clients, &fields, ctx).await,
            "slack" => slack::send(&self.clients, &fields, ctx).await,
            "email" => email::send(&self.smtp, &fields, ctx).await,
            "desktop" => desktop::show(&fields, ctx).await,
            other => Err(ActionError::Unavailable { reason: format!("the notify connector has no action `{other}`") }),
        }
    }
}

/// One JSON POST: `body` is sent byte for byte. Errors show only the URL's origin.
pub(crate) async fn post_json(
    clients: &Clients,
    url: &Url,
    mut headers: HeaderMap,
    body: Vec<u8>,
    timeout: Duration,
    ctx: &ActionContext,
) -> Result<Received, ActionError> {
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let request = clients.get(true)?.post(url.clone()).headers(headers).body(body).timeout(timeout);
    let shown = origin(url);
    let call = Call { method: &Method::POST, url: &shown, timeout: Some(timeout) };
    receive(request, &call, &ctx.cancel).await
}

/// `https://hooks.example.com/` from any URL: what messages show of a notification URL.
pub(crate) fn origin(url: &Url) -> Url {
    let mut shown = url.clone();
    shown.set_path("/");
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown
}

/// The limit for one call: the step's `timeout`, else 30s.
pub(crate) fn timeout(fields: &Fields<'_>) -> Result<Duration, ActionError> {
    Ok(fields.optional_limit("timeout")?.unwrap_or(DEFAULT_TIMEOUT))
}
