//! The daemon the app shows: the one already running for `$PILOT_HOME` (found by its lock file, as the CLI finds
//! it), or one the app starts in its own process and stops when it exits.
//!
//! A daemon the app starts is `pilot serve`'s own code (`server::serve::serve`) on 127.0.0.1 with a port the
//! system chooses and a token made for this launch: every `/api/v1` call needs it, so no other program on this
//! machine (nor a web page in a browser) can use that API without being given it. The app's window gets it from
//! [`crate::page::init_script`].

use server::api::ApiToken;
use server::client::{ClientError, DaemonClient, DaemonProcess};
use server::daemon::{DaemonError, DaemonOptions};
use server::home::PilotHome;
use server::serve::ServeError;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How often opening may find the lock taken by a daemon that then turns out to be gone, or the reverse.
const OPEN_ATTEMPTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Client(Box<ClientError>),
    #[error("{0}")]
    Settings(String),
    #[error("cannot start the daemon: {0}")]
    Serve(#[from] ServeError),
    #[error("the daemon stopped before it listened")]
    Ended,
    #[error("the daemon's task failed: {0}")]
    Task(String),
}

impl From<ClientError> for SessionError {
    fn from(err: ClientError) -> SessionError {
        SessionError::Client(Box::new(err))
    }
}

/// The daemon this app talks to, and whether it is the app's own.
pub struct Session {
    client: DaemonClient,
    token: Option<ApiToken>,
    owned: Option<OwnedDaemon>,
}

/// A daemon started by the app: what stops it, and its task (which ends once it has drained).
struct OwnedDaemon {
    stop: oneshot::Sender<()>,
    served: JoinHandle<Result<(), ServeError>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("url", &self.url()).field("owned", &self.owned.is_some()).finish()
    }
}

impl Session {
    /// Attaches to the daemon running for `home`, or starts one.
    pub async fn open(home: PilotHome) -> Result<Session, SessionError> {
        let mut attempt = 1;
        loop {
            let found = {
                let home = home.clone();
                // `find_daemon` may wait a little for a daemon that is writing its address.
                tokio::task::spawn_blocking(move || server::client::find_daemon(&home).map_err(SessionError::from))
                    .await
                    .map_err(|err| SessionError::Task(err.to_string()))??
            };
            let opened = match found {
                Some(process) => Session::attach(&home, process),
                None => Session::start(&home).await,
            };
            match opened {
                // Another daemon took the lock between the look and the start: attach to it.
                Err(SessionError::Serve(ServeError::Daemon(DaemonError::Locked(_)))) if attempt < OPEN_ATTEMPTS => {}
                other => return other,
            }
            attempt += 1;
        }
    }

    fn attach(home: &PilotHome, process: DaemonProcess) -> Result<Session, SessionError> {
        let token = ApiToken::load(home.root()).map_err(|err| ClientError::Unreadable {
            path: home.root().join(server::api::TOKEN_FILE),
            reason: err.to_string(),
        })?;
        let client = DaemonClient::new(process, token.clone())?;
        tracing::info!("attached to the daemon at {} (process {})", client.url(), client.process().pid);
        Ok(Session { client, token, owned: None })
    }

    /// Starts `pilot serve`'s daemon in this process, on loopback, with a token of its own.
    async fn start(home: &PilotHome) -> Result<Session, SessionError> {
        let settings = server::settings::Settings::load(&home.settings()).map_err(SessionError::Settings)?;
        let drain = Duration::from_secs(settings.daemon.drain_seconds);
        let options = DaemonOptions { home: home.clone(), settings, clock: Arc::new(executor::engine::SystemClock) };
        let token = ApiToken::generate();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let mut served = tokio::spawn(server::serve::serve(
            options,
            addr,
            drain,
            Some(token.clone()),
            move |ready| {
                let _ = ready_tx.send(ready.addr);
            },
            async move {
                // A dropped sender stops it too: the app went away without closing.
                let _ = stop_rx.await;
            },
        ));
        let addr = tokio::select! {
            ready = ready_rx => match ready {
                Ok(addr) => addr,
                // `ready` was dropped unsent: serve returned (an error, as a rule) before listening.
                Err(_) => return Err(ended(served.await)),
            },
            ended_early = &mut served => return Err(ended(ended_early)),
        };
        let process = DaemonProcess { pid: std::process::id(), addr };
        let client = DaemonClient::new(process, Some(token.clone()))?;
        tracing::info!("started a daemon for {} at {}", home.root().display(), client.url());
        Ok(Session { client, token: Some(token), owned: Some(OwnedDaemon { stop: stop_tx, served }) })
    }

    /// The daemon's address as a URL: the UI is served there, the API under its `api/v1`.
    pub fn url(&self) -> String {
        self.client.url()
    }

    /// The token every API call sends (`Authorization: Bearer`), when the daemon has one.
    pub fn token(&self) -> Option<&ApiToken> {
        self.token.as_ref()
    }

    pub fn client(&self) -> &DaemonClient {
        &self.client
    }

    /// Whether the app started this daemon (and so stops it at [`Session::close`]).
    pub fn owns_daemon(&self) -> bool {
        self.owned.is_some()
    }

    /// Stops the daemon the app started, as `pilot serve` stops on a signal: no new work, running executions get
    /// `daemon.drain_seconds` to finish, the rest stay recorded for the next start. An attached daemon goes on.
    pub async fn close(self) -> Result<(), SessionError> {
        let Some(owned) = self.owned else { return Ok(()) };
        let _ = owned.stop.send(());
        owned.served.await.map_err(|err| SessionError::Task(err.to_string()))??;
        tracing::info!("stopped the daemon it started");
        Ok(())
    }
}

fn ended(result: Result<Result<(), ServeError>, tokio::task::JoinError>) -> SessionError {
    match result {
        Ok(Ok(())) => SessionError::Ended,
        Ok(Err(err)) => SessionError::Serve(err),
        Err(err) => SessionError::Task(err.to_string()),
    }
}
