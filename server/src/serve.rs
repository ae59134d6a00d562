//! `pilot serve`: binds the address, opens the daemon, serves the API, the webhooks and the UI, and stops cleanly
//! on a signal: no new work is accepted (503), running executions get the drain time to finish, the rest stay
//! recorded to be resumed at the next start.

use crate::api::ApiToken;
use crate::daemon::{Daemon, DaemonError, DaemonOptions};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{addr} is not a loopback address: anyone who can reach it could use the API. Create an API token first \
         (`pilot token create`), then every API call needs `Authorization: Bearer TOKEN`"
    )]
    NeedsToken { addr: SocketAddr },
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("cannot read the API token: {0}")]
    Token(String),
    #[error(transparent)]
    Daemon(#[from] DaemonError),
}

/// What a started daemon tells its caller.
pub struct Ready {
    /// The address it listens on (the port the system chose, for `:0`).
    pub addr: SocketAddr,
    pub daemon: Arc<Daemon>,
}

/// Serves until `stop` resolves, then drains. `ready` is called once it listens.
pub async fn serve(
    options: DaemonOptions,
    addr: SocketAddr,
    drain: Duration,
    token: Option<ApiToken>,
    ready: impl FnOnce(&Ready),
    stop: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let token = match token {
        Some(token) => Some(token),
        None => ApiToken::load(options.home.root()).map_err(|err| ServeError::Token(err.to_string()))?,
    };
    if !addr.ip().is_loopback() && token.is_none() {
        return Err(ServeError::NeedsToken { addr });
    }
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|err| ServeError::Bind { addr, reason: err.to_string() })?;
    let addr = listener.local_addr().map_err(|err| ServeError::Bind { addr, reason: err.to_string() })?;
    // The lock file names the address a client should call, from the moment it is taken.
    let mut options = options;
    options.settings.daemon.addr = addr.to_string();
    let daemon = Daemon::open(options).await?;
    daemon.start_triggers();
    ready(&Ready { addr, daemon: Arc::clone(&daemon) });
    let router = crate::api::router(Arc::clone(&daemon), token);
    let stopped = tokio_util::sync::CancellationToken::new();
    let server = {
        let stopped = stopped.clone();
        tokio::spawn(async move {
            axum::serve(listener, router).with_graceful_shutdown(async move { stopped.cancelled().await }).await
        })
    };
    stop.await;
    tracing::info!("stopping: no new work; running executions get {drain:?} to finish");
    daemon.shutdown(drain).await;
    stopped.cancel();
    let _ = server.await;
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut terminate = match signal(SignalKind::terminate()) {
            Ok(stream) => stream,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{DaemonClient, DaemonProcess};
    use crate::home::PilotHome;
    use tokio::sync::oneshot;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_reading_the_live_events_does_not_keep_the_daemon_from_stopping() {
        let dir = tempfile::tempdir().unwrap();
        let home = PilotHome::at(dir.path());
        let options = DaemonOptions {
            home: home.clone(),
            settings: crate::settings::Settings::default(),
            clock: Arc::new(executor::engine::SystemClock),
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let served = tokio::spawn(serve(
            options,
            "127.0.0.1:0".parse().unwrap(),
            Duration::from_secs(5),
            None,
            move |ready| ready_tx.send(ready.addr).unwrap(),
            async move {
                let _ = stop_rx.await;
            },
        ));
        let addr = ready_rx.await.unwrap();
        let client = DaemonClient::new(DaemonProcess { pid: std::process::id(), addr }, None).unwrap();
        let mut events = client.events(None, None).await.unwrap();

        stop_tx.send(()).unwrap();
        // Only a guard against hanging forever, as it did while the stream outlived the daemon.
        let stopped = tokio::time::timeout(Duration::from_secs(30), served).await;
        stopped.expect("serve returned while a client read the events").unwrap().unwrap();
        assert!(events.next().await.is_none(), "the stream ended");
        assert_eq!(crate::client::find_daemon(&home).unwrap(), None, "the lock is released");
    }
}
