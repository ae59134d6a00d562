//! One call of a step's action (or of one loop item): attempts, retries with backoff, the step timeout, and
//! cancellation.
//!
//! Rules: a step's `timeout` bounds each attempt; a timed-out attempt counts as failed and is retried while
//! attempts remain. Invalid input, an action unavailable on this machine and cancellation are not retried: a
//! second try cannot change them. Cancelling the execution (or the timeout passing) fires the attempt's
//! `ActionContext.cancel` token at once; the action then has [`CANCEL_GRACE`] to return before it is dropped.

use super::backoff::retry_delay;
use super::context::Progress;
use super::filter;
use super::run::{ExecutionRun, StepRef};
use super::slots::ItemBinding;
use crate::store::LogLine;
use connectors::{ActionContext, ActionError, ExecutionLog};
use expr_grammar::Value;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Why a call failed after its last attempt.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CallFailure {
    Cancelled,
    Failed(String),
}

/// The result of a call and the number of attempts it took.
pub(crate) struct CallResult {
    pub result: Result<Value, CallFailure>,
    pub attempts: u32,
}

/// Runs the action with the step's retry policy. `item` is the loop element this call is for, if any.
pub(crate) async fn call_with_retries(
    run: &Arc<ExecutionRun>,
    step_ref: StepRef,
    input: Value,
    item: Option<&ItemBinding>,
    cancel: &CancellationToken,
) -> CallResult {
    let step = run.step(step_ref);
    let max_attempts = step.retry.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let error = match call_once(run, step_ref, input.clone(), item, cancel).await {
            Ok(value) => return CallResult { result: Ok(value), attempts: attempt },
            Err(ActionError::Cancelled) => {
                return CallResult { result: Err(CallFailure::Cancelled), attempts: attempt };
            }
            Err(error) => error,
        };
        let message = run.redactor.text(&error.to_string()).into_owned();
        if attempt >= max_attempts || !is_retryable(&error) {
            return CallResult { result: Err(CallFailure::Failed(message)), attempts: attempt };
        }
        let delay = retry_delay(&step.retry, attempt);
        let item_note = item.map(|item| format!(" (item {})", display_index(item))).unwrap_or_default();
        run.log(LogLine::warn(
            run.now(),
            Some(&step.id),
            format!("attempt {attempt}{item_note} failed: {message}; retrying in {delay:?}"),
        ));
        run.report(Progress::StepRetrying { step_id: step.id.clone(), failed_attempt: attempt, delay, error: message });
        tokio::select! {
            biased;
            _ = cancel.cancelled() => return CallResult { result: Err(CallFailure::Cancelled), attempts: attempt },
            _ = tokio::time::sleep(delay) => {}
        }
        attempt += 1;
    }
}

fn is_retryable(error: &ActionError) -> bool {
    matches!(error, ActionError::Failed { .. })
}

fn display_index(item: &ItemBinding) -> String {
    match &item.index {
        Value::Int(i) => i.to_string(),
        _ => "?".to_string(),
    }
}

/// How long a cancelled or timed-out action may take to wind down after its token fired, before it is dropped.
pub const CANCEL_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

enum Stop {
    Cancelled,
    TimedOut,
}

/// One attempt, bounded by the step's timeout and by cancellation. On either, the action's token fires and
/// the action gets [`CANCEL_GRACE`] to stop cleanly (kill a child process, remove a partial file) before its
/// future is dropped. A panicking action fails its attempt.
async fn call_once(
    run: &Arc<ExecutionRun>,
    step_ref: StepRef,
    input: Value,
    item: Option<&ItemBinding>,
    cancel: &CancellationToken,
) -> Result<Value, ActionError> {
    let step = run.step(step_ref);
    let attempt_cancel = cancel.child_token();
    let action = dispatch(run, step_ref, input, item, attempt_cancel.clone());
    tokio::pin!(action);
    let limit = step.timeout.and_then(|t| t.to_std());
    let deadline = async {
        match limit {
            Some(limit) => tokio::time::sleep(limit).await,
            None => std::future::pending().await,
        }
    };
    let stop = tokio::select! {
        biased;
        result = &mut action => return result,
        _ = cancel.cancelled() => Stop::Cancelled,
        _ = deadline => Stop::TimedOut,
    };
    attempt_cancel.cancel();
    let _ = tokio::time::timeout(CANCEL_GRACE, &mut action).await;
    match stop {
        Stop::Cancelled => Err(ActionError::Cancelled),
        Stop::TimedOut => {
            Err(ActionError::Failed { message: format!("timed out after {}", step.timeout.unwrap_or_default()) })
        }
    }
}

async fn dispatch(
    run: &Arc<ExecutionRun>,
    step_ref: StepRef,
    input: Value,
    item: Option<&ItemBinding>,
    cancel: CancellationToken,
) -> Result<Value, ActionError> {
    let step = run.step(step_ref);
    if step.action == filter::ACTION {
        return filter::run(run, step_ref, input, item.cloned(), cancel).await;
    }
    let credential = match &step.credential {
        Some(name) => match run.credentials.get(name) {
            Some(credential) => Some(credential.clone()),
            None => {
                return Err(ActionError::Unavailable { reason: format!("credential `{name}` was not provided") });
            }
        },
        None => None,
    };
    let log = execution_log(run, &step.id);
    let ctx = ActionContext {
        execution_id: run.id.clone(),
        step_id: step.id.clone(),
        cancel,
        credential,
        log,
        retried_by_step: step.retry.max_attempts > 1,
        children: run.children.clone(),
    };
    match AssertUnwindSafe(run.actions.run(&step.action, input, &ctx)).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(ActionError::Failed { message: format!("the action panicked: {}", panic_message(&*panic)) }),
    }
}

/// The action's lines go to the execution's log (redacted by `ExecutionRun::log`), tagged with the step.
fn execution_log(run: &Arc<ExecutionRun>, step_id: &str) -> ExecutionLog {
    let (run, step_id) = (Arc::clone(run), step_id.to_owned());
    ExecutionLog::new(move |level, message| {
        run.log(LogLine { at: run.now(), level, step_id: Some(step_id.clone()), message: message.to_owned() });
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(no message)".to_string()
    }
}
