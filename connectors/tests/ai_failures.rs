//! How `ai/*` fails and retries: 429 with `retry-after`, 5xx, malformed JSON, wrong shapes, refused connections,
//! timeouts and cancellation. Assertions are on request counts and messages, never on elapsed time.
mod ai_support;

use ai_support::{FakeProvider, Script, ctx, input, text};
use connectors::ai::{AiConnector, AiSettings, Provider};
use connectors::{ActionError, Connector};
use serde_json::json;

fn complete_step() -> expr_grammar::Value {
    input(json!({"prompt": "Hi"}))
}

#[tokio::test]
async fn a_429_with_retry_after_is_retried_once_then_succeeds_for_every_provider() {
    for provider in Provider::ALL {
        let server = FakeProvider::start(provider).await;
        let ai = AiConnector::new(server.settings());
        let limited = r#"{"error": {"message": "Rate limit reached", "type": "requests"}}"#;
        server.script([Script::status_with_header(429, "retry-after", "0", limited), Script::Answer("ok".into())]);
        let output = ai.execute("complete", complete_step(), &ctx()).await;
        assert_eq!(text(&output.expect("complete after retry"), "text"), "ok", "{provider}");
        assert_eq!(server.request_count(), 2, "{provider}");
    }
}

#[tokio::test]
async fn a_long_retry_after_is_capped_by_max_backoff() {
    let server = FakeProvider::start(Provider::OpenAi).await;
    let ai = AiConnector::new(AiSettings { max_backoff_ms: 5, ..server.settings() });
    server.script([Script::status_with_header(429, "retry-after", "1", "{}"), Script::Answer("ok".into())]);
    ai.execute("complete", complete_step(), &ctx()).await.expect("complete after retry");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn a_retry_after_given_as_a_past_http_date_is_honoured() {
    let server = FakeProvider::start(Provider::Ollama).await;
    let ai = AiConnector::new(server.settings());
    let date = "Wed, 21 Oct 2015 07:28:00 GMT";
    server.script([Script::status_with_header(503, "retry-after", date, "busy"), Script::Answer("ok".into())]);
    ai.execute("complete", complete_step(), &ctx()).await.expect("complete after retry");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn three_500s_fail_after_three_tries_with_the_providers_message() {
    let server = FakeProvider::start(Provider::OpenAi).await;
    let ai = AiConnector::new(server.settings());
    let broken =
        r#"{"error": {"message": "The server had an error while processing your request.", "type": "server_error"}}"#;
    server.script([Script::status(500, broken), Script::status(500, broken), Script::status(500, broken)]);
    let err = ai.execute("complete", complete_step(), &ctx()).await.unwrap_err();
    let ActionError::Failed { message } = err else { panic!("{err:?}") };
    assert_eq!(
        message,
        format!(
            "openai answered POST {}/v1/chat/completions with HTTP 500 Internal Server Error (after 3 tries): \
             The server had an error while processing your request.",
            server.base_url
        )
    );
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn max_attempts_from_the_settings_bounds_the_tries() {
    let server = FakeProvider::start(Provider::Ollama).await;
    let ai = AiConnector::new(AiSettings { max_attempts: 1, ..server.settings() });
    server.script([Script::status(502, "<html>Bad Gateway</html>")]);
    let message = ai.execute("complete", complete_step(), &ctx()).await.unwrap_err().to_string();
    assert!(message.ends_with("with HTTP 502 Bad Gateway: `<html>Bad Gateway</html>`"), "{message}");
    assert_eq!(server.request_count(), 1);
}

/// A step with its own `retry:` replaces the client's retries: one request per step attempt, never 3 x 3.
#[tokio::test]
async fn a_step_that_retries_itself_gets_one_try_per_attempt_even_after_a_429() {
    let server = FakeProvider::start(Provider::OpenAi).await;
    let ai = AiConnector::new(server.settings());
    server.script([Script::status_with_header(429, "retry-after", "0", "{}"), Script::status(500, "{}")]);
    let ctx = connectors::ActionContext { retried_by_step: true, ..ctx() };
    let first = ai.execute("complete", complete_step(), &ctx).await.unwrap_err().to_string();
    assert!(first.contains("HTTP 429 Too Many Requests: `{}`"), "{first}");
    assert_eq!(server.request_count(), 1);
    let second = ai.execute("complete", complete_step(), &ctx).await.unwrap_err().to_string();
    assert!(second.contains("HTTP 500 Internal Server Error: `{}`"), "{second}");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn a_400_is_not_retried_and_quotes_the_providers_message() {
    let server = FakeProvider::start(Provider::Anthropic).await;
    let ai = AiConnector::new(server.settings());
    let bad = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long"}}"#;
    server.script([Script::status(400, bad)]);
    let message = ai.execute("complete", complete_step(), &ctx()).await.unwrap_err().to_string();
    assert!(message.ends_with("HTTP 400 Bad Request: prompt is too long"), "{message}");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn malformed_json_names_the_provider_and_what_was_expected() {
    for (provider, expected) in [
        (Provider::OpenAi, "expected a chat completion"),
        (Provider::Anthropic, "expected a message"),
        (Provider::Ollama, "expected a chat response"),
    ] {
        let server = FakeProvider::start(provider).await;
        let ai = AiConnector::new(server.settings());
        server.script([Script::status(200, r#"{"choices": [{"message": "#)]);
        let message = ai.execute("complete", complete_step(), &ctx()).await.unwrap_err().to_string();
        assert!(message.starts_with(&format!("{provider} answered POST {}", server.base_url)), "{message}");
        assert!(message.contains("malformed JSON"), "{message}");
        assert!(message.contains(expected), "{message}");
        assert!(message.contains(r#"the body starts: `{"choices": [{"message":`"#), "{message}");
        assert_eq!(server.request_count(), 1, "{provider}: malformed answers are not retried");
    }
}

#[tokio::test]
async fn json_of_the_wrong_shape_names_the_field_that_was_expected() {
    let cases = [
        (Provider::OpenAi, "complete", "`choices[0].message.content`"),
        (Provider::OpenAi, "embed", "`data[].embedding`"),
        (Provider::Anthropic, "complete", "`content[]` blocks of type `text`"),
        (Provider::Ollama, "complete", "`message.content`"),
        (Provider::Ollama, "embed", "`embeddings[][]`"),
    ];
    for (provider, action, expected) in cases {
        let server = FakeProvider::start(provider).await;
        let ai = AiConnector::new(server.settings());
        server.script([Script::status(200, r#"{"object": "something else"}"#)]);
        let step = input(json!({"prompt": "Hi", "text": "Hi"}));
        let message = ai.execute(action, step, &ctx()).await.unwrap_err().to_string();
        assert!(message.starts_with(&format!("{provider} answered POST")), "{message}");
        assert!(message.contains(&format!("(expected {expected})")), "{message}");
        assert!(message.contains("missing field"), "{message}");
    }
}

#[tokio::test]
async fn an_anthropic_answer_without_text_blocks_is_reported() {
    let server = FakeProvider::start(Provider::Anthropic).await;
    let ai = AiConnector::new(server.settings());
    let thinking_only = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "m",
                               "content": [{"type": "thinking", "thinking": "hmm", "signature": "x"}],
                               "stop_reason": "max_tokens", "usage": {"input_tokens": 3, "output_tokens": 1024}});
    server.script([Script::status(200, &thinking_only.to_string())]);
    let message = ai.execute("complete", complete_step(), &ctx()).await.unwrap_err().to_string();
    assert!(message.contains("no `text` block in `content`"), "{message}");
}

#[tokio::test]
async fn a_refused_connection_names_the_provider_and_the_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let closed = format!("http://{}", listener.local_addr().expect("address"));
    drop(listener);
    let ai = AiConnector::new(
        AiSettings::default().with_base_url(Provider::Ollama, &closed).with_model(Provider::Ollama, "m"),
    );
    let message = ai.execute("complete", complete_step(), &ctx()).await.unwrap_err().to_string();
    assert!(message.starts_with(&format!("cannot connect to ollama at {closed}/api/chat")), "{message}");
    assert!(message.to_lowercase().contains("refused"), "{message}");
}

#[tokio::test]
async fn a_server_that_does_not_answer_in_time_fails_as_a_timeout() {
    let server = FakeProvider::start(Provider::Ollama).await;
    let ai = AiConnector::new(AiSettings { timeout_seconds: 0.2, ..server.settings() });
    server.script([Script::Stall]);
    let message = ai.execute("complete", complete_step(), &ctx()).await.unwrap_err().to_string();
    assert!(message.starts_with(&format!("ollama at {}/api/chat did not answer within", server.base_url)), "{message}");
    assert_eq!(server.request_count(), 1, "timeouts are not retried");
}

#[tokio::test]
async fn cancelling_the_step_stops_a_request_in_flight() {
    let server = FakeProvider::start(Provider::OpenAi).await;
    let ai = AiConnector::new(server.settings());
    server.script([Script::Stall]);
    let ctx = ctx();
    let cancel = ctx.cancel.clone();
    let (result, ()) = tokio::join!(ai.execute("complete", complete_step(), &ctx), async {
        server.wait_for_requests(1).await;
        cancel.cancel();
    });
    assert_eq!(result.unwrap_err(), ActionError::Cancelled);
}

#[tokio::test]
async fn cancelling_the_step_stops_the_wait_between_retries() {
    let server = FakeProvider::start(Provider::Anthropic).await;
    let ai = AiConnector::new(AiSettings { max_backoff_ms: 3_600_000, ..server.settings() });
    server.script([Script::status_with_header(429, "retry-after", "3600", "{}")]);
    let ctx = ctx();
    let cancel = ctx.cancel.clone();
    let (result, ()) = tokio::join!(ai.execute("complete", complete_step(), &ctx), async {
        server.wait_for_requests(1).await;
        cancel.cancel();
    });
    assert_eq!(result.unwrap_err(), ActionError::Cancelled);
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn bad_inputs_are_reported_by_field_before_any_request() {
    let server = FakeProvider::start(Provider::Ollama).await;
    let ai = AiConnector::new(server.settings());
    let cases = [
        ("complete", json!({"prompt": "Hi", "provider": "mistral"}), "provider", "unknown provider `mistral`"),
        ("complete", json!({}), "prompt", "required"),
        ("complete", json!({"prompt": "Hi", "temperature": 3.5}), "temperature", "between 0 and 2"),
        ("complete", json!({"prompt": "Hi", "max_tokens": 0}), "max_tokens", "at least 1"),
        ("chat", json!({"messages": [{"role": "robot", "content": "x"}]}), "messages[0].role", "`robot` is not one of"),
        ("chat", json!({"messages": []}), "messages", "empty"),
        ("embed", json!({"text": ["a", 3]}), "text[1]", "expected a string, got an int"),
        ("classify", json!({"text": "x", "labels": ["Yes", "yes."]}), "labels", "the same"),
    ];
    for (action, step, field, expected) in cases {
        let err = ai.execute(action, input(step), &ctx()).await.unwrap_err();
        let ActionError::InvalidInput { field: got, message } = &err else { panic!("{action}: {err:?}") };
        assert_eq!(got, field, "{action}: {message}");
        assert!(message.contains(expected), "{action}: {message}");
    }
    assert_eq!(server.request_count(), 0);
}
