//! Executions: list (filters, cursor pages), one with its steps' inputs and outputs (secrets were masked before
//! they were stored), cancel, retry, and the log.

use super::error::ApiError;
use super::types::{
    CancelResult, ExecutionDetail, ExecutionPage, ExecutionSummary, LogEntry, LogPage, RetryFrom, RetryRequest,
    RetryVersion, RunAccepted, StepDetail,
};
use crate::daemon::Daemon;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use executor::engine::Rerun;
use executor::store::{ExecutionFilter, ExecutionRecord, Status, Timestamp, rfc3339_micros};
use serde::Deserialize;
use std::sync::Arc;

/// Most executions per page.
const MAX_PAGE: usize = 500;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this workflow's executions (its name).
    workflow: Option<String>,
    /// Only executions with this status.
    #[param(inline)]
    status: Option<StatusName>,
    /// Only those started by this kind of trigger: manual, schedule, webhook, file_watch.
    trigger: Option<String>,
    /// The `next_cursor` of the previous page.
    after: Option<String>,
    /// At most this many (default 50; 0 is read as 1, more than 500 as 500).
    #[param(format = "uint32", maximum = 4294967295_u32)]
    limit: Option<u32>,
}

/// An execution status, as a filter.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusName {
    Pending,
    Running,
    Success,
    Failed,
    Skipped,
    Cancelled,
}

impl StatusName {
    fn status(self) -> Status {
        match self {
            StatusName::Pending => Status::Pending,
            StatusName::Running => Status::Running,
            StatusName::Success => Status::Success,
            StatusName::Failed => Status::Failed,
            StatusName::Skipped => Status::Skipped,
            StatusName::Cancelled => Status::Cancelled,
        }
    }
}

fn micros_between(start: Option<Timestamp>, end: Option<Timestamp>) -> Option<i64> {
    Some((end?.0 - start?.0) / 1000)
}

pub(crate) fn summary_json(summary: &executor::store::ExecutionSummary) -> ExecutionSummary {
    ExecutionSummary {
        id: summary.id.clone(),
        workflow: summary.workflow_name.clone(),
        status: summary.status.to_string(),
        trigger_type: summary.trigger_type.clone(),
        started_at: summary.started_at.map(rfc3339_micros),
        completed_at: summary.completed_at.map(rfc3339_micros),
        duration_ms: micros_between(summary.started_at, summary.completed_at),
        error: summary.error.clone(),
    }
}

/// Executions, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/executions", tag = "executions", operation_id = "list_executions", params(ListQuery),
    responses((status = 200, description = "A page of executions", body = ExecutionPage),
              (status = 400, description = "A `status` or `limit` that is not one", body = super::ErrorBody)))]
pub async fn list(
    State(daemon): State<Arc<Daemon>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ExecutionPage>, ApiError> {
    let limit = usize::try_from(query.limit.unwrap_or(50)).unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let filter = ExecutionFilter {
        workflow_name: query.workflow,
        status: query.status.map(StatusName::status),
        trigger_type: query.trigger,
        after: query.after,
        // One more than asked tells whether there is a next page.
        limit: limit + 1,
    };
    let mut found = daemon.store.list_executions(&filter).await?;
    let next_cursor = (found.len() > limit).then(|| found[limit - 1].id.clone());
    found.truncate(limit);
    Ok(Json(ExecutionPage { items: found.iter().map(summary_json).collect(), next_cursor }))
}

async fn load(daemon: &Daemon, id: &str) -> Result<ExecutionRecord, ApiError> {
    let id = daemon.store.resolve_execution_id(id).await.map_err(|err| match err {
        executor::store::LookupError::Store(err) => ApiError::from(err),
        other => ApiError::not_found(other.to_string()),
    })?;
    daemon.store.load_execution(&id).await?.ok_or_else(|| ApiError::not_found(format!("no execution {id}")))
}

/// One execution with its steps: each step's resolved input and output.
#[utoipa::path(get, path = "/api/v1/executions/{id}", tag = "executions", operation_id = "get_execution",
    params(("id" = String, Path, description = "The execution id (or a unique start or end of it)")),
    responses((status = 200, description = "The execution and its steps", body = ExecutionDetail),
              (status = 404, description = "No such execution", body = super::ErrorBody)))]
pub async fn get(State(daemon): State<Arc<Daemon>>, Path(id): Path<String>) -> Result<Json<ExecutionDetail>, ApiError> {
    let record = load(&daemon, &id).await?;
    Ok(Json(detail(record)))
}

fn detail(record: ExecutionRecord) -> ExecutionDetail {
    ExecutionDetail {
        duration_ms: micros_between(record.started_at, record.completed_at),
        id: record.id,
        workflow: record.workflow_name,
        workflow_version: record.workflow_version,
        status: record.status.to_string(),
        trigger: record.trigger,
        input: record.input,
        started_at: record.started_at.map(rfc3339_micros),
        completed_at: record.completed_at.map(rfc3339_micros),
        error: record.error,
        retry_of: record.retry_of.as_ref().map(|retry| retry.execution_id.clone()),
        retry_from: record.retry_of.and_then(|retry| retry.from_step),
        steps: record
            .steps
            .into_iter()
            .map(|step| StepDetail {
                duration_ms: micros_between(step.started_at, step.completed_at),
                id: step.step_id,
                status: step.status.to_string(),
                attempts: step.attempts,
                started_at: step.started_at.map(rfc3339_micros),
                completed_at: step.completed_at.map(rfc3339_micros),
                input: step.input,
                output: step.output,
                error: step.error,
            })
            .collect(),
    }
}

/// Cancels a running or queued execution.
#[utoipa::path(post, path = "/api/v1/executions/{id}/cancel", tag = "executions",
    params(("id" = String, Path, description = "The execution id")),
    responses((status = 200, description = "Cancelled, or asked to stop", body = CancelResult),
              (status = 404, description = "No such execution", body = super::ErrorBody),
              (status = 409, description = "Already finished, or recorded running but run by no live process \
                (`pilot resume` takes it over)", body = super::ErrorBody)))]
pub async fn cancel(State(daemon): State<Arc<Daemon>>, Path(id): Path<String>) -> Result<Json<CancelResult>, ApiError> {
    let record = load(&daemon, &id).await?;
    let status = daemon.cancel(&record.id).await?;
    Ok(Json(CancelResult { execution_id: record.id, status: status.to_owned() }))
}

/// Runs a finished execution again as a new one: from its failed steps, from the start, or from a chosen step,
/// with the version that ran or the workflow as it is now. Its trigger data stays the original's.
#[utoipa::path(post, path = "/api/v1/executions/{id}/retry", tag = "executions", request_body = Option<RetryRequest>,
    params(("id" = String, Path, description = "The execution id")),
    responses((status = 202, description = "The retry started", body = RunAccepted),
              (status = 404, description = "No such execution", body = super::ErrorBody),
              (status = 409, description = "Not finished yet, or the version to run cannot run now (not loaded, no \
                longer compiles, needs a credential that is not stored)", body = super::ErrorBody),
              (status = 422, description = "Unknown step, nothing to retry, or a body that does not fit RetryRequest", body = super::ErrorBody)))]
pub async fn retry(
    State(daemon): State<Arc<Daemon>>,
    Path(id): Path<String>,
    // No body, or `null`: the defaults.
    body: Option<Json<Option<RetryRequest>>>,
) -> Result<(StatusCode, Json<RunAccepted>), ApiError> {
    let request = body.and_then(|Json(body)| body).unwrap_or_default();
    let record = load(&daemon, &id).await?;
    let rerun = match (request.from, request.step) {
        (RetryFrom::Failed, _) => Rerun::Failed,
        (RetryFrom::Start, _) => Rerun::All,
        (RetryFrom::Step, Some(step)) => Rerun::From(step),
        (RetryFrom::Step, None) => return Err(ApiError::unprocessable("invalid_retry", "`from: step` needs `step`")),
    };
    let current = match request.version {
        RetryVersion::Ran => None,
        RetryVersion::Current => Some(daemon.workflow(&record.workflow_name).ok_or_else(|| {
            ApiError::conflict(format!(
                "workflow `{}` is not loaded: retry with the version that ran",
                record.workflow_name
            ))
        })?),
    };
    let new_id = daemon.retry(&record.id, rerun, current.as_deref().map(|loaded| &loaded.workflow)).await?;
    Ok((StatusCode::ACCEPTED, Json(RunAccepted { execution_id: new_id, status: "running".to_owned() })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// Skip the first lines (the `next_offset` of the previous page).
    #[param(format = "uint32", maximum = 4294967295_u32)]
    offset: Option<u32>,
    /// At most this many lines (default 1000; 0 is read as 1, more than 10000 as 10000).
    #[param(format = "uint32", maximum = 4294967295_u32)]
    limit: Option<u32>,
}

/// The execution's log, a page of lines at a time. To follow it live, read `/api/v1/events?execution_id=ID`
/// (its `log` events), or ask again from `next_offset` until `finished`.
#[utoipa::path(get, path = "/api/v1/executions/{id}/logs", tag = "executions", params(("id" = String, Path, description = "The execution id"), LogQuery),
    responses((status = 200, description = "A page of log lines", body = LogPage),
              (status = 400, description = "An `offset` or `limit` that is not a number", body = super::ErrorBody),
              (status = 404, description = "No such execution", body = super::ErrorBody)))]
pub async fn logs(
    State(daemon): State<Arc<Daemon>>,
    Path(id): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Json<LogPage>, ApiError> {
    let record = load(&daemon, &id).await?;
    let text = daemon.store.read_log(&record.id).await?.unwrap_or_default();
    let offset = usize::try_from(query.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = usize::try_from(query.limit.unwrap_or(1000)).unwrap_or(10_000).clamp(1, 10_000);
    let lines: Vec<LogEntry> = text.lines().skip(offset).take(limit).map(parse_log_line).collect();
    Ok(Json(LogPage { next_offset: offset + lines.len(), lines, finished: record.status.is_finished() }))
}

/// A log line as its fields.
pub fn parse_log_line(line: &str) -> LogEntry {
    let line = executor::store::RenderedLine::parse(line);
    LogEntry {
        at: line.at.to_owned(),
        level: line.level.to_owned(),
        step_id: line.step_id.map(str::to_owned),
        message: line.message.to_owned(),
    }
}
