//! `ai/*` against a server speaking OpenAI's API: the exact requests sent and the outputs built from realistic answers.
mod ai_support;

use ai_support::{FakeProvider, KEY, Script, api_key_credential, ctx, ctx_with, field, floats, input, text};
use connectors::ai::{AiConnector, AiSettings, Provider};
use connectors::{ActionError, Connector};
use expr_grammar::Value;
use serde_json::json;

async fn openai() -> (FakeProvider, AiConnector) {
    let server = FakeProvider::start(Provider::OpenAi).await;
    let connector = AiConnector::new(server.settings());
    (server, connector)
}

#[tokio::test]
async fn complete_posts_a_chat_completion_with_bearer_key_and_returns_text_usage_and_finish_reason() {
    let (server, ai) = openai().await;
    server.script([Script::Answer("Paris.".into())]);
    let step = input(json!({"prompt": "Capital of France?", "system": "Answer briefly.", "max_tokens": 20,
                            "temperature": 0.2, "model": "gpt-4o-mini"}));
    let output = ai.execute("complete", step, &ctx()).await.expect("complete");

    let request = server.only_request();
    assert_eq!(request.path, "/v1/chat/completions");
    assert_eq!(request.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.body,
        json!({"model": "gpt-4o-mini",
               "messages": [{"role": "system", "content": "Answer briefly."},
                            {"role": "user", "content": "Capital of France?"}],
               "max_tokens": 20, "temperature": 0.2})
    );
    assert_eq!(text(&output, "text"), "Paris.");
    assert_eq!(text(&output, "model"), "gpt-4o-mini");
    assert_eq!(text(&output, "finish_reason"), "stop");
    assert_eq!(field(&output, "usage.input_tokens"), &Value::Int(19));
    assert_eq!(field(&output, "usage.output_tokens"), &Value::Int(10));
}

#[tokio::test]
async fn complete_uses_the_settings_model_and_sends_no_optional_fields_the_step_left_out() {
    let (server, ai) = openai().await;
    ai.execute("ai/complete", input(json!({"prompt": "Hi"})), &ctx()).await.expect("complete");
    assert_eq!(
        server.only_request().body,
        json!({"model": "test-model", "messages": [{"role": "user", "content": "Hi"}]})
    );
}

#[tokio::test]
async fn chat_sends_the_conversation_and_returns_the_reply_as_an_assistant_message() {
    let (server, ai) = openai().await;
    server.script([Script::Answer("It is 4.".into())]);
    let messages = json!([{"role": "user", "content": "What is 2+2?"}, {"role": "assistant", "content": "4"},
                          {"role": "user", "content": "Sure?"}]);
    let step = input(json!({"messages": messages, "system": "Be exact."}));
    let output = ai.execute("chat", step, &ctx()).await.expect("chat");

    let body = server.only_request().body;
    assert_eq!(body["messages"][0], json!({"role": "system", "content": "Be exact."}));
    assert_eq!(body["messages"].as_array().map(Vec::len), Some(4));
    assert_eq!(body["messages"][3], json!({"role": "user", "content": "Sure?"}));
    assert_eq!(text(&output, "message.role"), "assistant");
    assert_eq!(text(&output, "message.content"), "It is 4.");
    assert_eq!(text(&output, "text"), "It is 4.");
}

#[tokio::test]
async fn embed_of_a_list_sends_one_request_and_returns_vectors_in_input_order() {
    let (server, ai) = openai().await;
    let step = input(json!({"text": ["first text", "second"], "model": "text-embedding-3-small"}));
    let output = ai.execute("embed", step, &ctx()).await.expect("embed");

    let request = server.only_request();
    assert_eq!(request.path, "/v1/embeddings");
    assert_eq!(request.header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert_eq!(request.body, json!({"model": "text-embedding-3-small", "input": ["first text", "second"]}));
    let Value::List(vectors) = field(&output, "embeddings") else { panic!("embeddings: {output:?}") };
    assert_eq!(floats(&vectors[0]), ai_support::fake_vector("first text"));
    assert_eq!(floats(&vectors[1]), ai_support::fake_vector("second"));
    assert_eq!(floats(field(&output, "embedding")), ai_support::fake_vector("first text"));
    assert_eq!(field(&output, "dimensions"), &Value::Int(3));
}

#[tokio::test]
async fn embed_prefers_the_settings_embed_model_over_the_chat_model() {
    let server = FakeProvider::start(Provider::OpenAi).await;
    let mut settings = server.settings();
    settings.providers.entry(Provider::OpenAi).or_default().embed_model = Some("text-embedding-3-large".into());
    let ai = AiConnector::new(settings);
    let output = ai.execute("embed", input(json!({"text": "one"})), &ctx()).await.expect("embed");
    assert_eq!(server.only_request().body["model"], json!("text-embedding-3-large"));
    assert_eq!(floats(field(&output, "embedding")), ai_support::fake_vector("one"));
}

#[tokio::test]
async fn summarize_sends_the_documented_prompt_and_the_text_as_user_message() {
    let (server, ai) = openai().await;
    server.script([Script::Answer("  A short summary.\n".into())]);
    let step = input(json!({"text": "A long report ...", "max_words": 30}));
    let output = ai.execute("summarize", step, &ctx()).await.expect("summarize");

    let body = server.only_request().body;
    let expected_system = connectors::ai::prompts::summarize_system(Some(30), None);
    assert_eq!(body["messages"][0], json!({"role": "system", "content": expected_system}));
    assert_eq!(body["messages"][1], json!({"role": "user", "content": "A long report ..."}));
    assert_eq!(text(&output, "summary"), "A short summary.");
    assert_eq!(field(&output, "usage.output_tokens"), &Value::Int(10));
}

#[tokio::test]
async fn classify_requests_logprobs_and_scores_the_answer_with_their_probability() {
    let (server, ai) = openai().await;
    let tokens = vec![("bill".to_string(), -0.1), ("ing".to_string(), -0.2)];
    server.script([Script::AnswerWithLogprobs("billing".into(), tokens)]);
    let step = input(json!({"text": "I was charged twice.", "labels": ["billing", "bug", "other"]}));
    let output = ai.execute("classify", step, &ctx()).await.expect("classify");

    let body = server.only_request().body;
    assert_eq!(body["logprobs"], json!(true));
    assert_eq!(body["temperature"], json!(0.0));
    let system = body["messages"][0]["content"].as_str().expect("system prompt");
    assert!(system.contains("- billing\n- bug\n- other"), "{system}");
    assert_eq!(text(&output, "label"), "billing");
    let Value::Float(score) = field(&output, "score") else { panic!("score: {output:?}") };
    assert!((score - (-0.3f64).exp()).abs() < 1e-9, "{score}");
}

#[tokio::test]
async fn classify_score_is_null_when_the_server_returns_no_logprobs() {
    let (server, ai) = openai().await;
    server.script([Script::Answer("Bug".into())]);
    let step = input(json!({"text": "It crashes", "labels": ["bug", "billing"]}));
    let output = ai.execute("classify", step, &ctx()).await.expect("classify");
    assert_eq!(text(&output, "label"), "bug");
    assert_eq!(field(&output, "score"), &Value::Null);
}

#[tokio::test]
async fn the_openai_service_without_credential_fails_before_any_request_naming_the_need_for_credential() {
    // No base_url anywhere: the step would go to https://api.openai.com, which needs a key. Nothing is sent.
    let settings = AiSettings { default_provider: Provider::OpenAi, ..AiSettings::default() }
        .with_model(Provider::OpenAi, "gpt-4o-mini");
    let ai = AiConnector::new(settings);
    let err = ai.execute("complete", input(json!({"prompt": "Hi"})), &ctx_with(None)).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("step `ask`"), "{message}");
    assert!(message.contains("provider openai at https://api.openai.com needs an API key"), "{message}");
    assert!(message.contains("`credential: <name>`"), "{message}");
}

/// llama.cpp's server, vLLM, LM Studio and LocalAI speak OpenAI's API and, run locally, need no key.
#[tokio::test]
async fn a_local_openai_compatible_server_is_called_without_a_credential_and_without_a_key() {
    let server = FakeProvider::start_keyless(Provider::OpenAi).await;
    let ai = AiConnector::new(AiSettings::default());
    let step = input(json!({"provider": "openai", "base_url": server.base_url, "model": "qwen2.5-0.5b",
                            "prompt": "Say hi"}));
    let output = ai.execute("complete", step, &ctx_with(None)).await.expect("complete");
    assert_eq!(text(&output, "text"), "Hello from the test server.");
    let step = input(json!({"provider": "openai", "base_url": format!("{}/v1", server.base_url),
                            "model": "nomic-embed", "text": "hello"}));
    ai.execute("embed", step, &ctx_with(None)).await.expect("embed");

    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/v1/chat/completions", "/v1/embeddings"]);
    assert!(requests.iter().all(|r| r.header("authorization").is_none()), "no key, no Authorization header");
}

#[tokio::test]
async fn a_server_that_wants_a_key_and_got_none_says_a_credential_may_be_missing() {
    let (server, ai) = openai().await;
    let err = ai.execute("complete", input(json!({"prompt": "Hi"})), &ctx_with(None)).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains("HTTP 401 Unauthorized: You didn't provide an API key."), "{message}");
    assert!(message.contains("no API key was sent: this server wants one; add `credential: <name>`"), "{message}");
    assert_eq!(server.only_request().header("authorization"), None);
}

#[tokio::test]
async fn a_credential_with_a_token_field_is_accepted_as_the_key() {
    let (server, ai) = openai().await;
    let ctx = ctx_with(Some(api_key_credential(json!({"token": KEY}))));
    ai.execute("complete", input(json!({"prompt": "Hi"})), &ctx).await.expect("complete");
    assert_eq!(server.only_request().header("authorization"), Some(format!("Bearer {KEY}").as_str()));
}

#[tokio::test]
async fn a_credential_without_key_fields_is_refused_by_name() {
    let (server, ai) = openai().await;
    let ctx = ctx_with(Some(api_key_credential(json!({"username": "me"}))));
    let err = ai.execute("complete", input(json!({"prompt": "Hi"})), &ctx).await.unwrap_err();
    assert!(err.to_string().contains("credential `ai-key` has no `api_key` or `token` field"), "{err}");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn a_rejected_key_reports_the_providers_message_without_the_key() {
    let (server, ai) = openai().await;
    let wrong = "sk-wrong-key-that-must-not-leak";
    let ctx = ctx_with(Some(api_key_credential(json!({"api_key": wrong}))));
    let err = ai.execute("complete", input(json!({"prompt": "Hi"})), &ctx).await.unwrap_err();
    let ActionError::Failed { message } = err else { panic!("{err:?}") };
    assert!(message.contains("openai answered POST"), "{message}");
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(message.contains("Incorrect API key provided: [redacted]"), "{message}");
    assert!(!message.contains(wrong), "{message}");
    assert_eq!(server.request_count(), 1, "401 is not retried");
}

#[tokio::test]
async fn a_base_url_ending_in_v1_is_not_doubled() {
    let (server, ai) = openai().await;
    let step = input(json!({"prompt": "Hi", "base_url": format!("{}/v1/", server.base_url)}));
    ai.execute("complete", step, &ctx()).await.expect("complete");
    assert_eq!(server.only_request().path, "/v1/chat/completions");
}
