//! The `ai` section of `$PILOT_HOME/settings.json`: default provider, per-provider base URL and models, and the
//! retry and timeout policy. Every field is optional; see the module docs of [`crate::ai`] for the format.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The providers Pilot speaks to, each with its own wire format.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    OpenAi,
    Anthropic,
    Ollama,
}

impl Provider {
    pub const ALL: [Provider; 3] = [Provider::OpenAi, Provider::Anthropic, Provider::Ollama];

    /// The name used in workflows and settings: `openai`, `anthropic`, `ollama`.
    pub fn name(self) -> &'static str {
        match self {
            Provider::OpenAi => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
        }
    }

    pub fn from_name(name: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|provider| provider.name() == name.trim().to_ascii_lowercase())
    }

    /// Where the provider listens when neither the step nor the settings say.
    pub fn default_base_url(self) -> &'static str {
        match self {
            Provider::OpenAi => "https://api.openai.com",
            Provider::Anthropic => "https://api.anthropic.com",
            Provider::Ollama => "http://127.0.0.1:11434",
        }
    }

    /// The host of the provider's own hosted service, which refuses calls without a key.
    fn hosted_service(self) -> Option<&'static str> {
        match self {
            Provider::OpenAi => Some("api.openai.com"),
            Provider::Anthropic => Some("api.anthropic.com"),
            Provider::Ollama => None,
        }
    }

    /// Whether a call to `base_url` needs an API key from the step's `credential:`: only the provider's own hosted
    /// service does. A local OpenAI-compatible server (llama.cpp, vLLM, LM Studio, LocalAI) or a proxy needs none
    /// unless it says so, with a 401.
    pub fn needs_api_key(self, base_url: &str) -> bool {
        let host = reqwest::Url::parse(base_url.trim()).ok().and_then(|url| url.host_str().map(str::to_owned));
        match (self.hosted_service(), host) {
            (Some(service), Some(host)) => host.eq_ignore_ascii_case(service),
            _ => false,
        }
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Defaults for one provider.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ProviderSettings {
    /// Base URL without the API path, e.g. `http://127.0.0.1:11434`.
    pub base_url: Option<String>,
    /// Model for `complete`, `chat`, `summarize` and `classify`.
    pub model: Option<String>,
    /// Model for `embed`; falls back to `model`.
    pub embed_model: Option<String>,
}

/// The `ai` section of `settings.json`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AiSettings {
    /// Used when a step gives no `provider`.
    pub default_provider: Provider,
    /// Keyed by provider name (`openai`, `anthropic`, `ollama`).
    pub providers: BTreeMap<Provider, ProviderSettings>,
    /// How long one HTTP request may take before it fails as a timeout.
    pub timeout_seconds: f64,
    /// Tries per call, the first included: 429 and 5xx answers are retried until this many were made.
    pub max_attempts: u32,
    /// First backoff delay; doubles after each retry. A `retry-after` header takes precedence.
    pub initial_backoff_ms: u64,
    /// Upper bound of any single wait between tries, `retry-after` included.
    pub max_backoff_ms: u64,
    /// Anthropic requires `max_tokens`: this is sent when the step gives none.
    pub anthropic_max_tokens: u32,
}

impl Default for AiSettings {
    fn default() -> Self {
        AiSettings {
            default_provider: Provider::Ollama,
            providers: BTreeMap::new(),
            timeout_seconds: 120.0,
            max_attempts: 3,
            initial_backoff_ms: 500,
            max_backoff_ms: 30_000,
            anthropic_max_tokens: 1024,
        }
    }
}

/// `settings.json` could not be read or its `ai` section is malformed.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: not valid JSON: {reason}")]
    Json { path: String, reason: String },
    #[error("{path}: `ai` section: {reason}")]
    AiSection { path: String, reason: String },
}

impl AiSettings {
    /// Reads the `ai` section of a `settings.json`. A missing file or a file without `ai` gives the defaults.
    pub fn load(settings_file: &Path) -> Result<AiSettings, SettingsError> {
        let path = settings_file.display().to_string();
        let text = match std::fs::read_to_string(settings_file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(AiSettings::default()),
            Err(err) => return Err(SettingsError::Read { path, reason: err.to_string() }),
        };
        let document: serde_json::Value = serde_json::from_str(&text)
            .map_err(|err| SettingsError::Json { path: path.clone(), reason: err.to_string() })?;
        AiSettings::from_settings_document(&document).map_err(|reason| SettingsError::AiSection { path, reason })
    }

    /// The `ai` section of a whole settings document; defaults when it has none.
    pub fn from_settings_document(document: &serde_json::Value) -> Result<AiSettings, String> {
        match document.get("ai") {
            None | Some(serde_json::Value::Null) => Ok(AiSettings::default()),
            Some(section) => {
                let settings: AiSettings = serde_json::from_value(section.clone()).map_err(|err| err.to_string())?;
                settings.validate()?;
                Ok(settings)
            }
        }
    }

    fn validate(&self) -> Result<(), String> {
        if !(self.timeout_seconds.is_finite() && self.timeout_seconds > 0.0) {
            return Err(format!("`timeout_seconds` must be a positive number, not {}", self.timeout_seconds));
        }
        if self.max_attempts == 0 {
            return Err("`max_attempts` must be at least 1".to_string());
        }
        Ok(())
    }

    pub fn provider(&self, provider: Provider) -> Option<&ProviderSettings> {
        self.providers.get(&provider)
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_seconds)
    }

    /// Points `provider` at `base_url` (builder style, for embedding code and tests).
    pub fn with_base_url(mut self, provider: Provider, base_url: impl Into<String>) -> AiSettings {
        self.providers.entry(provider).or_default().base_url = Some(base_url.into());
        self
    }

    /// Sets `provider`'s default model (builder style).
    pub fn with_model(mut self, provider: Provider, model: impl Into<String>) -> AiSettings {
        self.providers.entry(provider).or_default().model = Some(model.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_ai_section_reads_providers_by_name_and_keeps_defaults_for_missing_fields() {
        let document = json!({"theme": "dark", "ai": {
            "default_provider": "openai",
            "providers": {"openai": {"model": "gpt-4o-mini"}, "ollama": {"base_url": "http://10.0.0.2:11434"}},
            "max_attempts": 5
        }});
        let settings = AiSettings::from_settings_document(&document).expect("valid");
        assert_eq!(settings.default_provider, Provider::OpenAi);
        assert_eq!(settings.provider(Provider::OpenAi).and_then(|p| p.model.as_deref()), Some("gpt-4o-mini"));
        assert_eq!(
            settings.provider(Provider::Ollama).and_then(|p| p.base_url.as_deref()),
            Some("http://10.0.0.2:11434")
        );
        assert_eq!(settings.max_attempts, 5);
        assert_eq!(settings.anthropic_max_tokens, 1024);
        assert_eq!(AiSettings::from_settings_document(&json!({})), Ok(AiSettings::default()));
    }

    #[test]
    fn unknown_providers_fields_and_bad_numbers_are_refused_with_the_reason() {
        let unknown_provider = json!({"ai": {"providers": {"mistral": {}}}});
        let err = AiSettings::from_settings_document(&unknown_provider).unwrap_err();
        assert!(err.contains("unknown variant `mistral`"), "{err}");
        let typo = json!({"ai": {"providers": {"openai": {"modle": "x"}}}});
        assert!(AiSettings::from_settings_document(&typo).unwrap_err().contains("unknown field `modle`"));
        let zero = json!({"ai": {"max_attempts": 0}});
        assert!(AiSettings::from_settings_document(&zero).unwrap_err().contains("max_attempts"));
    }

    #[test]
    fn only_the_providers_own_service_needs_a_key() {
        assert!(Provider::OpenAi.needs_api_key(Provider::OpenAi.default_base_url()));
        assert!(Provider::OpenAi.needs_api_key("https://API.openai.com/v1/"));
        assert!(Provider::Anthropic.needs_api_key(Provider::Anthropic.default_base_url()));
        assert!(!Provider::OpenAi.needs_api_key("http://127.0.0.1:8080"));
        assert!(!Provider::OpenAi.needs_api_key("http://localhost:1234/v1"));
        assert!(!Provider::OpenAi.needs_api_key("https://api.openai.com.example.net"));
        assert!(!Provider::Anthropic.needs_api_key("http://127.0.0.1:4000"));
        assert!(!Provider::Ollama.needs_api_key(Provider::Ollama.default_base_url()));
    }

    #[test]
    fn load_gives_defaults_without_a_file_and_names_the_file_when_it_is_broken() {
        let dir = std::env::temp_dir().join(format!("pilot-ai-settings-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = dir.join("absent.json");
        assert_eq!(AiSettings::load(&missing).expect("defaults"), AiSettings::default());
        let broken = dir.join("settings.json");
        std::fs::write(&broken, r#"{"ai": {"timeout_seconds": -1}}"#).expect("write");
        let err = AiSettings::load(&broken).unwrap_err().to_string();
        assert!(err.starts_with(&broken.display().to_string()), "{err}");
        assert!(err.contains("timeout_seconds"), "{err}");
        std::fs::write(&broken, r#"{"ai": {"default_provider": "anthropic"}}"#).expect("write");
        assert_eq!(AiSettings::load(&broken).expect("valid").default_provider, Provider::Anthropic);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
