//! `pilot serve`: the long-running service that owns the triggers.
//!
//! One daemon per `$PILOT_HOME` (a lock file). At start it loads every workflow file, takes over the executions
//! whose owner is gone (resumed by the same rules as `pilot resume`), and starts the triggers: schedules,
//! webhooks (served with the API), file watches. Every accepted trigger becomes a `pending` execution row,
//! committed before it is answered ([`Daemon::accept`]); the queue runner starts pending executions within the
//! global limit and each workflow's `concurrency`. On a shared store the nodes talk through the cluster bus
//! (`bus.rs`): pending work, live events and cancel requests. On SIGINT or SIGTERM it stops accepting, lets running
//! executions finish within the drain time and leaves the rest to be resumed at the next start.

mod bus;
pub mod catalog;
pub mod events;
mod lease;
mod lock;
mod queue;
mod scheduler;
mod watch;

pub use lock::DaemonLock;
pub use queue::{AcceptError, AcceptRequest, Accepted};

use crate::home::PilotHome;
use crate::settings::Settings;
use crate::store_location::{StoreLocation, open_shared};
use catalog::{Catalog, LoadedWorkflow};
use connectors::catalogue::Catalogue;
use events::EventBus;
use executor::WorkflowEngine;
use executor::engine::Clock;
use executor::store::postgres::PostgresStore;
use executor::store::{Store, StoreError, Timestamp};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What a daemon is started with.
#[derive(Clone)]
pub struct DaemonOptions {
    pub home: PilotHome,
    pub settings: Settings,
    pub clock: Arc<dyn Clock>,
}

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("{0}")]
    Locked(String),
    #[error("cannot set up {path}: {reason}")]
    Home { path: String, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    StoreChoice(String),
}

/// The running service. Shared by the HTTP handlers, the trigger tasks and the queue runner.
pub struct Daemon {
    pub home: PilotHome,
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    pub engine: Arc<WorkflowEngine>,
    pub catalogue: Arc<Catalogue>,
    /// Problems loading custom connectors (each also logged).
    pub connector_problems: Vec<String>,
    pub instance_id: String,
    /// The store is a database other nodes may share (PostgreSQL): their leases are trusted whatever their host,
    /// executions without an owner (a `pilot run` of another machine) are never taken over, an execution starts
    /// only once claimed, and an idle daemon claims the pending executions of busy ones.
    shared_store: Option<Arc<PostgresStore>>,
    pub events: EventBus,
    pub clock: Arc<dyn Clock>,
    pub started_at: Timestamp,
    catalog: RwLock<Catalog>,
    queue: queue::Queue,
    /// Cancelled when the daemon stops accepting work.
    stopping: CancellationToken,
    /// Cancelled when the drain time is over: executions still running are left to the next start.
    abandon: CancellationToken,
    /// Cancelled once stopped: the live event streams end then, so that they never hold up the HTTP server's stop.
    stopped: CancellationToken,
    triggers: Mutex<Option<scheduler::Triggers>>,
    /// The slot each schedule task waits for, by trigger id (set once it has caught up; see [`Daemon::next_slots`]).
    next_slots: Mutex<std::collections::HashMap<String, Timestamp>>,
    /// Whether each workflow is enabled, by name: the store's flags, read at start and kept here as they change.
    enabled: RwLock<std::collections::HashMap<String, bool>>,
    /// Each webhook trigger's `rate_limit`.
    pub rate_limits: crate::webhooks::RateLimits,
    /// Held from the start until [`Daemon::shutdown`] is over (not until the last task lets go of the daemon).
    lock: Mutex<Option<DaemonLock>>,
    /// Whether this node holds its lease (see `lease.rs`).
    lease: lease::LeaseState,
}

/// A workflow's own limit and policy, if it sets `concurrency:`.
pub fn concurrency_of(loaded: &LoadedWorkflow) -> Option<(usize, compiler::ConcurrencyPolicy)> {
    let plan = loaded.workflow.plan.concurrency.as_ref()?;
    Some((usize::try_from(plan.limit).unwrap_or(usize::MAX).max(1), plan.policy))
}

impl Daemon {
    /// Opens the store, loads the workflows, takes over orphaned executions; the triggers start with
    /// [`Daemon::start_triggers`].
    pub async fn open(options: DaemonOptions) -> Result<Arc<Daemon>, DaemonError> {
        let settings_store = options.settings.store.as_ref().map(|url| url.0.as_str());
        let location = StoreLocation::choose(&options.home, None, settings_store).map_err(DaemonError::StoreChoice)?;
        Daemon::open_at(options, &location).await
    }

    /// [`Daemon::open`] on the store at `location` (`pilot serve --store URL`).
    pub async fn open_at(options: DaemonOptions, location: &StoreLocation) -> Result<Arc<Daemon>, DaemonError> {
        let DaemonOptions { home, settings, clock } = options;
        home.ensure_layout()
            .map_err(|err| DaemonError::Home { path: home.root().display().to_string(), reason: err.to_string() })?;
        let lock = DaemonLock::acquire(&home, &settings.daemon.addr).map_err(DaemonError::Locked)?;
        let (store, shared) = open_shared(location).await?;
        let toolbox = crate::toolbox::Toolbox::load(&home);
        for problem in &toolbox.problems {
            tracing::warn!("custom connector not loaded: {problem}");
        }
        let catalogue = Arc::new(toolbox.catalogue);
        let engine = WorkflowEngine::new(store.clone(), Arc::new(toolbox.registry), catalogue.clone())
            .with_clock(clock.clone())
            .with_budget(settings.expressions.budget());
        let started_at = clock.now();
        let instance_id = format!("daemon-{}", uuid::Uuid::now_v7());
        if let Some(shared) = &shared {
            // Its writes for an execution another node took over are refused from now on.
            shared.fence_for(&instance_id);
        }
        let daemon = Arc::new(Daemon {
            queue: queue::Queue::new(settings.daemon.max_concurrent),
            home,
            settings,
            store,
            engine: Arc::new(engine),
            catalogue,
            connector_problems: toolbox.problems,
            instance_id,
            shared_store: shared,
            events: EventBus::new(u64::try_from(started_at.0).unwrap_or(0)),
            clock,
            started_at,
            catalog: RwLock::new(Catalog::default()),
            stopping: CancellationToken::new(),
            abandon: CancellationToken::new(),
            stopped: CancellationToken::new(),
            triggers: Mutex::new(None),
            next_slots: Mutex::default(),
            enabled: RwLock::default(),
            rate_limits: crate::webhooks::RateLimits::default(),
            lock: Mutex::new(Some(lock)),
            lease: lease::LeaseState::default(),
        });
        *daemon.enabled.write().unwrap_or_else(|p| p.into_inner()) = daemon.enabled_flags().await;
        daemon.register_instance().await?;
        daemon.replace_previous_instance().await;
        daemon.load_all_workflows().await;
        daemon.take_over_orphans().await;
        if let Some(shared) = &daemon.shared_store {
            bus::start(&daemon, shared).await;
        }
        Ok(daemon)
    }

    /// Starts the queue runner, the lease heartbeat, the schedules, the file watches and the workflows folder
    /// watcher. Webhooks are served by the HTTP router.
    pub fn start_triggers(self: &Arc<Daemon>) {
        tokio::spawn(queue::run(Arc::clone(self)));
        tokio::spawn(Arc::clone(self).renew_lease());
        if let Some(shared) = &self.shared_store {
            tokio::spawn(queue::claim_others(Arc::clone(self), Arc::clone(shared)));
        }
        let triggers = scheduler::Triggers::start(self);
        *self.triggers.lock().unwrap_or_else(|p| p.into_inner()) = Some(triggers);
        if let Err(err) = watch::watch_workflows_folder(self) {
            tracing::warn!("the workflows folder is not watched (edits take effect at the next start): {err}");
        }
    }

    /// Stops accepting work, waits up to `drain` for running executions, leaves the rest (still `running` in the
    /// store, to be resumed at the next start) and gives up the instance's lease.
    pub async fn shutdown(&self, drain: Duration) {
        self.stopping.cancel();
        if let Some(triggers) = self.triggers.lock().unwrap_or_else(|p| p.into_inner()).take() {
            triggers.stop(self);
        }
        if tokio::time::timeout(drain, self.queue.idle()).await.is_err() {
            tracing::warn!("drain time over: executions still running will be resumed at the next start");
        }
        self.abandon.cancel();
        self.queue.idle().await;
        let _ = self.store.remove_instance(&self.instance_id).await;
        let _ = self.store.flush().await;
        // Released here: a caller that awaited the shutdown may start another daemon on this home at once.
        drop(self.lock.lock().unwrap_or_else(|p| p.into_inner()).take());
        self.stopped.cancel();
    }

    /// Resolves once [`Daemon::shutdown`] is over.
    pub fn stopped(&self) -> tokio_util::sync::WaitForCancellationFutureOwned {
        self.stopped.clone().cancelled_owned()
    }

    /// Whether other nodes may share this daemon's store (PostgreSQL).
    pub fn shares_store(&self) -> bool {
        self.shared_store.is_some()
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.is_cancelled()
    }

    /// The workflows that run, by name.
    pub fn workflows(&self) -> Vec<Arc<LoadedWorkflow>> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner()).running().cloned().collect()
    }

    pub fn workflow(&self, name: &str) -> Option<Arc<LoadedWorkflow>> {
        self.catalog.read().unwrap_or_else(|p| p.into_inner()).get(name).cloned()
    }

    /// Reads the catalog (files and their diagnostics).
    pub fn with_catalog<T>(&self, read: impl FnOnce(&Catalog) -> T) -> T {
        read(&self.catalog.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// The pending and running executions this daemon holds.
    pub fn queue_depth(&self) -> (usize, usize) {
        self.queue.depth()
    }

    /// Loads every file of the workflows folder.
    async fn load_all_workflows(&self) {
        let folder = self.home.workflows();
        let files = match catalog::workflow_files(&folder) {
            Ok(files) => files,
            Err(err) => {
                tracing::warn!("cannot read {}: {err}", folder.display());
                Vec::new()
            }
        };
        {
            let mut catalog = self.catalog.write().unwrap_or_else(|p| p.into_inner());
            for file in &files {
                catalog.update_file(file, &self.catalogue);
            }
        }
        self.after_catalog_change().await;
    }

    /// Records each running workflow's version and triggers in the store and logs the files' problems.
    async fn after_catalog_change(&self) {
        let (workflows, problems) = self.with_catalog(|catalog| {
            let workflows: Vec<Arc<LoadedWorkflow>> = catalog.running().cloned().collect();
            let problems: Vec<String> = catalog.files().filter_map(|file| file.problem.clone()).collect();
            (workflows, problems)
        });
        for problem in problems {
            tracing::warn!("{problem}");
        }
        let enabled = self.enabled_flags().await;
        for loaded in workflows {
            if let Err(err) = self.engine.register(&loaded.workflow).await {
                tracing::warn!("cannot record workflow {}: {err}", loaded.name);
                continue;
            }
            let is_enabled = enabled.get(&loaded.name).copied().unwrap_or(true);
            let records = loaded
                .triggers
                .iter()
                .map(|trigger| executor::store::TriggerRecord {
                    id: trigger.id.clone(),
                    workflow_id: loaded.workflow.id.clone(),
                    trigger_type: trigger.kind().to_owned(),
                    config: serde_json::to_value(&trigger.plan).unwrap_or_default(),
                    is_enabled,
                })
                .collect();
            if let Err(err) = self.store.sync_triggers(&loaded.workflow.id, records).await {
                tracing::warn!("cannot record the triggers of {}: {err}", loaded.name);
            }
        }
    }

    /// Whether each saved workflow is enabled (`pilot workflows disable`), by id.
    pub async fn enabled_flags(&self) -> std::collections::HashMap<String, bool> {
        match self.store.workflows().await {
            Ok(records) => records.into_iter().map(|record| (record.id, record.is_enabled)).collect(),
            Err(err) => {
                tracing::warn!("cannot read which workflows are enabled: {err}");
                std::collections::HashMap::new()
            }
        }
    }

    pub async fn is_enabled(&self, name: &str) -> bool {
        self.is_enabled_now(name)
    }

    /// Whether a workflow is enabled (a workflow the store does not know yet is).
    pub fn is_enabled_now(&self, name: &str) -> bool {
        self.enabled.read().unwrap_or_else(|p| p.into_inner()).get(name).copied().unwrap_or(true)
    }

    /// Enables or disables a workflow: its triggers stop or start, runs by name are refused or allowed.
    pub async fn set_enabled(self: &Arc<Daemon>, name: &str, enabled: bool) -> Result<(), StoreError> {
        self.store.set_workflow_enabled(name, enabled).await?;
        self.enabled.write().unwrap_or_else(|p| p.into_inner()).insert(name.to_owned(), enabled);
        self.refresh_triggers();
        Ok(())
    }

    /// Re-reads one workflow file (added, edited or removed) and restarts the triggers if what runs changed.
    pub async fn reload_file(self: &Arc<Daemon>, path: &std::path::Path) {
        let changed = {
            let mut catalog = self.catalog.write().unwrap_or_else(|p| p.into_inner());
            catalog.update_file(path, &self.catalogue)
        };
        self.after_catalog_change().await;
        if changed {
            self.refresh_triggers();
        }
    }

    fn refresh_triggers(self: &Arc<Daemon>) {
        if self.is_stopping() {
            return;
        }
        let mut triggers = self.triggers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(triggers) = triggers.as_mut() {
            triggers.refresh(self);
        }
    }

    /// Takes over the executions whose owner is gone: an earlier daemon of this host (killed, crashed), a daemon
    /// of another host (on a shared store: any other node) whose lease ran out, or a `pilot run` whose process
    /// died. Pending ones join the queue; running ones resume.
    async fn take_over_orphans(&self) {
        let interrupted = match self.store.interrupted_executions().await {
            Ok(found) => found,
            Err(err) => {
                tracing::warn!("cannot list interrupted executions: {err}");
                return;
            }
        };
        // Another daemon of this host is gone, whatever its lease says: it held the home's lock while it ran, and
        // this one holds it now. Only a daemon of another host (a shared home) is trusted until its lease ends.
        // On a shared store, another node of this host holds another home's lock: its lease alone says.
        let host = host_name();
        let now = self.clock.now();
        // Leases are compared on the store's clock: the database's on a shared store, where nodes' clocks differ.
        let live = match (self.store.live_instances(now).await, self.store.instances().await) {
            (Ok(live), Ok(instances)) => instances
                .into_iter()
                .filter(|instance| {
                    instance.id == self.instance_id
                        || ((self.shared_store.is_some() || instance.host != host) && live.contains(&instance.id))
                })
                .map(|instance| instance.id)
                .collect(),
            _ => vec![self.instance_id.clone()],
        };
        let runs = crate::runs::ActiveRuns::at(self.home.root().join("run"));
        for execution in interrupted {
            let orphaned = match &execution.owner {
                Some(owner) => !live.contains(owner),
                // Its `pilot run` may be on another machine: `pilot resume` there takes it over.
                None if self.shared_store.is_some() => false,
                None => runs.owner(&execution.id) == crate::runs::Owner::Nobody,
            };
            if !orphaned {
                continue;
            }
            match self.store.adopt_execution(&execution.id, &self.instance_id, execution.owner.as_deref()).await {
                Ok(true) => self.queue.push(execution.id, execution.workflow_name),
                Ok(false) => {}
                Err(err) => tracing::warn!("cannot take over execution {}: {err}", execution.id),
            }
        }
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".to_owned())
}
