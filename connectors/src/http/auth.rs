//! Authentication from a step's credential (shapes documented in the module above).

use crate::{ActionError, Credential};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};

/// How a request authenticates. `Debug` never shows the secret.
pub(crate) enum Auth {
    Basic {
        username: String,
        password: String,
    },
    Bearer {
        token: String,
    },
    /// The key sent raw in a named header (`X-Api-Key: ...`).
    KeyHeader {
        name: HeaderName,
        key: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Basic { username, .. } => write!(f, "Basic({username}, ..)"),
            Auth::Bearer { .. } => f.write_str("Bearer(..)"),
            Auth::KeyHeader { name, .. } => write!(f, "KeyHeader({name}, ..)"),
        }
    }
}

/// Providers [`Auth::from_credential`] understands, for messages.
const PROVIDERS: &str = "`basic`, `bearer`, `token`, `api_key` or `oauth2`";

impl Auth {
    pub(crate) fn from_credential(credential: &Credential) -> Result<Auth, ActionError> {
        match credential.provider.as_str() {
            "basic" => Ok(Auth::Basic {
                username: data_string(credential, "username")?,
                password: data_string(credential, "password")?,
            }),
            "bearer" | "token" | "api_key" | "oauth2" => {
                let key = token_of(credential).ok_or_else(|| {
                    bad_credential(credential, "its data has no `token` (or `api_key`, `access_token`) string")
                })?;
                match credential.data.get("header").and_then(|v| v.as_str()) {
                    Some(header) => {
                        let name = HeaderName::try_from(header).map_err(|_| {
                            bad_credential(credential, &format!("`header` `{header}` is not a header name"))
                        })?;
                        Ok(Auth::KeyHeader { name, key })
                    }
                    None => Ok(Auth::Bearer { token: key }),
                }
            }
            other => Err(bad_credential(
                credential,
                &format!("its provider `{other}` is not one this action understands ({PROVIDERS})"),
            )),
        }
    }

    /// Sets the authentication header, replacing one the step's `headers` gave.
    pub(crate) fn apply(&self, headers: &mut HeaderMap) -> Result<(), ActionError> {
        let (name, text) = match self {
            Auth::Basic { username, password } => {
                (AUTHORIZATION, format!("Basic {}", base64_encode(format!("{username}:{password}").as_bytes())))
            }
            Auth::Bearer { token } => (AUTHORIZATION, format!("Bearer {token}")),
            Auth::KeyHeader { name, key } => (name.clone(), key.clone()),
        };
        let mut value = HeaderValue::from_str(&text).map_err(|_| ActionError::Failed {
            message: "the credential holds characters that cannot be sent in an HTTP header".to_string(),
        })?;
        value.set_sensitive(true);
        headers.insert(name, value);
        Ok(())
    }
}

/// `token`, `api_key` or (oauth2) `access_token` from a credential's data.
pub(crate) fn token_of(credential: &Credential) -> Option<String> {
    ["token", "api_key", "access_token"]
        .iter()
        .find_map(|key| credential.data.get(key).and_then(|v| v.as_str()))
        .filter(|token| !token.is_empty())
        .map(str::to_string)
}

fn data_string(credential: &Credential, key: &str) -> Result<String, ActionError> {
    credential
        .data
        .get(key)
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .ok_or_else(|| bad_credential(credential, &format!("its data has no `{key}` string")))
}

fn bad_credential(credential: &Credential, reason: &str) -> ActionError {
    ActionError::InvalidInput {
        field: "credential".to_string(),
        message: format!("credential `{}` cannot be used for HTTP authentication: {reason}", credential.name),
    }
}

/// Standard base64 with padding (RFC 4648), for `Authorization: Basic`.
fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases =
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")];
        for (plain, encoded) in cases {
            assert_eq!(base64_encode(plain.as_bytes()), encoded, "{plain}");
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let auth = Auth::Basic { username: "ann".into(), password: "hunter2".into() };
        assert!(!format!("{auth:?}").contains("hunter2"));
        assert!(!format!("{:?}", Auth::Bearer { token: "tok-123".into() }).contains("tok-123"));
    }

    #[test]
    fn an_oauth2_credential_sends_its_access_token_as_bearer() {
        let credential = Credential {
            name: "gh".into(),
            provider: "oauth2".into(),
            data: serde_json::json!({"access_token": "at-123", "refresh_token": "rt-456"}),
        };
        let mut headers = HeaderMap::new();
        Auth::from_credential(&credential).expect("oauth2 is understood").apply(&mut headers).expect("header");
        assert_eq!(headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()), Some("Bearer at-123"));
    }
}
