//! The executor: runs a compiled plan on tokio and records every step in the store. (Being written.)

pub mod store;
