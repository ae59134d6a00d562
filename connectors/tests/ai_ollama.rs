//! `ai/*` against a server speaking Ollama's native API: `/api/chat` without streaming, `/api/embed`, no key.
mod ai_support;

use ai_support::{FakeProvider, KEY, Script, api_key_credential, ctx_with, field, floats, input, text};
use connectors::ai::{AiConnector, AiSettings, Provider};
use connectors::{ActionContext, ActionError, Connector};
use expr_grammar::Value;
use serde_json::json;

async fn ollama() -> (FakeProvider, AiConnector) {
    let server = FakeProvider::start(Provider::Ollama).await;
    let connector = AiConnector::new(server.settings());
    (server, connector)
}

fn no_key() -> ActionContext {
    ctx_with(None)
}

#[tokio::test]
async fn complete_posts_a_non_streaming_chat_with_options_and_no_key() {
    let (server, ai) = ollama().await;
    server.script([Script::Answer("Paris.".into())]);
    let step = input(json!({"prompt": "Capital of France?", "system": "Answer briefly.", "max_tokens": 50,
                            "temperature": 0.7, "model": "llama3.2"}));
    let output = ai.execute("complete", step, &no_key()).await.expect("complete");

    let request = server.only_request();
    assert_eq!(request.path, "/api/chat");
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.body,
        json!({"model": "llama3.2",
               "messages": [{"role": "system", "content": "Answer briefly."},
                            {"role": "user", "content": "Capital of France?"}],
               "stream": false, "options": {"temperature": 0.7, "num_predict": 50}})
    );
    assert_eq!(text(&output, "text"), "Paris.");
    assert_eq!(text(&output, "model"), "llama3.2");
    assert_eq!(text(&output, "finish_reason"), "stop");
    assert_eq!(field(&output, "usage.input_tokens"), &Value::Int(26));
    assert_eq!(field(&output, "usage.output_tokens"), &Value::Int(9));
}

#[tokio::test]
async fn chat_returns_the_reply_as_an_assistant_message() {
    let (server, ai) = ollama().await;
    server.script([Script::Answer("Hi there!".into())]);
    let step = input(json!({"messages": [{"role": "user", "content": "Hello"}]}));
    let output = ai.execute("chat", step, &no_key()).await.expect("chat");
    let body = server.only_request().body;
    assert_eq!(body["messages"], json!([{"role": "user", "content": "Hello"}]));
    assert_eq!(body["options"], json!({}));
    assert_eq!(body["model"], json!("test-model"), "model from settings");
    assert_eq!(text(&output, "message.content"), "Hi there!");
}

#[tokio::test]
async fn embed_posts_to_api_embed_and_returns_one_vector_per_text() {
    let (server, ai) = ollama().await;
    let step = input(json!({"text": ["alpha", "beta gamma"], "model": "nomic-embed-text"}));
    let output = ai.execute("embed", step, &no_key()).await.expect("embed");

    let request = server.only_request();
    assert_eq!(request.path, "/api/embed");
    assert_eq!(request.body, json!({"model": "nomic-embed-text", "input": ["alpha", "beta gamma"]}));
    let Value::List(vectors) = field(&output, "embeddings") else { panic!("{output:?}") };
    assert_eq!(vectors.len(), 2);
    assert_eq!(floats(&vectors[1]), ai_support::fake_vector("beta gamma"));
    assert_eq!(floats(field(&output, "embedding")), ai_support::fake_vector("alpha"));
    assert_eq!(text(&output, "model"), "nomic-embed-text");
}

#[tokio::test]
async fn embed_of_one_string_gives_the_same_shape_with_one_vector() {
    let (server, ai) = ollama().await;
    let output = ai.execute("embed", input(json!({"text": "alpha"})), &no_key()).await.expect("embed");
    assert_eq!(server.only_request().body["input"], json!(["alpha"]));
    let Value::List(vectors) = field(&output, "embeddings") else { panic!("{output:?}") };
    assert_eq!(vectors.len(), 1);
    assert_eq!(floats(field(&output, "embedding")), ai_support::fake_vector("alpha"));
}

#[tokio::test]
async fn summarize_and_classify_are_chats_with_the_documented_prompts() {
    let (server, ai) = ollama().await;
    server.script([Script::Answer("Invoice overdue.".into()), Script::Answer("urgent".into())]);
    let summary = ai.execute("summarize", input(json!({"text": "Dear customer, ..."})), &no_key()).await;
    assert_eq!(text(&summary.expect("summarize"), "summary"), "Invoice overdue.");
    let step = input(json!({"text": "Dear customer, ...", "labels": ["urgent", "routine"]}));
    let label = ai.execute("classify", step, &no_key()).await.expect("classify");
    assert_eq!(text(&label, "label"), "urgent");
    assert_eq!(field(&label, "score"), &Value::Null);

    let requests = server.requests();
    let system = |i: usize| requests[i].body["messages"][0].clone();
    assert_eq!(system(0), json!({"role": "system", "content": connectors::ai::prompts::SUMMARIZE_SYSTEM}));
    let labels = ["urgent".to_string(), "routine".to_string()];
    assert_eq!(system(1)["content"], json!(connectors::ai::prompts::classify_system(&labels, None)));
    assert_eq!(requests[1].body["options"], json!({"temperature": 0.0}), "classify defaults temperature to 0");
}

#[tokio::test]
async fn a_named_credential_is_sent_as_a_bearer_token_to_ollama() {
    let (server, ai) = ollama().await;
    let ctx = ctx_with(Some(api_key_credential(json!({"api_key": KEY}))));
    ai.execute("complete", input(json!({"prompt": "Hi"})), &ctx).await.expect("complete");
    assert_eq!(server.only_request().header("authorization"), Some(format!("Bearer {KEY}").as_str()));
}

#[tokio::test]
async fn the_default_provider_and_base_url_come_from_the_settings_document() {
    let server = FakeProvider::start(Provider::Ollama).await;
    let document = json!({"ai": {"default_provider": "ollama",
                                 "providers": {"ollama": {"base_url": server.base_url, "model": "qwen3"}}}});
    let settings = AiSettings::from_settings_document(&document).expect("settings");
    let ai = AiConnector::new(settings);
    ai.execute("complete", input(json!({"prompt": "Hi"})), &no_key()).await.expect("complete");
    assert_eq!(server.only_request().body["model"], json!("qwen3"));
}

#[tokio::test]
async fn a_missing_model_is_an_input_error_naming_the_settings_key() {
    let server = FakeProvider::start(Provider::Ollama).await;
    let ai = AiConnector::new(AiSettings::default().with_base_url(Provider::Ollama, &server.base_url));
    let err = ai.execute("complete", input(json!({"prompt": "Hi"})), &no_key()).await.unwrap_err();
    let ActionError::InvalidInput { field, message } = err else { panic!("{err:?}") };
    assert_eq!(field, "model");
    assert!(message.contains("ai.providers.ollama.model"), "{message}");
    assert_eq!(server.request_count(), 0);
}

#[tokio::test]
async fn an_unknown_model_reports_ollamas_error_string() {
    let (server, ai) = ollama().await;
    server.script([Script::status(404, r#"{"error":"model \"llama9\" not found, try pulling it first"}"#)]);
    let err = ai.execute("complete", input(json!({"prompt": "Hi", "model": "llama9"})), &no_key()).await;
    let message = err.unwrap_err().to_string();
    assert!(message.contains("ollama answered POST"), "{message}");
    assert!(message.contains("/api/chat with HTTP 404 Not Found"), "{message}");
    assert!(message.ends_with(": model \"llama9\" not found, try pulling it first"), "{message}");
    assert_eq!(server.request_count(), 1, "404 is not retried");
}

fn temp_settings_file(test: &str, content: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pilot-ai-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("settings.json");
    std::fs::write(&file, content).expect("write settings");
    file
}

#[tokio::test]
async fn a_connector_made_from_a_settings_file_uses_its_ai_section() {
    let server = FakeProvider::start(Provider::Ollama).await;
    let content = json!({"ai": {"providers": {"ollama": {"base_url": server.base_url, "model": "phi4"}}}});
    let file = temp_settings_file("valid", &content.to_string());
    let ai = AiConnector::from_settings_file(&file);
    ai.execute("ai/complete", input(json!({"prompt": "Hi"})), &no_key()).await.expect("complete");
    assert_eq!(server.only_request().body["model"], json!("phi4"));
    std::fs::remove_dir_all(file.parent().expect("dir")).expect("clean up");
}

#[tokio::test]
async fn a_broken_settings_file_makes_every_action_fail_naming_the_file() {
    let server = FakeProvider::start(Provider::Ollama).await;
    let file = temp_settings_file("broken", r#"{"ai": {"default_provider": "gemini"}}"#);
    let ai = AiConnector::from_settings_file(&file);
    let step = input(json!({"prompt": "Hi", "base_url": server.base_url, "model": "m"}));
    let err = ai.execute("ai/complete", step, &no_key()).await.unwrap_err();
    let ActionError::Unavailable { reason } = err else { panic!("{err:?}") };
    assert!(reason.contains(&file.display().to_string()), "{reason}");
    assert!(reason.contains("unknown variant `gemini`"), "{reason}");
    assert_eq!(server.request_count(), 0);
    std::fs::remove_dir_all(file.parent().expect("dir")).expect("clean up");
}
