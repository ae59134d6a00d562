//! How the engine reaches action implementations.

use connectors::registry::ConnectorRegistry;
use connectors::{ActionContext, ActionError};
use expr_grammar::Value;

/// Runs an action by its canonical name (`fs/copy`, `transform`). The engine runs `filter` itself (its
/// condition is a compiled program that needs the execution's slots); everything else goes through this.
#[async_trait::async_trait]
pub trait Actions: Send + Sync {
    async fn run(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError>;
}

#[async_trait::async_trait]
impl Actions for ConnectorRegistry {
    async fn run(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        self.execute(action, input, ctx).await
    }
}
