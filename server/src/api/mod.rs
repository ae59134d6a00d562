//! The HTTP side of the daemon: the REST API under `/api/v1` (JSON, described by an OpenAPI 3.1 document generated
//! from the handlers' types, served at `/api/v1/openapi.json`), the live events stream, the webhooks and the UI.
//!
//! Handlers only translate HTTP to a call on [`Daemon`] (or its store and engine) and back; status codes are chosen
//! in `error.rs`. Routing order: `/api/v1/...` first, then the workflows' webhook paths, then the UI's files.

mod auth;
mod error;
mod events;
mod executions;
mod system;
mod types;
mod workflows;

pub use auth::{ApiToken, TOKEN_FILE};
pub use error::{ApiError, ErrorBody};
pub(crate) use executions::summary_json;
pub use types::*;
pub(crate) use workflows::{describe, literal_secrets, mask, unloaded_summary};

use crate::daemon::Daemon;
use std::sync::Arc;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Dooz Pilot API", description = "The daemon's API: workflows, executions, live events."),
    tags((name = "workflows"), (name = "executions"), (name = "events"), (name = "system"))
)]
struct ApiDoc;

/// The API routes (under `/api/v1`) and the OpenAPI document describing them.
fn api_routes() -> (axum::Router<Arc<Daemon>>, utoipa::openapi::OpenApi) {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(system::health))
        .routes(routes!(system::connectors))
        .routes(routes!(system::workflow_schema))
        .routes(routes!(system::functions))
        .routes(routes!(system::credentials))
        .routes(routes!(system::scheduled))
        .routes(routes!(workflows::check))
        .routes(routes!(workflows::list, workflows::save))
        .routes(routes!(workflows::get, workflows::delete))
        .routes(routes!(workflows::enable))
        .routes(routes!(workflows::disable))
        .routes(routes!(workflows::run))
        .routes(routes!(executions::list))
        .routes(routes!(executions::get))
        .routes(routes!(executions::cancel))
        .routes(routes!(executions::retry))
        .routes(routes!(executions::logs))
        .routes(routes!(events::stream));
    let (router, mut document) = api.split_for_parts();
    document_refusals(&mut document);
    (router, document)
}

/// The answers every operation may give besides its own, written into the document in one place as the code
/// gives them in one place: 401 without the API token (when there is one, `auth.rs`), and axum's refusals of a
/// request body or query that does not parse (turned into JSON by `error::json_errors`). A status an operation
/// already documents keeps its own description.
fn document_refusals(document: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::ParameterIn;
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
    let error = |description: &str| {
        let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
        RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
    };
    for item in document.paths.paths.values_mut() {
        let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
        for operation in operations.into_iter().flatten() {
            let has_query = operation.parameters.iter().flatten().any(
                |parameter| matches!(parameter, RefOr::T(parameter) if parameter.parameter_in == ParameterIn::Query),
            );
            let has_body = operation.request_body.is_some();
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses.entry(status.to_owned()).or_insert_with(|| error(description));
            };
            add("401", "The API token is missing or wrong (once `pilot token create` made one)");
            if has_query {
                add("400", "A query parameter that does not parse");
            }
            if has_body {
                add("400", "A body that is not JSON");
                add("415", "A body without `Content-Type: application/json`");
                add("422", "A JSON body that does not fit the request's schema");
            }
        }
    }
}

/// The OpenAPI document, without a running daemon (`pilot schema --openapi`, the UI's type generator).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().1
}

/// Every route of the daemon: the API (token-checked when a token exists), webhooks, then the UI.
pub fn router(daemon: Arc<Daemon>, token: Option<ApiToken>) -> axum::Router {
    let (api, document) = api_routes();
    let document = Arc::new(document);
    let api = api
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let document = Arc::clone(&document);
                async move { axum::Json((*document).clone()) }
            }),
        )
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(axum::middleware::from_fn_with_state(token, auth::require_token));
    axum::Router::new()
        .merge(api)
        .route("/api", axum::routing::any(system::api_not_found))
        .route("/api/{*rest}", axum::routing::any(system::api_not_found))
        .fallback(crate::webhooks::handle)
        .layer(cors(&daemon.settings.daemon.allowed_origins))
        .with_state(daemon)
}

/// Only the configured origins may call the API from a browser page.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use axum::http::{HeaderValue, Method, header};
    let allowed: Vec<HeaderValue> = origins.iter().filter_map(|origin| origin.parse().ok()).collect();
    tower_http::cors::CorsLayer::new()
        .allow_origin(allowed)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::HeaderName::from_static("last-event-id")])
}
