//! The workflow engine: runs compiled plans on tokio and records every step in the [`Store`].
//!
//! # How an execution runs
//! 1. Inputs are typed by the plan's `inputs:` (defaults fill the gaps; a missing required input is an error
//!    before anything is recorded). The workflow definition text is saved, the execution recorded `running`.
//! 2. Variables are evaluated once, in order. `env` is the process environment captured when the engine was
//!    built; `now()` comes from the engine's [`Clock`].
//! 3. Main steps run as a DAG (see `schedule`): a step starts as soon as its predecessors are done. Rules for
//!    `if:`, `continue_on_error`, loops (`step`), retries and timeouts (`attempt`) are documented there.
//! 4. When the execution fails (a step failed, or the execution timeout passed), the `on_failure:` steps run in
//!    order. Cancelling does not run them.
//!
//! # Durability
//! The rule: **no step changes the world before the end records of every step it depends on are committed.**
//! The store commits writes in the order they were queued (one queue, group commit). A step's end record is held
//! (see `held_ends`) before any of its dependents starts. A step whose action has an effect (`Write`, or any
//! step marked `resume: fail`) queues its start together with every held end as one write and waits for that
//! commit before acting: so the ends of all the steps before it are committed too, in the same commit as its
//! start (one commit per step with an effect). Held ends that no such step takes are queued without waiting.
//! Steps without effects (`transform`, `filter`, reads) neither wait for their start nor for their end: a crash
//! can only lose records of steps whose re-run is harmless, and a resumed execution never holds a successor's
//! effect without its predecessor's record. Acks not awaited on the way are awaited before the execution's end
//! is recorded; a failed one fails the execution.
//!
//! # Resume
//! [`WorkflowEngine::resume`] continues an interrupted execution (its process died): it recompiles the stored
//! definition text, reloads the stored outputs of finished steps (never re-running them) and runs the rest.
//! A step that was running when the process died may already have had its effect: it runs again
//! (at-least-once), unless it says `resume: fail`, in which case it is recorded failed ("interrupted while
//! running; not re-run") and the execution fails. Variables are evaluated again on resume (with the environment and `now()` of
//! the resuming process). Stored outputs are redacted: a step's output that contained a secret is read back
//! with `***` in its place.
//!
//! Each resume is counted in the store, in the commit that marks the execution running again. An execution whose
//! [`MAX_RESUME_ATTEMPTS`] resumes all failed to finish (the process stopped each time, or the resume failed
//! before running) is recorded failed with the reason instead of resumed again; [`ResumeOrder`] resumes the ones
//! tried before one at a time, after the others, so that one that stops the process cannot keep the others from
//! being resumed.
//!
//! # Retry
//! [`WorkflowEngine::retry`] starts a *new* execution of the same workflow version with the same inputs,
//! linked to the old one by its lineage (`retry_of`: OLD and STEP); its trigger data stays the original's (a
//! retried webhook run still has its body). Steps before the
//! retried ones are not run: their records (input, output, times, attempts) are copied from the old execution.
//! Re-run are: STEP (or, without `--from`, every step that did not succeed) and everything depending on them.

mod actions;
mod attempt;
mod backoff;
mod clock;
mod context;
mod error;
mod evaluate;
mod filter;
mod held_ends;
mod inputs;
mod json;
mod redact;
mod resume;
mod run;
mod schedule;
mod slots;
mod step;

pub use actions::Actions;
pub use attempt::CANCEL_GRACE;
pub use backoff::MAX_DELAY as MAX_RETRY_DELAY;
pub use clock::{Clock, FixedClock, SystemClock, TokioClock};
pub use context::{Context, Progress, ProgressEvent, ProgressSender, TriggerInfo};
pub use error::{EngineError, InputError};
pub use filter::PARALLEL_THRESHOLD as FILTER_PARALLEL_THRESHOLD;
pub use inputs::{add_var, check_inputs, parse_input_json};
pub use json::from_json_typed;
pub use redact::MIN_SECRET_LEN;
pub use resume::{MAX_RESUME_ATTEMPTS, Rerun, ResumeOrder};
pub use slots::EnvSnapshot;

use crate::store::{ExecutionEnd, LookupError, NewExecution, Status, Store, WorkflowDefinition, new_execution_id};
use compiler::{Diagnostic, Plan, SlotKind};
use connectors::catalogue::Catalogue;
use expr_grammar::{Object, SlotRef, Timestamp, Value};
use redact::Redactor;
use run::ExecutionRun;
use schedule::{Finished, MainOutcome};
use serde_json::{Map, Value as Json};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio_util::sync::CancellationToken;

/// A compiled workflow with the text it came from (stored with each execution so that resume and retry
/// recompile exactly what ran).
#[derive(Debug, Clone)]
pub struct Workflow {
    /// The workflow's id in the store; by default its name.
    pub id: String,
    pub plan: Arc<Plan>,
    pub source: Arc<str>,
    pub file_name: String,
}

impl Workflow {
    /// Compiles `source`; on errors returns every diagnostic.
    pub fn compile(source: &str, file_name: &str, catalogue: &Catalogue) -> Result<Workflow, Vec<Diagnostic>> {
        match compiler::compile(source, file_name, catalogue) {
            (Some(plan), _) => Ok(Workflow {
                id: plan.workflow.name.clone(),
                plan: Arc::new(plan),
                source: Arc::from(source),
                file_name: file_name.to_string(),
            }),
            (None, diagnostics) => Err(diagnostics),
        }
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionOutcome {
    pub id: String,
    pub status: Status,
    pub error: Option<String>,
}

/// A started execution.
#[derive(Debug)]
pub struct ExecutionHandle {
    pub id: String,
    task: tokio::task::JoinHandle<ExecutionOutcome>,
}

impl ExecutionHandle {
    /// Stops the execution's task without recording its end, as a dying process would: the execution stays
    /// `running` in the store, with whatever steps had been recorded, until [`WorkflowEngine::resume`].
    pub fn abandon(self) {
        self.task.abort();
    }

    /// Waits for the execution to end, unless `stop` comes first: then the execution is abandoned (see
    /// [`ExecutionHandle::abandon`]; it stays `running` in the store, to be resumed) and `None` is answered.
    pub async fn wait_unless(self, stop: impl std::future::Future<Output = ()>) -> Option<ExecutionOutcome> {
        let ExecutionHandle { id, mut task } = self;
        tokio::select! {
            joined = &mut task => Some(joined.unwrap_or_else(|err| ExecutionOutcome {
                id,
                status: Status::Failed,
                error: Some(format!("internal error: the execution task stopped: {err}")),
            })),
            () = stop => {
                task.abort();
                None
            }
        }
    }

    /// Waits for the execution to end.
    pub async fn wait(self) -> ExecutionOutcome {
        match self.task.await {
            Ok(outcome) => outcome,
            Err(err) => ExecutionOutcome {
                id: self.id,
                status: Status::Failed,
                error: Some(format!("internal error: the execution task stopped: {err}")),
            },
        }
    }
}

/// Runs workflows. Cheap to share behind an `Arc`; any number of executions run at once.
pub struct WorkflowEngine {
    store: Arc<dyn Store>,
    actions: Arc<dyn Actions>,
    catalogue: Arc<Catalogue>,
    clock: Arc<dyn Clock>,
    env: Arc<EnvSnapshot>,
    budget: expr_grammar::Budget,
    /// Executions running in this engine, with the token that cancels them.
    running: Arc<Mutex<HashMap<String, CancellationToken>>>,
    /// Workflow versions already saved by this engine: (definition text, version) by workflow id.
    saved: Mutex<HashMap<String, (Arc<str>, i64)>>,
    /// Stored definitions already compiled, by (workflow id, version): running queued executions (the daemon)
    /// and resuming need not compile the same text again.
    compiled: Mutex<HashMap<(String, i64), Workflow>>,
}

/// What [`launch`] needs besides the run itself.
struct Launch {
    finished: HashMap<usize, Finished>,
    on_failure_done: HashSet<usize>,
    timeout: Option<std::time::Duration>,
    resumed: bool,
}

impl WorkflowEngine {
    /// An engine over a store, action implementations and the catalogue (to recompile stored definitions).
    /// Uses the system clock and the process environment as it is now.
    pub fn new(store: Arc<dyn Store>, actions: Arc<dyn Actions>, catalogue: Arc<Catalogue>) -> WorkflowEngine {
        WorkflowEngine {
            store,
            actions,
            catalogue,
            clock: Arc::new(SystemClock),
            env: Arc::new(EnvSnapshot::capture()),
            budget: expr_grammar::Budget::default(),
            running: Arc::default(),
            saved: Mutex::default(),
            compiled: Mutex::default(),
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> WorkflowEngine {
        self.clock = clock;
        self
    }

    /// The expression budget of every evaluation (default [`expr_grammar::Budget::default`]).
    pub fn with_budget(mut self, budget: expr_grammar::Budget) -> WorkflowEngine {
        self.budget = budget;
        self
    }

    pub fn with_env(mut self, env: EnvSnapshot) -> WorkflowEngine {
        self.env = Arc::new(env);
        self
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }

    /// Runs a workflow to its end (the spec's `execute`).
    pub async fn execute(&self, workflow: &Workflow, context: Context) -> Result<ExecutionOutcome, EngineError> {
        Ok(self.start(workflow, context).await?.wait().await)
    }

    /// Runs the latest saved definition of a workflow (by id) to its end.
    pub async fn execute_saved(&self, workflow_id: &str, context: Context) -> Result<ExecutionOutcome, EngineError> {
        let record = self.store.workflow(workflow_id).await?.ok_or_else(|| {
            EngineError::Store(crate::store::StoreError::UnknownWorkflow { id: workflow_id.to_string() })
        })?;
        let workflow = self.recompile(&record.id, record.version, &record.definition)?;
        self.execute(&workflow, context).await
    }

    /// Starts an execution and returns once it is recorded; the steps run in the background.
    pub async fn start(&self, workflow: &Workflow, context: Context) -> Result<ExecutionHandle, EngineError> {
        let inputs = inputs::type_inputs(&workflow.plan, &context.inputs)?;
        let version = self.save_workflow(workflow).await?;
        let id = context.execution_id.clone().unwrap_or_else(new_execution_id);
        let run = self.new_run(id, workflow, &context)?;
        let new = NewExecution {
            id: run.id.clone(),
            workflow_id: workflow.id.clone(),
            workflow_name: run.workflow_name.clone(),
            workflow_version: version,
            trigger_id: context.trigger.trigger_id.clone(),
            trigger: run.redactor.json(context.trigger.data.clone()),
            input: run.redactor.json(Json::Object(inputs.stored)),
            status: Status::Running,
            started_at: run.now(),
            retry_of: None,
        };
        let started_at = new.started_at;
        self.store.create_execution(new).await?;
        fill_start_slots(&run, &inputs.slots, &context.trigger.data, started_at);
        let launch = Launch {
            finished: HashMap::new(),
            on_failure_done: HashSet::new(),
            timeout: context.timeout,
            resumed: false,
        };
        Ok(self.launch(run, launch))
    }

    /// Cancels a running execution: running steps are cancelled at once and no further step starts. Only
    /// executions running in this engine can be cancelled here (the CLI reaches other processes itself).
    pub async fn cancel(&self, execution_id: &str) -> Result<(), EngineError> {
        let token = self.running.lock().unwrap_or_else(|poison| poison.into_inner()).get(execution_id).cloned();
        if let Some(token) = token {
            token.cancel();
            return Ok(());
        }
        match self.store.load_execution(execution_id).await? {
            None => Err(LookupError::NotFound { prefix: execution_id.to_string() }.into()),
            Some(record) if record.status.is_finished() => {
                Err(EngineError::AlreadyFinished { id: record.id, status: record.status })
            }
            Some(record) => Err(EngineError::NotRunningHere { id: record.id }),
        }
    }

    /// The status of an execution: `running` while it runs in this engine, else what the store says.
    pub async fn get_status(&self, execution_id: &str) -> Result<Status, EngineError> {
        if self.is_running(execution_id) {
            return Ok(Status::Running);
        }
        match self.store.load_execution(execution_id).await? {
            Some(record) => Ok(record.status),
            None => Err(LookupError::NotFound { prefix: execution_id.to_string() }.into()),
        }
    }

    pub fn is_running(&self, execution_id: &str) -> bool {
        self.running.lock().unwrap_or_else(|poison| poison.into_inner()).contains_key(execution_id)
    }

    async fn save_workflow(&self, workflow: &Workflow) -> Result<i64, EngineError> {
        if let Some((text, version)) = self.saved.lock().unwrap_or_else(|p| p.into_inner()).get(&workflow.id)
            && **text == *workflow.source
        {
            return Ok(*version);
        }
        let definition = WorkflowDefinition {
            id: workflow.id.clone(),
            name: workflow.plan.workflow.name.clone(),
            description: workflow.plan.workflow.description.clone(),
            definition: workflow.source.to_string(),
            saved_at: self.clock.now(),
        };
        let record = self.store.save_workflow(definition).await?;
        self.saved
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(workflow.id.clone(), (Arc::clone(&workflow.source), record.version));
        Ok(record.version)
    }

    /// Saves a workflow's definition (a new version when its text changed) and remembers its compiled plan for
    /// executions of that version; answers the version. The daemon calls this when it loads a workflow file.
    pub async fn register(&self, workflow: &Workflow) -> Result<i64, EngineError> {
        let version = self.save_workflow(workflow).await?;
        self.compiled
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((workflow.id.clone(), version), workflow.clone());
        Ok(version)
    }

    /// Compiles a stored definition (resume, retry, execute_saved), or takes it from the ones already compiled.
    fn recompile(&self, workflow_id: &str, version: i64, text: &str) -> Result<Workflow, EngineError> {
        let key = (workflow_id.to_owned(), version);
        if let Some(workflow) = self.compiled.lock().unwrap_or_else(|p| p.into_inner()).get(&key)
            && *workflow.source == *text
        {
            return Ok(workflow.clone());
        }
        let file_name = format!("{workflow_id} (version {version})");
        let mut workflow = Workflow::compile(text, &file_name, &self.catalogue).map_err(|diagnostics| {
            EngineError::DoesNotCompile {
                workflow: workflow_id.to_string(),
                diagnostics: summarize(text, &diagnostics),
            }
        })?;
        workflow.id = workflow_id.to_string();
        self.compiled.lock().unwrap_or_else(|p| p.into_inner()).insert(key, workflow.clone());
        Ok(workflow)
    }

    fn new_run(&self, id: String, workflow: &Workflow, context: &Context) -> Result<ExecutionRun, EngineError> {
        let run = ExecutionRun {
            id,
            workflow_name: workflow.plan.workflow.name.clone(),
            plan: Arc::clone(&workflow.plan),
            slots: slots::SlotTable::new(workflow.plan.slots.len()),
            env: Arc::clone(&self.env),
            clock: Arc::clone(&self.clock),
            budget: self.budget,
            store: Arc::clone(&self.store),
            actions: Arc::clone(&self.actions),
            user_cancel: CancellationToken::new(),
            redactor: redactor_of(context),
            credentials: context.credentials.clone(),
            progress: context.progress.clone(),
            children: context.children.clone(),
            pending_writes: Mutex::default(),
            held_ends: held_ends::HeldEnds::default(),
            taken_over: std::sync::OnceLock::new(),
        };
        fill_secret_slots(&run, context)?;
        Ok(run)
    }

    fn launch(&self, run: ExecutionRun, launch: Launch) -> ExecutionHandle {
        let id = run.id.clone();
        let running = Arc::clone(&self.running);
        running.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), run.user_cancel.clone());
        let registration = Registration { running, id: id.clone() };
        let task = tokio::spawn(async move {
            let _registered = registration;
            drive(Arc::new(run), launch).await
        });
        ExecutionHandle { id, task }
    }
}

/// Removes an execution from the running table when its task ends (or is aborted).
struct Registration {
    running: Arc<Mutex<HashMap<String, CancellationToken>>>,
    id: String,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).remove(&self.id);
    }
}

fn fill_secret_slots(run: &ExecutionRun, context: &Context) -> Result<(), EngineError> {
    for (index, info) in run.plan.slots.iter().enumerate() {
        if let SlotKind::Secret { name } = &info.kind {
            let value = context.secrets.get(name).ok_or_else(|| EngineError::MissingSecret { name: name.clone() })?;
            run.slots.fill(slot_ref(index), Value::String(Arc::from(value.as_str())));
        }
    }
    Ok(())
}

/// Every secret of a context: the `secrets.NAME` texts and every string of its credentials.
fn redactor_of(context: &Context) -> Redactor {
    Redactor::for_run(&context.secrets, &context.credentials)
}

/// Masks every secret of `context` in `value`, as the engine masks what it records (the daemon stores a trigger's
/// data and inputs before the execution runs).
pub fn mask_secrets(context: &Context, value: Json) -> Json {
    redactor_of(context).json(value)
}

/// Inputs, the trigger and the execution's own `{id, started_at}`.
fn fill_start_slots(run: &ExecutionRun, inputs: &[(SlotRef, Value)], trigger: &Json, started_at: Timestamp) {
    for (slot, value) in inputs {
        run.slots.fill(*slot, value.clone());
    }
    for (index, info) in run.plan.slots.iter().enumerate() {
        let value = match info.kind {
            // Typed by the declared triggers, so `trigger.scheduled_at` is a timestamp, not its text.
            SlotKind::Trigger => json::from_json_typed(trigger, &run.plan.trigger_data_type())
                .unwrap_or_else(|_| Value::from_json(trigger)),
            SlotKind::Execution => {
                let mut object = Object::with_capacity(2);
                object.insert("id".to_string(), Value::String(Arc::from(run.id.as_str())));
                object.insert("started_at".to_string(), Value::Timestamp(started_at));
                Value::Object(Arc::new(object))
            }
            _ => continue,
        };
        run.slots.fill(slot_ref(index), value);
    }
}

fn slot_ref(index: usize) -> SlotRef {
    SlotRef(u32::try_from(index).unwrap_or(u32::MAX))
}

/// Evaluates the variables in plan order into their slots.
fn evaluate_variables(run: &ExecutionRun) -> Result<(), String> {
    let scope = run.scope();
    for variable in &run.plan.variables {
        let value = evaluate::evaluate(&variable.value, &scope).map_err(|err| {
            let name = match &run.plan.slots[variable.slot.0 as usize].kind {
                SlotKind::Variable { name } => name.clone(),
                other => format!("{other:?}"),
            };
            format!("variable `{name}`: {}", err.message)
        })?;
        run.slots.fill(variable.slot, value);
    }
    Ok(())
}

/// Runs an execution from its variables to its recorded end.
async fn drive(run: Arc<ExecutionRun>, launch: Launch) -> ExecutionOutcome {
    let steps = run.plan.steps.iter().map(|step| step.id.clone()).collect();
    run.report(Progress::Started { workflow: run.workflow_name.clone(), steps, resumed: launch.resumed });
    let outcome = match evaluate_variables(&run) {
        Err(error) => MainOutcome::Failed(error),
        Ok(()) => run_main_with_timeout(&run, &launch).await,
    };
    if let Some(outcome) = stopped_if_taken_over(&run) {
        return outcome;
    }
    let (mut status, mut error) = match outcome {
        MainOutcome::Succeeded => (Status::Success, None),
        MainOutcome::Cancelled => (Status::Cancelled, Some("cancelled".to_string())),
        MainOutcome::Failed(error) => {
            schedule::run_on_failure_steps(&run, &launch.on_failure_done, &run.user_cancel).await;
            (Status::Failed, Some(run.redactor.text(&error).into_owned()))
        }
    };
    let failure = run.settle_writes().await;
    if let Some(outcome) = stopped_if_taken_over(&run) {
        return outcome;
    }
    if let Some(failure) = failure
        && status == Status::Success
    {
        (status, error) = (Status::Failed, Some(failure));
    }
    let end = ExecutionEnd {
        execution_id: run.id.clone(),
        status,
        error: error.clone(),
        context: Some(run.redactor.json(final_context(&run))),
        completed_at: run.now(),
    };
    let (status, error) = match run.store.finish_execution(end).await {
        Ok(()) => (status, error),
        Err(err) => (Status::Failed, Some(format!("could not record the end of the execution: {err}"))),
    };
    run.report(Progress::Finished { status, error: error.clone() });
    ExecutionOutcome { id: run.id.clone(), status, error }
}

/// Another node took the execution over: this run ends here, recording nothing more (its new owner finishes it).
fn stopped_if_taken_over(run: &ExecutionRun) -> Option<ExecutionOutcome> {
    let error = Some(run.taken_over()?.to_owned());
    Some(ExecutionOutcome { id: run.id.clone(), status: Status::Cancelled, error })
}

async fn run_main_with_timeout(run: &Arc<ExecutionRun>, launch: &Launch) -> MainOutcome {
    let main_cancel = run.user_cancel.child_token();
    let main = schedule::run_main_steps(run, &launch.finished, &main_cancel);
    let Some(limit) = launch.timeout else { return main.await };
    tokio::pin!(main);
    tokio::select! {
        outcome = &mut main => outcome,
        _ = tokio::time::sleep(limit) => {
            main_cancel.cancel();
            let outcome = main.await;
            if run.user_cancel.is_cancelled() {
                outcome
            } else {
                MainOutcome::Failed(format!("the execution timed out after {limit:?}"))
            }
        }
    }
}

/// What the execution record keeps as its context: the variables' values.
fn final_context(run: &ExecutionRun) -> Json {
    let mut variables = Map::new();
    for variable in &run.plan.variables {
        if let SlotKind::Variable { name } = &run.plan.slots[variable.slot.0 as usize].kind {
            variables.insert(name.clone(), run.slots.get(variable.slot).to_json());
        }
    }
    serde_json::json!({ "variables": variables })
}

/// `file:line:col: message` for each error, for an error that has no terminal to render snippets on.
fn summarize(source: &str, diagnostics: &[Diagnostic]) -> String {
    let lines: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            let offset = (d.primary.span.start as usize).min(source.len());
            let before = &source[..source.floor_char_boundary(offset)];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("  {line}:{column}: {} [{}]", d.message, d.code)
        })
        .collect();
    lines.join("\n")
}
