//! The `smtp` section of `$PILOT_HOME/settings.json`: the defaults of `notify/email` (see the parent module).

use std::path::{Path, PathBuf};
use std::time::Duration;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// Plain connection upgraded with `STARTTLS` before anything else is sent; refused when the server does not
    /// offer it. Default port 587.
    Starttls,
    /// TLS from the first byte ("implicit TLS", SMTPS). Default port 465.
    Tls,
    /// No encryption at all: only for a relay on this machine or a trusted local network. Default port 25.
    None,
}

impl TlsMode {
    pub fn default_port(self) -> u16 {
        match self {
            TlsMode::Starttls => 587,
            TlsMode::Tls => 465,
            TlsMode::None => 25,
        }
    }

    pub fn parse(text: &str) -> Option<TlsMode> {
        match text.trim().to_ascii_lowercase().as_str() {
            "starttls" => Some(TlsMode::Starttls),
            "tls" => Some(TlsMode::Tls),
            "none" => Some(TlsMode::None),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TlsMode::Starttls => "starttls",
            TlsMode::Tls => "tls",
            TlsMode::None => "none",
        }
    }
}

/// The `smtp` section of `settings.json`. Every field is optional; a step's inputs take precedence.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<TlsMode>,
    /// The sender when a step gives no `from`.
    pub from: Option<String>,
    /// A PEM file of CA certificates trusted in addition to the built-in (Mozilla) roots.
    pub ca_file: Option<PathBuf>,
    /// How long one whole send may take.
    pub timeout_seconds: Option<f64>,
}

impl SmtpSettings {
    /// Reads the `smtp` section of a `settings.json`. A missing file or a file without `smtp` gives no defaults.
    pub fn load(settings_file: &Path) -> Result<SmtpSettings, String> {
        let shown = settings_file.display();
        let text = match std::fs::read_to_string(settings_file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(SmtpSettings::default()),
            Err(err) => return Err(format!("cannot read {shown}: {err}")),
        };
        let document: serde_json::Value =
            serde_json::from_str(&text).map_err(|err| format!("{shown}: not valid JSON: {err}"))?;
        SmtpSettings::from_settings_document(&document).map_err(|reason| format!("{shown}: `smtp` section: {reason}"))
    }

    /// The `smtp` section of a whole settings document.
    pub fn from_settings_document(document: &serde_json::Value) -> Result<SmtpSettings, String> {
        let settings: SmtpSettings = match document.get("smtp") {
            None | Some(serde_json::Value::Null) => return Ok(SmtpSettings::default()),
            Some(section) => serde_json::from_value(section.clone()).map_err(|err| err.to_string())?,
        };
        if let Some(seconds) = settings.timeout_seconds
            && !(seconds.is_finite() && seconds > 0.0)
        {
            return Err(format!("`timeout_seconds` must be a positive number, not {seconds}"));
        }
        Ok(settings)
    }

    pub fn timeout(&self) -> Option<Duration> {
        self.timeout_seconds.map(Duration::from_secs_f64)
    }
}

/// `$PILOT_HOME/settings.json`, or `~/.dooz/pilot/settings.json` when `PILOT_HOME` is unset or empty.
pub fn settings_file_from_environment() -> PathBuf {
    let home = match std::env::var_os("PILOT_HOME") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".dooz").join("pilot"),
    };
    home.join("settings.json")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_smtp_section_reads_every_field_and_other_sections_are_ignored() {
        let document = json!({"ai": {"x": 1}, "smtp": {
            "host": "mail.example.com", "port": 2525, "tls": "none", "from": "Pilot <pilot@example.com>",
            "ca_file": "/etc/pilot/ca.pem", "timeout_seconds": 5
        }});
        let settings = SmtpSettings::from_settings_document(&document).expect("valid");
        assert_eq!(settings.host.as_deref(), Some("mail.example.com"));
        assert_eq!(settings.port, Some(2525));
        assert_eq!(settings.tls, Some(TlsMode::None));
        assert_eq!(settings.ca_file, Some(PathBuf::from("/etc/pilot/ca.pem")));
        assert_eq!(settings.timeout(), Some(Duration::from_secs(5)));
        assert_eq!(SmtpSettings::from_settings_document(&json!({})), Ok(SmtpSettings::default()));
    }

    #[test]
    fn typos_bad_modes_and_bad_timeouts_are_refused_with_the_reason() {
        let typo = json!({"smtp": {"hots": "x"}});
        assert!(SmtpSettings::from_settings_document(&typo).unwrap_err().contains("unknown field `hots`"));
        let mode = json!({"smtp": {"tls": "ssl3"}});
        assert!(SmtpSettings::from_settings_document(&mode).unwrap_err().contains("unknown variant `ssl3`"));
        let timeout = json!({"smtp": {"timeout_seconds": 0}});
        assert!(SmtpSettings::from_settings_document(&timeout).unwrap_err().contains("timeout_seconds"));
    }

    #[test]
    fn a_missing_file_gives_no_defaults_and_a_broken_one_names_the_file() {
        let dir = tempfile::tempdir().expect("temporary folder");
        assert_eq!(SmtpSettings::load(&dir.path().join("settings.json")), Ok(SmtpSettings::default()));
        let broken = dir.path().join("settings.json");
        std::fs::write(&broken, "{ not json").expect("write");
        let err = SmtpSettings::load(&broken).unwrap_err();
        assert!(err.starts_with(&format!("{}: not valid JSON", broken.display())), "{err}");
    }

    #[test]
    fn tls_modes_parse_in_any_case_and_have_their_default_ports() {
        assert_eq!(TlsMode::parse("STARTTLS"), Some(TlsMode::Starttls));
        assert_eq!(TlsMode::parse("tls"), Some(TlsMode::Tls));
        assert_eq!(TlsMode::parse("ssl"), None);
        assert_eq!(TlsMode::parse("none"), Some(TlsMode::None));
        assert_eq!(TlsMode::parse("yes"), None);
        let ports: Vec<u16> = [TlsMode::Starttls, TlsMode::Tls, TlsMode::None].map(TlsMode::default_port).into();
        assert_eq!(ports, [587, 465, 25]);
    }
}
