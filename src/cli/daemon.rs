//! What the commands that talk to the daemon share (`workflows`, `status`, `run NAME`): finding it through
//! `server::client`, a runtime for the calls, and the exit status of a call that failed.
//!
//! Exit status of a failed call: 2 when nothing happened (no daemon where one is needed, the daemon cannot be
//! reached, it refused the request: an unknown name, a wrong input, a disabled workflow, a missing token), 1 when
//! the daemon failed while doing it or answered something unreadable.

use super::exit;
use super::ui;
use server::client::{ClientError, DaemonClient};
use server::home::PilotHome;
use std::process::ExitCode;

/// Runs `command` on a small tokio runtime.
pub(crate) fn block_on<F: std::future::Future<Output = ExitCode>>(command: F) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(command),
        Err(err) => ui::fail(exit::FAILED, &format!("cannot start the async runtime: {err}")),
    }
}

/// The client of the daemon running for `home`; `Ok(None)` when none runs.
pub(crate) fn find(home: &PilotHome) -> Result<Option<DaemonClient>, ExitCode> {
    match DaemonClient::connect(home) {
        Ok(client) => Ok(Some(client)),
        Err(ClientError::NotRunning { .. }) => Ok(None),
        Err(err) => Err(call_failed(&err)),
    }
}

/// Says why a call failed; returns its exit status.
pub(crate) fn call_failed(err: &ClientError) -> ExitCode {
    ui::fail(status_of(err), &err.to_string())
}

fn status_of(err: &ClientError) -> u8 {
    match err {
        ClientError::NotRunning { .. } | ClientError::Unreadable { .. } | ClientError::Unreachable { .. } => {
            exit::NOT_RUN
        }
        ClientError::Api { status, .. } if *status < 500 || *status == 503 => exit::NOT_RUN,
        _ => exit::FAILED,
    }
}

/// Whether the daemon could not be reached at all (as opposed to answering with an error).
pub(crate) fn is_unreachable(err: &ClientError) -> bool {
    matches!(err, ClientError::Unreachable { .. })
}

/// `2026-11-25T03:00:00.000000Z` as `2026-11-25 03:00:00` (UTC, as `pilot executions` shows times).
pub(crate) fn when(rfc3339: &str) -> String {
    rfc3339.get(..19).map_or_else(|| rfc3339.to_owned(), |seconds| seconds.replacen('T', " ", 1))
}

/// Prints a document as pretty JSON; status 0.
pub(crate) fn print_json(document: &serde_json::Value) -> ExitCode {
    super::output::outln!("{}", serde_json::to_string_pretty(document).unwrap_or_default());
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_and_an_absent_daemon_are_nothing_ran_while_its_failures_are_failures() {
        let api = |status| ClientError::Api { status, code: "x".into(), message: "m".into(), details: None };
        assert_eq!(status_of(&ClientError::NotRunning { home: "/h".into() }), exit::NOT_RUN);
        assert_eq!(status_of(&api(404)), exit::NOT_RUN);
        assert_eq!(status_of(&api(422)), exit::NOT_RUN);
        assert_eq!(status_of(&api(503)), exit::NOT_RUN, "stopping: nothing was accepted");
        assert_eq!(status_of(&api(500)), exit::FAILED);
    }

    #[test]
    fn times_are_shown_to_the_second() {
        assert_eq!(when("2026-11-25T03:00:00.000000Z"), "2026-11-25 03:00:00");
        assert_eq!(when("soon"), "soon");
    }
}
