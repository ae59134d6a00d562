//! One module per subcommand.

pub mod connectors;
pub mod executions;
pub mod logs;
