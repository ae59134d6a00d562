//! The core `filter` action: keeps the elements of `items` for which the compiled `condition` holds.
//!
//! The condition is evaluated once per element with the element bound to its item slot (bare names are the
//! element's fields: `modified_at > now() - 1d`) and its position to its index slot; `now()` is the same for
//! every element. Null counts as false; any other non-bool answer is an error naming the element. Lists of at
//! least [`PARALLEL_THRESHOLD`] elements are checked on the rayon pool, bridged by a oneshot channel so that no
//! tokio worker ever blocks on CPU-bound work.

use super::evaluate::evaluate_condition;
use super::run::{ExecutionRun, StepRef};
use super::slots::{ItemBinding, ItemScope};
use compiler::CompiledValue;
use connectors::ActionError;
use expr_grammar::{EvalContext, Program, SlotRef, Timestamp, Value};
use rayon::prelude::*;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

pub(crate) const ACTION: &str = "filter";
/// The input holding the list (the catalogue's `ItemCondition { items_field }` of `filter`).
pub(crate) const ITEMS_FIELD: &str = "items";
pub const PARALLEL_THRESHOLD: usize = 4096;

pub(crate) async fn run(
    run: &Arc<ExecutionRun>,
    step_ref: StepRef,
    input: Value,
    outer: Option<ItemBinding>,
    cancel: CancellationToken,
) -> Result<Value, ActionError> {
    let items = items_of(&input)?;
    condition_of(run, step_ref)?;
    let now = run.now();
    let verdicts = if items.len() < PARALLEL_THRESHOLD {
        check_all(run, step_ref, &items, outer.as_ref(), now, &cancel, false)?
    } else {
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let job_run = Arc::clone(run);
        let job_items = Arc::clone(&items);
        rayon::spawn(move || {
            let verdicts = check_all(&job_run, step_ref, &job_items, outer.as_ref(), now, &cancel, true);
            let _ = sender.send(verdicts);
        });
        receiver.await.map_err(|_| ActionError::Failed { message: "the filter worker stopped".to_string() })??
    };
    let kept = items.iter().zip(verdicts).filter(|(_, keep)| *keep).map(|(item, _)| item.clone()).collect();
    Ok(Value::List(Arc::new(kept)))
}

fn items_of(input: &Value) -> Result<Arc<Vec<Value>>, ActionError> {
    let field = match input {
        Value::Object(fields) => fields.get(ITEMS_FIELD).cloned().unwrap_or(Value::Null),
        _ => Value::Null,
    };
    match field {
        Value::List(items) => Ok(items),
        Value::Null => Ok(Arc::new(Vec::new())),
        other => Err(ActionError::InvalidInput {
            field: ITEMS_FIELD.to_string(),
            message: format!("expected a list, got {}", other.kind_name()),
        }),
    }
}

fn condition_of(run: &ExecutionRun, step_ref: StepRef) -> Result<(&Program, SlotRef, SlotRef), ActionError> {
    run.step(step_ref)
        .input
        .iter()
        .find_map(|(_, value)| match value {
            CompiledValue::Condition { program, item_slot, index_slot } => Some((program, *item_slot, *index_slot)),
            _ => None,
        })
        .ok_or_else(|| ActionError::InvalidInput {
            field: "condition".to_string(),
            message: "the step has no condition".to_string(),
        })
}

fn check_all(
    run: &ExecutionRun,
    step_ref: StepRef,
    items: &[Value],
    outer: Option<&ItemBinding>,
    now: Timestamp,
    cancel: &CancellationToken,
    parallel: bool,
) -> Result<Vec<bool>, ActionError> {
    let (program, item_slot, index_slot) = condition_of(run, step_ref)?;
    let check = |(index, item): (usize, &Value)| -> Result<bool, ActionError> {
        if cancel.is_cancelled() {
            return Err(ActionError::Cancelled);
        }
        let binding = ItemBinding::new(item_slot, index_slot, item.clone(), index);
        let base = run.scope_at(now);
        let answer = match outer {
            Some(outer) => evaluate_condition(
                program,
                &ItemScope { parent: &ItemScope { parent: &base, binding: outer }, binding: &binding },
            ),
            None => evaluate_condition(program, &ItemScope { parent: &base as &dyn EvalContext, binding: &binding }),
        };
        answer.map_err(|message| ActionError::InvalidInput {
            field: "condition".to_string(),
            message: format!("item {index}: {message}"),
        })
    };
    if parallel {
        items.par_iter().enumerate().map(check).collect()
    } else {
        items.iter().enumerate().map(check).collect()
    }
}
