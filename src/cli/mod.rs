//! One module per subcommand.

pub mod check;
pub mod compile;
pub mod connectors;
pub mod executions;
pub mod explain;
pub mod logs;
pub mod schema;
