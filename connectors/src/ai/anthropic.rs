//! Anthropic's Messages API: `POST {base}/v1/messages` with `x-api-key` and `anthropic-version: 2023-06-01`.
//! `system` is a top-level field, not a message, and `max_tokens` is required. There is no embeddings endpoint.

use super::call::{ChatReply, ChatRequest, Usage, endpoint, normalise_finish_reason, shape_error};
use super::settings::Provider;
use super::transport::Target;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

const PROVIDER: Provider = Provider::Anthropic;
pub const API_VERSION: &str = "2023-06-01";

/// Without a key (a proxy or local server that needs none) no `x-api-key` header is sent.
pub fn chat_target(base_url: &str, api_key: Option<&str>) -> Target {
    let mut headers: Vec<(&'static str, String)> =
        api_key.map(|key| ("x-api-key", key.to_string())).into_iter().collect();
    headers.push(("anthropic-version", API_VERSION.to_string()));
    Target {
        provider: PROVIDER,
        url: endpoint(base_url, "/v1/messages"),
        headers,
        secret: api_key.map(str::to_string),
        expected: "a message",
    }
}

/// `{model, max_tokens, system?, messages, temperature?}`. `system` messages in the list join the top-level
/// `system` (after the step's own `system`), since the API accepts only `user` and `assistant` turns.
pub fn chat_body(request: &ChatRequest, default_max_tokens: u32) -> Json {
    let mut system_parts: Vec<&str> = request.system.iter().map(String::as_str).collect();
    let mut messages = Vec::with_capacity(request.messages.len());
    for message in &request.messages {
        if message.role == "system" {
            system_parts.push(&message.content);
        } else {
            messages.push(json!({"role": message.role, "content": message.content}));
        }
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("max_tokens".into(), json!(request.max_tokens.unwrap_or(default_max_tokens)));
    if !system_parts.is_empty() {
        body.insert("system".into(), json!(system_parts.join("\n\n")));
    }
    body.insert("messages".into(), Json::Array(messages));
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    Json::Object(body)
}

#[derive(Deserialize)]
struct MessageAnswer {
    model: String,
    content: Vec<ContentBlock>,
    stop_reason: Option<String>,
    usage: Option<MessageUsage>,
}

#[derive(Deserialize)]
struct ContentBlock {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

#[derive(Deserialize)]
struct MessageUsage {
    input_tokens: u64,
    output_tokens: u64,
}

/// The answer's text is its `text` blocks joined; other block kinds (`thinking`, `tool_use`) are skipped.
pub fn parse_chat(url: &str, answer: Json) -> Result<ChatReply, String> {
    const EXPECTED: &str = "`content[]` blocks of type `text`";
    let fail = |reason: &dyn std::fmt::Display| shape_error(PROVIDER, url, "a message", EXPECTED, reason);
    let message: MessageAnswer = serde_json::from_value(answer).map_err(|err| fail(&err))?;
    let texts: Vec<String> =
        message.content.into_iter().filter(|block| block.kind == "text").filter_map(|block| block.text).collect();
    if texts.is_empty() {
        return Err(fail(&"no `text` block in `content`"));
    }
    Ok(ChatReply {
        text: texts.concat(),
        model: message.model,
        usage: message
            .usage
            .map(|usage| Usage { input_tokens: usage.input_tokens, output_tokens: usage.output_tokens }),
        finish_reason: normalise_finish_reason(message.stop_reason.as_deref()),
        answer_logprob: None,
    })
}
