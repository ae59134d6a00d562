//! `pilot service install [--no-start]` and `pilot service uninstall [--no-stop]`: `pilot serve` as a systemd
//! user service, so that schedules fire from login on without a terminal open (`server::service`).
//!
//! `install` writes `$XDG_CONFIG_HOME/systemd/user/pilot.service` (default `~/.config/systemd/user/`): this binary
//! with `serve`, this `PILOT_HOME` and `PATH`, restarted on failure; then `systemctl --user daemon-reload` and
//! `systemctl --user enable --now pilot.service`. `--no-start` only writes the file. `uninstall` disables and stops
//! it, then removes the file. Exit status: 0 done; 1 when systemctl is missing or fails (the file stays written,
//! or removed, and the message says what to run); 2 when there is no config folder to write to.

use super::daemon::print_json;
use super::exit;
use super::output::outln;
use super::ui;
use server::home::PilotHome;
use server::service::{ServiceUnit, UNIT_NAME, systemctl, unit_path, write_unit};
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ServiceArgs {
    #[command(subcommand)]
    pub command: ServiceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// Write the systemd user unit for `pilot serve`, enable it and start it.
    Install(InstallArgs),
    /// Stop and disable the unit, and remove its file.
    Uninstall(UninstallArgs),
}

#[derive(Debug, clap::Args)]
pub struct InstallArgs {
    /// Only write the unit file; systemctl is not called.
    #[arg(long)]
    pub no_start: bool,
}

#[derive(Debug, clap::Args)]
pub struct UninstallArgs {
    /// Only remove the unit file; systemctl is not called.
    #[arg(long)]
    pub no_stop: bool,
}

pub fn run(args: &ServiceArgs) -> ExitCode {
    let path = match unit_path() {
        Ok(path) => path,
        Err(reason) => return ui::fail(exit::NOT_RUN, &format!("no place for the unit file: {reason}")),
    };
    match &args.command {
        ServiceCommand::Install(install) => run_install(&path, install.no_start),
        ServiceCommand::Uninstall(uninstall) => run_uninstall(&path, uninstall.no_stop),
    }
}

fn run_install(path: &Path, no_start: bool) -> ExitCode {
    let unit = match this_unit() {
        Ok(unit) => unit,
        Err(message) => return ui::fail(exit::FAILED, &message),
    };
    if let Err(message) = write_unit(path, &unit) {
        return ui::fail(exit::FAILED, &message);
    }
    warn_if_a_daemon_runs(&unit.pilot_home);
    if no_start {
        return said(path, ("started", false), &format!("wrote {} (start it: {})", path.display(), start_commands()));
    }
    let started = systemctl(&["daemon-reload"]).and_then(|()| systemctl(&["enable", "--now", UNIT_NAME]));
    if let Err(reason) = started {
        let message = format!(
            "wrote {}, but {reason}; once a user session runs systemd, start it: {}",
            path.display(),
            start_commands()
        );
        return ui::fail(exit::FAILED, &message);
    }
    let text = format!(
        "installed {}: pilot serve runs now and from every login (`systemctl --user status {UNIT_NAME}`; to keep it \
         running while logged out: `loginctl enable-linger`)",
        path.display()
    );
    said(path, ("started", true), &text)
}

fn run_uninstall(path: &Path, no_stop: bool) -> ExitCode {
    if !path.exists() {
        return said(path, ("removed", false), &format!("no unit at {}: nothing to remove", path.display()));
    }
    let stopped = if no_stop { Ok(()) } else { systemctl(&["disable", "--now", UNIT_NAME]) };
    if let Err(err) = std::fs::remove_file(path) {
        return ui::fail(exit::FAILED, &format!("cannot remove {}: {err}", path.display()));
    }
    let reloaded = if no_stop { Ok(()) } else { stopped.and_then(|()| systemctl(&["daemon-reload"])) };
    if let Err(reason) = reloaded {
        let message = format!(
            "removed {}, but {reason}; if it still runs, stop it: systemctl --user stop {UNIT_NAME}",
            path.display()
        );
        return ui::fail(exit::FAILED, &message);
    }
    said(path, ("removed", true), &format!("removed {}", path.display()))
}

/// This binary, this `PILOT_HOME` (absolute) and this `PATH`.
fn this_unit() -> Result<ServiceUnit, String> {
    let program = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .map_err(|err| format!("cannot tell where this pilot binary is: {err}"))?;
    let home = PilotHome::from_env();
    let pilot_home = std::path::absolute(home.root())
        .map_err(|err| format!("cannot make {} absolute: {err}", home.root().display()))?;
    let path = std::env::var("PATH").ok().filter(|path| !path.is_empty());
    Ok(ServiceUnit { program, pilot_home, path })
}

/// The service's `pilot serve` cannot start while another daemon holds the home.
fn warn_if_a_daemon_runs(pilot_home: &Path) {
    if let Ok(Some(process)) = server::client::find_daemon(&PilotHome::at(pilot_home)) {
        ui::warn(&format!(
            "pilot serve already runs for {} (process {}): the service's daemon starts once that one stops",
            pilot_home.display(),
            process.pid
        ));
    }
}

fn start_commands() -> String {
    format!("systemctl --user daemon-reload && systemctl --user enable --now {UNIT_NAME}")
}

/// The outcome: a line, or `{"unit_file", "started"|"removed"}` with `--json`; status 0.
fn said(path: &Path, (key, done): (&str, bool), text: &str) -> ExitCode {
    if ui::json() {
        let mut document = serde_json::json!({ "unit_file": path.display().to_string() });
        document[key] = serde_json::Value::Bool(done);
        return print_json(&document);
    }
    outln!("{text}");
    ExitCode::SUCCESS
}
