//! Provider-neutral requests and replies. Each provider module turns a [`ChatRequest`] into its own JSON body and
//! its JSON answer back into a [`ChatReply`].

use super::input::{Message, floats, object, string};
use super::settings::Provider;
use expr_grammar::Value;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    pub model: String,
    /// Instructions; OpenAI and Ollama get them as a leading `system` message, Anthropic as top-level `system`.
    pub system: Option<String>,
    pub messages: Vec<Message>,
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    /// Ask for token log-probabilities (OpenAI only), for `classify`'s score.
    pub logprobs: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatReply {
    pub text: String,
    pub model: String,
    pub usage: Option<Usage>,
    /// `stop`, `length`, or the provider's own word when it is neither; `unknown` when it gave none.
    pub finish_reason: String,
    /// Sum of the log-probabilities of the answer's tokens, when the provider gave them.
    pub answer_logprob: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EmbedReply {
    pub model: String,
    pub embeddings: Vec<Vec<f64>>,
}

/// An answer that parsed as JSON but lacked what we need: `expected` names the path we looked for.
pub fn shape_error(
    provider: Provider,
    url: &str,
    what: &str,
    expected: &str,
    reason: impl std::fmt::Display,
) -> String {
    format!("{provider} answered POST {url} with JSON that is not {what} (expected {expected}): {reason}")
}

/// Maps the providers' words for "why generation stopped" onto `stop` / `length`.
pub fn normalise_finish_reason(raw: Option<&str>) -> String {
    match raw {
        None | Some("") => "unknown".to_string(),
        Some("stop" | "end_turn" | "stop_sequence") => "stop".to_string(),
        Some("length" | "max_tokens") => "length".to_string(),
        Some(other) => other.to_string(),
    }
}

impl Usage {
    pub fn to_value(usage: Option<Usage>) -> Value {
        match usage {
            None => Value::Null,
            Some(usage) => object([
                ("input_tokens", Value::Int(clamp_to_i64(usage.input_tokens))),
                ("output_tokens", Value::Int(clamp_to_i64(usage.output_tokens))),
            ]),
        }
    }
}

fn clamp_to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl ChatReply {
    /// `ai/complete`'s output: `{text, model, usage, finish_reason}`.
    pub fn completion_value(&self) -> Value {
        object([
            ("text", string(&self.text)),
            ("model", string(&self.model)),
            ("usage", Usage::to_value(self.usage)),
            ("finish_reason", string(&self.finish_reason)),
        ])
    }

    /// `ai/chat`'s output: the completion fields plus `message: {role, content}`.
    pub fn chat_value(&self) -> Value {
        object([
            ("text", string(&self.text)),
            ("model", string(&self.model)),
            ("usage", Usage::to_value(self.usage)),
            ("finish_reason", string(&self.finish_reason)),
            ("message", object([("role", string("assistant")), ("content", string(&self.text))])),
        ])
    }
}

impl EmbedReply {
    /// `ai/embed`'s output: `{embedding, embeddings, dimensions, model}`; `embedding` is the first vector.
    pub fn value(&self) -> Value {
        let first = self.embeddings.first().map(Vec::as_slice).unwrap_or_default();
        let all = self.embeddings.iter().map(|vector| floats(vector)).collect();
        object([
            ("embedding", floats(first)),
            ("embeddings", Value::List(Arc::new(all))),
            ("dimensions", Value::Int(i64::try_from(first.len()).unwrap_or(i64::MAX))),
            ("model", string(&self.model)),
        ])
    }
}

/// `base` + `path`, tolerating a trailing `/` and a base that already ends in the path's `/v1`.
pub fn endpoint(base: &str, path: &str) -> String {
    let base = base.trim().trim_end_matches('/');
    match path.strip_prefix("/v1") {
        Some(rest) if base.ends_with("/v1") => format!("{base}{rest}"),
        _ => format!("{base}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_joins_base_and_path_without_doubling_v1() {
        assert_eq!(endpoint("http://h:1", "/v1/messages"), "http://h:1/v1/messages");
        assert_eq!(endpoint("http://h:1/", "/api/chat"), "http://h:1/api/chat");
        assert_eq!(endpoint("http://h:1/v1/", "/v1/embeddings"), "http://h:1/v1/embeddings");
        assert_eq!(endpoint("http://h:1/proxy", "/v1/embeddings"), "http://h:1/proxy/v1/embeddings");
    }

    #[test]
    fn finish_reasons_map_to_stop_and_length() {
        assert_eq!(normalise_finish_reason(Some("end_turn")), "stop");
        assert_eq!(normalise_finish_reason(Some("max_tokens")), "length");
        assert_eq!(normalise_finish_reason(Some("content_filter")), "content_filter");
        assert_eq!(normalise_finish_reason(None), "unknown");
    }
}
