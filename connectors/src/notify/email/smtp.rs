//! One SMTP conversation, driven command by command through lettre's connection API (rather than its
//! all-in-one transport) so that every failure says which stage failed: connecting, TLS, STARTTLS, the login, the
//! sender, each recipient, or the message itself. Messages here may quote the server's replies; the caller
//! redacts the password from them.

use std::error::Error as _;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, CertificateStore, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailParameter};

use super::settings::TlsMode;

/// Where the message goes.
pub(crate) struct Server {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    /// PEM text of CA certificates trusted besides the built-in roots.
    pub extra_roots: Option<Vec<u8>>,
    pub timeout: Duration,
}

impl Server {
    /// `host:port`, as messages show the server.
    pub fn shown(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// TLS parameters for `starttls` and `tls`: the Mozilla roots (webpki-roots) plus `extra_roots`, verified
    /// against `host`. `None` for `none`.
    pub fn tls_parameters(&self) -> Result<Option<TlsParameters>, String> {
        if self.tls == TlsMode::None {
            return Ok(None);
        }
        let mut builder = TlsParameters::builder(self.host.clone()).certificate_store(CertificateStore::WebpkiRoots);
        if let Some(pem) = &self.extra_roots {
            let certificate = Certificate::from_pem(pem).map_err(|err| format!("not a PEM certificate file: {err}"))?;
            builder = builder.add_root_certificate(certificate);
        }
        builder.build_rustls().map(Some).map_err(|err| format!("cannot set up TLS: {}", reason(&err)))
    }
}

/// The login of the step's credential. Its `Debug` never shows the password.
pub(crate) struct Login {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").field("username", &self.username).finish_non_exhaustive()
    }
}

/// A recipient the server refused, with its reply (`550 5.1.1 User unknown`).
pub(crate) struct Rejection {
    pub address: String,
    pub reply: String,
}

/// What the server took.
pub(crate) struct Delivery {
    pub accepted: Vec<String>,
    pub rejected: Vec<Rejection>,
}

/// Connects, secures, logs in and sends `message` to the envelope's recipients. With `allow_partial`, refused
/// recipients are skipped (and reported) as long as one was accepted; without it, any refusal sends nothing.
pub(crate) async fn deliver(
    server: &Server,
    login: Option<&Login>,
    envelope: &Envelope,
    message: &[u8],
    allow_partial: bool,
) -> Result<Delivery, String> {
    let tls = server.tls_parameters()?;
    let implicit = if server.tls == TlsMode::Tls { tls.clone() } else { None };
    let hello = ClientId::default();
    let address = (server.host.as_str(), server.port);
    let mut connection = AsyncSmtpConnection::connect_tokio1(address, Some(server.timeout), &hello, implicit, None)
        .await
        .map_err(|err| connect_failure(server, &err))?;
    if let (TlsMode::Starttls, Some(parameters)) = (server.tls, tls) {
        // On failure the connection is dropped as is: after a failed TLS upgrade lettre has no stream left to
        // write QUIT to.
        starttls(&mut connection, server, parameters, &hello).await?;
    }
    let result = converse(&mut connection, server, login, envelope, message, allow_partial).await;
    match result {
        Ok(_) => {
            // The message is accepted once DATA is answered 250; a failing QUIT changes nothing.
            let _ = connection.quit().await;
        }
        Err(_) => connection.abort().await,
    }
    result
}

async fn starttls(
    connection: &mut AsyncSmtpConnection,
    server: &Server,
    parameters: TlsParameters,
    hello: &ClientId,
) -> Result<(), String> {
    let shown = server.shown();
    if !connection.can_starttls() {
        connection.abort().await;
        return Err(format!(
            "SMTP server {shown} does not offer STARTTLS: use `tls: tls` for a server that speaks TLS from the \
             start (usually port 465), or `tls: none` for a relay on this machine"
        ));
    }
    connection
        .starttls(parameters, hello)
        .await
        .map_err(|err| format!("STARTTLS with SMTP server {shown} failed: {}", reason(&err)))
}

/// Login, envelope and message over an established (and, if asked for, secured) connection.
async fn converse(
    connection: &mut AsyncSmtpConnection,
    server: &Server,
    login: Option<&Login>,
    envelope: &Envelope,
    message: &[u8],
    allow_partial: bool,
) -> Result<Delivery, String> {
    let shown = server.shown();
    if let Some(login) = login {
        authenticate(connection, &shown, login).await?;
    }
    let delivery = send_envelope(connection, &shown, envelope, allow_partial).await?;
    connection
        .command(Data)
        .await
        .map_err(|err| format!("SMTP server {shown} refused to take the message (DATA): {}", reason(&err)))?;
    connection
        .message(message)
        .await
        .map_err(|err| format!("SMTP server {shown} refused the message: {}", reason(&err)))?;
    Ok(delivery)
}

async fn authenticate(connection: &mut AsyncSmtpConnection, shown: &str, login: &Login) -> Result<(), String> {
    let mechanisms = [Mechanism::Plain, Mechanism::Login];
    let info = connection.server_info();
    if !mechanisms.iter().any(|mechanism| info.supports_auth_mechanism(*mechanism)) {
        return Err(format!(
            "SMTP server {shown} offers no login method Pilot can use (Pilot logs in with AUTH PLAIN or LOGIN); \
             if it needs no login, remove the step's `credential:`"
        ));
    }
    let credentials = Credentials::new(login.username.clone(), login.password.clone());
    connection.auth(&mechanisms, &credentials).await.map(|_| ()).map_err(|err| match err.status() {
        Some(_) => format!("SMTP server {shown} rejected the login of `{}`: {}", login.username, reason(&err)),
        None => format!("login to SMTP server {shown} as `{}` failed: {}", login.username, reason(&err)),
    })
}

/// `MAIL FROM` and one `RCPT TO` per recipient.
async fn send_envelope(
    connection: &mut AsyncSmtpConnection,
    shown: &str,
    envelope: &Envelope,
    allow_partial: bool,
) -> Result<Delivery, String> {
    let international =
        envelope.from().into_iter().chain(envelope.to()).any(|address| !AsRef::<str>::as_ref(address).is_ascii());
    let mut parameters = Vec::new();
    if international {
        if !connection.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err(format!(
                "SMTP server {shown} does not accept addresses with non-ASCII characters (no SMTPUTF8)"
            ));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    let sender = envelope.from().map_or_else(|| "<>".to_string(), ToString::to_string);
    connection
        .command(Mail::new(envelope.from().cloned(), parameters))
        .await
        .map_err(|err| format!("SMTP server {shown} refused the sender `{sender}`: {}", reason(&err)))?;
    let mut delivery = Delivery { accepted: Vec::new(), rejected: Vec::new() };
    for recipient in envelope.to() {
        match connection.command(Rcpt::new(recipient.clone(), Vec::new())).await {
            Ok(_) => delivery.accepted.push(recipient.to_string()),
            Err(err) if err.status().is_some() => {
                delivery.rejected.push(Rejection { address: recipient.to_string(), reply: reason(&err) });
            }
            Err(err) => {
                return Err(format!("SMTP server {shown} failed at recipient `{recipient}`: {}", reason(&err)));
            }
        }
    }
    if !delivery.rejected.is_empty() && (!allow_partial || delivery.accepted.is_empty()) {
        return Err(refused_recipients(shown, &delivery.rejected));
    }
    Ok(delivery)
}

fn refused_recipients(shown: &str, rejected: &[Rejection]) -> String {
    let listed: Vec<String> =
        rejected.iter().map(|rejection| format!("`{}` ({})", rejection.address, rejection.reply)).collect();
    let noun = if rejected.len() == 1 { "recipient" } else { "recipients" };
    format!("SMTP server {shown} refused the {noun} {}; nothing was sent", listed.join(", "))
}

fn connect_failure(server: &Server, err: &SmtpError) -> String {
    let shown = server.shown();
    if err.is_tls() || (server.tls == TlsMode::Tls && is_tls_failure(err)) {
        return format!("TLS handshake with SMTP server {shown} failed: {}", reason(err));
    }
    if err.status().is_some() {
        return format!("SMTP server {shown} refused the connection: {}", reason(err));
    }
    if err.is_timeout() {
        return format!("SMTP server {shown} did not answer within {}s", server.timeout.as_secs_f64());
    }
    format!("cannot connect to SMTP server {shown}: {}", reason(err))
}

/// tokio-rustls reports handshake failures (untrusted certificate, not TLS at all) as `InvalidData` I/O errors.
fn is_tls_failure(err: &SmtpError) -> bool {
    let mut cause = err.source();
    while let Some(current) = cause {
        if current.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::InvalidData) {
            return true;
        }
        cause = current.source();
    }
    false
}

/// The server's reply (`535 5.7.8 Authentication failed`), or the innermost cause (`Connection refused (os error
/// 111)`) without lettre's wrapping.
pub(crate) fn reason(err: &SmtpError) -> String {
    if let Some(code) = err.status() {
        return match err.source() {
            Some(text) => format!("{code} {}", text.to_string().trim()),
            None => code.to_string(),
        };
    }
    let mut innermost: &dyn std::error::Error = err;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    innermost.to_string()
}
