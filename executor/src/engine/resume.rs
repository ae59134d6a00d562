//! Continuing an interrupted execution (`pilot resume`) and re-running part of a finished one (`pilot retry`).
//! The rules are in the engine's module documentation.

use super::context::{Context, Progress, TriggerInfo};
use super::error::EngineError;
use super::inputs::type_inputs;
use super::json::from_json_typed;
use super::run::ExecutionRun;
use super::schedule::{Finished, successors_of};
use super::{ExecutionHandle, Launch, Workflow, WorkflowEngine, fill_start_slots};
use crate::store::new_execution_id;
use crate::store::{
    ExecutionEnd, ExecutionRecord, ExecutionSummary, LogLine, LookupError, NewExecution, RetryOf, Status, StepEnd,
    StepRecord, StepStart,
};
use compiler::{PlanStep, ResumePolicy};
use expr_grammar::Value;
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};

/// Which steps a retry runs again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rerun {
    /// The steps that did not succeed, and everything depending on them.
    Failed,
    /// This step and everything depending on it.
    From(String),
    /// Every step.
    All,
}

/// After this many resumes that did not finish (the process stopped again, or the resume failed before the
/// execution could run), an interrupted execution is recorded failed instead of resumed once more.
pub const MAX_RESUME_ATTEMPTS: u32 = 3;

/// The order in which to resume interrupted executions so that one that stops the process every time cannot
/// keep the others from being resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeOrder {
    /// Never resumed before: these may run side by side.
    pub together: Vec<String>,
    /// Resumed before without finishing, so any of them may be what stopped the process: each alone, after the
    /// others, fewest attempts first (then oldest first).
    pub one_at_a_time: Vec<String>,
}

impl ResumeOrder {
    /// Orders `interrupted` (as [`crate::store::Store::interrupted_executions`] lists them, oldest first).
    pub fn of(interrupted: &[ExecutionSummary]) -> ResumeOrder {
        let (fresh, tried): (Vec<&ExecutionSummary>, Vec<&ExecutionSummary>) =
            interrupted.iter().partition(|summary| summary.resume_attempts == 0);
        let mut tried = tried;
        tried.sort_by_key(|summary| summary.resume_attempts);
        let ids = |list: Vec<&ExecutionSummary>| list.into_iter().map(|summary| summary.id.clone()).collect();
        ResumeOrder { together: ids(fresh), one_at_a_time: ids(tried) }
    }
}

impl WorkflowEngine {
    /// Continues an interrupted execution (one still recorded `running` or `pending` whose process is gone).
    /// `context` gives the credentials, secrets, progress channel and timeout; inputs and trigger are the
    /// stored ones. Each call counts a resume attempt in the store (in the commit that marks the execution
    /// running); one that already had [`MAX_RESUME_ATTEMPTS`], or whose last allowed attempt fails here, is
    /// recorded failed with the reason ([`EngineError::ResumeGivenUp`]).
    pub async fn resume(&self, execution_id: &str, context: Context) -> Result<ExecutionHandle, EngineError> {
        let record = self.load_record(execution_id).await?;
        if record.status.is_finished() {
            return Err(EngineError::AlreadyFinished { id: record.id, status: record.status });
        }
        let id = record.id.clone();
        if record.resume_attempts >= MAX_RESUME_ATTEMPTS {
            let reason =
                format!("its last {} resumes did not finish (the process stopped each time)", record.resume_attempts);
            return Err(self.give_up_resuming(&id, record.resume_attempts, reason).await);
        }
        let attempt = self.store.start_resume(&id, self.clock.now()).await?;
        // A queued (pending) execution starts here for the first time: it is not "resumed".
        let resumed = record.status == Status::Running;
        match self.continue_resume(record, context, resumed).await {
            Err(error) if attempt >= MAX_RESUME_ATTEMPTS => {
                Err(self.give_up_resuming(&id, attempt, format!("resume attempt {attempt} failed: {error}")).await)
            }
            resumed => resumed,
        }
    }

    /// Starts an execution a daemon accepted (queued, `pending`), or continues it as [`WorkflowEngine::resume`]
    /// does when it ran before. `claimed`: the caller has just turned it from pending to running itself (a node
    /// of a shared store claiming it). A first start is not a resume: it counts no resume attempt, so that
    /// restarts and take-overs before it ran do not use up the attempts of [`MAX_RESUME_ATTEMPTS`].
    pub async fn start_accepted(
        &self,
        execution_id: &str,
        context: Context,
        claimed: bool,
    ) -> Result<ExecutionHandle, EngineError> {
        let record = self.load_record(execution_id).await?;
        if record.status.is_finished() {
            return Err(EngineError::AlreadyFinished { id: record.id, status: record.status });
        }
        if record.status == Status::Pending {
            self.store.mark_execution_running(&record.id, self.clock.now()).await?;
        } else if claimed {
            // The claim marked it running; its log says so as a start here would.
            self.store.append_log(&record.id, crate::store::log::lifecycle::execution_running(self.clock.now()));
        } else {
            return self.resume(execution_id, context).await;
        }
        self.continue_resume(record, context, false).await
    }

    /// Records the execution failed because it cannot be resumed; the error to return.
    async fn give_up_resuming(&self, id: &str, attempts: u32, reason: String) -> EngineError {
        let end = ExecutionEnd {
            execution_id: id.to_string(),
            status: Status::Failed,
            error: Some(format!("not resumed again: {reason}")),
            context: None,
            completed_at: self.clock.now(),
        };
        match self.store.finish_execution(end).await {
            Ok(()) => EngineError::ResumeGivenUp { id: id.to_string(), attempts, reason },
            Err(err) => err.into(),
        }
    }

    async fn continue_resume(
        &self,
        record: ExecutionRecord,
        context: Context,
        resumed: bool,
    ) -> Result<ExecutionHandle, EngineError> {
        let workflow = self.stored_workflow(&record).await?;
        let inputs = type_inputs(&workflow.plan, &as_object(&record.input))?;
        let run = self.new_run(record.id.clone(), &workflow, &context)?;
        fill_start_slots(&run, &inputs.slots, &record.trigger, record.started_at.unwrap_or_else(|| run.now()));
        let stored: HashMap<&str, &StepRecord> = record.steps.iter().map(|s| (s.step_id.as_str(), s)).collect();
        let mut finished = HashMap::new();
        for (index, step) in workflow.plan.steps.iter().enumerate() {
            let Some(previous) = stored.get(step.id.as_str()) else { continue };
            if let Some(state) = reuse_output(&run, step, previous)? {
                run.report(Progress::Reused { step_id: step.id.clone(), status: previous.status });
                finished.insert(index, state);
            } else if previous.status == Status::Running && step.on_resume == ResumePolicy::Fail {
                finished.insert(index, Finished::Failed(refuse_rerun(&run, step).await?));
            }
        }
        let on_failure_done = workflow
            .plan
            .on_failure
            .iter()
            .enumerate()
            .filter(|(_, step)| stored.get(step.id.as_str()).is_some_and(|s| s.status.is_finished()))
            .map(|(index, _)| index)
            .collect();
        let launch = Launch { finished, on_failure_done, timeout: context.timeout, resumed };
        Ok(self.launch(run, launch))
    }

    /// Starts a new execution of the same workflow version and inputs that re-runs `from` (or, without it,
    /// every step that did not succeed) and everything depending on it, reusing the other steps' outputs.
    pub async fn retry(
        &self,
        execution_id: &str,
        from: Option<&str>,
        context: Context,
    ) -> Result<ExecutionHandle, EngineError> {
        let rerun = match from {
            Some(step) => Rerun::From(step.to_owned()),
            None => Rerun::Failed,
        };
        self.retry_with(execution_id, rerun, None, context).await
    }

    /// [`WorkflowEngine::retry`] with every choice: which steps run again, and `workflow` to run the current
    /// version of the workflow instead of the one that ran (`None`). Steps that do not run again keep their
    /// records (by step id) from the old execution.
    pub async fn retry_with(
        &self,
        execution_id: &str,
        rerun: Rerun,
        current: Option<&Workflow>,
        context: Context,
    ) -> Result<ExecutionHandle, EngineError> {
        let old = self.load_record(execution_id).await?;
        if !old.status.is_finished() {
            return Err(EngineError::NotFinished { id: old.id, status: old.status });
        }
        let (workflow, version) = match current {
            Some(workflow) => (workflow.clone(), self.register(workflow).await?),
            None => (self.stored_workflow(&old).await?, old.workflow_version),
        };
        let from = match &rerun {
            Rerun::From(step) => Some(step.as_str()),
            _ => None,
        };
        let rerun = match &rerun {
            Rerun::All => (0..workflow.plan.steps.len()).collect(),
            _ => steps_to_rerun(&workflow, &old, from)?,
        };
        let inputs = type_inputs(&workflow.plan, &as_object(&old.input))?;
        // The original trigger data (a webhook's body, a schedule's slot) stays; the lineage has its own field.
        let trigger = TriggerInfo { trigger_id: old.trigger_id.clone(), data: old.trigger.clone() };
        let id = context.execution_id.clone().unwrap_or_else(new_execution_id);
        let run = self.new_run(id, &workflow, &context)?;
        let new = NewExecution {
            id: run.id.clone(),
            workflow_id: old.workflow_id.clone(),
            workflow_name: old.workflow_name.clone(),
            workflow_version: version,
            trigger_id: trigger.trigger_id.clone(),
            trigger: trigger.data.clone(),
            input: old.input.clone(),
            status: Status::Running,
            started_at: run.now(),
            retry_of: Some(RetryOf { execution_id: old.id.clone(), from_step: from.map(str::to_owned) }),
        };
        let started_at = new.started_at;
        self.store.create_execution(new).await?;
        fill_start_slots(&run, &inputs.slots, &trigger.data, started_at);
        let stored: HashMap<&str, &StepRecord> = old.steps.iter().map(|s| (s.step_id.as_str(), s)).collect();
        let mut finished = HashMap::new();
        for (index, step) in workflow.plan.steps.iter().enumerate() {
            let Some(previous) = stored.get(step.id.as_str()).filter(|_| !rerun.contains(&index)) else { continue };
            if let Some(Finished::Done) = reuse_output(&run, step, previous)? {
                copy_step_record(&run, previous, &old.id);
                run.report(Progress::Reused { step_id: step.id.clone(), status: previous.status });
                finished.insert(index, Finished::Done);
            }
        }
        let launch = Launch { finished, on_failure_done: HashSet::new(), timeout: context.timeout, resumed: false };
        Ok(self.launch(run, launch))
    }

    async fn load_record(&self, execution_id: &str) -> Result<ExecutionRecord, EngineError> {
        let id = self.store.resolve_execution_id(execution_id).await?;
        self.store.load_execution(&id).await?.ok_or_else(|| LookupError::NotFound { prefix: id }.into())
    }

    async fn stored_workflow(&self, record: &ExecutionRecord) -> Result<Workflow, EngineError> {
        let text =
            self.store.workflow_definition(&record.workflow_id, record.workflow_version).await?.ok_or_else(|| {
                EngineError::MissingDefinition {
                    workflow: record.workflow_id.clone(),
                    version: record.workflow_version,
                }
            })?;
        self.recompile(&record.workflow_id, record.workflow_version, &text)
    }
}

fn as_object(json: &Json) -> Map<String, Json> {
    match json {
        Json::Object(map) => map.clone(),
        _ => Map::new(),
    }
}

/// Puts a finished step's stored output back in its slot. `None` when the step must run (again).
fn reuse_output(run: &ExecutionRun, step: &PlanStep, stored: &StepRecord) -> Result<Option<Finished>, EngineError> {
    let value = match stored.status {
        Status::Success => {
            let output = stored.output.clone().unwrap_or(Json::Null);
            from_json_typed(&output, &step.output_type).map_err(|reason| EngineError::StoredOutput {
                id: run.id.clone(),
                step: step.id.clone(),
                reason,
            })?
        }
        Status::Skipped => Value::Null,
        // Failed with `continue_on_error`: its `{error}` output is what dependents saw.
        Status::Failed if stored.output.is_some() => Value::from_json(stored.output.as_ref().unwrap_or(&Json::Null)),
        Status::Failed => {
            let error = stored.error.clone().unwrap_or_else(|| "failed".to_string());
            return Ok(Some(Finished::Failed(format!("step `{}` (line {}) failed: {error}", step.id, step.line))));
        }
        Status::Pending | Status::Running | Status::Cancelled | Status::Unknown => return Ok(None),
    };
    run.slots.fill(step.output_slot, value);
    Ok(Some(Finished::Done))
}

/// Records that a `resume: fail` step was cut off mid-run and is not run again.
async fn refuse_rerun(run: &ExecutionRun, step: &PlanStep) -> Result<String, EngineError> {
    let error = "interrupted while running; not re-run (resume: fail): check whether its effect happened".to_string();
    let end = StepEnd {
        execution_id: run.id.clone(),
        step_id: step.id.clone(),
        status: Status::Failed,
        attempts: 1,
        output: None,
        error: Some(error.clone()),
        completed_at: run.now(),
    };
    run.store.end_step(end).await?;
    Ok(format!("step `{}` (line {}) failed: {error}", step.id, step.line))
}

/// Copies a reused step's record into the new execution, so that it is complete on its own.
fn copy_step_record(run: &ExecutionRun, previous: &StepRecord, old_id: &str) {
    let started_at = previous.started_at.or(previous.completed_at).unwrap_or_else(|| run.now());
    if previous.status != Status::Skipped {
        let start = StepStart {
            execution_id: run.id.clone(),
            step_id: previous.step_id.clone(),
            attempt: previous.attempts.max(1),
            input: previous.input.clone().unwrap_or(Json::Null),
            started_at,
        };
        drop(run.store.start_step(start));
    }
    let end = StepEnd {
        execution_id: run.id.clone(),
        step_id: previous.step_id.clone(),
        status: previous.status,
        attempts: previous.attempts,
        output: previous.output.clone(),
        error: previous.error.clone(),
        completed_at: previous.completed_at.unwrap_or(started_at),
    };
    drop(run.store.end_step(end));
    run.log(LogLine::info(run.now(), Some(&previous.step_id), format!("reused from execution {old_id}")));
}

/// The steps a retry runs: `from` and every step without a usable result, plus all their dependents.
fn steps_to_rerun(
    workflow: &Workflow,
    old: &ExecutionRecord,
    from: Option<&str>,
) -> Result<HashSet<usize>, EngineError> {
    let plan = &workflow.plan;
    let succeeded = |step: &PlanStep| {
        old.steps.iter().any(|s| {
            s.step_id == step.id
                && (matches!(s.status, Status::Success | Status::Skipped)
                    || (s.status == Status::Failed && s.output.is_some()))
        })
    };
    let mut pending: Vec<usize> = (0..plan.steps.len()).filter(|&i| !succeeded(&plan.steps[i])).collect();
    match from {
        Some(from) => {
            let index = plan.steps.iter().position(|step| step.id == from).ok_or_else(|| EngineError::UnknownStep {
                workflow: old.workflow_name.clone(),
                step: from.to_string(),
            })?;
            pending.push(index);
        }
        None if pending.is_empty() => return Err(EngineError::NothingToRetry { id: old.id.clone() }),
        None => {}
    }
    let successors = successors_of(plan);
    let mut rerun = HashSet::new();
    while let Some(index) = pending.pop() {
        if rerun.insert(index) {
            pending.extend(&successors[index]);
        }
    }
    Ok(rerun)
}
