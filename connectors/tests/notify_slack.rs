//! `notify/slack` against local servers that answer as Slack does: incoming webhooks (`ok` or an error code with
//! an error status) and the Web API's `chat.postMessage` (200 with `{"ok": false, "error": ...}` on failure).

mod net_support;

use connectors::ActionError;
use connectors::notify::NotifyConnector;
use expr_grammar::Value;
use net_support::*;
use serde_json::json;

/// Answers like Slack's Web API: checks the token, wants a channel, and reports failures in the JSON.
async fn fake_web_api() -> TestServer {
    TestServer::start(|request| {
        if request.path != "/api/chat.postMessage" {
            return reply(404, "text/plain", "unknown method");
        }
        if request.header("authorization") != Some("Bearer xoxb-test-token") {
            return json_reply(200, json!({"ok": false, "error": "invalid_auth"}));
        }
        match request.body_json().get("channel").and_then(|c| c.as_str()) {
            Some("#general") => json_reply(200, json!({"ok": true, "channel": "C123", "ts": "1700000000.000100"})),
            _ => json_reply(200, json!({"ok": false, "error": "channel_not_found"})),
        }
    })
    .await
}

fn bot_ctx(token: &str) -> connectors::ActionContext {
    ctx_with_credential("bearer", json!({"token": token}))
}

#[tokio::test]
async fn incoming_webhook_posts_text_and_blocks() {
    let hook = TestServer::start(|_| reply(200, "text/html", "ok")).await;
    let blocks = json!([{"type": "section", "text": {"type": "mrkdwn", "text": "*Backup* done"}}]);
    let input = input(json!({"webhook_url": hook.url("/services/T0/B0/XYZ"), "text": "Backup done", "blocks": blocks}));
    let output = run(&NotifyConnector::new(), "notify/slack", input, &ctx()).await.expect("posted");

    assert_eq!(output, Value::from_json(&json!({"ok": true, "channel": null, "ts": null})));
    let request = hook.only_request();
    assert_eq!(request.path, "/services/T0/B0/XYZ");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.body_json(), json!({"text": "Backup done", "blocks": blocks}));
}

#[tokio::test]
async fn the_webhook_url_can_come_from_the_credential() {
    let hook = TestServer::start(|_| reply(200, "text/html", "ok")).await;
    let ctx = ctx_with_credential("slack_webhook", json!({"webhook_url": hook.url("/services/T0/B0/XYZ")}));
    run(&NotifyConnector::new(), "notify/slack", input(json!({"text": "hi"})), &ctx).await.expect("posted");
    assert_eq!(hook.only_request().body_json(), json!({"text": "hi"}));
}

#[tokio::test]
async fn a_webhook_error_code_fails_the_step_without_showing_the_webhook_path() {
    let hook = TestServer::start(|_| reply(404, "text/html", "no_service")).await;
    let input = input(json!({"webhook_url": hook.url("/services/T0/B0/SECRETPART"), "text": "hi"}));
    let message = failure_message(run(&NotifyConnector::new(), "notify/slack", input, &ctx()).await);
    assert_eq!(message, format!("Slack incoming webhook at {} answered 404 Not Found: no_service", hook.url("/")));
    assert!(!message.contains("SECRETPART"));
}

#[tokio::test]
async fn a_bot_token_posts_to_chat_post_message_and_returns_channel_and_ts() {
    let api = fake_web_api().await;
    let input = input(json!({
        "text": "Deploy finished",
        "channel": "#general",
        "thread_ts": "1699999999.000001",
        "api_base": api.url("/api/"),
    }));
    let output =
        run(&NotifyConnector::new(), "notify/slack", input, &bot_ctx("xoxb-test-token")).await.expect("posted");

    assert_eq!(output, Value::from_json(&json!({"ok": true, "channel": "C123", "ts": "1700000000.000100"})));
    let request = api.only_request();
    assert_eq!(request.method, axum::http::Method::POST);
    assert_eq!(request.path, "/api/chat.postMessage");
    assert_eq!(request.header("authorization"), Some("Bearer xoxb-test-token"));
    assert_eq!(request.header("content-type"), Some("application/json; charset=utf-8"));
    assert_eq!(
        request.body_json(),
        json!({"channel": "#general", "text": "Deploy finished", "thread_ts": "1699999999.000001"})
    );
}

#[tokio::test]
async fn ok_false_from_slack_fails_with_slacks_error_code() {
    let api = fake_web_api().await;
    let input = input(json!({"text": "x", "channel": "#nowhere", "api_base": api.url("/api")}));
    let message =
        failure_message(run(&NotifyConnector::new(), "notify/slack", input, &bot_ctx("xoxb-test-token")).await);
    assert_eq!(
        message,
        format!(
            "Slack chat.postMessage at {} failed: channel_not_found (status 200 OK)",
            api.url("/api/chat.postMessage")
        )
    );
}

#[tokio::test]
async fn a_bad_token_fails_with_invalid_auth_and_the_token_is_not_shown() {
    let api = fake_web_api().await;
    let input = input(json!({"text": "x", "channel": "#general", "api_base": api.url("/api")}));
    let message = failure_message(run(&NotifyConnector::new(), "notify/slack", input, &bot_ctx("xoxb-wrong")).await);
    assert!(message.contains("failed: invalid_auth"), "{message}");
    assert!(!message.contains("xoxb-wrong"), "{message}");
}

#[tokio::test]
async fn a_bot_token_without_a_channel_is_refused_before_any_request() {
    let api = fake_web_api().await;
    let input = input(json!({"text": "x", "api_base": api.url("/api")}));
    match run(&NotifyConnector::new(), "notify/slack", input, &bot_ctx("xoxb-test-token")).await {
        Err(ActionError::InvalidInput { field, .. }) => assert_eq!(field, "channel"),
        other => panic!("expected an input error, got {other:?}"),
    }
    assert!(api.requests().is_empty());
}

#[tokio::test]
async fn neither_webhook_nor_credential_says_what_is_needed() {
    match run(&NotifyConnector::new(), "notify/slack", input(json!({"text": "x"})), &ctx()).await {
        Err(ActionError::InvalidInput { field, message }) => {
            assert_eq!(field, "webhook_url");
            assert!(message.contains("credential"), "{message}");
        }
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_non_json_answer_from_the_web_api_is_a_failure() {
    let api = TestServer::start(|_| reply(502, "text/html", "<html>Bad Gateway</html>")).await;
    let input = input(json!({"text": "x", "channel": "#general", "api_base": api.url("/api")}));
    let message =
        failure_message(run(&NotifyConnector::new(), "notify/slack", input, &bot_ctx("xoxb-test-token")).await);
    assert!(
        message.contains("answered 502 Bad Gateway without Slack's `ok` field: <html>Bad Gateway</html>"),
        "{message}"
    );
}
