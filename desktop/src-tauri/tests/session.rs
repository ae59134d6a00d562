//! The app's daemon, for real: started by the app for a home without one (and stopped again), or attached to when
//! one runs; and what the tray and the notifications hear from its live events.

use pilot_desktop::running::{self, Phase, Update};
use pilot_desktop::session::Session;
use server::daemon::DaemonOptions;
use server::home::PilotHome;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

const SLOW: &str = r#"name: slow
triggers:
  - type: manual
steps:
  - id: wait
    action: shell/exec
    input:
      command: sleep
      args: ["1"]
"#;

const BROKEN: &str = r#"name: broken
triggers:
  - type: manual
steps:
  - id: fail
    action: shell/exec
    input:
      command: sh
      args: ["-c", "echo out of luck >&2; exit 3"]
"#;

fn home_with_workflows() -> (tempfile::TempDir, PilotHome) {
    let dir = tempfile::tempdir().unwrap();
    let home = PilotHome::at(dir.path());
    std::fs::create_dir_all(home.workflows()).unwrap();
    std::fs::write(home.workflows().join("slow.yaml"), SLOW).unwrap();
    std::fs::write(home.workflows().join("broken.yaml"), BROKEN).unwrap();
    (dir, home)
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_daemon_the_app_starts_one_on_loopback_that_only_its_token_opens_and_stops_it_on_close() {
    let (_dir, home) = home_with_workflows();
    let session = Session::open(home.clone()).await.unwrap();
    assert!(session.owns_daemon());
    assert!(session.url().starts_with("http://127.0.0.1:"), "{}", session.url());

    let found = server::client::find_daemon(&home).unwrap().expect("its lock is held");
    assert_eq!(found.pid, std::process::id());
    assert_eq!(session.url(), format!("http://{}/", found.addr));

    let workflows = format!("{}api/v1/workflows", session.url());
    let without = http().get(&workflows).send().await.unwrap();
    assert_eq!(without.status(), 401, "the API needs the launch's token");
    let token = session.token().expect("a token of its own").as_str().to_owned();
    assert_eq!(token.len(), 64);
    assert!(server::api::ApiToken::load(home.root()).unwrap().is_none(), "the token is written nowhere");
    let with = http().get(&workflows).bearer_auth(&token).send().await.unwrap();
    assert_eq!(with.status(), 200);
    let mut names: Vec<String> = session.client().workflows().await.unwrap().into_iter().map(|w| w.name).collect();
    names.sort();
    assert_eq!(names, ["broken", "slow"]);
    let page = http().get(session.url()).send().await.unwrap();
    assert_eq!(page.status(), 200, "the UI (or the page saying how to build it) is at /");

    session.close().await.unwrap();
    assert_eq!(server::client::find_daemon(&home).unwrap(), None, "the lock is released");
    assert!(http().get(&workflows).send().await.is_err(), "nothing listens any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_daemon_is_attached_to_and_left_running_when_the_app_closes() {
    let (_dir, home) = home_with_workflows();
    let settings = server::settings::Settings::load(&home.settings()).unwrap();
    let options = DaemonOptions { home: home.clone(), settings, clock: Arc::new(executor::engine::SystemClock) };
    let (ready_tx, ready_rx) = oneshot::channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let served = tokio::spawn(server::serve::serve(
        options,
        addr,
        Duration::from_secs(5),
        None,
        move |ready| ready_tx.send(ready.addr).unwrap(),
        async move {
            let _ = stop_rx.await;
        },
    ));
    let addr = ready_rx.await.unwrap();

    let session = Session::open(home.clone()).await.unwrap();
    assert!(!session.owns_daemon());
    assert_eq!(session.url(), format!("http://{addr}/"));
    assert!(session.token().is_none(), "this daemon has no token");
    assert_eq!(session.client().workflows().await.unwrap().len(), 2);
    session.close().await.unwrap();

    let still = server::client::find_daemon(&home).unwrap().expect("the daemon goes on");
    assert_eq!(still.addr, addr);
    stop_tx.send(()).unwrap();
    served.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tray_hears_of_running_executions_and_a_failure_is_reported_with_its_workflow_and_error() {
    let (_dir, home) = home_with_workflows();
    let session = Session::open(home).await.unwrap();
    let (tx, mut updates) = mpsc::unbounded_channel();
    let follower = tokio::spawn(running::follow(session.client().clone(), session.token().cloned(), move |update| {
        let _ = tx.send(update);
    }));
    let next = async |updates: &mut mpsc::UnboundedReceiver<Update>| {
        tokio::time::timeout(Duration::from_secs(20), updates.recv()).await.expect("an update in time").unwrap()
    };
    let Update::Running(first) = next(&mut updates).await else { panic!("the listing comes first") };
    assert!(first.is_empty());

    let slow = session.client().run("slow", Default::default()).await.unwrap();
    let mut seen_running = false;
    loop {
        match next(&mut updates).await {
            Update::Running(running) if running.is_empty() => break,
            Update::Running(running) => {
                let execution = running.executions().next().unwrap();
                assert_eq!((execution.id.as_str(), execution.workflow.as_str()), (slow.execution_id.as_str(), "slow"));
                seen_running |= execution.phase == Phase::Running;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(seen_running, "the slow execution was listed as running before it ended");

    let broken = session.client().run("broken", Default::default()).await.unwrap();
    let failure = loop {
        match next(&mut updates).await {
            Update::Failed(failure) => break failure,
            Update::Running(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(failure.execution_id, broken.execution_id);
    assert_eq!(failure.workflow.as_deref(), Some("broken"));
    let error = failure.error.unwrap();
    assert!(error.contains("exited with code 3") && error.contains("out of luck"), "{error}");

    follower.abort();
    session.close().await.unwrap();
}
