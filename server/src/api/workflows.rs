//! Workflows: list, read, save (written atomically to `workflows/`, refused when it does not compile), delete,
//! enable, disable, run by name, and `check` (diagnostics and the editor's graph, nothing saved).

use super::error::ApiError;
use super::executions::summary_json;
use super::types::{
    CheckResult, Diagnostic, RunAccepted, RunRequest, SavedWorkflow, TriggerSummary, WorkflowDetail, WorkflowSource,
    WorkflowSummary,
};
use crate::daemon::catalog::{FileState, LoadedWorkflow};
use crate::daemon::{AcceptRequest, Daemon};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use compiler::TriggerPlan;
use compiler::render::to_json;
use executor::store::{ExecutionFilter, rfc3339_micros};
use std::sync::Arc;

/// Every workflow: those that run, and files that define none (they do not compile, or were refused).
#[utoipa::path(get, path = "/api/v1/workflows", tag = "workflows", operation_id = "list_workflows", responses((status = 200, description = "Every workflow file", body = Vec<WorkflowSummary>)))]
pub async fn list(State(daemon): State<Arc<Daemon>>) -> Result<Json<Vec<WorkflowSummary>>, ApiError> {
    let mut found = Vec::new();
    for loaded in daemon.workflows() {
        found.push(summary(&daemon, &loaded).await?);
    }
    let unloaded: Vec<WorkflowSummary> =
        daemon.with_catalog(|catalog| catalog.unloaded_files().map(unloaded_summary).collect());
    found.extend(unloaded);
    Ok(Json(found))
}

/// A file whose workflow does not run (it does not compile, or was refused), with its problem.
pub(crate) fn unloaded_summary(file: &FileState) -> WorkflowSummary {
    WorkflowSummary {
        name: file.name.clone().unwrap_or_default(),
        description: None,
        file: file.path.display().to_string(),
        enabled: false,
        triggers: Vec::new(),
        next_fire: None,
        last_execution: None,
        problem: file.problem.clone(),
    }
}

async fn summary(daemon: &Daemon, loaded: &LoadedWorkflow) -> Result<WorkflowSummary, ApiError> {
    let enabled = daemon.is_enabled_now(&loaded.name);
    let filter = ExecutionFilter { workflow_name: Some(loaded.name.clone()), limit: 1, ..ExecutionFilter::default() };
    let last = daemon.store.list_executions(&filter).await?.into_iter().next();
    let problem = daemon.with_catalog(|catalog| catalog.file(&loaded.path).and_then(|file| file.problem.clone()));
    let next_fire = if enabled { daemon.next_fire(loaded) } else { None };
    Ok(WorkflowSummary {
        name: loaded.name.clone(),
        description: loaded.workflow.plan.workflow.description.clone(),
        file: loaded.path.display().to_string(),
        enabled,
        triggers: loaded
            .triggers
            .iter()
            .map(|trigger| TriggerSummary {
                id: trigger.id.clone(),
                kind: trigger.kind().to_owned(),
                summary: describe(&trigger.plan),
                next_fire: if enabled { daemon.next_fire_of(trigger).map(rfc3339_micros) } else { None },
            })
            .collect(),
        next_fire: next_fire.map(rfc3339_micros),
        last_execution: last.as_ref().map(summary_json),
        problem,
    })
}

/// One line about a trigger.
pub(crate) fn describe(plan: &TriggerPlan) -> String {
    match plan {
        TriggerPlan::Schedule(schedule) => match &schedule.timezone {
            Some(zone) => format!("{} ({zone})", schedule.cron),
            None => schedule.cron.clone(),
        },
        TriggerPlan::Webhook(webhook) => format!("{} {}", webhook.method, webhook.path),
        TriggerPlan::FileWatch(watch) => match &watch.pattern {
            Some(pattern) => format!("{} ({pattern})", watch.path),
            None => watch.path.clone(),
        },
        TriggerPlan::Manual => "by hand".to_owned(),
    }
}

/// A workflow with its source (literal secrets masked) and diagnostics.
#[utoipa::path(get, path = "/api/v1/workflows/{name}", tag = "workflows", operation_id = "get_workflow",
    params(("name" = String, Path, description = "The workflow's `name:`")),
    responses((status = 200, description = "The workflow", body = WorkflowDetail),
              (status = 404, description = "No such workflow", body = super::ErrorBody)))]
pub async fn get(
    State(daemon): State<Arc<Daemon>>,
    Path(name): Path<String>,
) -> Result<Json<WorkflowDetail>, ApiError> {
    let (loaded, file) = match daemon.workflow(&name) {
        Some(loaded) => {
            let file = daemon.with_catalog(|catalog| catalog.file(&loaded.path).cloned());
            (Some(loaded), file)
        }
        None => (None, daemon.with_catalog(|catalog| catalog.file_of(&name).cloned())),
    };
    let Some(file) = file else { return Err(ApiError::not_found(format!("no workflow named `{name}`"))) };
    let source = std::fs::read_to_string(&file.path).unwrap_or_default();
    let summary = match &loaded {
        Some(loaded) => summary(&daemon, loaded).await?,
        None => WorkflowSummary {
            name: name.clone(),
            description: None,
            file: file.path.display().to_string(),
            enabled: false,
            triggers: Vec::new(),
            next_fire: None,
            last_execution: None,
            problem: file.problem.clone(),
        },
    };
    let secrets = loaded.as_ref().map(|loaded| literal_secrets(loaded)).unwrap_or_default();
    Ok(Json(WorkflowDetail {
        summary,
        source: mask(&source, &secrets),
        diagnostics: file.diagnostics.into_iter().map(Diagnostic::from).collect(),
    }))
}

/// The webhook secrets written in clear in a workflow's file.
pub(crate) fn literal_secrets(loaded: &LoadedWorkflow) -> Vec<String> {
    loaded
        .triggers
        .iter()
        .filter_map(|trigger| match &trigger.plan {
            TriggerPlan::Webhook(webhook) => match &webhook.auth {
                Some(compiler::WebhookAuth { secret: compiler::WebhookSecret::Literal(text), .. }) => {
                    Some(text.clone())
                }
                _ => None,
            },
            _ => None,
        })
        .filter(|text| !text.is_empty())
        .collect()
}

pub(crate) fn mask(source: &str, secrets: &[String]) -> String {
    secrets.iter().fold(source.to_owned(), |text, secret| text.replace(secret.as_str(), "***"))
}

/// Creates or replaces a workflow from its text: written atomically to `workflows/` (the file that already
/// defines its name, else `file_name` or `NAME.yaml`), refused with the diagnostics when it does not compile.
/// A new workflow saved with `enabled: false` starts disabled.
#[utoipa::path(post, path = "/api/v1/workflows", tag = "workflows", request_body = WorkflowSource,
    responses((status = 200, description = "Saved", body = SavedWorkflow),
              (status = 422, description = "Does not compile (`details.diagnostics`), a `file_name` that is not a \
                plain NAME.yaml, .yml or .json, or a body that does not fit WorkflowSource", body = super::ErrorBody),
              (status = 409, description = "Refused: another workflow has its webhook path", body = super::ErrorBody)))]
pub async fn save(
    State(daemon): State<Arc<Daemon>>,
    Json(request): Json<WorkflowSource>,
) -> Result<Json<SavedWorkflow>, ApiError> {
    let file_label = request.file_name.clone().unwrap_or_else(|| "workflow.yaml".to_owned());
    let workflow = match executor::Workflow::compile(&request.source, &file_label, &daemon.catalogue) {
        Ok(workflow) => workflow,
        Err(diagnostics) => {
            let listed: Vec<Diagnostic> =
                to_json(&file_label, &request.source, &diagnostics).into_iter().map(Diagnostic::from).collect();
            return Err(ApiError::unprocessable(
                "invalid_workflow",
                "the workflow does not compile; nothing was saved",
            )
            .with_details(serde_json::json!({ "diagnostics": listed })));
        }
    };
    let name = workflow.plan.workflow.name.clone();
    let folder = daemon.home.workflows();
    let existing = daemon.with_catalog(|catalog| catalog.file_of(&name).map(|file| file.path.clone()));
    let path = match (existing.clone(), &request.file_name) {
        (Some(path), _) => path,
        (None, Some(file_name)) => folder.join(valid_file_name(file_name)?),
        (None, None) => folder.join(format!("{}.yaml", safe_stem(&name))),
    };
    if existing.is_none() && request.enabled == Some(false) {
        // Recorded as disabled before the file exists, so neither this save nor the file watcher starts its triggers.
        daemon.engine.register(&workflow).await?;
        daemon.set_enabled(&name, false).await?;
    }
    write_atomically(&path, &request.source)
        .map_err(|err| ApiError::internal(format!("cannot write {}: {err}", path.display())))?;
    daemon.reload_file(&path).await;
    let state = daemon.with_catalog(|catalog| catalog.file(&path).cloned());
    let diagnostics: Vec<Diagnostic> =
        state.as_ref().map(|file| file.diagnostics.iter().cloned().map(Diagnostic::from).collect()).unwrap_or_default();
    if let Some(problem) = state.and_then(|file| file.problem) {
        return Err(ApiError::conflict(problem).with_details(serde_json::json!({ "diagnostics": diagnostics })));
    }
    Ok(Json(SavedWorkflow { name, file: path.display().to_string(), diagnostics }))
}

fn valid_file_name(name: &str) -> Result<&str, ApiError> {
    let plain = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']) && name != "..";
    if plain && crate::daemon::catalog::is_workflow_file(std::path::Path::new(name)) {
        Ok(name)
    } else {
        let message = format!("`{name}` is not a workflow file name: a plain NAME.yaml, .yml or .json");
        Err(ApiError::unprocessable("invalid_file_name", message))
    }
}

/// A file name from a workflow name: letters, digits, `-`, `_` and `.` kept, anything else `-`.
fn safe_stem(name: &str) -> String {
    let stem: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' }).collect();
    let stem = stem.trim_matches('.').to_owned();
    if stem.is_empty() { "workflow".to_owned() } else { stem }
}

/// Beside the target, then renamed over it: a reader (the daemon's watcher) never sees half a file.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let folder = path.parent().unwrap_or(std::path::Path::new("."));
    let mut file = tempfile::Builder::new().prefix(".saving-").tempfile_in(folder)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|err| err.error)?;
    Ok(())
}

/// Deletes the workflow's file: its triggers stop.
#[utoipa::path(delete, path = "/api/v1/workflows/{name}", tag = "workflows",
    params(("name" = String, Path, description = "The workflow's `name:`")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such workflow", body = super::ErrorBody)))]
pub async fn delete(State(daemon): State<Arc<Daemon>>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    let Some(path) = daemon.with_catalog(|catalog| catalog.file_of(&name).map(|file| file.path.clone())) else {
        return Err(ApiError::not_found(format!("no workflow named `{name}`")));
    };
    std::fs::remove_file(&path)
        .map_err(|err| ApiError::internal(format!("cannot delete {}: {err}", path.display())))?;
    daemon.reload_file(&path).await;
    Ok(StatusCode::NO_CONTENT)
}

/// Enables a workflow: its triggers start, runs by name are accepted.
#[utoipa::path(post, path = "/api/v1/workflows/{name}/enable", tag = "workflows",
    params(("name" = String, Path, description = "The workflow's `name:`")),
    responses((status = 200, description = "Enabled", body = WorkflowSummary),
              (status = 404, description = "No such workflow", body = super::ErrorBody)))]
pub async fn enable(
    State(daemon): State<Arc<Daemon>>,
    Path(name): Path<String>,
) -> Result<Json<WorkflowSummary>, ApiError> {
    set_enabled(daemon, name, true).await
}

/// Disables a workflow: its triggers stop (webhooks answer 409), runs by name are refused.
#[utoipa::path(post, path = "/api/v1/workflows/{name}/disable", tag = "workflows",
    params(("name" = String, Path, description = "The workflow's `name:`")),
    responses((status = 200, description = "Disabled", body = WorkflowSummary),
              (status = 404, description = "No such workflow", body = super::ErrorBody)))]
pub async fn disable(
    State(daemon): State<Arc<Daemon>>,
    Path(name): Path<String>,
) -> Result<Json<WorkflowSummary>, ApiError> {
    set_enabled(daemon, name, false).await
}

async fn set_enabled(daemon: Arc<Daemon>, name: String, enabled: bool) -> Result<Json<WorkflowSummary>, ApiError> {
    let Some(loaded) = daemon.workflow(&name) else {
        return Err(ApiError::not_found(format!("no workflow named `{name}`")));
    };
    daemon.set_enabled(&name, enabled).await?;
    Ok(Json(summary(&daemon, &loaded).await?))
}

/// Runs a workflow now (a manual trigger), with typed inputs checked as `pilot run` checks them.
#[utoipa::path(post, path = "/api/v1/workflows/{name}/run", tag = "workflows", request_body = Option<RunRequest>,
    params(("name" = String, Path, description = "The workflow's `name:`")),
    responses((status = 202, description = "Accepted: recorded pending, it starts when there is room", body = RunAccepted),
              (status = 404, description = "No such workflow", body = super::ErrorBody),
              (status = 409, description = "Disabled", body = super::ErrorBody),
              (status = 422, description = "Inputs that do not fit the workflow's `inputs:`, or a body that does not fit RunRequest", body = super::ErrorBody)))]
pub async fn run(
    State(daemon): State<Arc<Daemon>>,
    Path(name): Path<String>,
    // No body, or `null`: no inputs.
    body: Option<Json<Option<RunRequest>>>,
) -> Result<(StatusCode, Json<RunAccepted>), ApiError> {
    let Some(loaded) = daemon.workflow(&name) else {
        return Err(ApiError::not_found(format!("no workflow named `{name}`")));
    };
    let request = AcceptRequest {
        workflow: loaded,
        trigger_id: None,
        trigger: serde_json::json!({ "type": "manual" }),
        inputs: body.and_then(|Json(body)| body).map(|body| body.inputs).unwrap_or_default(),
        slot: None,
        idempotency_key: None,
    };
    let accepted = daemon.accept(request).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted.into())))
}

/// Checks a workflow's text: its diagnostics and its graph for the editor (as far as it can be read even with
/// errors). Nothing is saved.
#[utoipa::path(post, path = "/api/v1/check", tag = "workflows", request_body = WorkflowSource,
    responses((status = 200, description = "Its diagnostics and graph", body = CheckResult)))]
pub async fn check(State(daemon): State<Arc<Daemon>>, Json(request): Json<WorkflowSource>) -> Json<CheckResult> {
    let file = request.file_name.clone().unwrap_or_else(|| "workflow.yaml".to_owned());
    let (_, diagnostics) = compiler::compile(&request.source, &file, &daemon.catalogue);
    let ok = !diagnostics.iter().any(compiler::Diagnostic::is_error);
    let diagnostics = to_json(&file, &request.source, &diagnostics).into_iter().map(Diagnostic::from).collect();
    let graph = Some(compiler::outline(&request.source, &daemon.catalogue));
    Json(CheckResult { ok, diagnostics, graph })
}
