//! The `ai` connector: `ai/complete`, `ai/chat`, `ai/embed`, `ai/summarize` and `ai/classify`, spoken to OpenAI,
//! Anthropic or Ollama in each provider's own wire format.
//!
//! # Choosing a provider, model and address
//!
//! Every action takes optional `provider` (`openai`, `anthropic`, `ollama`), `model` and `base_url` inputs. What a
//! step leaves out comes from the `ai` section of `$PILOT_HOME/settings.json`, read once when the connector is made
//! ([`AiConnector::from_environment`], or [`AiConnector::new`] with [`AiSettings`] in hand). A settings file that
//! cannot be read or parsed makes every `ai/*` step fail with the reason (file and field) instead of silently using
//! defaults. Every field is optional; these are the defaults:
//!
//! ```json
//! {
//!   "ai": {
//!     "default_provider": "ollama",
//!     "providers": {
//!       "openai":    { "base_url": "https://api.openai.com",    "model": null, "embed_model": null },
//!       "anthropic": { "base_url": "https://api.anthropic.com", "model": null },
//!       "ollama":    { "base_url": "http://127.0.0.1:11434",    "model": null, "embed_model": null }
//!     },
//!     "timeout_seconds": 120,
//!     "max_attempts": 3,
//!     "initial_backoff_ms": 500,
//!     "max_backoff_ms": 30000,
//!     "anthropic_max_tokens": 1024
//!   }
//! }
//! ```
//!
//! There is no default model: a step without `model` needs `providers.<name>.model` (or, for `ai/embed`,
//! `embed_model`, falling back to `model`). A `base_url` is the address without the API path
//! (`http://127.0.0.1:11434`); one ending in `/v1` is accepted for OpenAI and Anthropic too.
//!
//! # API keys
//!
//! OpenAI's and Anthropic's own services (`api.openai.com`, `api.anthropic.com`) need a key; it comes from the step's
//! `credential:`, a credential of provider `api_key` whose data holds `{"api_key": "..."}` (or `{"token": "..."}`).
//! A step calling them without one fails before any request, saying so. Any other address (a local
//! OpenAI-compatible server such as llama.cpp's, vLLM, LM Studio or LocalAI; Ollama; a proxy) needs a key only if it
//! says so: without a credential the request goes without one, and a 401 or 403 answer then says a credential may be
//! missing. When a step names a credential, its key is always sent. Keys are never part of an error message: any echo of one in a provider's answer is
//! replaced by `[redacted]`.
//!
//! # Wire formats
//!
//! - OpenAI: `POST {base}/v1/chat/completions` `{model, messages, max_tokens?, temperature?}` with
//!   `Authorization: Bearer <key>`; `POST {base}/v1/embeddings` `{model, input}`.
//! - Anthropic: `POST {base}/v1/messages` `{model, max_tokens, system?, messages, temperature?}` with `x-api-key`
//!   and `anthropic-version: 2023-06-01`. `max_tokens` is required by Anthropic: `anthropic_max_tokens` (1024) is
//!   sent when the step gives none. `system` messages in a chat's `messages` move into the top-level `system`.
//!   Anthropic has no embeddings endpoint: `ai/embed` with it fails with "not available for this provider".
//! - Ollama: `POST {base}/api/chat` `{model, messages, stream: false, options: {temperature?, num_predict?}}`;
//!   `POST {base}/api/embed` `{model, input}`.
//!
//! `ai/complete` is a chat with one user message (`prompt`). `system` is a leading system message for OpenAI and
//! Ollama, the top-level `system` field for Anthropic.
//!
//! # Outputs
//!
//! - `complete`: `{text, model, usage, finish_reason}`; `chat` adds `message: {role: "assistant", content}`, ready to
//!   append to the conversation. `usage` is `{input_tokens, output_tokens}` when the provider reports both, else
//!   null. `finish_reason` is `stop` (natural end), `length` (hit `max_tokens`), the provider's own word for other
//!   cases (`content_filter`, `tool_use`, ...), or `unknown`.
//! - `embed`: `text` is a string or a list of strings (sent in one request). The output has one shape either way:
//!   `{embedding, embeddings, dimensions, model}`, where `embeddings` holds one vector per input text in order and
//!   `embedding` is the first of them (the one vector of a single text).
//! - `summarize`: `{summary, model, usage}`.
//! - `classify`: `{label, score, model}`. `label` is always one of the given labels, spelt as given. `score` is the
//!   probability the model gave its answer (the product of its tokens' probabilities) where the provider reports
//!   log-probabilities: OpenAI, whose request then carries `logprobs: true`. Otherwise it is null.
//!
//! # Summarize and classify
//!
//! Both are a chat with a built-in system prompt ([`prompts::SUMMARIZE_SYSTEM`], [`prompts::CLASSIFY_SYSTEM`]) and
//! the step's `text` as the user message; a step's own `system` is appended as further instructions. `summarize`'s
//! optional `max_words` adds [`prompts::SUMMARIZE_LENGTH`]. `classify` defaults `temperature` to 0 and matches the
//! answer to a label ignoring case, whitespace and punctuation; an answer containing exactly one label (as whole
//! words) is accepted, anything else fails quoting the answer.
//!
//! # Failures and retries
//!
//! 429 and 5xx answers are retried with exponential backoff (from `initial_backoff_ms`, doubling) or after the
//! server's `retry-after` (seconds or HTTP date; `retry-after-ms` too), each wait capped at `max_backoff_ms`, until
//! `max_attempts` tries were made. A step with its own `retry:` replaces these retries
//! ([`crate::ActionContext::retried_by_step`]): one request per step attempt, so the two never multiply. Waits
//! and requests stop at once when the step is cancelled. Errors name the
//! provider and URL: connection refused, timeout (`timeout_seconds` per request), an HTTP error status with the
//! provider's own error message (or the start of the body), and JSON that is malformed or lacks the expected
//! fields (saying which).

mod anthropic;
mod call;
mod classify;
mod input;
mod ollama;
mod openai;
pub mod prompts;
mod settings;
mod transport;

pub use settings::{AiSettings, Provider, ProviderSettings, SettingsError};

use crate::fields::{Fields, invalid};
use crate::{ActionContext, ActionDefinition, ActionError, Connector};
use call::{ChatReply, ChatRequest, EmbedReply};
use expr_grammar::Value;
use input::{Message, object, string};
use transport::Transport;

/// The `ai` connector. Holds its settings and one HTTP client (connections are reused across steps).
pub struct AiConnector {
    settings: AiSettings,
    transport: Transport,
    /// Why the settings file could not be used: every action then fails saying so, rather than silently
    /// running with defaults the user did not choose.
    settings_error: Option<String>,
}

/// Provider, address, model and key of one call, after step inputs, settings and credential were combined.
struct Endpoint {
    provider: Provider,
    base_url: String,
    model: String,
    api_key: Option<String>,
}

/// Which default model an action uses.
#[derive(Clone, Copy, PartialEq)]
enum ModelUse {
    Generate,
    Embed,
}

impl AiConnector {
    pub fn new(settings: AiSettings) -> AiConnector {
        let transport = Transport::new(&settings);
        AiConnector { settings, transport, settings_error: None }
    }

    /// Settings from the `ai` section of `settings_file` (defaults when the file does not exist). A file that
    /// cannot be read or parsed makes every action fail with the reason.
    pub fn from_settings_file(settings_file: &std::path::Path) -> AiConnector {
        match AiSettings::load(settings_file) {
            Ok(settings) => AiConnector::new(settings),
            Err(err) => {
                AiConnector { settings_error: Some(err.to_string()), ..AiConnector::new(AiSettings::default()) }
            }
        }
    }

    /// Settings from `$PILOT_HOME/settings.json` (`~/.dooz/pilot/settings.json` when `PILOT_HOME` is unset), as
    /// [`AiConnector::from_settings_file`].
    pub fn from_environment() -> AiConnector {
        let home = match std::env::var_os("PILOT_HOME") {
            Some(dir) if !dir.is_empty() => std::path::PathBuf::from(dir),
            _ => {
                let user_home = std::env::var_os("HOME").map(std::path::PathBuf::from).unwrap_or_default();
                user_home.join(".dooz").join("pilot")
            }
        };
        AiConnector::from_settings_file(&home.join("settings.json"))
    }

    pub fn settings(&self) -> &AiSettings {
        &self.settings
    }

    async fn complete(&self, inputs: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
        let endpoint = self.endpoint(inputs, ctx, "ai/complete", ModelUse::Generate)?;
        let mut request = generation_request(inputs, &endpoint)?;
        request.messages = vec![Message::new("user", inputs.required_string("prompt")?)];
        Ok(self.chat_call(&endpoint, &request, ctx).await?.completion_value())
    }

    async fn chat(&self, inputs: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
        let endpoint = self.endpoint(inputs, ctx, "ai/chat", ModelUse::Generate)?;
        let mut request = generation_request(inputs, &endpoint)?;
        request.messages = input::messages(inputs, "messages")?;
        Ok(self.chat_call(&endpoint, &request, ctx).await?.chat_value())
    }

    async fn summarize(&self, inputs: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
        let endpoint = self.endpoint(inputs, ctx, "ai/summarize", ModelUse::Generate)?;
        let mut request = generation_request(inputs, &endpoint)?;
        let max_words = inputs.optional_positive_int("max_words")?;
        request.system = Some(prompts::summarize_system(max_words, inputs.optional_string("system")?));
        request.messages = vec![Message::new("user", inputs.required_string("text")?)];
        let reply = self.chat_call(&endpoint, &request, ctx).await?;
        Ok(object([
            ("summary", string(reply.text.trim())),
            ("model", string(&reply.model)),
            ("usage", call::Usage::to_value(reply.usage)),
        ]))
    }

    async fn classify(&self, inputs: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
        let labels = inputs.string_or_strings("labels")?;
        classify::check_labels(&labels).map_err(|message| invalid("labels", message))?;
        let endpoint = self.endpoint(inputs, ctx, "ai/classify", ModelUse::Generate)?;
        let mut request = generation_request(inputs, &endpoint)?;
        request.system = Some(prompts::classify_system(&labels, inputs.optional_string("system")?));
        request.messages = vec![Message::new("user", inputs.required_string("text")?)];
        request.temperature = request.temperature.or(Some(0.0));
        request.logprobs = endpoint.provider == Provider::OpenAi;
        let reply = self.chat_call(&endpoint, &request, ctx).await?;
        let label = classify::match_label(&reply.text, &labels).map_err(|message| ActionError::Failed { message })?;
        let score = reply.answer_logprob.map(|logprob| Value::Float(logprob.exp())).unwrap_or(Value::Null);
        Ok(object([("label", string(label)), ("score", score), ("model", string(&reply.model))]))
    }

    async fn embed(&self, inputs: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
        let provider = self.provider(inputs)?;
        if provider == Provider::Anthropic {
            return Err(embed_unavailable(provider));
        }
        let texts = inputs.string_or_strings("text")?;
        let endpoint = self.endpoint(inputs, ctx, "ai/embed", ModelUse::Embed)?;
        Ok(self.embed_call(&endpoint, &texts, ctx).await?.value())
    }

    async fn chat_call(
        &self,
        endpoint: &Endpoint,
        request: &ChatRequest,
        ctx: &ActionContext,
    ) -> Result<ChatReply, ActionError> {
        let (base, key) = (endpoint.base_url.as_str(), endpoint.api_key.as_deref());
        let (target, body) = match endpoint.provider {
            Provider::OpenAi => (openai::chat_target(base, key), openai::chat_body(request)),
            Provider::Anthropic => {
                (anthropic::chat_target(base, key), anthropic::chat_body(request, self.settings.anthropic_max_tokens))
            }
            Provider::Ollama => (ollama::chat_target(base, key), ollama::chat_body(request)),
        };
        let answer = self.transport.post_json(&target, &body, &ctx.cancel, ctx.retried_by_step).await?;
        let parsed = match endpoint.provider {
            Provider::OpenAi => openai::parse_chat(&target.url, answer),
            Provider::Anthropic => anthropic::parse_chat(&target.url, answer),
            Provider::Ollama => ollama::parse_chat(&target.url, answer),
        };
        parsed.map_err(|message| ActionError::Failed { message })
    }

    async fn embed_call(
        &self,
        endpoint: &Endpoint,
        texts: &[String],
        ctx: &ActionContext,
    ) -> Result<EmbedReply, ActionError> {
        let base = endpoint.base_url.as_str();
        let (target, body) = match endpoint.provider {
            Provider::OpenAi => {
                (openai::embed_target(base, endpoint.api_key.as_deref()), openai::embed_body(&endpoint.model, texts))
            }
            Provider::Ollama => {
                (ollama::embed_target(base, endpoint.api_key.as_deref()), ollama::embed_body(&endpoint.model, texts))
            }
            Provider::Anthropic => return Err(embed_unavailable(endpoint.provider)),
        };
        let answer = self.transport.post_json(&target, &body, &ctx.cancel, ctx.retried_by_step).await?;
        let parsed = match endpoint.provider {
            Provider::OpenAi => openai::parse_embed(&target.url, answer, texts.len()),
            _ => ollama::parse_embed(&target.url, answer, texts.len()),
        };
        parsed.map_err(|message| ActionError::Failed { message })
    }

    fn provider(&self, inputs: &Fields<'_>) -> Result<Provider, ActionError> {
        match inputs.optional_string("provider")? {
            None => Ok(self.settings.default_provider),
            Some(name) => Provider::from_name(name).ok_or_else(|| {
                invalid("provider", format!("unknown provider `{name}`: expected openai, anthropic or ollama"))
            }),
        }
    }

    /// Combines the step's `provider`/`base_url`/`model`, the settings and the credential.
    fn endpoint(
        &self,
        inputs: &Fields<'_>,
        ctx: &ActionContext,
        action: &str,
        model_use: ModelUse,
    ) -> Result<Endpoint, ActionError> {
        let provider = self.provider(inputs)?;
        let configured = self.settings.provider(provider);
        let base_url = match inputs.optional_string("base_url")? {
            Some(url) => url.to_string(),
            None => configured.and_then(|c| c.base_url.clone()).unwrap_or_else(|| provider.default_base_url().into()),
        };
        let default_model = configured.and_then(|c| match model_use {
            ModelUse::Embed => c.embed_model.clone().or_else(|| c.model.clone()),
            ModelUse::Generate => c.model.clone(),
        });
        let model = match inputs.optional_string("model")? {
            Some(model) => model.to_string(),
            None => default_model.ok_or_else(|| {
                let key = if model_use == ModelUse::Embed { "embed_model" } else { "model" };
                invalid("model", format!("no model given, and settings.json has no ai.providers.{provider}.{key}"))
            })?,
        };
        let api_key = api_key(ctx, provider, &base_url, action)?;
        Ok(Endpoint { provider, base_url, model, api_key })
    }
}

fn embed_unavailable(provider: Provider) -> ActionError {
    ActionError::Unavailable {
        reason: format!(
            "ai/embed is not available for this provider: {provider} has no embeddings endpoint (use provider \
             `openai` or `ollama`)"
        ),
    }
}

/// The model and the generation knobs every chat-based action shares.
fn generation_request(inputs: &Fields<'_>, endpoint: &Endpoint) -> Result<ChatRequest, ActionError> {
    let temperature = inputs.optional_float("temperature")?;
    if let Some(t) = temperature.filter(|t| !(0.0..=2.0).contains(t)) {
        return Err(invalid("temperature", format!("must be between 0 and 2, got {t}")));
    }
    Ok(ChatRequest {
        model: endpoint.model.clone(),
        system: inputs.optional_string("system")?.map(str::to_string),
        messages: Vec::new(),
        max_tokens: inputs.optional_positive_int("max_tokens")?,
        temperature,
        logprobs: false,
    })
}

/// The key from the step's credential: data `api_key`, else `token`. Missing is an error only for the provider's own
/// hosted service (see [`Provider::needs_api_key`]).
fn api_key(
    ctx: &ActionContext,
    provider: Provider,
    base_url: &str,
    action: &str,
) -> Result<Option<String>, ActionError> {
    let Some(credential) = &ctx.credential else {
        if !provider.needs_api_key(base_url) {
            return Ok(None);
        }
        return Err(ActionError::Failed {
            message: format!(
                "step `{}`: {action} with provider {provider} at {base_url} needs an API key: add `credential: \
                 <name>` to the step, naming a credential of provider `api_key` whose data is {{\"api_key\": \
                 \"...\"}}",
                ctx.step_id
            ),
        });
    };
    let key = ["api_key", "token"]
        .iter()
        .find_map(|field| credential.data.get(*field).and_then(|value| value.as_str()))
        .map(str::trim)
        .filter(|key| !key.is_empty());
    match key {
        Some(key) => Ok(Some(key.to_string())),
        None => Err(ActionError::Failed {
            message: format!(
                "step `{}`: credential `{}` has no `api_key` or `token` field for {provider}",
                ctx.step_id, credential.name
            ),
        }),
    }
}

#[async_trait::async_trait]
impl Connector for AiConnector {
    fn id(&self) -> &str {
        "ai"
    }

    fn actions(&self) -> Vec<ActionDefinition> {
        crate::catalogue::Catalogue::builtin().iter().filter(|def| def.name.starts_with("ai/")).cloned().collect()
    }

    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        if let Some(error) = &self.settings_error {
            return Err(ActionError::Unavailable { reason: format!("the ai settings cannot be used: {error}") });
        }
        let inputs = Fields::new(&input)?;
        match action {
            "complete" | "ai/complete" => self.complete(&inputs, ctx).await,
            "chat" | "ai/chat" => self.chat(&inputs, ctx).await,
            "embed" | "ai/embed" => self.embed(&inputs, ctx).await,
            "summarize" | "ai/summarize" => self.summarize(&inputs, ctx).await,
            "classify" | "ai/classify" => self.classify(&inputs, ctx).await,
            other => Err(ActionError::Unavailable { reason: format!("the ai connector has no action `{other}`") }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connector_declares_the_five_ai_actions_of_the_catalogue() {
        let connector = AiConnector::new(AiSettings::default());
        let names: Vec<String> = connector.actions().into_iter().map(|def| def.name).collect();
        assert_eq!(names, ["ai/complete", "ai/chat", "ai/embed", "ai/summarize", "ai/classify"]);
        assert_eq!(connector.id(), "ai");
    }
}
