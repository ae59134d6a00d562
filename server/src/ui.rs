//! The web UI: the built frontend (`desktop/dist`) served at `/` from its folder at run time (no built files in
//! the binary or in git). Unknown paths get `index.html` (the UI routes them itself). When the folder is missing,
//! `/` explains how to build it.
//!
//! The folder is the first of: `$PILOT_UI_DIR`; `$PILOT_HOME/ui`; `desktop/dist` of the source tree this binary
//! was built from.

use crate::daemon::Daemon;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::path::PathBuf;
use tower::ServiceExt;

/// Where the built UI is, if it is built.
pub fn ui_folder(home: &crate::home::PilotHome) -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("PILOT_UI_DIR").filter(|dir| !dir.is_empty()).map(PathBuf::from),
        Some(home.root().join("ui")),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../desktop/dist")),
    ];
    candidates.into_iter().flatten().find(|dir| dir.join("index.html").is_file())
}

pub(crate) async fn serve(daemon: &Daemon, request: Request) -> Response {
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return crate::api::ApiError::not_found(format!("nothing at {} {}", request.method(), request.uri().path()))
            .into_response();
    }
    let Some(folder) = ui_folder(&daemon.home) else {
        if request.uri().path() == "/" {
            return (StatusCode::OK, Html(NOT_BUILT)).into_response();
        }
        return crate::api::ApiError::not_found(format!("nothing at {}", request.uri().path())).into_response();
    };
    let index = tower_http::services::ServeFile::new(folder.join("index.html"));
    let files = tower_http::services::ServeDir::new(&folder).fallback(index);
    match files.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(err) => crate::api::ApiError::internal(err.to_string()).into_response(),
    }
}

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dooz Pilot</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 3rem auto; line-height: 1.5">
<h1>Dooz Pilot is running</h1>
<p>The daemon and its API (<a href="/api/v1/health">/api/v1/health</a>,
<a href="/api/v1/openapi.json">/api/v1/openapi.json</a>) work, but the web UI is not built.</p>
<p>Build it from the source tree (it needs Node.js 20 and npm):</p>
<pre>npm --prefix desktop ci
npm --prefix desktop run build</pre>
<p>or run <code>./scripts/start</code>, which does it for you. Then reload this page.
To serve a UI built elsewhere, set <code>PILOT_UI_DIR</code> to its folder.</p>
</body></html>
"#;
