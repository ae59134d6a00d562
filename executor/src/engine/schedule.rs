//! Runs the main steps of an execution as a DAG, and the `on_failure:` steps after a failure.
//!
//! A step starts as soon as all its direct predecessors are done (a countdown per step, not level by level), so
//! independent branches overlap. When a step fails, its dependents never start, but branches that do not depend
//! on it run to the end; the execution then fails with the first failure. Cancelling stops everything: no new
//! step starts and running ones are cancelled.

use super::run::{ExecutionRun, StepRef};
use super::step::{StepOutcome, must_commit_before_acting, run_step};
use crate::store::LogLine;
use compiler::Plan;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// A main step that an earlier run of this execution (resume) or an earlier execution (retry) already finished.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Finished {
    /// Its output is in the slot table; dependents may start.
    Done,
    /// It failed: dependents do not run and the execution fails.
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MainOutcome {
    Succeeded,
    Failed(String),
    Cancelled,
}

/// `successors[i]`: the steps that list `i` among their direct predecessors.
pub(crate) fn successors_of(plan: &Plan) -> Vec<Vec<usize>> {
    let mut successors = vec![Vec::new(); plan.steps.len()];
    for (index, step) in plan.steps.iter().enumerate() {
        for &predecessor in &step.predecessors {
            if let Some(list) = successors.get_mut(predecessor) {
                list.push(index);
            }
        }
    }
    successors
}

struct Countdown {
    waiting: Vec<usize>,
    successors: Vec<Vec<usize>>,
    ready: VecDeque<usize>,
}

impl Countdown {
    fn new(plan: &Plan) -> Countdown {
        let waiting: Vec<usize> = plan.steps.iter().map(|step| step.predecessors.len()).collect();
        let ready = (0..waiting.len()).filter(|&i| waiting[i] == 0).collect();
        Countdown { waiting, successors: successors_of(plan), ready }
    }

    fn release(&mut self, done: usize) {
        for &next in &self.successors[done] {
            self.waiting[next] -= 1;
            if self.waiting[next] == 0 {
                self.ready.push_back(next);
            }
        }
    }
}

pub(crate) async fn run_main_steps(
    run: &Arc<ExecutionRun>,
    finished: &HashMap<usize, Finished>,
    cancel: &CancellationToken,
) -> MainOutcome {
    let mut countdown = Countdown::new(&run.plan);
    let mut tasks = JoinSet::new();
    let mut task_steps = HashMap::new();
    let mut failure: Option<String> = None;
    loop {
        while let Some(index) = countdown.ready.pop_front() {
            match finished.get(&index) {
                Some(Finished::Done) => countdown.release(index),
                Some(Finished::Failed(error)) => {
                    failure.get_or_insert_with(|| step_failed(run, index, error));
                }
                None if cancel.is_cancelled() => {}
                None => {
                    let claim = must_commit_before_acting(&run.plan.steps[index]).then(|| run.claim_start());
                    let handle = tasks.spawn(run_step(Arc::clone(run), StepRef::Main(index), cancel.clone(), claim));
                    task_steps.insert(handle.id(), index);
                }
            }
        }
        // Ends that no starting step will take with its start are queued now.
        run.queue_unclaimed_ends();
        let Some(joined) = tasks.join_next_with_id().await else { break };
        let (task_id, outcome) = match joined {
            Ok((task_id, outcome)) => (task_id, outcome),
            Err(err) => (err.id(), StepOutcome::Failed(format!("internal error: {err}"))),
        };
        let Some(index) = task_steps.remove(&task_id) else { continue };
        match outcome {
            StepOutcome::Done => countdown.release(index),
            StepOutcome::Failed(error) => {
                failure.get_or_insert_with(|| step_failed(run, index, &error));
            }
            StepOutcome::Cancelled => {}
        }
    }
    if cancel.is_cancelled() {
        MainOutcome::Cancelled
    } else {
        failure.map_or(MainOutcome::Succeeded, MainOutcome::Failed)
    }
}

fn step_failed(run: &ExecutionRun, index: usize, error: &str) -> String {
    let step = &run.plan.steps[index];
    format!("step `{}` (line {}) failed: {error}", step.id, step.line)
}

/// Runs the `on_failure:` steps in order. Each is recorded like a main step; one failing does not stop the
/// next (they are clean-up).
/// `already_done`: those a resumed execution finished before it was interrupted.
pub(crate) async fn run_on_failure_steps(
    run: &Arc<ExecutionRun>,
    already_done: &HashSet<usize>,
    cancel: &CancellationToken,
) {
    for index in 0..run.plan.on_failure.len() {
        if cancel.is_cancelled() {
            return;
        }
        if already_done.contains(&index) {
            continue;
        }
        let claim = must_commit_before_acting(&run.plan.on_failure[index]).then(|| run.claim_start());
        run.queue_unclaimed_ends();
        let outcome = run_step(Arc::clone(run), StepRef::OnFailure(index), cancel.clone(), claim).await;
        if let StepOutcome::Failed(error) = outcome {
            let step = &run.plan.on_failure[index];
            run.log(LogLine::error(run.now(), Some(&step.id), format!("on_failure step failed: {error}")));
        }
    }
}
