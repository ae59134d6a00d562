//! A `pilot` killed with SIGKILL while a `shell/exec` step runs takes its program with it, and `pilot resume` kills
//! what that program had started before it reports the step: no effect of the interrupted attempt happens later.
//! The program's process group is read from `$PILOT_HOME/run/<execution-id>.children`, as `resume` reads it.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);
/// How long the programs below wait before their effect; the test checks for the effect after this has passed.
const DELAY_SECONDS: u64 = 4;

fn pilot(pilot_home: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pilot"));
    command.env("PILOT_HOME", pilot_home).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// Starts `pilot run` of a one-step workflow running `command` through `sh -c`.
fn run_shell_step(pilot_home: &Path, work: &Path, command: &str, resume: &str) -> Child {
    let workflow = format!(
        "name: kill-children\nsteps:\n  - id: slow\n    action: shell/exec\n    resume: {resume}\n    input:\n      \
         shell: true\n      command: {command:?}\n"
    );
    let file = work.join("workflow.yaml");
    std::fs::write(&file, workflow).unwrap();
    pilot(pilot_home).arg("run").arg(&file).spawn().unwrap()
}

/// Waits for the running step's children file and returns the process group it records.
fn recorded_group(pilot_home: &Path) -> u32 {
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < PATIENCE, "no children file appeared");
        let found = std::fs::read_dir(pilot_home.join("run"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .find(|path| path.extension().is_some_and(|ext| ext == "children"));
        if let Some(records) = found.and_then(|path| std::fs::read_to_string(path).ok())
            && let Ok(records) = serde_json::from_str::<serde_json::Value>(&records)
        {
            return records[0]["pgid"].as_u64().unwrap() as u32;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `(pid, pgid)` of every live process (zombies are dead: they only wait to be reaped).
fn live_processes() -> Vec<(u32, u32)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 1..].split_whitespace().collect();
        if !matches!(fields[0], "Z" | "X") {
            found.push((pid, fields[2].parse().unwrap()));
        }
    }
    found
}

fn group_members(pgid: u32) -> Vec<u32> {
    live_processes().into_iter().filter(|(_, group)| *group == pgid).map(|(pid, _)| pid).collect()
}

fn is_alive(pid: u32) -> bool {
    live_processes().iter().any(|(live, _)| *live == pid)
}

fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < PATIENCE, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn effect_file(work: &Path) -> PathBuf {
    work.join("effect")
}

#[test]
fn a_run_killed_with_sigkill_takes_its_shell_exec_program_with_it() {
    let (work, pilot_home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let effect = effect_file(work.path());
    let command = format!("sleep {DELAY_SECONDS}; echo effect > '{}'", effect.display());
    let mut run = run_shell_step(pilot_home.path(), work.path(), &command, "rerun");
    let shell = recorded_group(pilot_home.path());
    let started = Instant::now();
    assert!(is_alive(shell), "the step's shell runs");

    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();

    wait_until("the shell outlived the pilot that started it", || !is_alive(shell));
    std::thread::sleep(Duration::from_secs(DELAY_SECONDS + 1).saturating_sub(started.elapsed()));
    assert!(!effect.exists(), "the killed attempt's effect happened after all");
}

#[test]
fn resume_kills_what_the_interrupted_attempt_started_before_it_reports_the_step() {
    let (work, pilot_home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let effect = effect_file(work.path());
    // The effect comes from a background subshell: a grandchild of pilot, which PR_SET_PDEATHSIG does not reach.
    let command = format!("(sleep {DELAY_SECONDS}; echo effect > '{}') & wait", effect.display());
    let mut run = run_shell_step(pilot_home.path(), work.path(), &command, "fail");
    let group = recorded_group(pilot_home.path());
    wait_until("the background subshell and its sleep never started", || group_members(group).len() >= 3);
    let started = Instant::now();

    run.kill().unwrap(); // SIGKILL
    run.wait().unwrap();
    wait_until("the shell outlived the pilot that started it", || !is_alive(group));
    let left = group_members(group);
    assert!(!left.is_empty(), "the subshell is left running: only resume can stop it");

    let resumed = pilot(pilot_home.path()).arg("resume").arg("--json").output().unwrap();
    let stderr = String::from_utf8_lossy(&resumed.stderr);
    assert!(group_members(group).is_empty(), "resume left the interrupted attempt's processes running: {stderr}");
    let note = format!("killed {} process(es) its interrupted run left running", left.len());
    assert!(stderr.contains(&note), "{stderr}");
    let resumed: serde_json::Value = serde_json::from_slice(&resumed.stdout).unwrap();
    let record = &resumed[0];
    assert_eq!(record["steps"][0]["status"], "failed", "`resume: fail` reports the step: {record:#}");
    assert!(elapsed_is_short(started), "the check below must start before the subshell would have written");

    std::thread::sleep(Duration::from_secs(DELAY_SECONDS + 1).saturating_sub(started.elapsed()));
    assert!(!effect.exists(), "the interrupted attempt's effect happened after resume");
}

/// Resume must have finished before the subshell's delay ran out, or the test proves nothing.
fn elapsed_is_short(since: Instant) -> bool {
    since.elapsed() < Duration::from_secs(DELAY_SECONDS)
}
