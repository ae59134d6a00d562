//! The log thread: appends the execution log lines the writer thread hands it, in the order it hands them, so
//! that creating and appending log files never holds up a commit. A file per execution means a new file for
//! every execution, and creating files can be slow (an ext4 file system searching for free inodes took 3 s for
//! the first 5,000 files on the development machine): on the writer thread that stalled every commit behind it.
//!
//! A write's lines are handed over before its ack is sent, and a read of the log through the store first waits
//! until everything handed over before it is written ([`LogQueue::settled`]): whoever was acked sees the lines.

use crate::store::ExecutionLogFiles;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use tokio::sync::oneshot;

/// Batches of lines that may wait for the log thread before the writer thread waits in turn.
const WAITING_BATCHES: usize = 4096;

enum LogJob {
    /// `(execution id, rendered lines)`, each appended in one write.
    Append(Vec<(String, String)>),
    /// Answered once every job before it is done.
    Settled(oneshot::Sender<()>),
}

/// Hands lines to the log thread. The thread ends once every clone is dropped and the queue is empty.
#[derive(Debug, Clone)]
pub(crate) struct LogQueue {
    sender: SyncSender<LogJob>,
}

impl std::fmt::Debug for LogJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LogJob::Append(texts) => write!(f, "Append({} executions)", texts.len()),
            LogJob::Settled(_) => f.write_str("Settled"),
        }
    }
}

impl LogQueue {
    /// Starts the log thread writing into `files`.
    pub(crate) fn start(files: ExecutionLogFiles) -> std::io::Result<(LogQueue, std::thread::JoinHandle<()>)> {
        let (sender, receiver) = sync_channel(WAITING_BATCHES);
        let thread =
            std::thread::Builder::new().name("pilot-store-logs".to_owned()).spawn(move || run(&files, receiver))?;
        Ok((LogQueue { sender }, thread))
    }

    /// Queues lines; waits only when the log thread is [`WAITING_BATCHES`] behind.
    pub(crate) fn append(&self, texts: Vec<(String, String)>) {
        if !texts.is_empty() {
            let _ = self.sender.send(LogJob::Append(texts));
        }
    }

    /// Resolves once every line queued before this call is written (at once if the thread is gone).
    pub(crate) fn settled(&self) -> oneshot::Receiver<()> {
        let (answer, settled) = oneshot::channel();
        let _ = self.sender.send(LogJob::Settled(answer));
        settled
    }
}

fn run(files: &ExecutionLogFiles, jobs: Receiver<LogJob>) {
    for job in jobs {
        match job {
            LogJob::Append(texts) => {
                for (execution_id, text) in texts {
                    if let Err(error) = files.append(&execution_id, &text) {
                        tracing::warn!("{error}");
                    }
                }
            }
            LogJob::Settled(answer) => {
                let _ = answer.send(());
            }
        }
    }
}
