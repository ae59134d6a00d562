//! [`Daemon::accept`] when its caller goes away midway: a schedule's task aborted by a disable or an edit, an HTTP
//! handler dropped because the client hung up. An accepted trigger is a pending row, and the queue runs it;
//! dropping the caller must never leave a pending row that nothing runs.

use executor::engine::SystemClock;
use executor::store::ExecutionFilter;
use server::daemon::{AcceptRequest, Daemon, DaemonOptions};
use server::home::PilotHome;
use server::settings::Settings;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Polls `inner` until it has answered `Pending` `pendings` times, then drops it, as a caller that goes away.
struct DroppedAfter<F: Future> {
    inner: Option<Pin<Box<F>>>,
    pendings: usize,
}

impl<F: Future> Future for DroppedAfter<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let Some(inner) = self.inner.as_mut() else { return Poll::Ready(None) };
        match inner.as_mut().poll(cx) {
            Poll::Ready(output) => Poll::Ready(Some(output)),
            Poll::Pending if self.pendings == 0 => {
                self.inner = None;
                Poll::Ready(None)
            }
            Poll::Pending => {
                self.pendings -= 1;
                Poll::Pending
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_dropped_midway_never_leaves_a_pending_execution_that_nothing_runs() {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join("workflows")).unwrap();
    std::fs::write(
        home.path().join("workflows/note.yaml"),
        "name: note\nsteps:\n  - id: note\n    action: log\n    input:\n      message: hi\n",
    )
    .unwrap();
    let options =
        DaemonOptions { home: PilotHome::at(home.path()), settings: Settings::default(), clock: Arc::new(SystemClock) };
    let daemon = Daemon::open(options).await.unwrap();
    daemon.start_triggers();

    // Drop the accept after 0, 1, 2, ... waits, until it completes within them: one of these drops falls while
    // it waits for the commit of its pending row.
    for pendings in 0.. {
        let request = AcceptRequest {
            workflow: daemon.workflow("note").unwrap(),
            trigger_id: None,
            trigger: serde_json::json!({"type": "manual"}),
            inputs: serde_json::Map::new(),
            slot: None,
            idempotency_key: None,
        };
        let accept = daemon.accept(request);
        let completed = DroppedAfter { inner: Some(Box::pin(accept)), pendings }.await.is_some();
        daemon.store.flush().await.unwrap();
        every_execution_ends(&daemon, pendings).await;
        if completed {
            break;
        }
        assert!(pendings < 1000, "accept never completed");
    }
    daemon.shutdown(Duration::from_secs(10)).await;
}

/// Waits until every stored execution has ended; fails naming the one left pending.
async fn every_execution_ends(daemon: &Daemon, pendings: usize) {
    let started = Instant::now();
    loop {
        let filter = ExecutionFilter { limit: 10_000, ..ExecutionFilter::default() };
        let listed = daemon.store.list_executions(&filter).await.unwrap();
        let Some(open) = listed.iter().find(|execution| !execution.status.is_finished()) else { return };
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "accept dropped after {pendings} waits left execution {} {} with nothing to run it",
            open.id,
            open.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
