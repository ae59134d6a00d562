//! `pilot serve [--addr ADDR] [--drain DURATION]`: runs the daemon in the foreground until SIGINT or SIGTERM,
//! then stops cleanly (exit 0). Prints the address it listens on (the UI is at its `/`).
//! `pilot token create`: creates (or replaces) the API token in `$PILOT_HOME/api-token`.

use super::exit;
use super::output::outln;
use super::ui;
use server::api::{ApiToken, TOKEN_FILE};
use server::daemon::DaemonOptions;
use server::home::PilotHome;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address and port to listen on (default: `daemon.addr` of settings.json, else 127.0.0.1:7777; port 0
    /// lets the system choose). An address other than loopback needs an API token (`pilot token create`).
    #[arg(long, value_name = "ADDR")]
    pub addr: Option<SocketAddr>,
    /// On SIGINT or SIGTERM, how long running executions may go on before the rest are left to be resumed at the
    /// next start, e.g. `30s` (default: `daemon.drain_seconds`, else 30s).
    #[arg(long, value_name = "DURATION", value_parser = super::run::parse_timeout)]
    pub drain: Option<std::time::Duration>,
}

pub fn serve(args: &ServeArgs) -> ExitCode {
    let home = PilotHome::from_env();
    let settings = match server::settings::Settings::load(&home.settings()) {
        Ok(settings) => settings,
        Err(message) => return ui::fail(exit::NOT_RUN, &message),
    };
    let addr = match args.addr {
        Some(addr) => addr,
        None => match settings.daemon.addr.parse() {
            Ok(addr) => addr,
            Err(_) => {
                return ui::fail(exit::NOT_RUN, &format!("daemon.addr `{}` is not an address", settings.daemon.addr));
            }
        },
    };
    let drain = args.drain.unwrap_or(std::time::Duration::from_secs(settings.daemon.drain_seconds));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return ui::fail(exit::FAILED, &format!("cannot start the async runtime: {err}")),
    };
    let options = DaemonOptions { home, settings, clock: Arc::new(executor::engine::SystemClock) };
    let served = runtime.block_on(server::serve::serve(options, addr, drain, None, announce, server::serve::signal()));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => ui::fail(exit::NOT_RUN, &err.to_string()),
    }
}

/// Says where it listens: the URL on stdout (`{"url", "addr", "pilot_home"}` with `--json`), the rest on stderr.
fn announce(ready: &server::serve::Ready) {
    let url = format!("http://{}/", ready.addr);
    if ui::json() {
        let document = serde_json::json!({
            "url": url,
            "addr": ready.addr.to_string(),
            "pilot_home": ready.daemon.home.root().display().to_string(),
            "workflows": ready.daemon.workflows().len(),
        });
        outln!("{}", serde_json::to_string(&document).unwrap_or_default());
    } else {
        outln!("{url}");
        if !ui::quiet() {
            let workflows = ready.daemon.workflows().len();
            eprintln!(
                "pilot serve: {workflows} workflow(s) from {}, API at {url}api/v1 (Ctrl-C stops)",
                ready.daemon.home.workflows().display()
            );
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    #[command(subcommand)]
    pub command: TokenCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create (or replace) the API token; prints it once. A running daemon reads it at its next start.
    Create,
}

pub fn token(args: &TokenArgs) -> ExitCode {
    let TokenCommand::Create = args.command;
    let home = PilotHome::from_env();
    match ApiToken::create(home.root()) {
        Ok(token) => {
            let path = home.root().join(TOKEN_FILE);
            if ui::json() {
                let document = serde_json::json!({ "token": token.as_str(), "file": path.display().to_string() });
                outln!("{}", serde_json::to_string_pretty(&document).unwrap_or_default());
            } else {
                outln!("{}", token.as_str());
                if !ui::quiet() {
                    eprintln!("kept in {} (readable by you only); restart pilot serve to use it", path.display());
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => ui::fail(exit::FAILED, &format!("cannot create the token: {err}")),
    }
}
