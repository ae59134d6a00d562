//! `notify/desktop` on Linux: no session bus, a bus address that leads nowhere, a real private `dbus-daemon`
//! without a notification service, and one with a stand-in `org.freedesktop.Notifications` service (zbus) that
//! records each call.
//!
//! The bus comes from the process environment (`DBUS_SESSION_BUS_ADDRESS`), so each case runs the action in a
//! child process (this test binary, running the ignored `child_runs_notify_desktop` test) with the environment
//! the case needs; the child prints its outcome as one JSON line.
#![cfg(all(unix, not(target_os = "macos")))]

mod net_support;

use connectors::ActionError;
use connectors::notify::NotifyConnector;
use expr_grammar::Value;
use net_support::*;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, BufReader};
use zbus::OwnedVariant;

const INPUT_VARIABLE: &str = "PILOT_TEST_DESKTOP_INPUT";
const OUTCOME_PREFIX: &str = "OUTCOME ";

/// Run by the other tests in a child process: runs `notify/desktop` with the input in `PILOT_TEST_DESKTOP_INPUT`.
#[tokio::test]
#[ignore = "run in a child process by the tests of this file"]
async fn child_runs_notify_desktop() {
    let Ok(text) = std::env::var(INPUT_VARIABLE) else {
        return; // run with `--ignored` directly: there is no case to run
    };
    let fields: Json = serde_json::from_str(&text).expect("input JSON");
    // Durations have no JSON form: `<name>_ms` stands for the duration input `<name>`.
    let mut input = Value::from_json(&json!({}));
    for (name, value) in fields.as_object().expect("an object") {
        input = match (name.strip_suffix("_ms"), value.as_i64()) {
            (Some(duration_name), Some(ms)) => input_with(input.to_json(), [(duration_name, millis(ms))]),
            _ => input_with(input.to_json(), [(name.as_str(), Value::from_json(value))]),
        };
    }
    let outcome = match run(&NotifyConnector::new(), "notify/desktop", input, &ctx()).await {
        Ok(output) => json!({"ok": output.to_json()}),
        Err(ActionError::Unavailable { reason }) => json!({"unavailable": reason}),
        Err(other) => json!({"other": other.to_string()}),
    };
    println!("{OUTCOME_PREFIX}{outcome}");
}

/// Runs the child with `bus_address` as `DBUS_SESSION_BUS_ADDRESS` (unset when `None`) and an empty
/// `XDG_RUNTIME_DIR`, so no bus is found by any other way.
async fn run_in_child(bus_address: Option<&str>, input: Json) -> Json {
    let runtime_dir = tempfile::tempdir().expect("temporary folder");
    let mut command = tokio::process::Command::new(std::env::current_exe().expect("test binary"));
    command
        .args(["--exact", "child_runs_notify_desktop", "--ignored", "--nocapture", "--test-threads=1"])
        .env(INPUT_VARIABLE, input.to_string())
        .env("XDG_RUNTIME_DIR", runtime_dir.path())
        .kill_on_drop(true);
    match bus_address {
        Some(address) => command.env("DBUS_SESSION_BUS_ADDRESS", address),
        None => command.env_remove("DBUS_SESSION_BUS_ADDRESS"),
    };
    let output = command.output().await.expect("run the child test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    // libtest may print `test child_runs_notify_desktop ... ` on the same line first.
    let line = stdout.lines().find_map(|line| line.find(OUTCOME_PREFIX).map(|at| &line[at + OUTCOME_PREFIX.len()..]));
    let line = line.unwrap_or_else(|| panic!("no outcome from the child: {stdout}\n{}", output_stderr(&output)));
    serde_json::from_str(line).expect("outcome JSON")
}

fn output_stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn unavailable_reason(outcome: &Json) -> &str {
    outcome["unavailable"].as_str().unwrap_or_else(|| panic!("expected Unavailable, got {outcome}"))
}

/// A private session bus: `dbus-daemon` listening on a socket in a temporary folder, killed on drop.
struct PrivateBus {
    address: String,
    _daemon: tokio::process::Child,
    _dir: tempfile::TempDir,
}

impl PrivateBus {
    /// `None` (and a note on stderr) when `dbus-daemon` is not installed.
    async fn start() -> Option<PrivateBus> {
        let dir = tempfile::tempdir().expect("temporary folder");
        let listen = format!("unix:path={}", dir.path().join("bus").display());
        let spawned = tokio::process::Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address", &format!("--address={listen}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        let Ok(mut daemon) = spawned else {
            eprintln!("dbus-daemon is not installed: skipping the private-bus case");
            return None;
        };
        let stdout = daemon.stdout.take().expect("daemon stdout");
        let mut address = String::new();
        BufReader::new(stdout).read_line(&mut address).await.expect("daemon address");
        assert!(!address.trim().is_empty(), "dbus-daemon printed no address");
        Some(PrivateBus { address: address.trim().to_string(), _daemon: daemon, _dir: dir })
    }
}

/// One `Notify` call as the service received it.
#[derive(Debug, Clone, PartialEq)]
struct NotifyCall {
    app_name: String,
    icon: String,
    summary: String,
    body: String,
    urgency: Option<u8>,
    expire_timeout: i32,
}

/// Stands in for a desktop's notification daemon: records each call, answers with ids from 41 on, or never
/// answers when `hang`.
struct StandInService {
    calls: Arc<Mutex<Vec<NotifyCall>>>,
    hang: bool,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl StandInService {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        hints: HashMap<String, OwnedVariant>,
        expire_timeout: i32,
    ) -> u32 {
        if self.hang {
            std::future::pending::<()>().await;
        }
        let urgency = hints.get("urgency").and_then(|value| u8::try_from(value).ok());
        let call = NotifyCall { app_name, icon: app_icon, summary, body, urgency, expire_timeout };
        let mut calls = self.calls.lock().expect("calls");
        calls.push(call);
        40 + calls.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".to_string()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("stand-in".into(), "pilot tests".into(), "1".into(), "1.2".into())
    }
}

async fn serve_stand_in(bus: &PrivateBus, hang: bool) -> (zbus::Connection, Arc<Mutex<Vec<NotifyCall>>>) {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let service = StandInService { calls: calls.clone(), hang };
    let connection = zbus::connection::Builder::address(bus.address.as_str())
        .name("org.freedesktop.Notifications")
        .serve_at("/org/freedesktop/Notifications", service)
        .build()
        .await
        .expect("connect the stand-in service");
    (connection, calls)
}

#[tokio::test]
async fn without_a_session_bus_the_action_is_unavailable_saying_so() {
    let outcome = run_in_child(None, json!({"title": "Backup complete"})).await;
    assert_eq!(
        unavailable_reason(&outcome),
        "desktop notifications: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    );
    let shown = ActionError::Unavailable { reason: unavailable_reason(&outcome).to_string() }.to_string();
    assert_eq!(
        shown,
        "not available here: desktop notifications: no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)"
    );
}

#[tokio::test]
async fn a_bus_address_leading_nowhere_is_unavailable_naming_the_address() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let address = format!("unix:path={}", dir.path().join("no-such-socket").display());
    let outcome = run_in_child(Some(&address), json!({"title": "Backup complete"})).await;
    let reason = unavailable_reason(&outcome);
    let prefix = format!("desktop notifications: cannot connect to the D-Bus session bus at {address}: ");
    assert!(reason.starts_with(&prefix), "{reason}");
    assert!(reason.contains("No such file or directory"), "{reason}");
}

#[tokio::test]
async fn a_bus_without_a_notification_service_is_unavailable() {
    let Some(bus) = PrivateBus::start().await else { return };
    let outcome = run_in_child(Some(&bus.address), json!({"title": "Backup complete"})).await;
    let reason = unavailable_reason(&outcome);
    let prefix = format!(
        "desktop notifications: no notification service is running on the D-Bus session bus at {}: ",
        bus.address
    );
    assert!(reason.starts_with(&prefix), "{reason}");
    assert!(reason.contains("org.freedesktop.DBus.Error.ServiceUnknown"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_reaches_the_notification_service_with_every_field() {
    let Some(bus) = PrivateBus::start().await else { return };
    let (_service, calls) = serve_stand_in(&bus, false).await;
    let input = json!({"title": "Backup complete", "body": "Backed up 12 files", "icon": "dialog-information",
        "urgency": "critical", "app_name": "Nightly", "expire_after_ms": 5000});
    let outcome = run_in_child(Some(&bus.address), input).await;

    assert_eq!(outcome, json!({"ok": {"id": 41}}));
    let expected = NotifyCall {
        app_name: "Nightly".into(),
        icon: "dialog-information".into(),
        summary: "Backup complete".into(),
        body: "Backed up 12 files".into(),
        urgency: Some(2),
        expire_timeout: 5000,
    };
    assert_eq!(*calls.lock().expect("calls"), vec![expected]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn defaults_are_the_pilot_app_name_and_an_empty_body() {
    let Some(bus) = PrivateBus::start().await else { return };
    let (_service, calls) = serve_stand_in(&bus, false).await;
    let outcome = run_in_child(Some(&bus.address), json!({"title": "Done"})).await;
    assert_eq!(outcome, json!({"ok": {"id": 41}}));
    let call = calls.lock().expect("calls")[0].clone();
    assert_eq!((call.app_name.as_str(), call.body.as_str(), call.urgency), ("Dooz Pilot", "", None));
    assert_eq!(call.expire_timeout, -1, "the notification server's default");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_that_never_answers_is_given_up_on_at_the_timeout() {
    let Some(bus) = PrivateBus::start().await else { return };
    let (_service, _calls) = serve_stand_in(&bus, true).await;
    let outcome = run_in_child(Some(&bus.address), json!({"title": "Done", "timeout_ms": 300})).await;
    assert_eq!(
        unavailable_reason(&outcome),
        "desktop notifications: the notification server did not answer within 0.3s (`timeout`)"
    );
}

#[tokio::test]
async fn a_bad_urgency_names_the_input_before_any_bus_is_tried() {
    let outcome = run_in_child(None, json!({"title": "Done", "urgency": "urgent"})).await;
    assert_eq!(outcome, json!({"other": "input `urgency`: expected `low`, `normal` or `critical`, got `urgent`"}));
}
