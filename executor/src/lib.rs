//! The executor: runs a compiled plan on tokio and records every step in the store. (Being written.)

pub mod credentials;
pub mod engine;
pub mod store;

pub use engine::{Context, EngineError, ExecutionHandle, ExecutionOutcome, Workflow, WorkflowEngine};
