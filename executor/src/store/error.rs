//! Store errors. Each names the database file (or log file) and says what to do about it.

use std::path::PathBuf;

/// Why a store operation failed. Cloneable: one failed commit answers every write that shared it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{} is not a Pilot database or is damaged ({detail}); it was left untouched: move it aside (for example \
         to {}.broken) so Pilot starts a new one, or restore it from a backup",
        path.display(),
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "{} is damaged ({detail}); nothing more is written to it. `pilot doctor` checks it, `pilot doctor --repair` \
         rebuilds it from what can still be read (keeping the damaged file beside it), or restore it from a backup",
        path.display()
    )]
    Damaged { path: PathBuf, detail: String },

    #[error(
        "{} is read-only ({doing}): its history can still be read (`pilot executions`, `pilot logs`) but nothing \
         can be recorded; make it writable, or point PILOT_HOME to a writable folder",
        path.display()
    )]
    ReadOnly { path: PathBuf, doing: String },

    #[error(
        "{} is locked by another process (waited {waited_ms} ms while {doing}): close the other Pilot instance \
         or try again",
        path.display()
    )]
    Locked { path: PathBuf, doing: String, waited_ms: u64 },

    #[error(
        "{} is full while {doing}: the disk (or the database size limit) has no room left; free some space and \
         try again",
        path.display()
    )]
    Full { path: PathBuf, doing: String },

    #[error(
        "{} was written by a newer Pilot (schema version {found}, this build knows up to {supported}): \
         upgrade Pilot",
        path.display()
    )]
    NewerSchema { path: PathBuf, found: i64, supported: i64 },

    #[error("cannot create folder {}: {reason}", path.display())]
    CreateFolder { path: PathBuf, reason: String },

    #[error("{}: {doing} failed: {reason}", path.display())]
    Database { path: PathBuf, doing: String, reason: String },

    #[error("{}: stored {what} is not valid JSON: {reason}", path.display())]
    BadJson { path: PathBuf, what: String, reason: String },

    #[error("workflow {id} not found in the store")]
    UnknownWorkflow { id: String },

    #[error("execution {id} not found in the store")]
    UnknownExecution { id: String },

    #[error(
        "execution {id} was taken over by node {owner} (this node's lease ran out): this node stops it and records \
         nothing more of it"
    )]
    TakenOver { id: String, owner: String },

    #[error("instance {id} is not registered (its lease was given up, or it was removed)")]
    UnknownInstance { id: String },

    #[error("execution {id} already exists in the store")]
    DuplicateExecution { id: String },

    #[error("no credential named `{name}` is stored")]
    UnknownCredential { name: String },

    #[error("no custom connector `{id}` is recorded in the store")]
    UnknownConnector { id: String },

    #[error(
        "credential `{name}` changed (or was removed) while the credentials were being re-encrypted; nothing was \
         changed: try again"
    )]
    CredentialChanged { name: String },

    #[error("invalid write: {reason}")]
    Invalid { reason: String },

    #[error("execution log {}: {reason}", path.display())]
    Log { path: PathBuf, reason: String },

    #[error("the store has shut down (its writer thread stopped); the write was not recorded")]
    WriterStopped,
}

/// The answer to looking up an execution by a (possibly partial) id.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookupError {
    #[error("no execution has an id starting or ending with `{prefix}`")]
    NotFound { prefix: String },
    #[error("`{prefix}` matches several executions ({}): give more of the id", candidates.join(", "))]
    Ambiguous { prefix: String, candidates: Vec<String> },
    #[error(transparent)]
    Store(#[from] StoreError),
}
