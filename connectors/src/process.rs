//! Starting programs so that none outlives the work it belongs to (`shell/exec`, custom connectors).
//!
//! - Each program leads a process group of its own, so a timeout or a cancel kills the whole tree it started
//!   (`SIGKILL` to the group), and so does dropping the step mid-run.
//! - On Linux each program gets `PR_SET_PDEATHSIG` = `SIGKILL`: when the `pilot` that started it dies, even by
//!   `SIGKILL`, the kernel kills the program too. The signal fires when the *thread* that forked the program exits,
//!   so every program is started from one spawning thread that lives as long as the process (tokio's blocking
//!   threads come and go).
//! - That signal does not reach grandchildren (a shell's background job). So while a program runs, the action
//!   reports its group ([`ChildRecord`]) through [`ActionContext::children`](crate::ActionContext::children); the
//!   CLI keeps the records beside the execution's pid file, and the `pilot` that later takes the execution over
//!   calls [`kill_leftover_group`] on each before it re-runs or reports any step.

use std::io;

use tokio::process::{Child, Command};

use crate::{ChildEvent, ChildRecord, ChildRecorder};

/// Pilot's own secrets in its environment: the credentials' master key and the store URL (with its password).
/// Programs Pilot starts do not inherit them, and expressions (`env()`) do not see them.
pub const PRIVATE_ENV: [&str; 2] = ["PILOT_MASTER_KEY", "PILOT_STORE"];

/// Starts `command` in a process group of its own, killed with this process (Linux) and recorded in `recorder`
/// while it runs. The returned guard kills the group when dropped before [`ProcessGroup::disarm`].
pub(crate) async fn spawn(mut command: Command, recorder: &ChildRecorder) -> io::Result<(Child, ProcessGroup)> {
    for name in PRIVATE_ENV {
        command.env_remove(name);
    }
    #[cfg(unix)]
    command.process_group(0);
    command.kill_on_drop(true);
    let child = start(command).await?;
    let group = ProcessGroup::started(&child, recorder.clone());
    Ok((child, group))
}

#[cfg(target_os = "linux")]
async fn start(mut command: Command) -> io::Result<Child> {
    die_with_parent(&mut command);
    let (reply, answer) = tokio::sync::oneshot::channel();
    let request = spawner::Request { command, runtime: tokio::runtime::Handle::current(), reply };
    spawner::send(request)?;
    answer.await.map_err(|_| io::Error::other("the spawning thread stopped"))?
}

#[cfg(not(target_os = "linux"))]
async fn start(mut command: Command) -> io::Result<Child> {
    command.spawn()
}

/// In the child, before `exec`: ask for `SIGKILL` when the spawning thread dies, and die at once if the parent
/// already did (between `fork` and `prctl`).
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    let parent = libc::pid_t::try_from(std::process::id()).unwrap_or(0);
    // SAFETY: the closure runs in the forked child before exec. It only calls prctl, getppid and raise, which are
    // async-signal-safe, and touches no memory shared with the parent.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) == -1 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                libc::raise(libc::SIGKILL);
            }
            Ok(())
        });
    }
}

/// The one long-lived thread every program is forked from (see the module docs).
#[cfg(target_os = "linux")]
mod spawner {
    use std::io;
    use std::sync::OnceLock;
    use std::sync::mpsc::{Sender, channel};

    use tokio::process::{Child, Command};

    pub(super) struct Request {
        pub command: Command,
        /// The caller's runtime: the child is registered with its process driver, which reaps it.
        pub runtime: tokio::runtime::Handle,
        pub reply: tokio::sync::oneshot::Sender<io::Result<Child>>,
    }

    pub(super) fn send(request: Request) -> io::Result<()> {
        static SPAWNER: OnceLock<Result<Sender<Request>, String>> = OnceLock::new();
        let spawner = SPAWNER.get_or_init(|| {
            let (sender, requests) = channel::<Request>();
            std::thread::Builder::new()
                .name("pilot-spawner".into())
                .spawn(move || {
                    for Request { mut command, runtime, reply } in requests {
                        let _runtime = runtime.enter();
                        // A caller that went away drops the child here, which kills it (`kill_on_drop`).
                        let _ = reply.send(command.spawn());
                    }
                })
                .map(|_| sender)
                .map_err(|err| err.to_string())
        });
        match spawner {
            Ok(sender) => sender.send(request).map_err(|_| io::Error::other("the spawning thread stopped")),
            Err(reason) => Err(io::Error::other(format!("cannot start the spawning thread: {reason}"))),
        }
    }
}

/// A started program's process group: killed when dropped while still armed (a step dropped mid-run), and
/// reported to the recorder from start to end.
pub(crate) struct ProcessGroup {
    id: Option<u32>,
    record: Option<ChildRecord>,
    recorder: ChildRecorder,
}

impl ProcessGroup {
    fn started(child: &Child, recorder: ChildRecorder) -> ProcessGroup {
        let id = child.id();
        let record = id.and_then(proc::record_of);
        if let Some(record) = &record {
            recorder.report(ChildEvent::Started(record));
        }
        ProcessGroup { id, record, recorder }
    }

    /// The program ended on its own: its group is left alone (a background job it started may go on).
    pub(crate) fn disarm(&mut self) {
        self.id = None;
        self.finish();
    }

    /// Kills every process of the group (`SIGKILL`).
    pub(crate) fn kill(&mut self) {
        #[cfg(unix)]
        if let Some(id) = self.id.take().and_then(|id| libc::pid_t::try_from(id).ok()) {
            // SAFETY: kill(2) with a negative pid signals that process group; it touches no memory of ours.
            unsafe {
                libc::kill(-id, libc::SIGKILL);
            }
        }
        self.id = None;
        self.finish();
    }

    fn finish(&mut self) {
        if let Some(record) = self.record.take() {
            self.recorder.report(ChildEvent::Ended(&record));
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills what is left of a recorded process group (its leader, or the processes it started that are still in
/// the group) and waits until they are gone; returns how many processes it killed. Never touches a process that
/// only reuses an id: after a reboot (another boot id) nothing is done; a live process with the group's id must
/// have the recorded start time; and every member killed must have started no earlier than the leader did.
pub fn kill_leftover_group(record: &ChildRecord) -> usize {
    proc::kill_leftover_group(record)
}

#[cfg(target_os = "linux")]
mod proc {
    use std::time::{Duration, Instant};

    use crate::ChildRecord;

    /// How long killed processes get to disappear before we stop waiting.
    const PATIENCE: Duration = Duration::from_secs(5);

    /// The fields of `/proc/PID/stat` we use.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub(super) struct Stat {
        pub state: char,
        pub pgrp: i64,
        pub start_time: u64,
    }

    /// Parses `/proc/PID/stat`. The command name (field 2) is in parentheses and may hold spaces or `)`, so the
    /// fields are counted from the last `)`: state is field 3, pgrp 5, starttime 22.
    pub(super) fn parse_stat(text: &str) -> Option<Stat> {
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(Stat {
            state: fields.first()?.chars().next()?,
            pgrp: fields.get(2)?.parse().ok()?,
            start_time: fields.get(19)?.parse().ok()?,
        })
    }

    fn stat(pid: u32) -> Option<Stat> {
        parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    fn boot_id() -> Option<String> {
        Some(std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?.trim().to_string())
    }

    pub(super) fn record_of(pid: u32) -> Option<ChildRecord> {
        Some(ChildRecord { pgid: pid, start_time: stat(pid)?.start_time, boot_id: boot_id()? })
    }

    /// Live (not zombie) processes of the recorded group that started no earlier than its leader.
    fn members(record: &ChildRecord) -> Vec<u32> {
        let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                stat(*pid).is_some_and(|s| {
                    s.pgrp == i64::from(record.pgid)
                        && s.start_time >= record.start_time
                        && !matches!(s.state, 'Z' | 'X')
                })
            })
            .collect()
    }

    pub(super) fn kill_leftover_group(record: &ChildRecord) -> usize {
        if boot_id().as_deref() != Some(record.boot_id.as_str()) {
            return 0;
        }
        if stat(record.pgid).is_some_and(|leader| leader.start_time != record.start_time) {
            return 0; // the id now belongs to an unrelated process: its group is not ours
        }
        let mut killed = std::collections::BTreeSet::new();
        let started = Instant::now();
        loop {
            let left = members(record);
            if left.is_empty() || started.elapsed() > PATIENCE {
                return killed.len();
            }
            for pid in left {
                if let Ok(id) = libc::pid_t::try_from(pid) {
                    // SAFETY: kill(2) on a process we just checked belongs to the recorded group.
                    unsafe {
                        libc::kill(id, libc::SIGKILL);
                    }
                    killed.insert(pid);
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod proc {
    use crate::ChildRecord;

    pub(super) fn record_of(_pid: u32) -> Option<ChildRecord> {
        None
    }

    pub(super) fn kill_leftover_group(_record: &ChildRecord) -> usize {
        0
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::proc::{Stat, parse_stat};

    #[test]
    fn stat_fields_are_counted_after_the_command_name_whatever_it_holds() {
        let text = "4242 (we ird) (name) S 1 4242 4242 0 -1 4194560 95 0 0 0 0 0 0 0 20 0 1 0 987654 1 2 3";
        assert_eq!(parse_stat(text), Some(Stat { state: 'S', pgrp: 4242, start_time: 987654 }));
        assert_eq!(parse_stat("4242 (cut"), None);
    }
}
