//! The per-execution log: one timestamped line per event, appended to `logs/<execution-id>.log`.

use super::records::rfc3339_micros;
use expr_grammar::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Info,
    Warn,
    Error,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERROR",
        }
    }
}

/// One event of an execution's log. The message must already be redacted.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: Timestamp,
    pub level: LogLevel,
    /// The step it is about, if any.
    pub step_id: Option<String>,
    pub message: String,
}

impl LogLine {
    pub fn info(at: Timestamp, step_id: Option<&str>, message: impl Into<String>) -> LogLine {
        LogLine { at, level: LogLevel::Info, step_id: step_id.map(str::to_owned), message: message.into() }
    }

    pub fn warn(at: Timestamp, step_id: Option<&str>, message: impl Into<String>) -> LogLine {
        LogLine { at, level: LogLevel::Warn, step_id: step_id.map(str::to_owned), message: message.into() }
    }

    pub fn error(at: Timestamp, step_id: Option<&str>, message: impl Into<String>) -> LogLine {
        LogLine { at, level: LogLevel::Error, step_id: step_id.map(str::to_owned), message: message.into() }
    }

    /// `2026-11-24T10:00:00.123456Z INFO  [step] message`, newlines in the message escaped so that one event
    /// stays one line. Ends with `\n`.
    pub fn render(&self) -> String {
        let step = self.step_id.as_deref().map(|id| format!("[{id}] ")).unwrap_or_default();
        let message = self.message.replace('\r', "\\r").replace('\n', "\\n");
        format!("{} {:<5} {step}{message}\n", rfc3339_micros(self.at), self.level.as_str())
    }
}
