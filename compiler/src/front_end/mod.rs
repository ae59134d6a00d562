//! The front end: workflow text (YAML or JSON) to [`crate::model::Workflow`], with every structural error.

use crate::diagnostic::Diagnostic;
use crate::model::Workflow;

/// HTTP methods a webhook trigger accepts.
pub const HTTP_METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// File-watch event names.
pub const FILE_EVENTS: [&str; 3] = ["create", "modify", "delete"];

/// Reads a workflow file. Returns the model whenever the document is a mapping (even with errors, so later
/// passes can add theirs) and every structural diagnostic of the file.
pub fn parse_workflow(source: &str) -> (Option<Workflow>, Vec<Diagnostic>) {
    // Being written: the saphyr conversion lands in the next commit.
    let _ = source;
    (None, Vec::new())
}
