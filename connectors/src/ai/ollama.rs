//! Ollama's native API: `POST {base}/api/chat` (non-streaming) and `POST {base}/api/embed`. No key is needed; when
//! the step names a credential anyway (an Ollama behind an authenticating proxy) it is sent as a bearer token.

use super::call::{ChatReply, ChatRequest, EmbedReply, Usage, endpoint, normalise_finish_reason, shape_error};
use super::settings::Provider;
use super::transport::Target;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

const PROVIDER: Provider = Provider::Ollama;

pub fn chat_target(base_url: &str, api_key: Option<&str>) -> Target {
    target(endpoint(base_url, "/api/chat"), api_key, "a chat response")
}

pub fn embed_target(base_url: &str, api_key: Option<&str>) -> Target {
    target(endpoint(base_url, "/api/embed"), api_key, "an embed response")
}

fn target(url: String, api_key: Option<&str>, expected: &'static str) -> Target {
    Target {
        provider: PROVIDER,
        url,
        headers: api_key.map(|key| ("authorization", format!("Bearer {key}"))).into_iter().collect(),
        secret: api_key.map(str::to_string),
        expected,
    }
}

/// `{model, messages, stream: false, options: {temperature?, num_predict?}}`; `system` is the first message.
pub fn chat_body(request: &ChatRequest) -> Json {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.extend(request.messages.iter().map(|m| json!({"role": m.role, "content": m.content})));
    let mut options = Map::new();
    if let Some(temperature) = request.temperature {
        options.insert("temperature".into(), json!(temperature));
    }
    if let Some(max_tokens) = request.max_tokens {
        options.insert("num_predict".into(), json!(max_tokens));
    }
    json!({"model": request.model, "messages": messages, "stream": false, "options": options})
}

#[derive(Deserialize)]
struct ChatAnswer {
    model: String,
    message: AnswerMessage,
    done_reason: Option<String>,
    prompt_eval_count: Option<u64>,
    eval_count: Option<u64>,
}

#[derive(Deserialize)]
struct AnswerMessage {
    content: String,
}

pub fn parse_chat(url: &str, answer: Json) -> Result<ChatReply, String> {
    let answer: ChatAnswer = serde_json::from_value(answer)
        .map_err(|err| shape_error(PROVIDER, url, "a chat response", "`message.content`", err))?;
    let usage = match (answer.prompt_eval_count, answer.eval_count) {
        (Some(input_tokens), Some(output_tokens)) => Some(Usage { input_tokens, output_tokens }),
        _ => None,
    };
    Ok(ChatReply {
        text: answer.message.content,
        model: answer.model,
        usage,
        finish_reason: normalise_finish_reason(answer.done_reason.as_deref()),
        answer_logprob: None,
    })
}

/// `{model, input}` with `input` always a list.
pub fn embed_body(model: &str, texts: &[String]) -> Json {
    json!({"model": model, "input": texts})
}

#[derive(Deserialize)]
struct EmbedAnswer {
    model: String,
    embeddings: Vec<Vec<f64>>,
}

pub fn parse_embed(url: &str, answer: Json, inputs: usize) -> Result<EmbedReply, String> {
    let fail =
        |reason: &dyn std::fmt::Display| shape_error(PROVIDER, url, "an embed response", "`embeddings[][]`", reason);
    let answer: EmbedAnswer = serde_json::from_value(answer).map_err(|err| fail(&err))?;
    if answer.embeddings.len() != inputs {
        return Err(fail(&format!("{} embeddings for {inputs} inputs", answer.embeddings.len())));
    }
    Ok(EmbedReply { model: answer.model, embeddings: answer.embeddings })
}
