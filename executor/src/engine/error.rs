//! Why the engine could not start, resume, retry or cancel an execution. (A step failing is not an error of
//! the engine: it is recorded, and the execution ends `failed`.)

use crate::store::{LookupError, Status, StoreError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Input(#[from] InputError),

    #[error("secret `{name}` is used by the workflow but was not provided")]
    MissingSecret { name: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error(transparent)]
    Lookup(#[from] LookupError),

    #[error("execution {id} is not running in this process")]
    NotRunningHere { id: String },

    #[error("execution {id} already finished ({status})")]
    AlreadyFinished { id: String, status: Status },

    #[error("execution {id} is still {status}: only a finished execution can be retried")]
    NotFinished { id: String, status: Status },

    #[error("execution {id} succeeded: give --from STEP to re-run part of it")]
    NothingToRetry { id: String },

    #[error("workflow {workflow} version {version}: its definition is not in the store")]
    MissingDefinition { workflow: String, version: i64 },

    #[error("workflow {workflow}: the stored definition does not compile any more:\n{diagnostics}")]
    DoesNotCompile { workflow: String, diagnostics: String },

    #[error("step `{step}` is not a step of workflow {workflow}")]
    UnknownStep { workflow: String, step: String },

    #[error("execution {id}: the stored output of step `{step}` does not fit the step's output type: {reason}")]
    StoredOutput { id: String, step: String, reason: String },

    #[error(
        "execution {id} was not resumed and is now recorded failed after {attempts} resume attempts: {reason} \
         (`pilot retry {id}` runs it again as a new execution)"
    )]
    ResumeGivenUp { id: String, attempts: u32, reason: String },
}

/// A problem with the inputs of a run (`--input JSON`, `--var KEY=VALUE`), found before anything runs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    #[error(
        "missing required input `{name}` (type {ty}): pass it with --var {name}=VALUE or --input '{{\"{name}\": ...}}'"
    )]
    Missing { name: String, ty: String },

    #[error("unknown input `{name}`: {}", known_inputs(known))]
    Unknown { name: String, known: Vec<String> },

    #[error("input `{name}`: {reason}")]
    Invalid { name: String, reason: String },

    #[error("--input must be a JSON object of input values, e.g. '{{\"count\": 3}}': {reason}")]
    NotAnObject { reason: String },

    #[error("--var `{text}`: expected KEY=VALUE")]
    BadVar { text: String },
}

fn known_inputs(known: &[String]) -> String {
    if known.is_empty() {
        "the workflow declares no inputs".to_string()
    } else {
        format!("the workflow's inputs are {}", known.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "))
    }
}
