//! What a process costs, from /proc: resident memory, CPU time, context switches of all its threads.

use std::collections::HashMap;
use std::path::PathBuf;

/// Resident memory in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> u64 {
    status_field(PathBuf::from(format!("/proc/{pid}/status")), "VmRSS:")
}

/// User plus system CPU time, in clock ticks (`utime` + `stime` of /proc/PID/stat).
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, so 12 and 13 after the name (field 3 is the first).
    let field = |index: usize| fields.get(index).and_then(|value| value.parse::<u64>().ok()).unwrap_or(0);
    field(11) + field(12)
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`).
pub fn ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a configuration value.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).unwrap_or(100)
}

/// Context switches (voluntary and not) of each thread of the process, by thread id: each is a wake-up.
pub fn context_switches(pid: u32) -> HashMap<String, u64> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return HashMap::new() };
    tasks
        .flatten()
        .map(|task| {
            let status = task.path().join("status");
            let switches = status_field(status.clone(), "voluntary_ctxt_switches:")
                + status_field(status, "nonvoluntary_ctxt_switches:");
            (task.file_name().to_string_lossy().into_owned(), switches)
        })
        .collect()
}

/// Context switches between two readings, over the threads alive at the second (a thread started in between
/// counts from zero).
pub fn switches_between(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> u64 {
    after.iter().map(|(thread, count)| count.saturating_sub(before.get(thread).copied().unwrap_or(0))).sum()
}

/// `NAME: COUNT` of each thread that switched since `before`.
pub fn switches_by_thread_name(pid: u32, before: &HashMap<String, u64>) -> String {
    let after = context_switches(pid);
    let mut listed: Vec<String> = after
        .iter()
        .map(|(thread, count)| {
            let name = std::fs::read_to_string(format!("/proc/{pid}/task/{thread}/comm")).unwrap_or_default();
            format!("{} {}", name.trim(), count.saturating_sub(before.get(thread).copied().unwrap_or(0)))
        })
        .collect();
    listed.sort();
    listed.join(", ")
}

/// Threads of the process.
pub fn threads(pid: u32) -> u64 {
    status_field(PathBuf::from(format!("/proc/{pid}/status")), "Threads:")
}

fn status_field(path: PathBuf, name: &str) -> u64 {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

/// The machine's load average over the last minute, as /proc/loadavg says.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}
