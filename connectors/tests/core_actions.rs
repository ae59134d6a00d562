//! transform, log and sleep through the registry; the registry's alias and missing-action answers.

mod fs_support;

use connectors::registry::ConnectorRegistry;
use connectors::{ActionContext, ActionError, ExecutionLog, LogLevel};
use expr_grammar::{Duration, Value};
use fs_support::{ctx_with, input, message, run, s};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn transform_returns_its_inputs_as_the_output_object() {
    let given = input([("total", Value::Int(3)), ("label", s("x"))]);
    assert_eq!(run("transform", given.clone()).await, Ok(given));
}

#[tokio::test]
async fn log_returns_null_and_checks_its_level() {
    assert_eq!(run("log", input([("message", s("hello"))])).await, Ok(Value::Null));
    let list = Value::List(std::sync::Arc::new(vec![Value::Int(1)]));
    assert_eq!(run("log", input([("message", list), ("level", s("warn"))])).await, Ok(Value::Null));
    let text = message(run("log", input([("message", s("x")), ("level", s("loud"))])).await);
    assert_eq!(text, "input `level`: `loud` is not one of `debug`, `info`, `warn`, `error`");
    let text = message(run("log", input([("level", s("info"))])).await);
    assert_eq!(text, "input `message`: required");
}

#[tokio::test]
async fn log_writes_its_message_to_the_execution_log_at_its_level() {
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = std::sync::Arc::clone(&lines);
    let log = ExecutionLog::new(move |level, text: &str| seen.lock().unwrap().push((level, text.to_owned())));
    let ctx = ActionContext { log, ..ctx_with(CancellationToken::new()) };
    let registry = ConnectorRegistry::builtin();
    let object = Value::from_json(&serde_json::json!({"n": 3}));
    for (message, level) in [(s("hello"), "warn"), (object, "debug")] {
        let result = registry.execute("log", input([("message", message), ("level", s(level))]), &ctx).await;
        assert_eq!(result, Ok(Value::Null));
    }
    let expected = vec![(LogLevel::Warn, "hello".to_owned()), (LogLevel::Debug, r#"{"n":3}"#.to_owned())];
    assert_eq!(*lines.lock().unwrap(), expected);
}

#[tokio::test(start_paused = true)]
async fn sleep_waits_its_duration() {
    let start = Instant::now();
    assert_eq!(run("sleep", input([("duration", Value::Duration(Duration(30_000_000)))])).await, Ok(Value::Null));
    assert_eq!(start.elapsed(), std::time::Duration::from_secs(30));
}

#[tokio::test(start_paused = true)]
async fn sleep_ends_early_when_cancelled() {
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        canceller.cancel();
    });
    let start = Instant::now();
    let ctx = ctx_with(cancel);
    let hour = input([("duration", Value::Duration(Duration(3_600_000_000)))]);
    let result = ConnectorRegistry::builtin().execute("sleep", hour, &ctx).await;
    assert_eq!(result, Err(ActionError::Cancelled));
    assert_eq!(start.elapsed(), std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn sleep_rejects_a_negative_duration() {
    let text = message(run("sleep", input([("duration", Value::Duration(Duration(-1_000_000)))])).await);
    assert_eq!(text, "input `duration`: must not be negative, got -1s");
}

#[tokio::test]
async fn registry_accepts_the_notification_alias_and_explains_missing_actions() {
    let registry = ConnectorRegistry::empty();
    let ctx = ctx_with(CancellationToken::new());
    let result = registry.execute("notification/desktop", Value::Null, &ctx).await;
    assert_eq!(
        result.map_err(|e| e.to_string()),
        Err("not available here: `notify/desktop` is not available in this build: no connector implements it".into())
    );
    let result = registry.execute("filter", Value::Null, &ctx).await;
    assert_eq!(
        result.map_err(|e| e.to_string()),
        Err("not available here: `filter` is run by the executor, not by a connector".into())
    );
}
