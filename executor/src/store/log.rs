//! The per-execution log: one timestamped line per event, appended to `logs/<execution-id>.log`.

use super::records::rfc3339_micros;
use expr_grammar::Timestamp;

/// The levels are the connectors' own, so an action's lines need no translation.
pub use connectors::LogLevel;

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
    /// stays one line, and NUL too (PostgreSQL refuses it in text, which would fail the commit of a whole batch).
    /// Ends with `\n`.
    pub fn render(&self) -> String {
        let step = self.step_id.as_deref().map(|id| format!("[{id}] ")).unwrap_or_default();
        let message = escape_line_breaks(&self.message);
        format!("{} {:<5} {step}{message}\n", rfc3339_micros(self.at), self.level.as_str())
    }
}

/// A rendered log line read back: `at` (RFC 3339), `level`, the step it is about, the message (line breaks still
/// escaped). The inverse of [`LogLine::render`], for readers of the log file (`pilot logs --json`, the API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedLine<'a> {
    pub at: &'a str,
    pub level: &'a str,
    pub step_id: Option<&'a str>,
    pub message: &'a str,
}

impl<'a> RenderedLine<'a> {
    pub fn parse(line: &'a str) -> RenderedLine<'a> {
        let (at, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim_start();
        let (level, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let rest = rest.trim_start();
        // Step ids are identifiers: `[x y] ...` is a message, not a step.
        let is_step = |text: &str| !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        match rest.strip_prefix('[').and_then(|r| r.split_once("] ")) {
            Some((step, message)) if is_step(step) => RenderedLine { at, level, step_id: Some(step), message },
            _ => RenderedLine { at, level, step_id: None, message: rest },
        }
    }
}

/// The lines the store writes itself once a write committed.
pub(crate) mod lifecycle {
    use super::LogLine;
    use crate::store::{ExecutionEnd, NewExecution, Status, StepEnd, StepStart};
    use expr_grammar::Timestamp;

    pub(crate) fn execution_created(execution: &NewExecution) -> LogLine {
        let trigger = execution.trigger.get("type").and_then(|kind| kind.as_str()).unwrap_or("unknown");
        let message = format!(
            "execution created ({}) for workflow {} version {}, trigger {trigger}",
            execution.status, execution.workflow_name, execution.workflow_version
        );
        LogLine::info(execution.started_at, None, message)
    }

    pub(crate) fn execution_running(at: Timestamp) -> LogLine {
        LogLine::info(at, None, "execution running")
    }

    pub(crate) fn execution_resumed(at: Timestamp) -> LogLine {
        LogLine::info(at, None, "execution resumed")
    }

    pub(crate) fn execution_finished(end: &ExecutionEnd) -> LogLine {
        let message = match &end.error {
            Some(error) => format!("execution {}: {error}", end.status),
            None => format!("execution {}", end.status),
        };
        leveled(end.status, end.completed_at, None, message)
    }

    pub(crate) fn step_started(start: &StepStart) -> LogLine {
        LogLine::info(start.started_at, Some(&start.step_id), format!("started (attempt {})", start.attempt))
    }

    pub(crate) fn step_ended(end: &StepEnd) -> LogLine {
        let plural = if end.attempts == 1 { "" } else { "s" };
        let mut message = match end.status {
            Status::Skipped => "skipped".to_owned(),
            status => format!("{status} after {} attempt{plural}", end.attempts),
        };
        if let Some(error) = &end.error {
            message.push_str(": ");
            message.push_str(error);
        }
        leveled(end.status, end.completed_at, Some(&end.step_id), message)
    }

    fn leveled(status: Status, at: Timestamp, step_id: Option<&str>, message: String) -> LogLine {
        match status {
            Status::Failed => LogLine::error(at, step_id, message),
            Status::Cancelled => LogLine::warn(at, step_id, message),
            _ => LogLine::info(at, step_id, message),
        }
    }
}

/// Whether an execution id is safe as a file name and a store key: 1 to 128 of `A-Z a-z 0-9 - _`.
pub fn is_valid_execution_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
}

/// The log files of executions: `<folder>/<execution-id>.log`, opened in append mode for each line so that
/// nothing is ever rewritten.
#[derive(Debug, Clone)]
pub struct ExecutionLogFiles {
    folder: std::path::PathBuf,
}

impl ExecutionLogFiles {
    pub fn new(folder: impl Into<std::path::PathBuf>) -> ExecutionLogFiles {
        ExecutionLogFiles { folder: folder.into() }
    }

    pub fn folder(&self) -> &std::path::Path {
        &self.folder
    }

    pub fn path_of(&self, execution_id: &str) -> std::path::PathBuf {
        self.folder.join(format!("{execution_id}.log"))
    }

    /// Appends already rendered lines (each ending in `\n`) in one write.
    pub fn append(&self, execution_id: &str, text: &str) -> Result<(), crate::store::StoreError> {
        use std::io::Write;
        let path = self.path_of(execution_id);
        if !is_valid_execution_id(execution_id) {
            return Err(crate::store::StoreError::Log { path, reason: "invalid execution id".to_owned() });
        }
        let log_error =
            |err: std::io::Error| crate::store::StoreError::Log { path: path.clone(), reason: err.to_string() };
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(log_error)?;
        file.write_all(text.as_bytes()).map_err(log_error)
    }

    /// The whole log of an execution, `None` when it has none.
    pub fn read(&self, execution_id: &str) -> Result<Option<String>, crate::store::StoreError> {
        if !is_valid_execution_id(execution_id) {
            return Ok(None);
        }
        let path = self.path_of(execution_id);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).into_owned())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(crate::store::StoreError::Log { path, reason: err.to_string() }),
        }
    }
}

/// `\r`, `\n` and NUL as `\\r`, `\\n`, `\\0`; borrowed when there is none (the usual line).
fn escape_line_breaks(message: &str) -> std::borrow::Cow<'_, str> {
    if !message.contains(['\r', '\n', '\0']) {
        return std::borrow::Cow::Borrowed(message);
    }
    let mut escaped = String::with_capacity(message.len() + 8);
    for c in message.chars() {
        match c {
            '\r' => escaped.push_str("\\r"),
            '\n' => escaped.push_str("\\n"),
            '\0' => escaped.push_str("\\0"),
            c => escaped.push(c),
        }
    }
    std::borrow::Cow::Owned(escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_line_is_one_line_without_nul() {
        let line = LogLine::info(Timestamp(0), Some("step"), "a\nb\rc\0d").render();
        assert_eq!(line, "1970-01-01T00:00:00.000000Z INFO  [step] a\\nb\\rc\\0d\n");
    }
}
