//! `notify/email`: send an email over SMTP.
//!
//! Inputs: `to` (required), `cc`, `bcc` (each an address or a list of addresses; a single string may hold several
//! separated by commas, `Ann <ann@example.com>, bob@example.com`), `from`, `reply_to`, `subject`, `body` (required),
//! `html` (send `body` as `text/html` instead of `text/plain`), and the server: `smtp_host`, `smtp_port`, `tls`,
//! `tls_ca_file`, `timeout`, `allow_partial`. The output is `{message_id, accepted, rejected}`: the `Message-ID`
//! header sent (`<hex@sender-domain>`), the envelope recipients the server accepted, and the ones it refused
//! (`[{address, reply}]`, only ever non-empty with `allow_partial: true`). `bcc` recipients get the message but
//! no `Bcc` header is sent.
//!
//! # Server
//!
//! What a step leaves out comes from the `smtp` section of `$PILOT_HOME/settings.json` (read once when the
//! connector is made; [`super::NotifyConnector::from_environment`]). Every field is optional:
//!
//! ```json
//! { "smtp": { "host": "smtp.example.com", "port": 587, "tls": "starttls",
//!             "from": "Pilot <pilot@example.com>", "ca_file": "/etc/pilot/smtp-ca.pem", "timeout_seconds": 30 } }
//! ```
//!
//! A step's `smtp_host` / `smtp_port` / `tls` / `tls_ca_file` / `timeout` / `from` override them. There is no default
//! host. A settings file that cannot be read or parsed fails every `notify/email` step with the reason (the other
//! `notify/*` actions do not read it).
//!
//! `tls` is one of:
//! - `starttls` (default): connect in plain text, then upgrade with `STARTTLS` before logging in or sending
//!   anything; a server that does not offer STARTTLS is refused, never used in plain text. Default port 587.
//! - `tls`: TLS from the first byte (implicit TLS, "SMTPS"). Default port 465.
//! - `none`: no encryption. Only for a relay on this machine or a trusted local network (a local Postfix on
//!   port 25, a development catcher such as MailHog on 1025). Default port 25. A login over `none` is refused
//!   unless the host is a loopback address (`localhost`, `127.0.0.1`, `::1`): the password would cross the
//!   network in clear.
//!
//! Certificates are checked against the Mozilla root certificates built into Pilot (webpki-roots), for the host
//! name as given. `tls_ca_file` (or `smtp.ca_file`) names a PEM file of further CA certificates to trust, for a
//! server with a private or self-signed certificate.
//!
//! # Login
//!
//! The step's `credential:` logs in: provider `basic` (or `smtp`) with data `{"username": ..., "password": ...}`.
//! Pilot uses `AUTH PLAIN`, or `AUTH LOGIN` when the server offers only that. Without a credential no login is
//! made (local relays). When no `from` is given anywhere, a username that is an email address is the sender.
//!
//! # Failures
//!
//! Each names the server (`host:port`) and the stage: connection refused or timed out, the TLS handshake (an
//! untrusted certificate), STARTTLS, the login (`SMTP server smtp.example.com:587 rejected the login of
//! `ann@example.com`: 535 5.7.8 Authentication credentials invalid`), the sender, the recipients, the message.
//! The password never appears in a message: any echo of it by the server is replaced by `[redacted]`.
//!
//! A refused recipient fails the step and nothing is sent, naming each refused address with the server's reply.
//! With `allow_partial: true`, the message goes to the accepted recipients instead, and the refused ones are
//! listed in `rejected` (the step still fails when every recipient is refused).
//!
//! The whole send is bounded by `timeout` (default 30s) and stops at once when the step is cancelled.

mod settings;
mod smtp;

pub use settings::{SmtpSettings, TlsMode, settings_file_from_environment};

use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use expr_grammar::Value;
use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, Mailboxes};

use crate::fields::{Fields, invalid, wrong_kind};
use crate::{ActionContext, ActionError, Credential};
use smtp::{Delivery, Login, Server};

/// Limit for one whole send when neither the step nor the settings give one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The `smtp` settings the connector was made with, or why they could not be read.
#[derive(Debug, Clone, Default)]
pub struct SmtpDefaults {
    settings: SmtpSettings,
    error: Option<String>,
}

impl SmtpDefaults {
    pub fn new(settings: SmtpSettings) -> SmtpDefaults {
        SmtpDefaults { settings, error: None }
    }

    /// The `smtp` section of `settings_file`; a file that cannot be used makes every email step fail saying why.
    pub fn from_settings_file(settings_file: &std::path::Path) -> SmtpDefaults {
        match SmtpSettings::load(settings_file) {
            Ok(settings) => SmtpDefaults::new(settings),
            Err(error) => SmtpDefaults { settings: SmtpSettings::default(), error: Some(error) },
        }
    }

    pub fn settings(&self) -> &SmtpSettings {
        &self.settings
    }
}

/// The email as it goes on the wire, and its envelope.
struct Letter {
    envelope: lettre::address::Envelope,
    bytes: Vec<u8>,
    message_id: String,
}

pub(crate) async fn send(
    defaults: &SmtpDefaults,
    fields: &Fields<'_>,
    ctx: &ActionContext,
) -> Result<Value, ActionError> {
    if let Some(error) = &defaults.error {
        return Err(ActionError::Failed { message: format!("the `smtp` settings cannot be used: {error}") });
    }
    let settings = &defaults.settings;
    let login = login(ctx.credential.as_ref())?;
    let server = server(fields, settings).await?;
    refuse_plaintext_login(&server, login.as_ref(), ctx.credential.as_ref())?;
    let letter = compose(fields, settings, login.as_ref())?;
    let allow_partial = fields.bool_or("allow_partial", false)?;
    let delivery = smtp::deliver(&server, login.as_ref(), &letter.envelope, &letter.bytes, allow_partial);
    let delivery = tokio::select! {
        () = ctx.cancel.cancelled() => return Err(ActionError::Cancelled),
        result = tokio::time::timeout(server.timeout, delivery) => result,
    };
    match delivery {
        Err(_) => Err(ActionError::Failed {
            message: format!(
                "SMTP server {} did not finish within {}s (`timeout`)",
                server.shown(),
                server.timeout.as_secs_f64()
            ),
        }),
        Ok(Err(message)) => Err(ActionError::Failed { message: redact(message, login.as_ref()) }),
        Ok(Ok(delivery)) => Ok(output(&letter.message_id, delivery)),
    }
}

fn output(message_id: &str, delivery: Delivery) -> Value {
    let rejected = delivery.rejected.into_iter().map(|rejection| {
        Value::object([("address", Value::from(rejection.address)), ("reply", Value::from(rejection.reply))])
    });
    Value::object([
        ("message_id", Value::from(message_id)),
        ("accepted", Value::list(delivery.accepted.into_iter().map(Value::from))),
        ("rejected", Value::list(rejected)),
    ])
}

/// Host, port, TLS mode, extra CA certificates and time limit, from the inputs, else the settings.
async fn server(fields: &Fields<'_>, settings: &SmtpSettings) -> Result<Server, ActionError> {
    let tls = match fields.optional_string("tls")? {
        Some(text) => TlsMode::parse(text)
            .ok_or_else(|| invalid("tls", format!("expected `starttls`, `tls` or `none`, got `{text}`")))?,
        None => settings.tls.unwrap_or(TlsMode::Starttls),
    };
    let host = fields.optional_string("smtp_host")?.or(settings.host.as_deref()).map(str::trim).unwrap_or_default();
    if host.is_empty() {
        return Err(invalid("smtp_host", "required: give `smtp_host`, or set `smtp.host` in settings.json"));
    }
    let port = match fields.get("smtp_port") {
        None => settings.port.unwrap_or(tls.default_port()),
        Some(Value::Int(port)) => u16::try_from(*port)
            .ok()
            .filter(|port| *port != 0)
            .ok_or_else(|| invalid("smtp_port", format!("{port} is not a TCP port (1 to 65535)")))?,
        Some(other) => return Err(wrong_kind("smtp_port", "an int", other)),
    };
    let extra_roots = match fields.optional_string("tls_ca_file")? {
        Some(path) => Some(read_ca_file(std::path::Path::new(path), "").await?),
        None => match &settings.ca_file {
            Some(path) => Some(read_ca_file(path, " (`smtp.ca_file` in settings.json)").await?),
            None => None,
        },
    };
    let timeout = fields.optional_limit("timeout")?.or(settings.timeout()).unwrap_or(DEFAULT_TIMEOUT);
    let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
    Ok(Server { host, port, tls, extra_roots, timeout })
}

async fn read_ca_file(path: &std::path::Path, origin: &str) -> Result<Vec<u8>, ActionError> {
    let shown = path.display();
    let pem = tokio::fs::read(path)
        .await
        .map_err(|err| invalid("tls_ca_file", format!("cannot read {shown}{origin}: {err}")))?;
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        return Err(invalid("tls_ca_file", format!("{shown}{origin} holds no PEM certificate")));
    }
    Ok(pem)
}

/// The login of a `basic` (or `smtp`) credential.
fn login(credential: Option<&Credential>) -> Result<Option<Login>, ActionError> {
    let Some(credential) = credential else {
        return Ok(None);
    };
    let bad = |reason: String| ActionError::InvalidInput {
        field: "credential".to_string(),
        message: format!("credential `{}` cannot log in to an SMTP server: {reason}", credential.name),
    };
    if !matches!(credential.provider.as_str(), "basic" | "smtp") {
        return Err(bad(format!(
            "its provider is `{}`; use provider `basic` with data {{\"username\", \"password\"}}",
            credential.provider
        )));
    }
    let text = |key: &str| credential.data.get(key).and_then(serde_json::Value::as_str).filter(|s| !s.is_empty());
    match (text("username"), text("password")) {
        (Some(username), Some(password)) => {
            Ok(Some(Login { username: username.to_string(), password: password.to_string() }))
        }
        _ => Err(bad("its data needs non-empty `username` and `password` strings".to_string())),
    }
}

/// A password is never sent unencrypted beyond this machine.
fn refuse_plaintext_login(
    server: &Server,
    login: Option<&Login>,
    credential: Option<&Credential>,
) -> Result<(), ActionError> {
    if server.tls != TlsMode::None || login.is_none() || is_loopback(&server.host) {
        return Ok(());
    }
    let name = credential.map_or("", |credential| credential.name.as_str());
    Err(invalid(
        "tls",
        format!(
            "`none` would send the password of credential `{name}` unencrypted to {}; use `starttls` or `tls` \
             (a plain connection may log in only to a relay on this machine)",
            server.shown()
        ),
    ))
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn compose(fields: &Fields<'_>, settings: &SmtpSettings, login: Option<&Login>) -> Result<Letter, ActionError> {
    let from = sender(fields, settings, login)?;
    let to = mailboxes(fields, "to")?;
    if to.is_empty() {
        return Err(invalid("to", "required: at least one recipient"));
    }
    let subject = fields.required_text("subject")?;
    let body = fields.required_text("body")?;
    let content_type = if fields.bool_or("html", false)? { ContentType::TEXT_HTML } else { ContentType::TEXT_PLAIN };
    let message_id = new_message_id(&from);
    let mut builder =
        Message::builder().from(from).subject(subject).message_id(Some(message_id.clone())).header(content_type);
    if let Some(reply_to) = fields.optional_string("reply_to")? {
        builder = builder.reply_to(mailbox("reply_to", reply_to)?);
    }
    for recipient in to {
        builder = builder.to(recipient);
    }
    for recipient in mailboxes(fields, "cc")? {
        builder = builder.cc(recipient);
    }
    for recipient in mailboxes(fields, "bcc")? {
        builder = builder.bcc(recipient);
    }
    let message = builder
        .body(body.to_string())
        .map_err(|err| ActionError::Failed { message: format!("cannot build the email: {err}") })?;
    Ok(Letter { envelope: message.envelope().clone(), bytes: message.formatted(), message_id })
}

/// `from`, else `smtp.from` in the settings, else the login's username when it is an address.
fn sender(fields: &Fields<'_>, settings: &SmtpSettings, login: Option<&Login>) -> Result<Mailbox, ActionError> {
    if let Some(text) = fields.optional_string("from")? {
        return mailbox("from", text);
    }
    if let Some(text) = settings.from.as_deref() {
        return Mailbox::from_str(text.trim())
            .map_err(|_| invalid("from", format!("`smtp.from` in settings.json, `{text}`, is not an email address")));
    }
    if let Some(address) = login.and_then(|login| Mailbox::from_str(&login.username).ok()) {
        return Ok(address);
    }
    Err(invalid("from", "required: give `from`, or set `smtp.from` in settings.json"))
}

fn mailbox(field: &str, text: &str) -> Result<Mailbox, ActionError> {
    Mailbox::from_str(text.trim()).map_err(|_| {
        invalid(field, format!("`{text}` is not an email address (`name@example.com` or `Name <name@example.com>`)"))
    })
}

/// An address, a comma-separated string of addresses, or a list of addresses.
fn mailboxes(fields: &Fields<'_>, field: &str) -> Result<Vec<Mailbox>, ActionError> {
    match fields.get(field) {
        None => Ok(Vec::new()),
        Some(Value::String(text)) => {
            Mailboxes::from_str(text.trim()).map(|list| list.into_iter().collect()).map_err(|_| {
                invalid(
                    field,
                    format!("`{text}` is not a list of email addresses (`Ann <ann@example.com>, bob@example.com`)"),
                )
            })
        }
        Some(Value::List(items)) => items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => mailbox(&format!("{field}[{index}]"), text),
                other => Err(wrong_kind(&format!("{field}[{index}]"), "an email address", other)),
            })
            .collect(),
        Some(other) => Err(wrong_kind(field, "an address or a list of addresses", other)),
    }
}

/// `<32 hex digits@sender's domain>`: unique without revealing anything about this machine.
fn new_message_id(from: &Mailbox) -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        bytes = nanos.to_be_bytes();
    }
    format!("<{}@{}>", crate::http::hex(&bytes), from.email.domain())
}

/// Replaces the password, and the base64 forms AUTH PLAIN and LOGIN send it in, by `[redacted]`.
fn redact(message: String, login: Option<&Login>) -> String {
    let Some(login) = login else {
        return message;
    };
    let engine = base64::engine::general_purpose::STANDARD;
    let plain_blob = engine.encode(format!("\0{}\0{}", login.username, login.password));
    let forms = [plain_blob, engine.encode(&login.password), login.password.clone()];
    forms.iter().fold(message, |message, secret| message.replace(secret.as_str(), "[redacted]"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login() -> Login {
        Login { username: "ann@example.com".to_string(), password: "s3cret-pass".to_string() }
    }

    #[test]
    fn redaction_removes_the_password_in_clear_and_in_both_auth_encodings() {
        let engine = base64::engine::general_purpose::STANDARD;
        let plain = engine.encode("\0ann@example.com\0s3cret-pass");
        let message = format!("535 bad s3cret-pass / {plain} / {}", engine.encode("s3cret-pass"));
        let redacted = redact(message, Some(&login()));
        assert_eq!(redacted, "535 bad [redacted] / [redacted] / [redacted]");
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["smtp.example.com", "10.0.0.1", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn message_ids_are_random_and_use_the_sender_domain() {
        let from = Mailbox::from_str("Ann <ann@example.com>").expect("address");
        let (first, second) = (new_message_id(&from), new_message_id(&from));
        assert_ne!(first, second);
        assert!(first.starts_with('<') && first.ends_with("@example.com>"), "{first}");
        assert_eq!(first.len(), "<@example.com>".len() + 32);
    }

    #[test]
    fn a_login_over_tls_none_is_refused_unless_the_relay_is_on_this_machine() {
        let server = |host: &str| Server {
            host: host.to_string(),
            port: 25,
            tls: TlsMode::None,
            extra_roots: None,
            timeout: DEFAULT_TIMEOUT,
        };
        match refuse_plaintext_login(&server("smtp.example.com"), Some(&login()), None) {
            Err(ActionError::InvalidInput { field, message }) => {
                assert_eq!(field, "tls");
                assert!(message.contains("unencrypted to smtp.example.com:25"), "{message}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        assert!(refuse_plaintext_login(&server("127.0.0.1"), Some(&login()), None).is_ok());
        assert!(refuse_plaintext_login(&server("smtp.example.com"), None, None).is_ok());
    }

    #[tokio::test]
    async fn a_broken_settings_file_fails_every_email_step_with_its_reason() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let file = dir.path().join("settings.json");
        std::fs::write(&file, r#"{"smtp": {"port": "twenty-five"}}"#).expect("write");
        let defaults = SmtpDefaults::from_settings_file(&file);
        let input = Value::from_json(&serde_json::json!({
            "smtp_host": "127.0.0.1", "to": "ann@example.com", "subject": "s", "body": "b"
        }));
        let ctx = ActionContext {
            execution_id: "e".into(),
            step_id: "s".into(),
            cancel: tokio_util::sync::CancellationToken::new(),
            credential: None,
            ..Default::default()
        };
        let fields = Fields::new(&input).expect("fields");
        match send(&defaults, &fields, &ctx).await {
            Err(ActionError::Failed { message }) => {
                let expected = format!("the `smtp` settings cannot be used: {}: `smtp` section: ", file.display());
                assert!(message.starts_with(&expected), "{message}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn login_debug_hides_the_password() {
        assert!(!format!("{:?}", login()).contains("s3cret"));
    }
}
