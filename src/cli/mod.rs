//! One module per subcommand.

pub mod check;
pub mod compile;
pub mod connectors;
pub mod credentials;
pub mod executions;
pub mod explain;
pub mod logs;
pub mod output;
pub mod schema;

// Running workflows: `pilot run`, `resume`, `retry`, `cancel` and what they share.
mod active;
pub mod cancel;
mod progress;
pub mod resume;
pub mod retry;
pub mod run;
mod runner;
