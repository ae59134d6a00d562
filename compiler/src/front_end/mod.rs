//! The front end: workflow text (YAML or JSON) to [`crate::model::Workflow`], with every structural error.
//!
//! Stages: [`decode`] (bytes to text: size, UTF-8, NUL checks) -> `tree` (saphyr events to a node tree with byte
//! spans; depth, alias and document guards) -> `convert` (the tree to the model; unknown, missing, duplicate
//! keys and wrong types, all collected in one pass).
//!
//! Architecture invariant: nothing here panics or recurses without bound on any input; every problem is a
//! [`Diagnostic`] with a byte span into the text.

mod convert;
mod fields;
mod scalars;
mod tree;
mod values;

use expr_grammar::Span;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::Workflow;

pub use tree::{MAX_ALIAS_NODES, MAX_DEPTH};
pub(crate) use values::duration_problem;
pub use values_api::parse_duration;

/// HTTP methods a webhook trigger accepts.
pub const HTTP_METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// File-watch event names.
pub const FILE_EVENTS: [&str; 4] = ["create", "modify", "delete", "rename"];

/// Files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: usize = 8 * 1024 * 1024;

/// Reads a workflow file. Returns the model whenever the document is a mapping (even with errors, so later
/// passes can add theirs) and every structural diagnostic of the file, in file order.
pub fn parse_workflow(source: &str) -> (Option<Workflow>, Vec<Diagnostic>) {
    if let Some(problem) = check_text(source) {
        return (None, vec![problem]);
    }
    let document = tree::read_document(source);
    let mut cx = fields::Cx { source, diagnostics: document.diagnostics };
    let workflow = document.root.as_ref().and_then(|root| convert::workflow(&mut cx, root));
    let mut diagnostics = cx.diagnostics;
    crate::diagnostic::sort_by_position(&mut diagnostics);
    (workflow, diagnostics)
}

/// Bytes of a file to text: refuses files over [`MAX_FILE_BYTES`], invalid UTF-8 and NUL bytes (binary files).
/// The diagnostic's span points at the first offending byte.
// Called once per file: the size of the error does not matter, and callers render it directly.
#[allow(clippy::result_large_err)]
pub fn decode(bytes: &[u8]) -> Result<&str, Diagnostic> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large(bytes.len()));
    }
    let valid_up_to = std::str::from_utf8(bytes).map_or_else(|e| e.valid_up_to(), |_| bytes.len());
    if let Some(nul) = bytes[..valid_up_to].iter().position(|&b| b == 0) {
        return Err(nul_byte(nul));
    }
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let at = error.valid_up_to();
        let message = format!("the file is not UTF-8 text: byte 0x{:02X} is not valid UTF-8", bytes[at]);
        Diagnostic::error(codes::NOT_TEXT, message, Span::new(at, at + 1))
            .with_label("not UTF-8")
            .with_hint("save the file as UTF-8; if it is a binary file, it is not a workflow")
    })?;
    match check_text(text) {
        Some(problem) => Err(problem),
        None => Ok(text),
    }
}

fn check_text(text: &str) -> Option<Diagnostic> {
    if text.len() > MAX_FILE_BYTES {
        return Some(too_large(text.len()));
    }
    text.find('\0').map(nul_byte)
}

fn nul_byte(at: usize) -> Diagnostic {
    let message = "the file holds a NUL byte: it looks like a binary file";
    Diagnostic::error(codes::NOT_TEXT, message, Span::new(at, at + 1))
        .with_label("NUL byte")
        .with_hint("workflow files are UTF-8 text (YAML or JSON)")
}

fn too_large(len: usize) -> Diagnostic {
    let mib = len as f64 / (1024.0 * 1024.0);
    Diagnostic::error(
        codes::FILE_TOO_LARGE,
        format!("the file is too large ({mib:.1} MiB; the limit is 8 MiB)"),
        Span::new(0, 0),
    )
    .with_hint("a workflow is a few kilobytes; keep data in separate files and read it with `fs/read`")
}

mod values_api {
    use expr_grammar::Duration;

    /// Parses a duration such as `30s`, `1h30m`, `500ms` (units `ms`, `s`, `m`, `h`, `d`), as workflows write
    /// them. `None` when it is not one.
    pub fn parse_duration(text: &str) -> Option<Duration> {
        super::values::parse_duration(text).ok()
    }
}

/// The keys the front end reads for each object of the format, for tests that compare them with the schema.
#[doc(hidden)]
pub fn known_keys() -> Vec<(&'static str, &'static [&'static str])> {
    vec![
        ("Workflow", convert::WORKFLOW_KEYS),
        ("Step", convert::STEP_KEYS),
        ("Retry", convert::RETRY_KEYS),
        ("InputParam", convert::INPUT_PARAM_KEYS),
        ("ScheduleTrigger", convert::SCHEDULE_KEYS),
        ("WebhookTrigger", convert::WEBHOOK_KEYS),
        ("FileWatchTrigger", convert::FILE_WATCH_KEYS),
        ("ManualTrigger", convert::MANUAL_KEYS),
        ("RateLimit", convert::RATE_LIMIT_KEYS),
        ("Concurrency", convert::CONCURRENCY_KEYS),
    ]
}
