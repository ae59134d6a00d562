//! The running triggers: a task per schedule and per file watch of every enabled workflow (the spec's
//! `Scheduler`: `schedule` / `unschedule` are [`Triggers::refresh`] starting and stopping them as workflows come,
//! change and go; [`Daemon::scheduled`] is `list_scheduled`). Webhooks need no task: the HTTP router serves them.
//!
//! A schedule task fires each slot through [`Daemon::accept`] with the slot, so (trigger, slot) is accepted once
//! even across a crash. Started with the daemon, it first runs the slots missed since the last one it fired, per
//! the trigger's `catch_up` rule (see `crate::schedule`); started later (its workflow enabled again, or its file
//! added back) it runs none of the slots it missed. Each run knows its slot as `trigger.scheduled_at`.

use super::Daemon;
use super::catalog::{LoadedTrigger, LoadedWorkflow};
use super::queue::AcceptRequest;
use super::watch::Change;
use crate::schedule::{CatchUpRule, CronSchedule, missed_slots};
use compiler::TriggerPlan;
use executor::store::{Timestamp, rfc3339_micros};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::task::JoinHandle;

#[derive(Default)]
pub(super) struct Triggers {
    /// Running trigger tasks by trigger id.
    tasks: HashMap<String, JoinHandle<()>>,
}

impl Triggers {
    /// The triggers at the daemon's start: schedules first catch up what they missed while it was down.
    pub(super) fn start(daemon: &Arc<Daemon>) -> Triggers {
        let mut triggers = Triggers::default();
        triggers.start_and_stop(daemon, true);
        triggers
    }

    /// Starts the tasks of triggers that appeared (or were enabled) and stops those that went away. A schedule
    /// started here catches up nothing: it missed its slots because it was disabled or not loaded, not because
    /// the daemon was down.
    pub(super) fn refresh(&mut self, daemon: &Arc<Daemon>) {
        self.start_and_stop(daemon, false);
    }

    fn start_and_stop(&mut self, daemon: &Arc<Daemon>, catch_up: bool) {
        let mut wanted: HashMap<String, (Arc<LoadedWorkflow>, LoadedTrigger)> = HashMap::new();
        for loaded in daemon.workflows() {
            if !daemon.is_enabled_now(&loaded.name) {
                continue;
            }
            let watches_files = daemon.settings.daemon.watches_files_of(&loaded.name);
            for trigger in &loaded.triggers {
                let runs_here = match trigger.plan {
                    TriggerPlan::Schedule(_) => true,
                    TriggerPlan::FileWatch(_) => watches_files,
                    _ => false,
                };
                if runs_here {
                    wanted.insert(trigger.id.clone(), (Arc::clone(&loaded), trigger.clone()));
                }
            }
        }
        self.tasks.retain(|id, task| {
            let keep = wanted.contains_key(id) && !task.is_finished();
            if !keep {
                task.abort();
                daemon.set_next_slot(id, None);
            }
            keep
        });
        for (id, (loaded, trigger)) in wanted {
            if self.tasks.contains_key(&id) {
                continue;
            }
            let task = match &trigger.plan {
                TriggerPlan::Schedule(_) => tokio::spawn(run_schedule(Arc::clone(daemon), loaded, trigger, catch_up)),
                _ => tokio::spawn(run_file_watch(Arc::clone(daemon), loaded, trigger)),
            };
            self.tasks.insert(id, task);
        }
    }

    pub(super) fn stop(self, daemon: &Daemon) {
        for (id, task) in self.tasks {
            task.abort();
            daemon.set_next_slot(&id, None);
        }
    }
}

/// A schedule trigger: its cron, zone and catch-up rule.
fn schedule_of(trigger: &LoadedTrigger) -> Option<(CronSchedule, CatchUpRule)> {
    let TriggerPlan::Schedule(plan) = &trigger.plan else { return None };
    match CronSchedule::parse(&plan.cron, plan.timezone.as_deref()) {
        Ok(schedule) => Some((schedule, CatchUpRule::of(plan))),
        Err(err) => {
            tracing::warn!("schedule {} not started: {err}", trigger.id);
            None
        }
    }
}

async fn run_schedule(daemon: Arc<Daemon>, loaded: Arc<LoadedWorkflow>, trigger: LoadedTrigger, catch_up_now: bool) {
    let Some((schedule, catch_up)) = schedule_of(&trigger) else { return };
    daemon.set_next_slot(&trigger.id, None); // Not waiting until it has caught up.
    let now = daemon.clock.now();
    let last = match daemon.store.last_slot(&trigger.id).await {
        Ok(last) => last,
        Err(err) => {
            tracing::warn!("schedule {}: cannot read its last slot, no catch-up: {err}", trigger.id);
            None
        }
    };
    if let Some(last) = last.filter(|_| catch_up_now) {
        for slot in missed_slots(&schedule, last, now, catch_up) {
            fire(&daemon, &loaded, &trigger, slot, true).await;
        }
    }
    // Never before a slot already fired (a clock set back does not fire a slot twice; the store refuses it too).
    let mut cursor = Timestamp(now.0.max(last.map_or(i64::MIN, |last| last.0)));
    while let Some(slot) = schedule.next_after(cursor) {
        daemon.set_next_slot(&trigger.id, Some(slot));
        sleep_until(&daemon, slot).await;
        fire(&daemon, &loaded, &trigger, slot, false).await;
        cursor = slot;
    }
    daemon.set_next_slot(&trigger.id, None);
    tracing::info!("schedule {} has no time to come: it is done", trigger.id);
}

/// Sleeps until the daemon's clock reads `at` (again if the clock was set back meanwhile).
async fn sleep_until(daemon: &Daemon, at: Timestamp) {
    loop {
        let now = daemon.clock.now();
        if now >= at {
            return;
        }
        let wait = u64::try_from(at.0 - now.0).unwrap_or(0);
        tokio::time::sleep(std::time::Duration::from_micros(wait)).await;
    }
}

async fn fire(
    daemon: &Arc<Daemon>,
    loaded: &Arc<LoadedWorkflow>,
    trigger: &LoadedTrigger,
    slot: Timestamp,
    late: bool,
) {
    let TriggerPlan::Schedule(plan) = &trigger.plan else { return };
    // The workflow as it is now: an edit that kept this trigger takes effect for its next slot.
    let current = daemon.workflow(&loaded.name).unwrap_or_else(|| Arc::clone(loaded));
    let request = AcceptRequest {
        workflow: current,
        trigger_id: Some(trigger.id.clone()),
        trigger: json!({
            "type": "schedule",
            "cron": plan.cron,
            "timezone": plan.timezone,
            "scheduled_at": rfc3339_micros(slot),
            "late": late,
        }),
        inputs: serde_json::Map::new(),
        slot: Some(slot),
        idempotency_key: None,
    };
    if let Err(err) = daemon.accept(request).await {
        tracing::warn!("schedule {} slot {}: not accepted: {err}", trigger.id, rfc3339_micros(slot));
    }
}

async fn run_file_watch(daemon: Arc<Daemon>, loaded: Arc<LoadedWorkflow>, trigger: LoadedTrigger) {
    let TriggerPlan::FileWatch(plan) = &trigger.plan else { return };
    let root = resolve_watch_path(&plan.path, &loaded.path);
    let (_watcher, mut changes) = match super::watch::watch(&root, plan.recursive) {
        Ok(watch) => watch,
        Err(err) => {
            tracing::warn!("file watch {} on {}: not started: {err}", trigger.id, root.display());
            return;
        }
    };
    let pattern = plan.pattern.as_deref().and_then(|glob| globset::Glob::new(glob).ok()).map(|g| g.compile_matcher());
    while let Some(change) = changes.recv().await {
        if !wanted(&change, &plan.events) {
            continue;
        }
        let name_matches =
            |path: &Path| pattern.as_ref().is_none_or(|p| path.file_name().is_some_and(|n| p.is_match(n)));
        if !name_matches(&change.path) {
            continue;
        }
        let current = daemon.workflow(&loaded.name).unwrap_or_else(|| Arc::clone(&loaded));
        let request = AcceptRequest {
            workflow: current,
            trigger_id: Some(trigger.id.clone()),
            trigger: json!({
                "type": "file_watch",
                "event": {
                    "path": change.path.display().to_string(),
                    "kind": change.kind.as_str(),
                    "from": change.from.as_ref().map(|from| from.display().to_string()),
                },
            }),
            inputs: serde_json::Map::new(),
            slot: None,
            // Nodes of one store watching one folder of one machine all see this change: the first to accept it
            // runs it, the others are answered with that execution.
            idempotency_key: daemon.shares_store().then(|| change.identity()).flatten(),
        };
        match daemon.accept(request).await {
            Ok(super::Accepted::Existing { execution_id }) => tracing::debug!(
                "file watch {}: {} already accepted by another node as {execution_id}",
                trigger.id,
                change.path.display()
            ),
            Ok(_) => {}
            Err(err) => tracing::warn!("file watch {}: {} not accepted: {err}", trigger.id, change.path.display()),
        }
    }
}

/// Whether a trigger's `events:` (all four when empty) take this change.
fn wanted(change: &Change, events: &[compiler::FileEvent]) -> bool {
    events.is_empty() || events.iter().any(|event| event.as_str() == change.kind.as_str())
}

/// A trigger path: `~/` is the home folder, `$NAME` and `${NAME}` environment variables, and a relative path is
/// relative to the workflow file's folder.
pub fn resolve_watch_path(path: &str, workflow_file: &Path) -> PathBuf {
    let expanded = expand_variables(path);
    let expanded = match expanded.strip_prefix("~/") {
        Some(rest) => {
            std::env::var_os("HOME").map_or_else(|| PathBuf::from(&expanded), |home| PathBuf::from(home).join(rest))
        }
        None if expanded == "~" => std::env::var_os("HOME").map_or_else(|| PathBuf::from("~"), PathBuf::from),
        None => PathBuf::from(&expanded),
    };
    if expanded.is_absolute() { expanded } else { workflow_file.parent().unwrap_or(Path::new(".")).join(expanded) }
}

fn expand_variables(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let (name, consumed) = match after.strip_prefix('{') {
            Some(inner) => match inner.find('}') {
                Some(end) => (&inner[..end], end + 2),
                None => ("", 0),
            },
            None if after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => {
                let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
                (&after[..end], end)
            }
            None => ("", 0),
        };
        if name.is_empty() {
            out.push('$');
            rest = after;
            continue;
        }
        out.push_str(&std::env::var(name).unwrap_or_default());
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

impl Daemon {
    /// The slot each running schedule task waits for, by trigger id. A task appears here once it has fired what it
    /// had to catch up, so this also tells that it did (tests on a paused clock wait for it before moving time).
    pub fn next_slots(&self) -> HashMap<String, Timestamp> {
        self.next_slots.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_next_slot(&self, trigger_id: &str, slot: Option<Timestamp>) {
        let mut slots = self.next_slots.lock().unwrap_or_else(|p| p.into_inner());
        match slot {
            Some(slot) => slots.insert(trigger_id.to_owned(), slot),
            None => slots.remove(trigger_id),
        };
    }

    /// Each enabled schedule trigger with its next fire time (the spec's `list_scheduled`): the slot its task
    /// waits for, else the next one after now.
    pub fn scheduled(&self) -> Vec<(String, String, Option<Timestamp>)> {
        let now = self.clock.now();
        let waiting = self.next_slots();
        let mut found = Vec::new();
        for loaded in self.workflows() {
            if !self.is_enabled_now(&loaded.name) {
                continue;
            }
            for trigger in &loaded.triggers {
                if let Some((schedule, _)) = schedule_of(trigger) {
                    let next = waiting.get(&trigger.id).copied().or_else(|| schedule.next_after(now));
                    found.push((loaded.name.clone(), trigger.id.clone(), next));
                }
            }
        }
        found
    }

    /// When a trigger fires next, if it is a schedule.
    pub fn next_fire_of(&self, trigger: &LoadedTrigger) -> Option<Timestamp> {
        schedule_of(trigger)?.0.next_after(self.clock.now())
    }

    /// When a workflow's schedules fire next (the earliest), if it has any.
    pub fn next_fire(&self, loaded: &LoadedWorkflow) -> Option<Timestamp> {
        let now = self.clock.now();
        loaded.triggers.iter().filter_map(schedule_of).filter_map(|(schedule, _)| schedule.next_after(now)).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_paths_expand_home_variables_and_are_relative_to_the_workflow() {
        let workflow = Path::new("/srv/pilot/workflows/backup.yaml");
        assert_eq!(resolve_watch_path("inbox", workflow), PathBuf::from("/srv/pilot/workflows/inbox"));
        assert_eq!(resolve_watch_path("/data/in", workflow), PathBuf::from("/data/in"));
        if let Some(home) = std::env::var_os("HOME").filter(|home| !home.is_empty()) {
            assert_eq!(resolve_watch_path("~/Downloads", workflow), PathBuf::from(&home).join("Downloads"));
            let home = home.to_string_lossy().into_owned();
            assert_eq!(resolve_watch_path("${HOME}/x", workflow), PathBuf::from(format!("{home}/x")));
            assert_eq!(resolve_watch_path("$HOME/y", workflow), PathBuf::from(format!("{home}/y")));
        }
        assert_eq!(expand_variables("cost $5 and ${"), "cost $5 and ${", "no name: left as written");
    }

    #[test]
    fn a_trigger_takes_the_events_it_names() {
        let change = |kind| Change { path: PathBuf::from("/x"), kind, from: None };
        use super::super::watch::ChangeKind;
        use compiler::FileEvent;
        assert!(wanted(&change(ChangeKind::Create), &[]));
        assert!(wanted(&change(ChangeKind::Rename), &[FileEvent::Rename]));
        assert!(!wanted(&change(ChangeKind::Delete), &[FileEvent::Create, FileEvent::Modify]));
    }
}
