//! The shared HTTP clients. A redirect policy belongs to a client in reqwest, so there are two: one following
//! redirects and one not. Each is built on first use and then reused, keeping connections alive across steps.

use crate::ActionError;
use std::sync::OnceLock;
use std::time::Duration;

const MAX_REDIRECTS: usize = 10;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
pub(crate) struct Clients {
    following: OnceLock<Result<reqwest::Client, String>>,
    not_following: OnceLock<Result<reqwest::Client, String>>,
}

impl Clients {
    pub(crate) fn get(&self, follow_redirects: bool) -> Result<&reqwest::Client, ActionError> {
        let (cell, policy) = if follow_redirects {
            (&self.following, reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        } else {
            (&self.not_following, reqwest::redirect::Policy::none())
        };
        cell.get_or_init(|| build(policy))
            .as_ref()
            .map_err(|reason| ActionError::Unavailable { reason: format!("cannot set up the HTTP client: {reason}") })
    }
}

fn build(policy: reqwest::redirect::Policy) -> Result<reqwest::Client, String> {
    crate::tls::http_client()
        .user_agent(concat!("dooz-pilot/", env!("CARGO_PKG_VERSION")))
        .redirect(policy)
        .connect_timeout(CONNECT_TIMEOUT)
        .build()
        .map_err(|err| err.to_string())
}
