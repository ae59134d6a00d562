//! Shared by the engine tests: an engine over a memory store with the built-in connectors plus `probe`, a small
//! connector whose calls the tests can observe (how many run at once, which saw cancellation, failing on cue).
#![allow(dead_code)]

use connectors::catalogue::Catalogue;
use connectors::registry::ConnectorRegistry;
use connectors::{ActionContext, ActionDefinition, ActionError, Connector, Effect, InputField, InputKind, OutputSpec};
use executor::engine::{Context, FixedClock, TokioClock};
use executor::store::{ExecutionRecord, MemoryStore, Status, StepRecord, Store};
use executor::{ExecutionOutcome, Workflow, WorkflowEngine};
use expr_grammar::{Object, Timestamp, Type, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// 2026-11-24T10:00:00Z.
pub const T0: Timestamp = Timestamp(1_795_514_400_000_000);

/// What the probe connector saw.
#[derive(Default)]
pub struct ProbeLog {
    pub in_flight: AtomicUsize,
    pub max_in_flight: AtomicUsize,
    /// Tags of the calls in the order they started.
    pub calls: Mutex<Vec<String>>,
    /// Calls per tag, for `fail_times`.
    pub per_tag: Mutex<HashMap<String, u64>>,
    /// Tags of the calls that saw their cancellation token fire.
    pub saw_cancel: Mutex<Vec<String>>,
    /// For `probe/observe`: the store, and what each call found committed there (step id and status).
    pub store: std::sync::OnceLock<Arc<dyn Store>>,
    pub observed: Mutex<Vec<Observation>>,
}

/// A `probe/observe` call's tag, and each step record it found committed (step id and status).
pub type Observation = (String, Vec<(String, Status)>);

impl ProbeLog {
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

/// `probe/work {tag, fail_times?, delay?}`: waits `delay` (cancellable), fails its first `fail_times` calls for
/// a tag, then returns `{tag, call}`. `probe/hang {tag}` waits until cancelled. `probe/panic` panics.
pub struct Probe {
    pub log: Arc<ProbeLog>,
}

fn field(name: &str, ty: Type, required: bool) -> InputField {
    InputField { name: name.into(), ty, required, description: String::new(), kind: InputKind::Value }
}

fn definition(name: &str, inputs: Vec<InputField>) -> ActionDefinition {
    ActionDefinition {
        name: name.into(),
        description: format!("test action {name}"),
        inputs,
        output: OutputSpec::Fixed { ty: Type::object([("tag", Type::String), ("call", Type::Int)]) },
        effect: Effect::Pure,
        open_inputs: false,
    }
}

fn probe_definitions() -> Vec<ActionDefinition> {
    vec![
        definition(
            "probe/work",
            vec![
                field("tag", Type::String, true),
                field("fail_times", Type::Int, false),
                field("delay", Type::Duration, false),
            ],
        ),
        definition("probe/hang", vec![field("tag", Type::String, true)]),
        definition("probe/panic", vec![field("tag", Type::String, true)]),
        ActionDefinition {
            effect: Effect::Write,
            ..definition("probe/observe", vec![field("tag", Type::String, true)])
        },
    ]
}

fn get<'a>(input: &'a Value, name: &str) -> Option<&'a Value> {
    match input {
        Value::Object(fields) => fields.get(name),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Connector for Probe {
    fn id(&self) -> &str {
        "probe"
    }

    fn actions(&self) -> Vec<ActionDefinition> {
        probe_definitions()
    }

    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        let tag = match get(&input, "tag") {
            Some(Value::String(tag)) => tag.to_string(),
            _ => return Err(ActionError::InvalidInput { field: "tag".into(), message: "required".into() }),
        };
        self.log.calls.lock().unwrap().push(tag.clone());
        let call = {
            let mut per_tag = self.log.per_tag.lock().unwrap();
            let count = per_tag.entry(tag.clone()).or_default();
            *count += 1;
            *count
        };
        let now = self.log.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.log.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let _leave = InFlight(&self.log.in_flight);
        match action {
            "probe/panic" => panic!("probe panicked on purpose"),
            "probe/observe" => self.observe(ctx, tag, call).await,
            "probe/hang" => {
                ctx.cancel.cancelled().await;
                self.log.saw_cancel.lock().unwrap().push(tag);
                Err(ActionError::Cancelled)
            }
            _ => self.work(&input, ctx, tag, call).await,
        }
    }
}

impl Probe {
    /// Records which step records of its execution are committed when the action runs.
    async fn observe(&self, ctx: &ActionContext, tag: String, call: u64) -> Result<Value, ActionError> {
        let store = self.log.store.get().expect("the harness sets the store").clone();
        let record = store.load_execution(&ctx.execution_id).await.expect("reads").expect("recorded");
        let seen = record.steps.iter().map(|s| (s.step_id.clone(), s.status)).collect();
        self.log.observed.lock().unwrap().push((tag.clone(), seen));
        let mut object = Object::new();
        object.insert("tag".into(), Value::String(tag.into()));
        object.insert("call".into(), Value::Int(call as i64));
        Ok(Value::Object(Arc::new(object)))
    }

    async fn work(&self, input: &Value, ctx: &ActionContext, tag: String, call: u64) -> Result<Value, ActionError> {
        if let Some(Value::Duration(delay)) = get(input, "delay") {
            let delay = delay.to_std().unwrap_or_default();
            tokio::select! {
                _ = ctx.cancel.cancelled() => {
                    self.log.saw_cancel.lock().unwrap().push(tag);
                    return Err(ActionError::Cancelled);
                }
                _ = tokio::time::sleep(delay) => {}
            }
        }
        let fail_times = match get(input, "fail_times") {
            Some(Value::Int(n)) => *n as u64,
            _ => 0,
        };
        if call <= fail_times {
            return Err(ActionError::Failed { message: format!("{tag} failed on call {call}") });
        }
        let mut object = Object::new();
        object.insert("tag".into(), Value::String(tag.into()));
        object.insert("call".into(), Value::Int(call as i64));
        Ok(Value::Object(Arc::new(object)))
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub struct Harness {
    pub engine: WorkflowEngine,
    pub store: Arc<dyn Store>,
    pub probe: Arc<ProbeLog>,
    /// The same store when it is SQLite (to count its commits).
    pub sqlite: Option<Arc<executor::store::SqliteStore>>,
}

impl Harness {
    /// An engine whose clock follows tokio's (deterministic under paused time).
    pub fn new() -> Harness {
        Harness::with_clock(Arc::new(TokioClock::starting_at(T0)))
    }

    pub fn with_fixed_clock() -> Harness {
        Harness::with_clock(Arc::new(FixedClock(T0)))
    }

    fn with_clock(clock: Arc<dyn executor::engine::Clock>) -> Harness {
        Harness::with_clock_and_store(clock, Arc::new(MemoryStore::new()))
    }

    /// An engine over the SQLite store in `folder` (which must outlive the harness).
    pub fn with_sqlite(folder: &std::path::Path) -> Harness {
        let options = executor::store::StoreOptions {
            logs: executor::store::LogFolder::Disabled,
            ..executor::store::StoreOptions::default()
        };
        let store = Arc::new(executor::store::SqliteStore::open(folder.join("pilot.db"), options).expect("open store"));
        let clock = Arc::new(TokioClock::starting_at(T0));
        Harness { sqlite: Some(Arc::clone(&store)), ..Harness::with_clock_and_store(clock, store) }
    }

    fn with_clock_and_store(clock: Arc<dyn executor::engine::Clock>, store: Arc<dyn Store>) -> Harness {
        let probe = Arc::new(ProbeLog::default());
        let mut catalogue = Catalogue::builtin();
        for def in probe_definitions() {
            catalogue.add(def).expect("probe actions are new");
        }
        let mut registry = ConnectorRegistry::builtin();
        registry.register(Arc::new(Probe { log: Arc::clone(&probe) })).expect("probe registers");
        let _ = probe.store.set(Arc::clone(&store));
        let engine = WorkflowEngine::new(Arc::clone(&store), Arc::new(registry), Arc::new(catalogue)).with_clock(clock);
        Harness { engine, store, probe, sqlite: None }
    }

    pub fn compile(&self, yaml: &str) -> Workflow {
        match Workflow::compile(yaml, "test", self.engine.catalogue()) {
            Ok(workflow) => workflow,
            Err(diagnostics) => panic!("the test workflow does not compile: {diagnostics:#?}"),
        }
    }

    pub async fn run(&self, yaml: &str) -> (ExecutionOutcome, ExecutionRecord) {
        self.run_with(yaml, Context::default()).await
    }

    pub async fn run_with(&self, yaml: &str, context: Context) -> (ExecutionOutcome, ExecutionRecord) {
        let workflow = self.compile(yaml);
        let outcome = self.engine.execute(&workflow, context).await.expect("the execution starts");
        let record = self.record(&outcome.id).await;
        (outcome, record)
    }

    pub async fn record(&self, id: &str) -> ExecutionRecord {
        self.store.load_execution(id).await.expect("store reads").expect("execution recorded")
    }
}

pub fn step<'a>(record: &'a ExecutionRecord, id: &str) -> &'a StepRecord {
    record.steps.iter().find(|s| s.step_id == id).unwrap_or_else(|| panic!("no record of step `{id}`: {record:#?}"))
}

pub fn status_of(record: &ExecutionRecord, id: &str) -> Status {
    step(record, id).status
}
