//! One step from start to recorded end: its `if:`, its input (per item for a loop), the action call with
//! retries, and the start and end records.
//!
//! `if:` false skips the step: it is recorded `skipped`, its output is null, and its dependents still run and
//! read that null (a dependent that should not run then says so with its own `if:`). A step whose action
//! failed with `continue_on_error: true` is recorded `failed` with output `{error: "..."}`, and the execution
//! carries on as if it had succeeded.

use super::attempt::{CallFailure, CallResult, call_with_retries};
use super::context::Progress;
use super::evaluate::{evaluate_condition, evaluate_input};
use super::held_ends::StartClaim;
use super::run::{ExecutionRun, StepRef};
use super::slots::{ExecutionScope, ItemBinding, ItemScope};
use crate::store::{Status, StepEnd, StepStart};
use compiler::{PlanStep, ResumePolicy};
use connectors::Effect;
use expr_grammar::{Object, Timestamp, Value};
use futures::StreamExt;
use serde_json::Value as Json;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// How a step ended, as far as scheduling is concerned.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StepOutcome {
    /// Its dependents may start (it succeeded, was skipped, or failed with `continue_on_error`).
    Done,
    Failed(String),
    Cancelled,
}

/// What a step will do once its `if:` and input are evaluated.
enum Work {
    Skip,
    Single(Value),
    Loop(Vec<(ItemBinding, Value)>),
}

/// Runs a step to its held end. `claim`: given by the scheduler to a step that must commit before acting.
pub(crate) async fn run_step(
    run: Arc<ExecutionRun>,
    step_ref: StepRef,
    cancel: CancellationToken,
    claim: Option<StartClaim>,
) -> StepOutcome {
    let step = run.step(step_ref);
    let started_at = run.now();
    let prepared = prepare(step, &run.scope_at(started_at));
    let work = match prepared {
        Ok(Work::Skip) => return record_skipped(&run, step, started_at),
        Ok(work) => work,
        Err(message) => {
            let call = CallResult { result: Err(CallFailure::Failed(message)), attempts: 0 };
            return finish(&run, step, None, call).await;
        }
    };
    let input = run.redactor.json(recorded_input(&work));
    let start = StepStart { execution_id: run.id.clone(), step_id: step.id.clone(), attempt: 1, input, started_at };
    if must_commit_before_acting(step) {
        // The held ends (among them those of the steps it depends on) commit with this start, and everything
        // queued before them commits before or with it.
        if let Err(err) = run.queue_start_after_held_ends(start, claim).await {
            run.note_write_failure(&err);
            let message = format!("could not record the step's start: {err}");
            let call = CallResult { result: Err(CallFailure::Failed(message)), attempts: 0 };
            return finish(&run, step, Some(started_at), call).await;
        }
    } else {
        run.keep_ack(&step.id, run.store.start_step(start));
    }
    run.report(Progress::StepStarted { step_id: step.id.clone(), at: started_at });
    let call = match work {
        Work::Single(input) => call_with_retries(&run, step_ref, input, None, &cancel).await,
        Work::Loop(items) => run_loop(&run, step_ref, items, &cancel).await,
        Work::Skip => unreachable!("handled above"),
    };
    finish(&run, step, Some(started_at), call).await
}

/// Evaluates the step's `if:`, its loop list and its input. Errors name the place.
fn prepare(step: &PlanStep, scope: &ExecutionScope<'_>) -> Result<Work, String> {
    if let Some(condition) = &step.condition
        && !evaluate_condition(condition, scope).map_err(|message| format!("if: {message}"))?
    {
        return Ok(Work::Skip);
    }
    let Some(looping) = &step.looping else {
        return evaluate_input(&step.input, scope).map(Work::Single).map_err(|failure| failure.to_string());
    };
    let items = match looping.items.eval(scope).map_err(|err| format!("loop: {}", err.message))? {
        Value::List(items) => items,
        Value::Null => Arc::new(Vec::new()),
        other => return Err(format!("loop: expected a list, got {}", other.kind_name())),
    };
    let mut work = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let binding = ItemBinding::new(looping.item_slot, looping.index_slot, item.clone(), index);
        let input = evaluate_input(&step.input, &ItemScope { parent: scope, binding: &binding })
            .map_err(|failure| format!("item {index}: {failure}"))?;
        work.push((binding, input));
    }
    Ok(Work::Loop(work))
}

/// The input as recorded: the evaluated object, or for a loop the list of per-item inputs.
fn recorded_input(work: &Work) -> Json {
    match work {
        Work::Skip => Json::Null,
        Work::Single(input) => input.to_json(),
        Work::Loop(items) => Json::Array(items.iter().map(|(_, input)| input.to_json()).collect()),
    }
}

/// Runs the items at most `concurrency` at a time; outputs in item order. The first failure ends the step
/// (items still in flight are dropped, which cancels them).
async fn run_loop(
    run: &Arc<ExecutionRun>,
    step_ref: StepRef,
    items: Vec<(ItemBinding, Value)>,
    cancel: &CancellationToken,
) -> CallResult {
    let concurrency = run.step(step_ref).looping.as_ref().map_or(1, |looping| looping.concurrency.max(1));
    let mut outputs = Vec::with_capacity(items.len());
    let mut attempts = 1;
    let (step_id, total) = (run.step(step_ref).id.clone(), items.len());
    let report_items = |done| run.report(Progress::LoopItems { step_id: step_id.clone(), done, total });
    report_items(0);
    let calls = futures::stream::iter(items)
        .map(|(binding, input)| async move { call_with_retries(run, step_ref, input, Some(&binding), cancel).await });
    let mut results = calls.buffered(concurrency);
    while let Some(call) = results.next().await {
        attempts = attempts.max(call.attempts);
        match call.result {
            Ok(output) => {
                outputs.push(output);
                report_items(outputs.len());
            }
            Err(CallFailure::Cancelled) => return CallResult { result: Err(CallFailure::Cancelled), attempts },
            Err(CallFailure::Failed(message)) => {
                let message = format!("item {}: {message}", outputs.len());
                return CallResult { result: Err(CallFailure::Failed(message)), attempts };
            }
        }
    }
    CallResult { result: Ok(Value::List(Arc::new(outputs))), attempts }
}

fn record_skipped(run: &ExecutionRun, step: &PlanStep, at: Timestamp) -> StepOutcome {
    run.slots.fill(step.output_slot, Value::Null);
    let end = StepEnd {
        execution_id: run.id.clone(),
        step_id: step.id.clone(),
        status: Status::Skipped,
        attempts: 0,
        output: None,
        error: None,
        completed_at: at,
    };
    run.hold_end(end);
    run.report(Progress::StepFinished {
        step_id: step.id.clone(),
        status: Status::Skipped,
        attempts: 0,
        started_at: at,
        completed_at: at,
        error: None,
    });
    StepOutcome::Done
}

/// Whether the step's start (and so everything queued before it) must be committed before its action runs:
/// steps that change the world, and steps that must not be re-run by a resume.
pub(crate) fn must_commit_before_acting(step: &PlanStep) -> bool {
    step.effect == Effect::Write || step.on_resume == ResumePolicy::Fail
}

/// Fills the output slot and holds the end record: the next step with an effect queues it with its own start,
/// so both share a commit (see `held_ends` and the engine's durability rule).
async fn finish(
    run: &ExecutionRun,
    step: &PlanStep,
    started_at: Option<Timestamp>,
    mut call: CallResult,
) -> StepOutcome {
    if let Err(CallFailure::Failed(message)) = &mut call.result {
        *message = run.redactor.text(message).into_owned();
    }
    let (status, output, error, outcome) = match call.result {
        Ok(value) => {
            let json = run.redactor.json(value.to_json());
            run.slots.fill(step.output_slot, value);
            (Status::Success, Some(json), None, StepOutcome::Done)
        }
        Err(CallFailure::Cancelled) => (Status::Cancelled, None, Some("cancelled".to_string()), StepOutcome::Cancelled),
        Err(CallFailure::Failed(message)) if step.continue_on_error => {
            let value = error_output(&message);
            let json = value.to_json();
            run.slots.fill(step.output_slot, value);
            (Status::Failed, Some(json), Some(message), StepOutcome::Done)
        }
        Err(CallFailure::Failed(message)) => {
            (Status::Failed, None, Some(message.clone()), StepOutcome::Failed(message))
        }
    };
    let completed_at = run.now();
    let end = StepEnd {
        execution_id: run.id.clone(),
        step_id: step.id.clone(),
        status,
        attempts: call.attempts,
        output,
        error: error.clone(),
        completed_at,
    };
    run.hold_end(end);
    run.report(Progress::StepFinished {
        step_id: step.id.clone(),
        status,
        attempts: call.attempts,
        started_at: started_at.unwrap_or(completed_at),
        completed_at,
        error,
    });
    outcome
}

/// The output of a step that failed with `continue_on_error`: `{error: "..."}`.
fn error_output(message: &str) -> Value {
    let mut object = Object::with_capacity(1);
    object.insert("error".to_string(), Value::String(Arc::from(message)));
    Value::Object(Arc::new(object))
}
