//! `$PILOT_HOME/settings.json`: one JSON document with a section per concern. Every section and field is
//! optional; an unknown key anywhere is an error (a typo must not silently do nothing). `pilot check` with no
//! path checks it and points at the line and column of a problem; `pilot schema --settings` prints its JSON Schema.
//!
//! Sections: `ai` (defaults of the `ai/*` actions, see `connectors::ai`), `smtp` (defaults of `notify/email`),
//! `daemon` (`pilot serve`: address, limits, drain, webhooks, CORS), `expressions` (the budget every `${...}`
//! evaluation runs under, at compile time and at run time), `store` (a PostgreSQL URL instead of the SQLite file).

use connectors::ai::AiSettings;
use connectors::notify::email::SmtpSettings;
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
#[schemars(title = "Dooz Pilot settings.json")]
pub struct Settings {
    /// Defaults of the `ai/*` actions: provider, base URLs, models, timeouts and retries.
    pub ai: AiSettings,
    /// Defaults of `notify/email`: server, port, TLS, sender.
    pub smtp: SmtpSettings,
    /// `pilot serve`: where it listens, how much runs at once, webhooks, shutdown.
    pub daemon: DaemonSettings,
    /// The budget of one evaluation of one expression: past it, `check` reports E0312 and a run fails the step
    /// naming the expression (never an abort, never a hang).
    pub expressions: ExpressionSettings,
    /// The store as a PostgreSQL URL (`postgres://USER:PASSWORD@HOST:PORT/DATABASE`), shared by several
    /// `pilot serve` nodes. Unset: SQLite in `$PILOT_HOME/pilot.db`. `--store` and `PILOT_STORE` override it.
    pub store: Option<StoreUrl>,
}

/// A store URL from settings.json. Its password is a secret: `Debug` shows the URL without it.
#[derive(Clone, PartialEq, Eq, serde::Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct StoreUrl(pub String);

impl std::str::FromStr for StoreUrl {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<StoreUrl, Self::Err> {
        Ok(StoreUrl(text.to_owned()))
    }
}

impl std::fmt::Debug for StoreUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&executor::store::postgres::redact_url(&self.0))
    }
}

/// The `expressions` section.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ExpressionSettings {
    /// The largest value one evaluation may build, in bytes (8 per value plus the bytes of its text). Default
    /// 16777216 (16 MiB).
    pub max_value_bytes: usize,
    /// The most steps one evaluation may take (one per operation, per element visited, per 64 bytes read).
    /// Default 10000000.
    pub max_steps: u64,
}

impl Default for ExpressionSettings {
    fn default() -> Self {
        let budget = expr_grammar::Budget::default();
        ExpressionSettings { max_value_bytes: budget.max_value_bytes, max_steps: budget.max_steps }
    }
}

impl ExpressionSettings {
    pub fn budget(&self) -> expr_grammar::Budget {
        expr_grammar::Budget { max_value_bytes: self.max_value_bytes, max_steps: self.max_steps }
    }

    fn validate(&self) -> Result<(), String> {
        if self.max_value_bytes < 1024 || self.max_steps < 1000 {
            return Err("`max_value_bytes` must be at least 1024 and `max_steps` at least 1000".to_owned());
        }
        Ok(())
    }
}

/// The `daemon` section. Every field is optional.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DaemonSettings {
    /// Address and port `pilot serve` listens on (`--addr` overrides it). Default `127.0.0.1:7777`. Any address
    /// other than loopback needs an API token (`pilot token create`).
    pub addr: String,
    /// At most this many executions run at once, over all workflows (each workflow's `concurrency.limit` also
    /// holds). Further accepted triggers wait in the queue. Default 16.
    pub max_concurrent: usize,
    /// On SIGINT or SIGTERM, how long running executions may go on before the rest are recorded interrupted
    /// (resumed at the next start). `--drain` overrides it. Default 30.
    pub drain_seconds: u64,
    /// Largest webhook request body accepted, in bytes (larger: 413). A trigger's `max_body_size` overrides it.
    /// Default 1048576 (1 MiB).
    pub max_body_bytes: usize,
    /// How long a webhook `Idempotency-Key` is remembered: a request repeating it within this window gets the
    /// first execution and starts nothing. Default 86400 (a day).
    pub idempotency_window_seconds: u64,
    /// How far a signed webhook's `X-Pilot-Timestamp` may be from now before the request is refused as a replay.
    /// Default 300.
    pub signature_tolerance_seconds: u64,
    /// Origins (`scheme://host:port`) whose pages may call the API from a browser (CORS). Default: none (the UI
    /// served by the daemon itself needs none).
    pub allowed_origins: Vec<String>,
    /// Seconds a daemon's claim on its executions lasts without renewal; it renews at a third of that. It matters
    /// for a home shared by daemons of several hosts: a daemon of the same host that stopped is taken over at the
    /// next start whatever its lease. Default 30.
    pub lease_seconds: u64,
    /// The workflows, by name, whose `file_watch` triggers this daemon runs. Unset: those of every workflow it
    /// loads. `[]`: none. A file watch sees its own machine's disk: with several daemons on one PostgreSQL store,
    /// name each watched workflow on the node whose disk holds the watched folder (see docs/deployment.md).
    pub file_watches: Option<Vec<String>>,
}

impl Default for DaemonSettings {
    fn default() -> Self {
        DaemonSettings {
            addr: "127.0.0.1:7777".to_owned(),
            max_concurrent: 16,
            drain_seconds: 30,
            max_body_bytes: 1 << 20,
            idempotency_window_seconds: 86_400,
            signature_tolerance_seconds: 300,
            allowed_origins: Vec::new(),
            lease_seconds: 30,
            file_watches: None,
        }
    }
}

impl DaemonSettings {
    /// Whether this daemon runs the `file_watch` triggers of the workflow `name` ([`DaemonSettings::file_watches`]).
    pub fn watches_files_of(&self, name: &str) -> bool {
        self.file_watches.as_ref().is_none_or(|names| names.iter().any(|watched| watched == name))
    }

    fn validate(&self) -> Result<(), String> {
        if self.addr.parse::<std::net::SocketAddr>().is_err() {
            return Err(format!("`addr` must be an address and port such as 127.0.0.1:7777, not `{}`", self.addr));
        }
        if self.max_concurrent == 0 {
            return Err("`max_concurrent` must be at least 1".to_owned());
        }
        if self.lease_seconds < 3 {
            return Err("`lease_seconds` must be at least 3".to_owned());
        }
        Ok(())
    }
}

/// What is wrong with a settings file, and where (1-based line and column; the section's key for checks of values
/// that JSON itself cannot express).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsProblem {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Settings {
    /// Reads `path`; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<Settings, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Settings::parse(&text).map_err(|problem| {
                format!("{}:{}:{}: {}", path.display(), problem.line, problem.column, problem.message)
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(err) => Err(format!("cannot read {}: {err}", path.display())),
        }
    }

    pub fn parse(text: &str) -> Result<Settings, SettingsProblem> {
        let settings: Settings = serde_json::from_str(text).map_err(|err| {
            let (line, column) = (err.line().max(1), err.column().max(1));
            SettingsProblem {
                line,
                column: start_of_key(text, line, column),
                message: without_position(&err.to_string()),
            }
        })?;
        // Checks beyond types (positive timeouts, ...) are each section's own.
        let document: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
        let store = match &settings.store {
            Some(StoreUrl(url)) if !executor::store::postgres::is_postgres_url(url) => {
                Err("must be a PostgreSQL URL: postgres://USER:PASSWORD@HOST:PORT/DATABASE".to_owned())
            }
            _ => Ok(()),
        };
        let checks: [(&str, Result<(), String>); 5] = [
            ("ai", AiSettings::from_settings_document(&document).map(drop)),
            ("smtp", SmtpSettings::from_settings_document(&document).map(drop)),
            ("daemon", settings.daemon.validate()),
            ("expressions", settings.expressions.validate()),
            ("store", store),
        ];
        for (section, result) in checks {
            if let Err(reason) = result {
                let (line, column) = key_position(text, section);
                return Err(SettingsProblem { line, column, message: format!("`{section}` section: {reason}") });
            }
        }
        Ok(settings)
    }

    /// The JSON Schema of the whole file, for editors.
    pub fn schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Settings)).unwrap_or_default()
    }
}

/// serde_json ends its messages with ` at line L column C`; the position is given separately.
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}

/// serde_json reports an unknown key just after its closing quote: point at its opening quote instead.
fn start_of_key(text: &str, line: usize, column: usize) -> usize {
    let Some(line_text) = text.lines().nth(line - 1) else { return column };
    let before: Vec<char> = line_text.chars().take(column).collect();
    if before.last() != Some(&'"') {
        return column;
    }
    before[..before.len() - 1].iter().rposition(|c| *c == '"').map_or(column, |at| at + 1)
}

/// Line and column of the first `"key"` followed by `:`, or 1:1.
fn key_position(text: &str, key: &str) -> (usize, usize) {
    let quoted = format!("\"{key}\"");
    let found = text.match_indices(&quoted).find(|(at, _)| text[at + quoted.len()..].trim_start().starts_with(':'));
    let Some((offset, _)) = found else { return (1, 1) };
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |tail| tail.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_object_gives_the_defaults() {
        assert_eq!(Settings::parse("{}"), Ok(Settings::default()));
    }

    #[test]
    fn an_unknown_key_is_reported_at_its_line() {
        let text = "{\n  \"ai\": {\n    \"timeout_secs\": 5\n  }\n}";
        let problem = Settings::parse(text).unwrap_err();
        assert_eq!((problem.line, problem.column), (3, 5), "at the key's opening quote: {problem:?}");
        assert!(problem.message.contains("unknown field `timeout_secs`"), "{problem:?}");
        let section = Settings::parse("{\"smpt\": {}}").unwrap_err();
        let store = Settings::parse("{\n  \"store\": \"/srv/pilot.db\"\n}").unwrap_err();
        assert_eq!((store.line, store.column), (2, 3), "{store:?}");
        assert!(store.message.contains("must be a PostgreSQL URL"), "{store:?}");
        assert!(section.message.contains("unknown field `smpt`"), "{section:?}");
    }

    #[test]
    fn a_wrong_type_is_reported_at_its_line() {
        let problem = Settings::parse("{\n\"smtp\": {\"port\": \"25\"}\n}").unwrap_err();
        assert_eq!(problem.line, 2, "{problem:?}");
        assert!(problem.message.contains("invalid type"), "{problem:?}");
    }

    #[test]
    fn a_value_json_cannot_refuse_is_reported_at_its_section() {
        let problem = Settings::parse("{\n  \"ai\": {\"timeout_seconds\": -1}\n}").unwrap_err();
        assert_eq!((problem.line, problem.column), (2, 3));
        assert!(problem.message.contains("`timeout_seconds` must be a positive number"), "{problem:?}");
    }

    #[test]
    fn the_schema_has_a_section_per_concern() {
        let schema = Settings::schema();
        for section in ["ai", "smtp", "daemon", "expressions"] {
            assert!(schema["properties"][section].is_object(), "{section}: {schema}");
        }
        assert_eq!(schema["additionalProperties"], false);
    }
}
