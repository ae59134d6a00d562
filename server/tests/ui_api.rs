//! The API parts the web UI relies on beyond the CLI's: the expression functions for completion, and saving a new
//! workflow disabled (how `scripts/start` puts the examples in place without anything acting on them).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use server::daemon::{Daemon, DaemonOptions};
use server::home::PilotHome;
use std::sync::Arc;
use tower::ServiceExt;

async fn daemon(home: &std::path::Path) -> Arc<Daemon> {
    let home = PilotHome::at(home);
    let options = DaemonOptions {
        settings: server::settings::Settings::default(),
        home,
        clock: Arc::new(executor::engine::SystemClock),
    };
    Daemon::open(options).await.expect("the daemon opens")
}

async fn call(
    daemon: &Arc<Daemon>,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let request = Request::builder().method(method).uri(path).header("content-type", "application/json");
    let request = request.body(body.map_or_else(Body::empty, |body| Body::from(body.to_string()))).unwrap();
    let response = server::api::router(Arc::clone(daemon), None).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
}

const WEBHOOK_WORKFLOW: &str = "name: hook\ntriggers:\n  - type: webhook\n    path: /hook\nsteps:\n  - id: say\n    action: log\n    input:\n      message: hi\n";

#[tokio::test]
async fn functions_are_listed_with_their_signatures() {
    let home = tempfile::tempdir().unwrap();
    let daemon = daemon(home.path()).await;
    let (status, body) = call(&daemon, "GET", "/api/v1/functions", None).await;
    assert_eq!(status, StatusCode::OK);
    let len = body.as_array().unwrap().iter().find(|f| f["name"] == "len").expect("len is listed");
    assert!(len["signature"].as_str().unwrap().starts_with("len("), "{len}");
    assert!(!len["description"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn a_new_workflow_saved_with_enabled_false_is_disabled_and_its_webhook_refuses() {
    let home = tempfile::tempdir().unwrap();
    let daemon = daemon(home.path()).await;
    let save = serde_json::json!({ "source": WEBHOOK_WORKFLOW, "enabled": false });
    let (status, body) = call(&daemon, "POST", "/api/v1/workflows", Some(save)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, detail) = call(&daemon, "GET", "/api/v1/workflows/hook", None).await;
    assert_eq!(detail["enabled"], false);
    let (status, _) = call(&daemon, "POST", "/hook", Some(serde_json::json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "a disabled workflow's webhook answers 409");
    let (status, _) = call(&daemon, "POST", "/api/v1/workflows/hook/run", Some(serde_json::json!({}))).await;
    assert_eq!(status, StatusCode::CONFLICT, "runs by name are refused");
}

#[tokio::test]
async fn a_workflow_saved_without_enabled_is_enabled() {
    let home = tempfile::tempdir().unwrap();
    let daemon = daemon(home.path()).await;
    let (status, body) =
        call(&daemon, "POST", "/api/v1/workflows", Some(serde_json::json!({ "source": WEBHOOK_WORKFLOW }))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, detail) = call(&daemon, "GET", "/api/v1/workflows/hook", None).await;
    assert_eq!(detail["enabled"], true);
}
