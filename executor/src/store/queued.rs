//! A write queued to a store's writer (SQLite's thread, PostgreSQL's task): what it is, what it logs once
//! committed, and how its ack is answered. Each backend applies it with its own SQL.

use crate::store::connectors::ConnectorWrite;
use crate::store::credentials::CredentialWrite;
use crate::store::daemon::{DaemonAck, DaemonAnswer, DaemonWrite};
use crate::store::log::lifecycle;
use crate::store::{
    AckSender, ExecutionEnd, LogLine, NewExecution, StepEnd, StepStart, StoreError, WorkflowDefinition, WorkflowRecord,
};
use expr_grammar::Timestamp;

/// One queued write and the ack to answer.
pub(crate) enum Write {
    SaveWorkflow(WorkflowDefinition, AckSender<WorkflowRecord>),
    CreateExecution(NewExecution, AckSender<()>),
    MarkRunning(String, Timestamp, AckSender<()>),
    StartResume(String, Timestamp, AckSender<u32>),
    FinishExecution(ExecutionEnd, AckSender<()>),
    StartStep(StepStart, AckSender<()>),
    EndStep(StepEnd, AckSender<()>),
    /// Step ends, then optionally a step start, applied together (one savepoint).
    Steps(Vec<StepEnd>, Option<StepStart>, AckSender<()>),
    Log(String, LogLine),
    Flush(AckSender<()>),
    Credential(CredentialWrite, AckSender<()>),
    Connector(ConnectorWrite, AckSender<()>),
    Daemon(DaemonWrite, DaemonAck),
}

/// What a successful write gives back.
pub(crate) enum Done {
    Nothing,
    Workflow(WorkflowRecord),
    Daemon(DaemonAnswer),
    Count(u32),
}

pub(crate) type Outcome = Result<Done, StoreError>;

impl Write {
    pub(crate) fn touches_database(&self) -> bool {
        !matches!(self, Write::Log(..) | Write::Flush(_))
    }

    /// The execution a write belongs to (other than its creation).
    pub(crate) fn execution_id(&self) -> Option<&str> {
        match self {
            Write::MarkRunning(id, ..) | Write::StartResume(id, ..) => Some(id),
            Write::FinishExecution(end, _) => Some(&end.execution_id),
            Write::StartStep(start, _) => Some(&start.execution_id),
            Write::EndStep(end, _) => Some(&end.execution_id),
            Write::Steps(ends, start, _) => start
                .as_ref()
                .map(|start| start.execution_id.as_str())
                .or(ends.first().map(|end| end.execution_id.as_str())),
            Write::CreateExecution(..)
            | Write::SaveWorkflow(..)
            | Write::Log(..)
            | Write::Flush(_)
            | Write::Credential(..)
            | Write::Connector(..)
            | Write::Daemon(..) => None,
        }
    }

    pub(crate) fn at(&self) -> Option<Timestamp> {
        match self {
            Write::SaveWorkflow(workflow, _) => Some(workflow.saved_at),
            Write::CreateExecution(new, _) => Some(new.started_at),
            Write::MarkRunning(_, at, _) | Write::StartResume(_, at, _) => Some(*at),
            Write::FinishExecution(end, _) => Some(end.completed_at),
            Write::StartStep(start, _) => Some(start.started_at),
            Write::EndStep(end, _) => Some(end.completed_at),
            Write::Steps(ends, start, _) => {
                start.as_ref().map(|start| start.started_at).or(ends.last().map(|end| end.completed_at))
            }
            Write::Log(_, line) => Some(line.at),
            Write::Flush(_) => None,
            Write::Credential(write, _) => write.at(),
            Write::Connector(write, _) => write.at(),
            Write::Daemon(write, _) => write.at(),
        }
    }

    /// What the write was doing, for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Write::SaveWorkflow(workflow, _) => format!("saving workflow {}", workflow.id),
            Write::CreateExecution(new, _) => format!("creating execution {}", new.id),
            Write::MarkRunning(id, ..) => format!("marking execution {id} running"),
            Write::StartResume(id, ..) => format!("starting to resume execution {id}"),
            Write::FinishExecution(end, _) => format!("recording the end of execution {}", end.execution_id),
            Write::StartStep(s, _) => {
                format!("recording the start of step {} of execution {}", s.step_id, s.execution_id)
            }
            Write::EndStep(e, _) => format!("recording the end of step {} of execution {}", e.step_id, e.execution_id),
            Write::Steps(ends, start, _) => describe_steps(ends, start.as_ref()),
            Write::Log(id, _) => format!("logging for execution {id}"),
            Write::Flush(_) => "flushing".to_owned(),
            Write::Credential(write, _) => write.describe(),
            Write::Connector(write, _) => write.describe(),
            Write::Daemon(write, _) => write.describe(),
        }
    }

    /// The log lines a committed write adds, each with its execution id.
    pub(crate) fn log_lines(&self, mut push: impl FnMut(&str, &LogLine)) {
        match self {
            Write::CreateExecution(new, _) => push(&new.id, &lifecycle::execution_created(new)),
            Write::MarkRunning(id, at, _) => push(id, &lifecycle::execution_running(*at)),
            Write::StartResume(id, at, _) => push(id, &lifecycle::execution_resumed(*at)),
            Write::FinishExecution(end, _) => push(&end.execution_id, &lifecycle::execution_finished(end)),
            Write::StartStep(start, _) => push(&start.execution_id, &lifecycle::step_started(start)),
            Write::EndStep(end, _) => push(&end.execution_id, &lifecycle::step_ended(end)),
            Write::Steps(ends, start, _) => {
                for end in ends {
                    push(&end.execution_id, &lifecycle::step_ended(end));
                }
                if let Some(start) = start {
                    push(&start.execution_id, &lifecycle::step_started(start));
                }
            }
            Write::Log(id, line) => push(id, line),
            Write::Daemon(write, _) => {
                if let Some(new) = write.accepted_execution() {
                    push(&new.id, &lifecycle::execution_created(new));
                }
            }
            Write::SaveWorkflow(..) | Write::Flush(_) | Write::Credential(..) | Write::Connector(..) => {}
        }
    }

    pub(crate) fn answer(self, outcome: Outcome) {
        let unit = |outcome: Outcome| outcome.map(|_| ());
        let (sent, error) = match self {
            Write::SaveWorkflow(_, ack) => {
                let result = outcome.and_then(|done| match done {
                    Done::Workflow(record) => Ok(record),
                    _ => Err(StoreError::WriterStopped),
                });
                let error = result.as_ref().err().cloned();
                (ack.send(result).is_ok(), error)
            }
            Write::StartResume(_, _, ack) => {
                let result = outcome.and_then(|done| match done {
                    Done::Count(attempts) => Ok(attempts),
                    _ => Err(StoreError::WriterStopped),
                });
                let error = result.as_ref().err().cloned();
                (ack.send(result).is_ok(), error)
            }
            Write::CreateExecution(_, ack)
            | Write::MarkRunning(_, _, ack)
            | Write::FinishExecution(_, ack)
            | Write::StartStep(_, ack)
            | Write::EndStep(_, ack)
            | Write::Steps(_, _, ack)
            | Write::Flush(ack)
            | Write::Credential(_, ack)
            | Write::Connector(_, ack) => {
                let result = unit(outcome);
                let error = result.as_ref().err().cloned();
                (ack.send(result).is_ok(), error)
            }
            Write::Daemon(_, ack) => {
                let result = outcome.and_then(|done| match done {
                    Done::Daemon(answer) => Ok(answer),
                    _ => Err(StoreError::WriterStopped),
                });
                let error = result.as_ref().err().cloned();
                (ack.send(result), error)
            }
            Write::Log(..) => (true, None),
        };
        if let (false, Some(error)) = (sent, error) {
            tracing::warn!("store write failed and nobody awaited it: {error}");
        }
    }
}

pub(crate) fn describe_steps(ends: &[StepEnd], start: Option<&StepStart>) -> String {
    let ended: Vec<&str> = ends.iter().map(|end| end.step_id.as_str()).collect();
    let execution = start.map(|s| &s.execution_id).or(ends.first().map(|e| &e.execution_id));
    let mut text = String::from("recording ");
    if !ended.is_empty() {
        text.push_str(&format!("the end of step {}", ended.join(", ")));
    }
    if let Some(start) = start {
        text.push_str(if ended.is_empty() { "the start of step " } else { " and the start of step " });
        text.push_str(&start.step_id);
    }
    if let Some(execution) = execution {
        text.push_str(&format!(" of execution {execution}"));
    }
    text
}
