//! OpenAI's wire format (also spoken by many local servers): `POST {base}/v1/chat/completions` and
//! `POST {base}/v1/embeddings`, authorised by `Authorization: Bearer <key>` when there is a key.

use super::call::{ChatReply, ChatRequest, EmbedReply, Usage, endpoint, normalise_finish_reason, shape_error};
use super::settings::Provider;
use super::transport::Target;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

const PROVIDER: Provider = Provider::OpenAi;

pub fn chat_target(base_url: &str, api_key: Option<&str>) -> Target {
    target(endpoint(base_url, "/v1/chat/completions"), api_key, "a chat completion")
}

pub fn embed_target(base_url: &str, api_key: Option<&str>) -> Target {
    target(endpoint(base_url, "/v1/embeddings"), api_key, "an embeddings list")
}

/// Without a key (a local server that needs none) no `Authorization` header is sent.
fn target(url: String, api_key: Option<&str>, expected: &'static str) -> Target {
    Target {
        provider: PROVIDER,
        url,
        headers: api_key.map(|key| ("authorization", format!("Bearer {key}"))).into_iter().collect(),
        secret: api_key.map(str::to_string),
        expected,
    }
}

/// `{model, messages, max_tokens?, temperature?, logprobs?}`; `system` becomes the first message.
pub fn chat_body(request: &ChatRequest) -> Json {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if let Some(system) = &request.system {
        messages.push(json!({"role": "system", "content": system}));
    }
    messages.extend(request.messages.iter().map(|m| json!({"role": m.role, "content": m.content})));
    let mut body = Map::new();
    body.insert("model".into(), json!(request.model));
    body.insert("messages".into(), Json::Array(messages));
    if let Some(max_tokens) = request.max_tokens {
        body.insert("max_tokens".into(), json!(max_tokens));
    }
    if let Some(temperature) = request.temperature {
        body.insert("temperature".into(), json!(temperature));
    }
    if request.logprobs {
        body.insert("logprobs".into(), json!(true));
    }
    Json::Object(body)
}

#[derive(Deserialize)]
struct Completion {
    model: String,
    choices: Vec<Choice>,
    usage: Option<CompletionUsage>,
}

#[derive(Deserialize)]
struct Choice {
    message: AssistantMessage,
    finish_reason: Option<String>,
    logprobs: Option<Logprobs>,
}

#[derive(Deserialize)]
struct AssistantMessage {
    content: Option<String>,
    refusal: Option<String>,
}

#[derive(Deserialize)]
struct Logprobs {
    content: Option<Vec<TokenLogprob>>,
}

#[derive(Deserialize)]
struct TokenLogprob {
    logprob: f64,
}

#[derive(Deserialize)]
struct CompletionUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
}

pub fn parse_chat(url: &str, answer: Json) -> Result<ChatReply, String> {
    const EXPECTED: &str = "`choices[0].message.content`";
    let fail = |reason: &dyn std::fmt::Display| shape_error(PROVIDER, url, "a chat completion", EXPECTED, reason);
    let completion: Completion = serde_json::from_value(answer).map_err(|err| fail(&err))?;
    let Some(choice) = completion.choices.into_iter().next() else {
        return Err(fail(&"`choices` is empty"));
    };
    let text = match (choice.message.content, choice.message.refusal) {
        (Some(text), _) => text,
        (None, Some(refusal)) => return Err(format!("{PROVIDER} refused to answer: {refusal}")),
        (None, None) => return Err(fail(&"`choices[0].message.content` is null")),
    };
    let answer_logprob = choice
        .logprobs
        .and_then(|logprobs| logprobs.content)
        .filter(|tokens| !tokens.is_empty())
        .map(|tokens| tokens.iter().map(|token| token.logprob).sum());
    Ok(ChatReply {
        text,
        model: completion.model,
        usage: completion
            .usage
            .map(|usage| Usage { input_tokens: usage.prompt_tokens, output_tokens: usage.completion_tokens }),
        finish_reason: normalise_finish_reason(choice.finish_reason.as_deref()),
        answer_logprob,
    })
}

/// `{model, input}`: `input` is always a list, which the endpoint accepts for one text as for many.
pub fn embed_body(model: &str, texts: &[String]) -> Json {
    json!({"model": model, "input": texts})
}

#[derive(Deserialize)]
struct EmbeddingList {
    model: String,
    data: Vec<Embedding>,
}

#[derive(Deserialize)]
struct Embedding {
    index: usize,
    embedding: Vec<f64>,
}

pub fn parse_embed(url: &str, answer: Json, inputs: usize) -> Result<EmbedReply, String> {
    const EXPECTED: &str = "`data[].embedding`";
    let fail = |reason: &dyn std::fmt::Display| shape_error(PROVIDER, url, "an embeddings list", EXPECTED, reason);
    let mut list: EmbeddingList = serde_json::from_value(answer).map_err(|err| fail(&err))?;
    if list.data.len() != inputs {
        return Err(fail(&format!("{} embeddings for {inputs} inputs", list.data.len())));
    }
    list.data.sort_by_key(|embedding| embedding.index);
    Ok(EmbedReply { model: list.model, embeddings: list.data.into_iter().map(|e| e.embedding).collect() })
}
