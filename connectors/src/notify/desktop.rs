//! `notify/desktop`: show a desktop notification with notify-rust.
//!
//! Inputs: `title` (required), `body`, `icon` (an icon name such as `dialog-information`, or a file path),
//! `urgency` (`low`, `normal`, `critical`; Linux and BSD only), `expire_after` (how long the notification stays;
//! default: the notification server decides), `app_name` (default `Dooz Pilot`), `timeout` (give up after this
//! long, default 10s). The output is `{id}`: the id the notification server gave (Linux, BSD), null elsewhere.
//!
//! On Linux and BSD the notification goes over the D-Bus session bus to `org.freedesktop.Notifications`, through
//! zbus (pure Rust: nothing to install to build, no libdbus). The bus is `DBUS_SESSION_BUS_ADDRESS`, else
//! `$XDG_RUNTIME_DIR/bus`, as for every D-Bus client. Where no notification service can be reached (a server, a
//! container, an SSH session, no notification daemon running), the step fails with
//! [`ActionError::Unavailable`] saying why, e.g. `desktop notifications: no D-Bus session bus
//! (DBUS_SESSION_BUS_ADDRESS is not set)`; a step with `continue_on_error: true` then lets the workflow go on.
//! The call never hangs: it is bounded by `timeout` and stops when the step is cancelled.

use std::time::Duration;

use expr_grammar::Value;
use notify_rust::{Notification, Timeout};

use crate::fields::{Fields, invalid};
use crate::{ActionContext, ActionError};

pub const DEFAULT_APP_NAME: &str = "Dooz Pilot";

/// Limit for reaching the notification server when the step gives none.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) async fn show(fields: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
    let notification = notification(fields)?;
    let limit = fields.optional_limit("timeout")?.unwrap_or(DEFAULT_TIMEOUT);
    let shown = tokio::select! {
        () = ctx.cancel.cancelled() => return Err(ActionError::Cancelled),
        result = tokio::time::timeout(limit, deliver(notification)) => result,
    };
    shown.unwrap_or_else(|_| {
        Err(unavailable(format!("the notification server did not answer within {}s (`timeout`)", limit.as_secs_f64())))
    })
}

fn notification(fields: &Fields<'_>) -> Result<Notification, ActionError> {
    let mut notification = Notification::new();
    notification.summary(fields.required_string("title")?);
    notification.appname(fields.optional_string("app_name")?.unwrap_or(DEFAULT_APP_NAME));
    if let Some(body) = fields.optional_string("body")? {
        notification.body(body);
    }
    if let Some(icon) = fields.optional_string("icon")? {
        notification.icon(icon);
    }
    if let Some(expire_after) = fields.optional_limit("expire_after")? {
        notification.timeout(Timeout::from(expire_after));
    }
    if let Some(urgency) = fields.optional_string("urgency")? {
        set_urgency(&mut notification, urgency)?;
    }
    Ok(notification)
}

fn unavailable(reason: String) -> ActionError {
    ActionError::Unavailable { reason: format!("desktop notifications: {reason}") }
}

#[cfg(all(unix, not(target_os = "macos")))]
fn set_urgency(notification: &mut Notification, urgency: &str) -> Result<(), ActionError> {
    let level = match urgency.trim().to_ascii_lowercase().as_str() {
        "low" => notify_rust::Urgency::Low,
        "normal" => notify_rust::Urgency::Normal,
        "critical" => notify_rust::Urgency::Critical,
        _ => return Err(invalid("urgency", format!("expected `low`, `normal` or `critical`, got `{urgency}`"))),
    };
    notification.urgency(level);
    Ok(())
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
fn set_urgency(_notification: &mut Notification, urgency: &str) -> Result<(), ActionError> {
    match urgency.trim().to_ascii_lowercase().as_str() {
        "low" | "normal" | "critical" => Ok(()),
        _ => Err(invalid("urgency", format!("expected `low`, `normal` or `critical`, got `{urgency}`"))),
    }
}

/// Linux and BSD: over the D-Bus session bus, on this tokio runtime.
#[cfg(all(unix, not(target_os = "macos")))]
async fn deliver(notification: Notification) -> Result<Value, ActionError> {
    let address = session_bus(
        std::env::var("DBUS_SESSION_BUS_ADDRESS").ok(),
        std::env::var_os("XDG_RUNTIME_DIR").map(std::path::PathBuf::from),
    )?;
    match notification.show_async().await {
        Ok(handle) => Ok(Value::object([("id", Value::Int(i64::from(handle.id())))])),
        Err(err) => Err(unavailable(explain_bus_error(&address, &err.to_string()))),
    }
}

/// macOS and Windows: notify-rust's blocking call, off the runtime's threads.
#[cfg(not(all(unix, not(target_os = "macos"))))]
async fn deliver(notification: Notification) -> Result<Value, ActionError> {
    let shown = tokio::task::spawn_blocking(move || notification.show().map(|_| ()).map_err(|err| err.to_string()));
    match shown.await {
        Ok(Ok(())) => Ok(Value::object([("id", Value::Null)])),
        Ok(Err(reason)) => Err(unavailable(reason)),
        Err(err) => Err(ActionError::Failed { message: format!("desktop notification task failed: {err}") }),
    }
}

/// The session bus address zbus will use, or why there is none: `DBUS_SESSION_BUS_ADDRESS`, else the
/// `$XDG_RUNTIME_DIR/bus` socket when it exists.
pub(crate) fn session_bus(
    env_address: Option<String>,
    runtime_dir: Option<std::path::PathBuf>,
) -> Result<String, ActionError> {
    if let Some(address) = env_address.filter(|address| !address.trim().is_empty()) {
        return Ok(address);
    }
    match runtime_dir.map(|dir| dir.join("bus")).filter(|socket| socket.exists()) {
        Some(socket) => Ok(format!("unix:path={}", socket.display())),
        None => Err(unavailable("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)".to_string())),
    }
}

/// zbus's error, said in terms of what is missing: the bus itself, or a notification service on it.
pub(crate) fn explain_bus_error(address: &str, error: &str) -> String {
    if error.contains("ServiceUnknown") || error.contains("NameHasNoOwner") {
        return format!("no notification service is running on the D-Bus session bus at {address}: {error}");
    }
    if error.contains("I/O error") || error.contains("os error") || error.contains("Address") {
        return format!("cannot connect to the D-Bus session bus at {address}: {error}");
    }
    format!("the notification service on the D-Bus session bus at {address} failed: {error}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(err: ActionError) -> String {
        match err {
            ActionError::Unavailable { reason } => reason,
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[test]
    fn without_an_address_or_a_runtime_bus_socket_there_is_no_session_bus() {
        let empty_runtime = tempfile::tempdir().expect("temporary folder");
        for (address, runtime) in [(None, None), (Some("  ".to_string()), Some(empty_runtime.path().to_path_buf()))] {
            let err = session_bus(address, runtime).expect_err("no bus");
            assert_eq!(
                reason(err),
                "desktop notifications: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
            );
        }
    }

    #[test]
    fn the_address_variable_wins_and_the_runtime_socket_is_the_fallback() {
        let runtime = tempfile::tempdir().expect("temporary folder");
        std::fs::write(runtime.path().join("bus"), "").expect("stand-in socket file");
        let from_env = session_bus(Some("unix:path=/tmp/x".into()), Some(runtime.path().into())).expect("bus");
        assert_eq!(from_env, "unix:path=/tmp/x");
        let fallback = session_bus(None, Some(runtime.path().into())).expect("bus");
        assert_eq!(fallback, format!("unix:path={}", runtime.path().join("bus").display()));
    }

    #[test]
    fn bus_errors_say_whether_the_bus_or_the_service_is_missing() {
        let missing_service =
            explain_bus_error("unix:path=/b", "org.freedesktop.DBus.Error.ServiceUnknown: The name is not activatable");
        assert!(missing_service.starts_with("no notification service is running"), "{missing_service}");
        let missing_bus = explain_bus_error("unix:path=/b", "I/O error: No such file or directory (os error 2)");
        assert!(missing_bus.starts_with("cannot connect to the D-Bus session bus at unix:path=/b"), "{missing_bus}");
    }
}
