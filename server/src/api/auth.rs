//! The API token: once `$PILOT_HOME/api-token` exists (created by `pilot token create`, mode 0600, never in
//! `settings.json`), every `/api/v1` call needs `Authorization: Bearer TOKEN`, on every address. Without it the
//! daemon only listens on loopback. Webhooks have their own per-trigger authentication.

use super::error::ApiError;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::path::Path;
use subtle::ConstantTimeEq;

/// The token file's name under `$PILOT_HOME`.
pub const TOKEN_FILE: &str = "api-token";

/// The API token. `Debug` never shows it.
#[derive(Clone)]
pub struct ApiToken(String);

impl std::fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

impl ApiToken {
    pub fn new(text: impl Into<String>) -> ApiToken {
        ApiToken(text.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A new random token (32 bytes, hex).
    pub fn generate() -> ApiToken {
        let mut bytes = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
            .expect("the system has randomness");
        ApiToken(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
    }

    /// The token of `$PILOT_HOME`, if one was created.
    pub fn load(home: &Path) -> std::io::Result<Option<ApiToken>> {
        match std::fs::read_to_string(home.join(TOKEN_FILE)) {
            Ok(text) if !text.trim().is_empty() => Ok(Some(ApiToken(text.trim().to_owned()))),
            Ok(_) => Ok(None),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Writes a new token to `$PILOT_HOME/api-token`, readable by its owner only; replaces an older one.
    pub fn create(home: &Path) -> std::io::Result<ApiToken> {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(home)?;
        let token = ApiToken::generate();
        let temporary = home.join(format!(".{TOKEN_FILE}.new"));
        let mut file =
            std::fs::OpenOptions::new().create(true).truncate(true).write(true).mode(0o600).open(&temporary)?;
        file.write_all(token.0.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, home.join(TOKEN_FILE))?;
        Ok(token)
    }

    /// Constant-time comparison with what a request offered.
    pub fn matches(&self, offered: &str) -> bool {
        self.0.as_bytes().ct_eq(offered.as_bytes()).into()
    }
}

/// Refuses `/api/v1` calls without the token (when there is one) with 401.
pub(super) async fn require_token(State(token): State<Option<ApiToken>>, request: Request, next: Next) -> Response {
    let Some(token) = token else { return next.run(request).await };
    let offered = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    if offered.is_some_and(|offered| token.matches(offered.trim())) {
        return next.run(request).await;
    }
    tracing::debug!("refused {} {}: no valid API token", request.method(), request.uri().path());
    let message = "this API needs `Authorization: Bearer TOKEN` (the token is in $PILOT_HOME/api-token)";
    axum::response::IntoResponse::into_response(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_token_is_private_and_loads_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert!(ApiToken::load(dir.path()).unwrap().is_none());
        let token = ApiToken::create(dir.path()).unwrap();
        let mode = std::fs::metadata(dir.path().join(TOKEN_FILE)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let loaded = ApiToken::load(dir.path()).unwrap().unwrap();
        assert!(loaded.matches(token.as_str()));
        assert!(!loaded.matches("guess"));
        assert_eq!(format!("{loaded:?}"), "ApiToken(***)");
    }
}
