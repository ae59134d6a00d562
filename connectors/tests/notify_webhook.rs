//! `notify/webhook` against a real receiver on 127.0.0.1 that verifies the signature itself, as a user's receiver
//! would: HMAC-SHA256 over `TIMESTAMP.` and the raw body bytes, compared in constant time.

mod net_support;

use connectors::ActionError;
use connectors::notify::NotifyConnector;
use expr_grammar::Value;
use net_support::*;
use serde_json::json;

const SECRET: &str = "whsec-test-5d41402abc4b2a76";

/// The receiver's check, written from the documented scheme only.
fn receiver_accepts(request: &Recorded, secret: &str) -> bool {
    let Some(hex) = request.header("x-pilot-signature").and_then(|v| v.strip_prefix("sha256=")) else {
        return false;
    };
    let Some(timestamp) = request.header("x-pilot-timestamp") else { return false };
    let Some(signature) = decode_hex(hex) else { return false };
    let signed = [timestamp.as_bytes(), b".", &request.body].concat();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::verify(&key, &signed, &signature).is_ok()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok()).collect()
}

/// A receiver that answers 200 only to correctly signed requests, 401 otherwise.
async fn verifying_receiver() -> TestServer {
    TestServer::start(|request| {
        if receiver_accepts(request, SECRET) {
            reply(200, "text/plain", "accepted")
        } else {
            reply(401, "text/plain", "bad signature")
        }
    })
    .await
}

#[tokio::test]
async fn a_signed_payload_is_accepted_by_a_receiver_that_verifies_it() {
    let receiver = verifying_receiver().await;
    let payload = json!({"event": "backup.done", "files": 3, "ok": true, "note": "naïve ✓"});
    let input = input(json!({
        "url": receiver.url("/hooks/pilot"),
        "payload": payload,
        "secret": SECRET,
        "headers": {"X-Source": "pilot-test"},
    }));
    let output = run(&NotifyConnector::new(), "notify/webhook", input, &ctx()).await.expect("accepted");

    assert_eq!(output, Value::from_json(&json!({"status": 200})));
    let request = receiver.only_request();
    assert_eq!(request.method, axum::http::Method::POST);
    assert_eq!(request.path, "/hooks/pilot");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-source"), Some("pilot-test"));
    assert_eq!(request.body_json(), payload);
    let timestamp = request.header("x-pilot-timestamp").expect("timestamp header");
    assert!(timestamp.parse::<u64>().is_ok_and(|seconds| seconds > 1_600_000_000), "{timestamp}");
    assert!(receiver_accepts(&request, SECRET));
    assert!(!receiver_accepts(&request, "another-secret"));
}

#[tokio::test]
async fn a_wrong_secret_is_rejected_by_the_receiver_and_fails_the_step() {
    let receiver = verifying_receiver().await;
    let input = input(json!({"url": receiver.url("/hooks/pilot"), "payload": {"a": 1}, "secret": "wrong"}));
    let message = failure_message(run(&NotifyConnector::new(), "notify/webhook", input, &ctx()).await);
    assert_eq!(message, format!("POST {} answered 401 Unauthorized: bad signature", receiver.url("/")));
}

#[tokio::test]
async fn the_secret_can_come_from_an_hmac_credential() {
    let receiver = verifying_receiver().await;
    let ctx = ctx_with_credential("hmac", json!({"secret": SECRET}));
    let input = input(json!({"url": receiver.url("/in"), "payload": [1, 2, 3]}));
    run(&NotifyConnector::new(), "notify/webhook", input, &ctx).await.expect("accepted");
    assert_eq!(receiver.only_request().body_text(), "[1,2,3]");
}

#[tokio::test]
async fn without_a_secret_no_signature_headers_are_sent() {
    let receiver = TestServer::ok().await;
    let input = input(json!({"url": receiver.url("/in"), "payload": "plain string"}));
    run(&NotifyConnector::new(), "notification/webhook", input, &ctx()).await.unwrap();
    let request = receiver.only_request();
    assert_eq!(request.body_text(), r#""plain string""#);
    assert_eq!(request.header("x-pilot-signature"), None);
    assert_eq!(request.header("x-pilot-timestamp"), None);
}

#[tokio::test]
async fn a_bearer_credential_authenticates_the_call() {
    let receiver = TestServer::ok().await;
    let ctx = ctx_with_credential("bearer", json!({"token": "hook-token"}));
    run(&NotifyConnector::new(), "notify/webhook", input(json!({"url": receiver.url("/"), "payload": {}})), &ctx)
        .await
        .unwrap();
    assert_eq!(receiver.only_request().header("authorization"), Some("Bearer hook-token"));
}

#[tokio::test]
async fn a_failing_receiver_fails_the_step_without_showing_the_url_path() {
    // Webhook URLs often carry their token in the path: messages show only the origin.
    let receiver = TestServer::start(|_| reply(500, "text/plain", "receiver exploded")).await;
    let input = input(json!({"url": receiver.url("/hooks/T0KEN-in-path"), "payload": {}}));
    let message = failure_message(run(&NotifyConnector::new(), "notify/webhook", input, &ctx()).await);
    assert!(message.contains("500 Internal Server Error: receiver exploded"), "{message}");
    assert!(!message.contains("T0KEN"), "{message}");
}

#[tokio::test]
async fn an_unreachable_receiver_names_host_and_port() {
    let port = closed_port().await;
    let input = input(json!({"url": format!("http://127.0.0.1:{port}/hook"), "payload": {}}));
    let message = failure_message(run(&NotifyConnector::new(), "notify/webhook", input, &ctx()).await);
    assert!(message.contains(&format!("cannot connect to 127.0.0.1:{port}: connection refused")), "{message}");
}

#[tokio::test]
async fn payload_is_required() {
    let result =
        run(&NotifyConnector::new(), "notify/webhook", input(json!({"url": "http://127.0.0.1:1/"})), &ctx()).await;
    assert_eq!(result, Err(ActionError::InvalidInput { field: "payload".into(), message: "required".into() }));
}
