//! TLS for every HTTPS call: rustls with the *ring* crypto provider, the only one built (lettre is set to ring too).
//! reqwest is built without a provider of its own, so each client is made through [`http_client`], which installs
//! ring as the process's default first.

use std::sync::Once;

/// A reqwest client builder, with ring installed as rustls's process-wide provider.
pub(crate) fn http_client() -> reqwest::ClientBuilder {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Fails only when a provider is already installed (by an embedding program): that one is then used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}
