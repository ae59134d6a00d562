//! `notify/email` against a real SMTP server on 127.0.0.1 (`smtp_support`): STARTTLS, implicit TLS and plain
//! relays, AUTH PLAIN and LOGIN, what goes into the envelope and the message, and each way a send fails.

mod net_support;
mod smtp_support;

use connectors::ActionError;
use connectors::notify::NotifyConnector;
use connectors::notify::email::{SmtpSettings, TlsMode};
use expr_grammar::Value;
use net_support::*;
use serde_json::json;
use smtp_support::*;

const USER: &str = "ann@example.com";
const PASSWORD: &str = "correct horse battery staple";

/// An email to `ann@example.com` through `server`, with `extra` inputs added or replacing the defaults.
fn email(server: &SmtpServer, tls: &str, extra: serde_json::Value) -> Value {
    let mut fields = json!({
        "smtp_host": "127.0.0.1",
        "smtp_port": server.port,
        "tls": tls,
        "tls_ca_file": server.ca_file(),
        "from": "Pilot <pilot@example.com>",
        "to": "ann@example.com",
        "subject": "Nightly report",
        "body": "All 3 jobs finished.",
    });
    if let (Some(fields), Some(extra)) = (fields.as_object_mut(), extra.as_object()) {
        fields.extend(extra.clone());
    }
    input(fields)
}

fn login_ctx(password: &str) -> connectors::ActionContext {
    ctx_with_credential("basic", json!({"username": USER, "password": password}))
}

async fn send(input: Value, ctx: &connectors::ActionContext) -> Result<Value, ActionError> {
    run(&NotifyConnector::new(), "notify/email", input, ctx).await
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::List(items) => items.iter().map(|item| item.as_str().expect("string").to_string()).collect(),
        other => panic!("expected a list, got {other:?}"),
    }
}

fn invalid_field(result: Result<Value, ActionError>) -> (String, String) {
    match result {
        Err(ActionError::InvalidInput { field, message }) => (field, message),
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[tokio::test]
async fn starttls_upgrades_logs_in_and_sends_the_exact_envelope_and_headers() {
    let server = SmtpServer::start(SmtpConfig::starttls().with_login(USER, PASSWORD, "PLAIN LOGIN")).await;
    let input = email(
        &server,
        "starttls",
        json!({
            "to": ["ann@example.com", "Bob Stone <bob@example.com>"],
            "cc": "carol@example.com, Dan <dan@example.com>",
            "bcc": "audit@example.com",
            "reply_to": "ops@example.com",
        }),
    );
    let output = send(input, &login_ctx(PASSWORD)).await.expect("sent");

    let session = server.only_session();
    assert!(session.starttls && !session.implicit_tls, "{session:#?}");
    assert_eq!(session.encrypted_when_mailing, Some(true), "MAIL FROM went over TLS");
    let auth = session.auth.clone().expect("logged in");
    assert_eq!((auth.mechanism.as_str(), auth.username.as_str(), auth.password.as_str()), ("PLAIN", USER, PASSWORD));
    assert!(auth.accepted);
    assert_eq!(session.mail_from.as_deref(), Some("pilot@example.com"));
    let everyone = ["ann@example.com", "bob@example.com", "carol@example.com", "dan@example.com", "audit@example.com"];
    assert_eq!(session.accepted_recipients, everyone);
    assert_eq!(strings(field(&output, "accepted")), everyone);
    assert_eq!(field(&output, "rejected"), &Value::list([]));

    assert_eq!(session.header("From").as_deref(), Some("Pilot <pilot@example.com>"));
    assert_eq!(session.header("To").as_deref(), Some("ann@example.com, \"Bob Stone\" <bob@example.com>"));
    assert_eq!(session.header("Cc").as_deref(), Some("carol@example.com, Dan <dan@example.com>"));
    assert_eq!(session.header("Reply-To").as_deref(), Some("ops@example.com"));
    assert_eq!(session.header("Bcc"), None, "Bcc recipients are not shown to the others");
    assert_eq!(session.header("Subject").as_deref(), Some("Nightly report"));
    assert_eq!(session.header("Content-Type").as_deref(), Some("text/plain; charset=utf-8"));
    assert_eq!(session.header("Message-ID").as_deref(), Some(text_of(&output, "message_id")));
    assert!(text_of(&output, "message_id").ends_with("@example.com>"));
    assert_eq!(session.body().as_deref(), Some("All 3 jobs finished."));
    assert!(session.quit, "the session ends with QUIT");
}

#[tokio::test]
async fn html_bodies_are_sent_as_text_html_and_non_ascii_survives() {
    let server = SmtpServer::start(SmtpConfig::plain()).await;
    let body = "<h1>Résumé</h1><p>3 jobs</p>";
    let input = email(&server, "none", json!({"html": true, "body": body, "subject": "Café report"}));
    send(input, &ctx()).await.expect("sent");

    let session = server.only_session();
    assert_eq!(session.header("Content-Type").as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(session.header("Subject").as_deref(), Some("=?utf-8?b?Q2Fmw6k=?= report"), "RFC 2047 encoded");
    assert_eq!(session.header("Content-Transfer-Encoding").as_deref(), Some("quoted-printable"));
    assert_eq!(session.body().as_deref(), Some("<h1>R=C3=A9sum=C3=A9</h1><p>3 jobs</p>"));
}

#[tokio::test]
async fn implicit_tls_speaks_tls_from_the_first_byte() {
    let server = SmtpServer::start(SmtpConfig::implicit_tls().with_login(USER, PASSWORD, "PLAIN")).await;
    let output = send(email(&server, "tls", json!({})), &login_ctx(PASSWORD)).await.expect("sent");

    let session = server.only_session();
    assert!(session.implicit_tls && !session.starttls);
    assert_eq!(session.encrypted_when_mailing, Some(true));
    assert_eq!(session.auth.map(|auth| auth.accepted), Some(true));
    assert_eq!(strings(field(&output, "accepted")), ["ann@example.com"]);
}

#[tokio::test]
async fn auth_login_is_used_when_the_server_offers_only_login() {
    let server = SmtpServer::start(SmtpConfig::starttls().with_login(USER, PASSWORD, "LOGIN")).await;
    send(email(&server, "starttls", json!({})), &login_ctx(PASSWORD)).await.expect("sent");

    let session = server.only_session();
    let auth = session.auth.expect("logged in");
    assert_eq!((auth.mechanism.as_str(), auth.username.as_str(), auth.password.as_str()), ("LOGIN", USER, PASSWORD));
    assert!(session.data.is_some());
}

#[tokio::test]
async fn tls_none_sends_in_plain_text_to_a_local_relay_without_logging_in() {
    let server = SmtpServer::start(SmtpConfig::plain()).await;
    send(email(&server, "none", json!({})), &ctx()).await.expect("sent");

    let session = server.only_session();
    assert!(!session.starttls && !session.implicit_tls);
    assert_eq!(session.encrypted_when_mailing, Some(false));
    assert_eq!(session.auth, None);
    assert_eq!(session.accepted_recipients, ["ann@example.com"]);
    let verbs: Vec<String> =
        session.commands.iter().map(|c| c.split([' ', ':']).next().unwrap_or("").to_string()).collect();
    assert_eq!(verbs, ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"]);
}

#[tokio::test]
async fn a_rejected_login_names_the_server_and_its_reply_without_the_password() {
    let server = SmtpServer::start(SmtpConfig::starttls().with_login(USER, "another password", "PLAIN LOGIN")).await;
    let message = failure_message(send(email(&server, "starttls", json!({})), &login_ctx(PASSWORD)).await);

    assert_eq!(
        message,
        format!(
            "SMTP server 127.0.0.1:{} rejected the login of `ann@example.com`: 535 5.7.8 Error: authentication \
             failed: authentication failure",
            server.port
        )
    );
    assert!(!message.contains(PASSWORD));
    let session = server.only_session();
    assert_eq!(session.auth.map(|auth| auth.password), Some(PASSWORD.to_string()), "the password was tried");
    assert_eq!(session.mail_from, None, "nothing is sent after a failed login");
}

#[tokio::test]
async fn connection_refused_names_the_server() {
    let port = closed_port().await;
    let input = input(json!({"smtp_host": "127.0.0.1", "smtp_port": port, "tls": "none",
        "from": "pilot@example.com", "to": "ann@example.com", "subject": "s", "body": "b"}));
    let message = failure_message(send(input, &ctx()).await);
    let prefix = format!("cannot connect to SMTP server 127.0.0.1:{port}: ");
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.to_lowercase().contains("connection refused"), "{message}");
}

#[tokio::test]
async fn a_refused_recipient_fails_the_step_naming_it_and_nothing_is_sent() {
    let server = SmtpServer::start(SmtpConfig::plain().refusing("nobody@example.com")).await;
    let input = email(&server, "none", json!({"to": ["ann@example.com", "nobody@example.com"]}));
    let message = failure_message(send(input, &ctx()).await);

    assert_eq!(
        message,
        format!(
            "SMTP server 127.0.0.1:{} refused the recipient `nobody@example.com` (550 5.1.1 <nobody@example.com>: \
             Recipient address rejected: User unknown); nothing was sent",
            server.port
        )
    );
    let session = server.only_session();
    assert_eq!(session.refused_recipients, ["nobody@example.com"]);
    assert_eq!(session.data, None, "DATA was never sent");
}

#[tokio::test]
async fn allow_partial_sends_to_the_accepted_recipients_and_reports_the_refused_ones() {
    let server = SmtpServer::start(SmtpConfig::plain().refusing("nobody@example.com")).await;
    let input = email(&server, "none", json!({"to": "ann@example.com, nobody@example.com", "allow_partial": true}));
    let output = send(input, &ctx()).await.expect("sent to the accepted one");

    assert_eq!(strings(field(&output, "accepted")), ["ann@example.com"]);
    let rejected = json!([{"address": "nobody@example.com",
        "reply": "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown"}]);
    assert_eq!(field(&output, "rejected"), &Value::from_json(&rejected));
    assert!(server.only_session().data.is_some());
}

#[tokio::test]
async fn allow_partial_still_fails_when_every_recipient_is_refused() {
    let server = SmtpServer::start(SmtpConfig::plain().refusing("nobody@example.com")).await;
    let input = email(&server, "none", json!({"to": "nobody@example.com", "allow_partial": true}));
    let message = failure_message(send(input, &ctx()).await);
    assert!(message.ends_with("; nothing was sent"), "{message}");
    assert_eq!(server.only_session().data, None);
}

#[tokio::test]
async fn starttls_is_required_a_server_without_it_gets_nothing() {
    let server = SmtpServer::start(SmtpConfig::plain().with_login(USER, PASSWORD, "PLAIN")).await;
    let message = failure_message(send(email(&server, "starttls", json!({})), &login_ctx(PASSWORD)).await);

    assert!(
        message.starts_with(&format!("SMTP server 127.0.0.1:{} does not offer STARTTLS", server.port)),
        "{message}"
    );
    let session = server.only_session();
    assert_eq!(session.auth, None, "no password over plain text");
    assert_eq!(session.mail_from, None);
}

#[tokio::test]
async fn a_certificate_no_trusted_authority_signed_fails_the_tls_handshake() {
    let server = SmtpServer::start(SmtpConfig::implicit_tls()).await;
    let input = email(&server, "tls", json!({"tls_ca_file": null}));
    let message = failure_message(send(input, &ctx()).await);
    let prefix = format!("TLS handshake with SMTP server 127.0.0.1:{} failed: ", server.port);
    assert!(message.starts_with(&prefix), "{message}");
    assert!(message.ends_with("invalid peer certificate: UnknownIssuer"), "{message}");

    let starttls = SmtpServer::start(SmtpConfig::starttls()).await;
    let message = failure_message(send(email(&starttls, "starttls", json!({"tls_ca_file": null})), &ctx()).await);
    assert!(
        message.starts_with(&format!("STARTTLS with SMTP server 127.0.0.1:{} failed: ", starttls.port)),
        "{message}"
    );
    assert_eq!(starttls.only_session().mail_from, None);
}

#[tokio::test]
async fn settings_supply_the_server_and_the_sender_when_inputs_leave_them_out() {
    let server = SmtpServer::start(SmtpConfig::plain()).await;
    let settings = SmtpSettings {
        host: Some("127.0.0.1".to_string()),
        port: Some(server.port),
        tls: Some(TlsMode::None),
        from: Some("Reports <reports@example.org>".to_string()),
        ..SmtpSettings::default()
    };
    let connector = NotifyConnector::with_smtp_settings(settings);
    let input = input(json!({"to": "ann@example.com", "subject": "s", "body": "b"}));
    let output = run(&connector, "notify/email", input, &ctx()).await.expect("sent");

    let session = server.only_session();
    assert_eq!(session.mail_from.as_deref(), Some("reports@example.org"));
    assert_eq!(session.header("From").as_deref(), Some("Reports <reports@example.org>"));
    assert!(text_of(&output, "message_id").ends_with("@example.org>"));
}

#[tokio::test]
async fn inputs_override_the_settings() {
    let server = SmtpServer::start(SmtpConfig::plain()).await;
    let settings = SmtpSettings {
        host: Some("127.0.0.1".to_string()),
        port: Some(closed_port().await),
        tls: Some(TlsMode::Tls),
        from: Some("settings@example.org".to_string()),
        ..SmtpSettings::default()
    };
    let connector = NotifyConnector::with_smtp_settings(settings);
    let input = input(json!({"smtp_port": server.port, "tls": "none", "from": "input@example.com",
        "to": "ann@example.com", "subject": "s", "body": "b"}));
    run(&connector, "notify/email", input, &ctx()).await.expect("sent");
    assert_eq!(server.only_session().mail_from.as_deref(), Some("input@example.com"));
}

#[tokio::test]
async fn bad_addresses_and_missing_inputs_name_the_field_before_connecting() {
    let server = SmtpServer::start(SmtpConfig::plain()).await;
    let cases = [
        (json!({"to": ["ann@example.com", "not an address"]}), "to[1]"),
        (json!({"cc": "ann@example.com; bob@example.com"}), "cc"),
        (json!({"from": "pilot at example.com"}), "from"),
        (json!({"to": null}), "to"),
        (json!({"subject": null}), "subject"),
        (json!({"tls": "ssl"}), "tls"),
        (json!({"smtp_port": 70000}), "smtp_port"),
        (json!({"smtp_host": null}), "smtp_host"),
    ];
    for (extra, expected_field) in cases {
        let (field, message) = invalid_field(send(email(&server, "none", extra.clone()), &ctx()).await);
        assert_eq!(field, expected_field, "{extra}: {message}");
    }
    assert!(server.sessions().is_empty(), "no connection was made");
}

#[tokio::test]
async fn a_credential_of_another_provider_is_refused_without_showing_its_secret() {
    let server = SmtpServer::start(SmtpConfig::plain()).await;
    let ctx = ctx_with_credential("bearer", json!({"token": "tok-secret"}));
    let (field, message) = invalid_field(send(email(&server, "none", json!({})), &ctx).await);
    assert_eq!(field, "credential");
    assert!(
        message.contains("`bearer`") && message.contains("`basic`") && !message.contains("tok-secret"),
        "{message}"
    );
    assert!(server.sessions().is_empty());
}

#[tokio::test]
async fn a_missing_ca_file_names_the_input_and_the_path() {
    let server = SmtpServer::start(SmtpConfig::starttls()).await;
    let (field, message) =
        invalid_field(send(email(&server, "starttls", json!({"tls_ca_file": "/nonexistent/ca.pem"})), &ctx()).await);
    assert_eq!(field, "tls_ca_file");
    assert!(message.starts_with("cannot read /nonexistent/ca.pem: "), "{message}");
}

/// Accepts connections and never says a word. `connected` is notified at each accepted connection.
async fn silent_server() -> (u16, std::sync::Arc<tokio::sync::Notify>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let connected = std::sync::Arc::new(tokio::sync::Notify::new());
    let signal = connected.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
            signal.notify_one();
        }
    });
    (port, connected)
}

fn silent_input(port: u16) -> serde_json::Value {
    json!({"smtp_host": "127.0.0.1", "smtp_port": port, "tls": "none",
        "from": "pilot@example.com", "to": "ann@example.com", "subject": "s", "body": "b"})
}

#[tokio::test]
async fn a_silent_server_times_out_with_the_server_named() {
    let (port, _connected) = silent_server().await;
    let input = input_with(silent_input(port), [("timeout", millis(300))]);
    let message = failure_message(send(input, &ctx()).await);
    assert!(message.starts_with(&format!("SMTP server 127.0.0.1:{port} did not")), "{message}");
}

#[tokio::test]
async fn cancelling_the_step_stops_a_send_waiting_on_the_server() {
    let (port, connected) = silent_server().await;
    let ctx = ctx();
    let cancel = ctx.cancel.clone();
    let sending = tokio::spawn(async move { send(input(silent_input(port)), &ctx).await });
    connected.notified().await;
    cancel.cancel();
    assert_eq!(sending.await.expect("task"), Err(ActionError::Cancelled));
}
