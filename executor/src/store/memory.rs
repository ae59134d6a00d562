//! [`MemoryStore`]: the [`Store`] contract kept in memory. For tests and for the benches' "in memory" numbers;
//! it passes the same conformance suite as the SQLite store. Nothing survives the process.

use super::log::lifecycle;
use super::records::{WorkflowSave, checks, workflow_after_save};
use super::*;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// The whole store behind one mutex: each write is applied and "committed" when its method returns.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<MemoryState>,
}

#[derive(Debug, Default)]
struct MemoryState {
    workflows: HashMap<String, WorkflowRecord>,
    definitions: HashMap<(String, i64), String>,
    executions: HashMap<String, ExecutionRecord>,
    logs: HashMap<String, String>,
    credentials: std::collections::BTreeMap<String, CredentialRecord>,
    connectors: std::collections::BTreeMap<String, ConnectorRecord>,
    instances: std::collections::BTreeMap<String, InstanceRecord>,
    /// By workflow id.
    triggers: std::collections::BTreeMap<String, Vec<TriggerRecord>>,
    /// (scope, key) -> (execution id, recorded at).
    idempotency: HashMap<(String, String), (String, Timestamp)>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    fn state(&self) -> MutexGuard<'_, MemoryState> {
        // A panic while holding the lock cannot leave a half-applied write: every write checks before it mutates.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl MemoryState {
    fn log(&mut self, execution_id: &str, line: &LogLine) {
        self.logs.entry(execution_id.to_owned()).or_default().push_str(&line.render());
    }

    fn execution_mut(&mut self, id: &str) -> Result<&mut ExecutionRecord, StoreError> {
        self.executions.get_mut(id).ok_or_else(|| StoreError::UnknownExecution { id: id.to_owned() })
    }

    fn save_workflow(&mut self, new: WorkflowDefinition) -> WorkflowRecord {
        let record = match workflow_after_save(self.workflows.get(&new.id).cloned(), &new) {
            WorkflowSave::Unchanged(stored) => return stored,
            WorkflowSave::Store(record) => record,
        };
        self.definitions.insert((record.id.clone(), record.version), record.definition.clone());
        self.workflows.insert(record.id.clone(), record.clone());
        record
    }

    fn create_execution(&mut self, new: NewExecution) -> Result<(), StoreError> {
        checks::new_execution(&new)?;
        if !self.workflows.contains_key(&new.workflow_id) {
            return Err(StoreError::UnknownWorkflow { id: new.workflow_id });
        }
        if self.executions.contains_key(&new.id) {
            return Err(StoreError::DuplicateExecution { id: new.id });
        }
        self.log(&new.id, &lifecycle::execution_created(&new));
        let record = ExecutionRecord {
            id: new.id.clone(),
            workflow_id: new.workflow_id,
            workflow_name: new.workflow_name,
            workflow_version: new.workflow_version,
            trigger_id: new.trigger_id,
            trigger: new.trigger,
            input: new.input,
            status: new.status,
            started_at: Some(new.started_at),
            completed_at: None,
            error: None,
            context: None,
            owner: None,
            slot: None,
            retry_of: new.retry_of,
            resume_attempts: 0,
            steps: Vec::new(),
        };
        self.executions.insert(new.id, record);
        Ok(())
    }

    /// Checks everything before changing anything, as the SQLite store's savepoint would undo a half write.
    fn accept(&mut self, acceptance: Acceptance) -> Result<Accepted, StoreError> {
        let Acceptance { execution, owner, slot, idempotency, skipped } = acceptance;
        if let Some(key) = &idempotency
            && let Some((execution_id, at)) = self.idempotency.get(&(key.scope.clone(), key.key.clone()))
            && *at >= key.expired_before
        {
            return Ok(Accepted::Existing { execution_id: execution_id.clone() });
        }
        if let (Some(trigger_id), Some(slot)) = (&execution.trigger_id, slot) {
            let holder =
                self.executions.values().find(|e| e.trigger_id.as_ref() == Some(trigger_id) && e.slot == Some(slot));
            if let Some(holder) = holder {
                return Ok(Accepted::Existing { execution_id: holder.id.clone() });
            }
        }
        let (id, at) = (execution.id.clone(), execution.started_at);
        self.create_execution(execution)?;
        let record = self.execution_mut(&id)?;
        record.owner = owner;
        record.slot = slot;
        if let Some(reason) = skipped {
            record.status = Status::Skipped;
            record.error = Some(reason);
            record.completed_at = Some(at);
        }
        if let Some(key) = idempotency {
            self.idempotency.insert((key.scope, key.key), (id, at));
        }
        Ok(Accepted::New)
    }

    fn mark_running(&mut self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        self.mark_running_quietly(id, at)?;
        self.log(id, &lifecycle::execution_running(at));
        Ok(())
    }

    fn mark_running_quietly(&mut self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        let execution = self.execution_mut(id)?;
        execution.status = Status::Running;
        execution.started_at = execution.started_at.or(Some(at));
        execution.completed_at = None;
        execution.error = None;
        Ok(())
    }

    fn start_resume(&mut self, id: &str, at: Timestamp) -> Result<u32, StoreError> {
        self.mark_running_quietly(id, at)?;
        let execution = self.execution_mut(id)?;
        execution.resume_attempts += 1;
        let attempts = execution.resume_attempts;
        self.log(id, &lifecycle::execution_resumed(at));
        Ok(attempts)
    }

    fn finish_execution(&mut self, end: ExecutionEnd) -> Result<(), StoreError> {
        checks::execution_end(&end)?;
        let execution = self.execution_mut(&end.execution_id)?;
        execution.status = end.status;
        execution.error = end.error.clone();
        execution.context = end.context.clone();
        execution.completed_at = Some(end.completed_at);
        self.log(&end.execution_id, &lifecycle::execution_finished(&end));
        Ok(())
    }

    fn step_mut(&mut self, execution_id: &str, step_id: &str, status: Status) -> Result<&mut StepRecord, StoreError> {
        let steps = &mut self.execution_mut(execution_id)?.steps;
        let index = match steps.iter().position(|step| step.step_id == step_id) {
            Some(index) => index,
            None => {
                steps.push(StepRecord {
                    step_id: step_id.to_owned(),
                    status,
                    attempts: 0,
                    started_at: None,
                    completed_at: None,
                    input: None,
                    output: None,
                    error: None,
                });
                steps.len() - 1
            }
        };
        Ok(&mut steps[index])
    }

    fn start_step(&mut self, start: StepStart) -> Result<(), StoreError> {
        let step = self.step_mut(&start.execution_id, &start.step_id, Status::Running)?;
        // A retry keeps the first attempt's start, so the step's duration covers all its attempts.
        if start.attempt <= 1 || step.started_at.is_none() {
            step.started_at = Some(start.started_at);
        }
        step.status = Status::Running;
        step.attempts = start.attempt;
        step.input = Some(start.input.clone());
        step.completed_at = None;
        step.output = None;
        step.error = None;
        self.log(&start.execution_id, &lifecycle::step_started(&start));
        Ok(())
    }

    fn end_step(&mut self, end: StepEnd) -> Result<(), StoreError> {
        checks::step_end(&end)?;
        let step = self.step_mut(&end.execution_id, &end.step_id, end.status)?;
        step.status = end.status;
        step.attempts = end.attempts;
        step.output = end.output.clone();
        step.error = end.error.clone();
        step.completed_at = Some(end.completed_at);
        self.log(&end.execution_id, &lifecycle::step_ended(&end));
        Ok(())
    }

    /// Checks every record before applying any: all or nothing.
    fn record_steps(&mut self, ends: Vec<StepEnd>, start: Option<StepStart>) -> Result<(), StoreError> {
        for end in &ends {
            checks::step_end(end)?;
        }
        let executions = ends.iter().map(|end| &end.execution_id).chain(start.iter().map(|s| &s.execution_id));
        for id in executions {
            if !self.executions.contains_key(id) {
                return Err(StoreError::UnknownExecution { id: id.clone() });
            }
        }
        for end in ends {
            self.end_step(end)?;
        }
        start.map_or(Ok(()), |start| self.start_step(start))
    }
}

fn newest_first(a: &ExecutionSummary, b: &ExecutionSummary) -> std::cmp::Ordering {
    (b.started_at, &b.id).cmp(&(a.started_at, &a.id))
}

#[async_trait::async_trait]
impl Store for MemoryStore {
    fn save_workflow(&self, workflow: WorkflowDefinition) -> WriteAck<WorkflowRecord> {
        WriteAck::ready(Ok(self.state().save_workflow(workflow)))
    }

    fn create_execution(&self, execution: NewExecution) -> WriteAck<()> {
        WriteAck::ready(self.state().create_execution(execution))
    }

    fn mark_execution_running(&self, execution_id: &str, at: Timestamp) -> WriteAck<()> {
        WriteAck::ready(self.state().mark_running(execution_id, at))
    }

    fn start_resume(&self, execution_id: &str, at: Timestamp) -> WriteAck<u32> {
        WriteAck::ready(self.state().start_resume(execution_id, at))
    }

    fn finish_execution(&self, end: ExecutionEnd) -> WriteAck<()> {
        WriteAck::ready(self.state().finish_execution(end))
    }

    fn start_step(&self, start: StepStart) -> WriteAck<()> {
        WriteAck::ready(self.state().start_step(start))
    }

    fn end_step(&self, end: StepEnd) -> WriteAck<()> {
        WriteAck::ready(self.state().end_step(end))
    }

    fn record_steps(&self, ends: Vec<StepEnd>, start: Option<StepStart>) -> WriteAck<()> {
        WriteAck::ready(self.state().record_steps(ends, start))
    }

    fn append_log(&self, execution_id: &str, line: LogLine) {
        self.state().log(execution_id, &line);
    }

    fn flush(&self) -> WriteAck<()> {
        WriteAck::ready(Ok(()))
    }

    fn put_credential(&self, credential: CredentialRecord) -> WriteAck<()> {
        let mut state = self.state();
        let record = match state.credentials.get(&credential.name) {
            Some(old) => CredentialRecord { id: old.id.clone(), created_at: old.created_at, ..credential },
            None => credential,
        };
        state.credentials.insert(record.name.clone(), record);
        WriteAck::ready(Ok(()))
    }

    fn remove_credential(&self, name: &str) -> WriteAck<()> {
        let removed = self.state().credentials.remove(name);
        WriteAck::ready(removed.map(|_| ()).ok_or_else(|| StoreError::UnknownCredential { name: name.to_owned() }))
    }

    fn replace_credential_data(&self, changes: Vec<CredentialDataChange>) -> WriteAck<()> {
        let mut state = self.state();
        // Check every change before applying any: all or nothing.
        let stale = changes.iter().find(|c| state.credentials.get(&c.name).is_none_or(|old| old.data != c.old_data));
        if let Some(change) = stale {
            return WriteAck::ready(Err(StoreError::CredentialChanged { name: change.name.clone() }));
        }
        for change in changes {
            if let Some(record) = state.credentials.get_mut(&change.name) {
                record.data = change.new_data;
                record.updated_at = change.updated_at;
            }
        }
        WriteAck::ready(Ok(()))
    }

    fn record_connector(&self, connector: ConnectorRecord) -> WriteAck<()> {
        self.state().connectors.insert(connector.id.clone(), connector);
        WriteAck::ready(Ok(()))
    }

    fn remove_connector(&self, id: &str) -> WriteAck<()> {
        let removed = self.state().connectors.remove(id);
        WriteAck::ready(removed.map(|_| ()).ok_or_else(|| StoreError::UnknownConnector { id: id.to_owned() }))
    }

    fn register_instance(&self, instance: InstanceRecord) -> WriteAck<()> {
        self.state().instances.insert(instance.id.clone(), instance);
        WriteAck::ready(Ok(()))
    }

    fn renew_instance(&self, id: &str, at: Timestamp, lease: std::time::Duration) -> WriteAck<()> {
        let lease_expires_at = Timestamp(at.0.saturating_add(super::daemon::lease_micros(lease)));
        let mut state = self.state();
        let renewed = state.instances.get_mut(id).map(|instance| instance.lease_expires_at = lease_expires_at);
        WriteAck::ready(renewed.ok_or_else(|| StoreError::UnknownInstance { id: id.to_owned() }))
    }

    fn remove_instance(&self, id: &str) -> WriteAck<()> {
        self.state().instances.remove(id);
        WriteAck::ready(Ok(()))
    }

    fn accept_execution(&self, acceptance: Acceptance) -> WriteAck<Accepted> {
        WriteAck::ready(self.state().accept(acceptance))
    }

    fn adopt_execution(&self, execution_id: &str, owner: &str, from: Option<&str>) -> WriteAck<bool> {
        let mut state = self.state();
        let adopted = match state.executions.get_mut(execution_id) {
            Some(record) if !record.status.is_finished() && record.owner.as_deref() == from => {
                record.owner = Some(owner.to_owned());
                true
            }
            _ => false,
        };
        WriteAck::ready(Ok(adopted))
    }

    fn claim_execution(&self, execution_id: &str, owner: &str, at: Timestamp) -> WriteAck<bool> {
        let mut state = self.state();
        let claimed = match state.executions.get_mut(execution_id) {
            Some(record) if record.status == Status::Pending => {
                record.status = Status::Running;
                record.owner = Some(owner.to_owned());
                record.started_at = record.started_at.or(Some(at));
                true
            }
            _ => false,
        };
        WriteAck::ready(Ok(claimed))
    }

    fn sync_triggers(&self, workflow_id: &str, triggers: Vec<TriggerRecord>) -> WriteAck<()> {
        self.state().triggers.insert(workflow_id.to_owned(), triggers);
        WriteAck::ready(Ok(()))
    }

    fn set_workflow_enabled(&self, workflow_id: &str, enabled: bool) -> WriteAck<()> {
        let mut state = self.state();
        let set = state.workflows.get_mut(workflow_id).map(|workflow| workflow.is_enabled = enabled);
        WriteAck::ready(set.ok_or_else(|| StoreError::UnknownWorkflow { id: workflow_id.to_owned() }))
    }

    async fn workflows(&self) -> Result<Vec<WorkflowRecord>, StoreError> {
        let mut all: Vec<WorkflowRecord> = self.state().workflows.values().cloned().collect();
        all.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
        Ok(all)
    }

    async fn instances(&self) -> Result<Vec<InstanceRecord>, StoreError> {
        Ok(self.state().instances.values().cloned().collect())
    }

    async fn triggers(&self) -> Result<Vec<TriggerRecord>, StoreError> {
        let state = self.state();
        let mut all: Vec<TriggerRecord> = state.triggers.values().flatten().cloned().collect();
        all.sort_by(|a, b| (&a.workflow_id, &a.id).cmp(&(&b.workflow_id, &b.id)));
        Ok(all)
    }

    async fn last_slot(&self, trigger_id: &str) -> Result<Option<Timestamp>, StoreError> {
        let state = self.state();
        Ok(state
            .executions
            .values()
            .filter(|e| e.trigger_id.as_deref() == Some(trigger_id))
            .filter_map(|e| e.slot)
            .max())
    }

    async fn connectors(&self) -> Result<Vec<ConnectorRecord>, StoreError> {
        Ok(self.state().connectors.values().cloned().collect())
    }

    async fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        Ok(self.state().credentials.values().cloned().collect())
    }

    async fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError> {
        Ok(self.state().credentials.get(name).cloned())
    }

    async fn workflow(&self, id: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        Ok(self.state().workflows.get(id).cloned())
    }

    async fn workflow_by_name(&self, name: &str) -> Result<Option<WorkflowRecord>, StoreError> {
        let state = self.state();
        let mut matching: Vec<&WorkflowRecord> = state.workflows.values().filter(|w| w.name == name).collect();
        matching.sort_by(|a, b| (b.updated_at, &b.id).cmp(&(a.updated_at, &a.id)));
        Ok(matching.first().map(|record| (*record).clone()))
    }

    async fn workflow_definition(&self, id: &str, version: i64) -> Result<Option<String>, StoreError> {
        Ok(self.state().definitions.get(&(id.to_owned(), version)).cloned())
    }

    async fn load_execution(&self, id: &str) -> Result<Option<ExecutionRecord>, StoreError> {
        Ok(self.state().executions.get(id).cloned())
    }

    async fn list_executions(&self, filter: &ExecutionFilter) -> Result<Vec<ExecutionSummary>, StoreError> {
        let state = self.state();
        let mut found: Vec<ExecutionSummary> = state
            .executions
            .values()
            .filter(|e| filter.workflow_name.as_ref().is_none_or(|name| &e.workflow_name == name))
            .filter(|e| filter.status.is_none_or(|status| e.status == status))
            .map(ExecutionRecord::summary)
            .filter(|e| filter.trigger_type.is_none() || e.trigger_type == filter.trigger_type)
            .collect();
        found.sort_by(newest_first);
        if let Some(after) = &filter.after {
            let cursor = state.executions.get(after).map(|e| (e.started_at, e.id.clone()));
            found.retain(|e| cursor.as_ref().is_some_and(|(at, id)| (e.started_at, &e.id) < (*at, id)));
        }
        found.truncate(filter.limit);
        Ok(found)
    }

    async fn interrupted_executions(&self) -> Result<Vec<ExecutionSummary>, StoreError> {
        let state = self.state();
        let mut found: Vec<ExecutionSummary> =
            state.executions.values().filter(|e| !e.status.is_finished()).map(ExecutionRecord::summary).collect();
        found.sort_by(|a, b| newest_first(b, a));
        Ok(found)
    }

    async fn execution_ids_matching(&self, part: &str, limit: usize) -> Result<Vec<String>, StoreError> {
        if !log::is_valid_execution_id(part) {
            return Ok(Vec::new());
        }
        let state = self.state();
        if limit > 0 && state.executions.contains_key(part) {
            return Ok(vec![part.to_owned()]);
        }
        let matches = |id: &&String| id.starts_with(part) || id.ends_with(part);
        let mut ids: Vec<String> = state.executions.keys().filter(matches).cloned().collect();
        ids.sort();
        ids.truncate(limit);
        Ok(ids)
    }

    async fn read_log(&self, execution_id: &str) -> Result<Option<String>, StoreError> {
        Ok(self.state().logs.get(execution_id).cloned())
    }
}

#[cfg(test)]
mod tests {
    fn fresh_store() -> (super::MemoryStore, ()) {
        (super::MemoryStore::new(), ())
    }

    crate::store_conformance_tests!(fresh_store);
}
