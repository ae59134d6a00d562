//! The daemon itself: health, the connector catalogue, the workflow JSON Schema, credential names, schedules.

use super::error::ApiError;
use super::types::{CredentialInfo, FunctionInfo, Health, ScheduledTrigger};
use crate::daemon::Daemon;
use axum::Json;
use axum::extract::State;
use executor::store::rfc3339_micros;
use std::sync::Arc;

type Json2 = serde_json::Value;

/// Whether the daemon runs, and how busy it is.
#[utoipa::path(get, path = "/api/v1/health", tag = "system", responses((status = 200, description = "The daemon runs", body = Health)))]
pub async fn health(State(daemon): State<Arc<Daemon>>) -> Json<Health> {
    let (waiting, running) = daemon.queue_depth();
    Json(Health {
        status: if daemon.is_stopping() { "stopping" } else { "ok" }.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        instance: daemon.instance_id.clone(),
        started_at: rfc3339_micros(daemon.started_at),
        waiting,
        running,
        workflows: daemon.workflows().len(),
    })
}

/// Every action a workflow can call, with its typed inputs, output type and effect.
#[utoipa::path(get, path = "/api/v1/connectors", tag = "system",
    responses((status = 200, description = "`actions`: the catalogue", body = Object)))]
pub async fn connectors(State(daemon): State<Arc<Daemon>>) -> Result<Json<Json2>, ApiError> {
    serde_json::to_value(&*daemon.catalogue).map(Json).map_err(|err| ApiError::internal(err.to_string()))
}

/// The expression language's functions with their signatures, for the editor's completion.
#[utoipa::path(get, path = "/api/v1/functions", tag = "system",
    responses((status = 200, description = "Every function expressions may call, with its signature", body = Vec<FunctionInfo>)))]
pub async fn functions() -> Json<Vec<FunctionInfo>> {
    Json(expr_grammar::function_docs().into_iter().map(FunctionInfo::from).collect())
}

/// The JSON Schema of workflow files (with the installed custom connectors' actions), for editors.
#[utoipa::path(get, path = "/api/v1/schema", tag = "system", responses((status = 200, description = "A JSON Schema (draft 2020-12)", body = Object)))]
pub async fn workflow_schema(State(daemon): State<Arc<Daemon>>) -> Json<Json2> {
    Json(compiler::schema::workflow_schema(&daemon.catalogue))
}

/// The stored credentials: names and providers only, never values.
#[utoipa::path(get, path = "/api/v1/credentials", tag = "system", responses((status = 200, description = "Names and providers", body = Vec<CredentialInfo>)))]
pub async fn credentials(State(daemon): State<Arc<Daemon>>) -> Result<Json<Vec<CredentialInfo>>, ApiError> {
    let records = daemon.store.credentials().await?;
    Ok(Json(
        records
            .into_iter()
            .map(|record| CredentialInfo {
                name: record.name,
                provider: record.provider,
                created_at: rfc3339_micros(record.created_at),
                updated_at: rfc3339_micros(record.updated_at),
            })
            .collect(),
    ))
}

/// Every enabled schedule with its next fire time.
#[utoipa::path(get, path = "/api/v1/scheduled", tag = "system", responses((status = 200, description = "The enabled schedules", body = Vec<ScheduledTrigger>)))]
pub async fn scheduled(State(daemon): State<Arc<Daemon>>) -> Json<Vec<ScheduledTrigger>> {
    Json(
        daemon
            .scheduled()
            .into_iter()
            .map(|(workflow, trigger_id, next)| ScheduledTrigger {
                workflow,
                trigger_id,
                next_fire: next.map(rfc3339_micros),
            })
            .collect(),
    )
}

/// Anything else under `/api/`: a JSON 404 (never a webhook, never the UI).
pub async fn api_not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no API route {}", uri.path()))
}
