//! One module per subcommand.

pub mod executions;
pub mod logs;
