//! `ai/*` against a server speaking Anthropic's Messages API: `x-api-key`, `anthropic-version`, required
//! `max_tokens`, top-level `system`, and no embeddings.
mod ai_support;

use ai_support::{FakeProvider, KEY, Script, ctx, ctx_with, field, input, text};
use connectors::ai::{AiConnector, AiSettings, Provider};
use connectors::{ActionError, Connector};
use expr_grammar::Value;
use serde_json::json;

async fn anthropic() -> (FakeProvider, AiConnector) {
    let server = FakeProvider::start(Provider::Anthropic).await;
    let connector = AiConnector::new(server.settings());
    (server, connector)
}

#[tokio::test]
async fn complete_posts_a_message_with_key_version_default_max_tokens_and_top_level_system() {
    let (server, ai) = anthropic().await;
    server.script([Script::Answer("Paris.".into())]);
    let step = input(json!({"prompt": "Capital of France?", "system": "Answer briefly.",
                            "model": "claude-sonnet-4-5"}));
    let output = ai.execute("complete", step, &ctx()).await.expect("complete");

    let request = server.only_request();
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.body,
        json!({"model": "claude-sonnet-4-5", "max_tokens": 1024, "system": "Answer briefly.",
               "messages": [{"role": "user", "content": "Capital of France?"}]})
    );
    assert_eq!(text(&output, "text"), "Paris.");
    assert_eq!(text(&output, "model"), "claude-sonnet-4-5");
    assert_eq!(text(&output, "finish_reason"), "stop", "end_turn maps to stop");
    assert_eq!(field(&output, "usage.input_tokens"), &Value::Int(25));
    assert_eq!(field(&output, "usage.output_tokens"), &Value::Int(12));
}

#[tokio::test]
async fn the_steps_max_tokens_and_temperature_are_sent_as_given() {
    let (server, ai) = anthropic().await;
    let step = input(json!({"prompt": "Hi", "max_tokens": 64, "temperature": 1}));
    ai.execute("complete", step, &ctx()).await.expect("complete");
    let body = server.only_request().body;
    assert_eq!(body["max_tokens"], json!(64));
    assert_eq!(body["temperature"], json!(1.0));
    assert_eq!(body.get("system"), None, "no system field when none was given");
}

#[tokio::test]
async fn chat_moves_system_messages_to_the_top_level_system_field() {
    let (server, ai) = anthropic().await;
    server.script([Script::Answer("Bonjour !".into())]);
    let messages = json!([{"role": "system", "content": "Reply in French."},
                          {"role": "user", "content": "Hello"}]);
    let step = input(json!({"messages": messages, "system": "Be friendly."}));
    let output = ai.execute("chat", step, &ctx()).await.expect("chat");

    let body = server.only_request().body;
    assert_eq!(body["system"], json!("Be friendly.\n\nReply in French."));
    assert_eq!(body["messages"], json!([{"role": "user", "content": "Hello"}]));
    assert_eq!(text(&output, "message.content"), "Bonjour !");
    assert_eq!(text(&output, "message.role"), "assistant");
}

#[tokio::test]
async fn embed_is_refused_as_not_available_for_this_provider_without_any_request() {
    let (server, ai) = anthropic().await;
    let err = ai.execute("embed", input(json!({"text": "hello"})), &ctx()).await.unwrap_err();
    let ActionError::Unavailable { reason } = &err else { panic!("{err:?}") };
    assert!(reason.contains("not available for this provider"), "{reason}");
    assert!(reason.contains("anthropic"), "{reason}");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn summarize_sends_the_built_in_prompt_as_system_plus_the_steps_instructions() {
    let (server, ai) = anthropic().await;
    server.script([Script::Answer("The meeting moved to Friday.".into())]);
    let step = input(json!({"text": "Long minutes ...", "system": "Mention dates."}));
    let output = ai.execute("summarize", step, &ctx()).await.expect("summarize");
    let body = server.only_request().body;
    assert_eq!(body["system"], json!(connectors::ai::prompts::summarize_system(None, Some("Mention dates."))));
    assert_eq!(body["messages"], json!([{"role": "user", "content": "Long minutes ..."}]));
    assert_eq!(text(&output, "summary"), "The meeting moved to Friday.");
}

#[tokio::test]
async fn classify_returns_the_label_as_given_and_a_null_score() {
    let (server, ai) = anthropic().await;
    server.script([Script::Answer("Feature request.".into())]);
    let step = input(json!({"text": "Please add dark mode", "labels": ["Bug", "Feature Request"]}));
    let output = ai.execute("classify", step, &ctx()).await.expect("classify");
    let body = server.only_request().body;
    assert!(body.get("logprobs").is_none(), "Anthropic has no logprobs");
    assert!(body["system"].as_str().is_some_and(|s| s.contains("- Bug\n- Feature Request")), "{body}");
    assert_eq!(text(&output, "label"), "Feature Request");
    assert_eq!(field(&output, "score"), &Value::Null);
}

#[tokio::test]
async fn the_anthropic_service_without_credential_fails_naming_the_need_for_credential() {
    let settings = AiSettings { default_provider: Provider::Anthropic, ..AiSettings::default() }
        .with_model(Provider::Anthropic, "claude-sonnet-4-5");
    let ai = AiConnector::new(settings);
    let step = input(json!({"messages": [{"role": "user", "content": "Hi"}]}));
    let message = ai.execute("chat", step, &ctx_with(None)).await.unwrap_err().to_string();
    assert!(
        message.contains("ai/chat with provider anthropic at https://api.anthropic.com needs an API key"),
        "{message}"
    );
    assert!(message.contains("credential:"), "{message}");
}

#[tokio::test]
async fn another_anthropic_address_is_called_without_a_key_when_the_step_names_no_credential() {
    let (server, ai) = anthropic().await;
    let step = input(json!({"messages": [{"role": "user", "content": "Hi"}]}));
    let message = ai.execute("chat", step, &ctx_with(None)).await.unwrap_err().to_string();
    assert!(message.contains("HTTP 401 Unauthorized: invalid x-api-key"), "{message}");
    assert!(message.contains("no API key was sent"), "{message}");
    let request = server.only_request();
    assert_eq!(request.header("x-api-key"), None);
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
}

#[tokio::test]
async fn an_overloaded_answer_reports_anthropics_error_message_after_the_retries() {
    let (server, ai) = anthropic().await;
    let overloaded = r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
    server.script([Script::status(529, overloaded), Script::status(529, overloaded), Script::status(529, overloaded)]);
    let err = ai.execute("complete", input(json!({"prompt": "Hi"})), &ctx()).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("anthropic answered POST"), "{message}");
    assert!(message.contains("HTTP 529"), "{message}");
    assert!(message.contains("after 3 tries"), "{message}");
    assert!(message.ends_with(": Overloaded"), "{message}");
    assert_eq!(server.request_count(), 3);
}
