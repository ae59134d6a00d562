//! How `http/*` fails: statuses, refused connections, unresolvable names, timeouts, TLS, cancellation and bad
//! inputs, each with a message that names the place and the reason.

mod net_support;

use connectors::ActionError;
use connectors::http::HttpConnector;
use expr_grammar::Value;
use net_support::*;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn a_404_fails_with_the_status_and_the_start_of_the_body() {
    let long_body = format!("no such page: {}", "x".repeat(1000));
    let server = TestServer::start(move |_| reply(404, "text/plain", long_body.clone())).await;
    let result = run(&HttpConnector::new(), "http/get", input(json!({"url": server.url("/missing")})), &ctx()).await;
    let message = failure_message(result);
    let expected_start = format!("GET {} answered 404 Not Found: no such page: xxx", server.url("/missing"));
    assert!(message.starts_with(&expected_start), "{message}");
    // The excerpt is 200 characters and an ellipsis, not the whole kilobyte.
    let quoted = message.split(": ").skip(1).collect::<Vec<_>>().join(": ");
    assert_eq!(quoted.chars().count(), 201, "{message}");
    assert!(quoted.ends_with('…'));
}

#[tokio::test]
async fn a_500_fails_with_its_body() {
    let server = TestServer::start(|_| json_reply(500, json!({"error": "database down"}))).await;
    let result =
        run(&HttpConnector::new(), "http/post", input(json!({"url": server.url("/x"), "json": 1})), &ctx()).await;
    let message = failure_message(result);
    assert!(message.contains("POST") && message.contains("500 Internal Server Error"), "{message}");
    assert!(message.contains(r#"{"error":"database down"}"#), "{message}");
}

#[tokio::test]
async fn fail_on_status_false_returns_the_error_response() {
    let server = TestServer::start(|_| json_reply(404, json!({"error": "gone"}))).await;
    let input = input(json!({"url": server.url("/x"), "fail_on_status": false}));
    let output = run(&HttpConnector::new(), "http/get", input, &ctx()).await.expect("no failure");
    assert_eq!(field(&output, "status"), &Value::Int(404));
    assert_eq!(field(&output, "body"), &Value::from_json(&json!({"error": "gone"})));
}

#[tokio::test]
async fn connection_refused_names_host_and_port() {
    let port = closed_port().await;
    let result =
        run(&HttpConnector::new(), "http/get", input(json!({"url": format!("http://127.0.0.1:{port}/")})), &ctx())
            .await;
    let message = failure_message(result);
    assert!(message.contains(&format!("cannot connect to 127.0.0.1:{port}: connection refused")), "{message}");
}

#[tokio::test]
async fn an_unresolvable_host_says_it_cannot_be_resolved() {
    // Even `nonexistent.invalid` is sent to the configured name server, which may be another machine. A 64-letter
    // label is longer than DNS allows (63), so the system resolver fails it locally, before any query is sent:
    // the same resolver failure, with no traffic.
    let host = format!("{}.invalid", "a".repeat(64));
    let result = run(&HttpConnector::new(), "http/get", input(json!({"url": format!("http://{host}/")})), &ctx()).await;
    let message = failure_message(result);
    assert!(message.starts_with(&format!("cannot resolve host `{host}` (GET http://{host}/): ")), "{message}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_naming_the_limit() {
    let server = TestServer::start(|_| Reply::Never).await;
    let input = input_with(json!({"url": server.url("/slow")}), [("timeout", millis(200))]);
    let message = failure_message(run(&HttpConnector::new(), "http/get", input, &ctx()).await);
    assert_eq!(message, format!("GET {} timed out after 200ms", server.url("/slow")));
}

#[tokio::test]
async fn cancelling_the_step_aborts_a_pending_request() {
    let server = Arc::new(TestServer::start(|_| Reply::Never).await);
    let ctx = ctx();
    let cancel = ctx.cancel.clone();
    let waiting = server.clone();
    tokio::spawn(async move {
        waiting.wait_for_requests(1).await;
        cancel.cancel();
    });
    // Without cancellation this would wait the default 30s timeout; the test's own limit is generous but finite.
    let input = input(json!({"url": server.url("/hang")}));
    let result =
        tokio::time::timeout(std::time::Duration::from_secs(20), run(&HttpConnector::new(), "http/get", input, &ctx))
            .await
            .expect("cancel ended the call");
    assert_eq!(result, Err(ActionError::Cancelled));
}

#[tokio::test]
async fn a_self_signed_certificate_is_rejected_as_a_tls_failure() {
    let port = tls_server_with_self_signed_certificate().await;
    let url = format!("https://127.0.0.1:{port}/");
    let message = failure_message(run(&HttpConnector::new(), "http/get", input(json!({"url": url})), &ctx()).await);
    assert!(message.starts_with(&format!("TLS handshake with 127.0.0.1:{port} failed")), "{message}");
    assert!(message.to_lowercase().contains("certificate"), "{message}");
}

#[tokio::test]
async fn errors_never_show_the_query_or_user_info_of_the_url() {
    let port = closed_port().await;
    let url = format!("http://ann:hunter2@127.0.0.1:{port}/path?token=sekrit");
    let message = failure_message(run(&HttpConnector::new(), "http/get", input(json!({"url": url})), &ctx()).await);
    assert!(!message.contains("sekrit") && !message.contains("hunter2"), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{port}/path")), "{message}");
}

#[tokio::test]
async fn invalid_inputs_name_the_field() {
    let connector = HttpConnector::new();
    let cases = [
        (json!({"url": "ftp://example.test/"}), "url", "scheme must be http or https"),
        (json!({"url": "not a url"}), "url", "not a valid URL"),
        (json!({"url": "http://127.0.0.1/", "json": {}, "body": "x"}), "body", "one body only"),
        (json!({"url": "http://127.0.0.1/", "headers": {"Bad Name": "x"}}), "headers.Bad Name", "header name"),
        (json!({"url": "http://127.0.0.1/", "query": "a=b"}), "query", "expected an object"),
        (json!({}), "url", "required"),
    ];
    for (json_input, want_field, want_text) in cases {
        match run(&connector, "http/post", input(json_input.clone()), &ctx()).await {
            Err(ActionError::InvalidInput { field, message }) => {
                assert_eq!(field, want_field, "{json_input}");
                assert!(message.contains(want_text), "{json_input}: {message}");
            }
            other => panic!("{json_input}: expected an input error, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_credential_of_an_unknown_provider_is_refused_before_any_request() {
    let server = TestServer::ok().await;
    let ctx = ctx_with_credential("smtp", json!({"password": "pw"}));
    let result = run(&HttpConnector::new(), "http/get", input(json!({"url": server.url("/")})), &ctx).await;
    match result {
        Err(ActionError::InvalidInput { field, message }) => {
            assert_eq!(field, "credential");
            assert!(message.contains("test-cred") && message.contains("`smtp`"), "{message}");
            assert!(!message.contains("pw"), "{message}");
        }
        other => panic!("expected a credential error, got {other:?}"),
    }
    assert!(server.requests().is_empty());
}

/// A TLS server on 127.0.0.1 whose certificate no authority signed. Returns its port.
async fn tls_server_with_self_signed_certificate() -> u16 {
    use tokio_rustls::rustls;
    let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .expect("generate certificate");
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            // The client aborts the handshake; the outcome is the client's to report.
            let _ = acceptor.accept(stream).await;
        }
    });
    port
}
