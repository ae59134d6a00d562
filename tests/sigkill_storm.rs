//! A storm of SIGKILLs: `pilot run` and `pilot resume` of a 20-step workflow (pure steps side by side, `fs/write`,
//! `shell/exec`, a loop) killed 30 times at random moments, each time resumed. Nothing may be lost or doubled:
//! - no step recorded finished before a kill runs again after it;
//! - no effect is on disk without its step's start record (checked at each kill);
//! - no effect comes from a killed process after its kill (its children die with it);
//! - every execution completes, and the database passes SQLite's integrity check.
//!
//! Each `shell/exec` effect appends `STEP EXECUTION PID` to a file, the PID being the `pilot` that ran it (`$PPID`
//! of the shell), so every effect says which execution and which process made it.

use rusqlite::Connection;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const KILLS: usize = 30;

fn workflow(dir: &Path) -> String {
    let effects = dir.join("effects.log").display().to_string();
    let shell = |id: &str, needs: &str| {
        format!(
            "  - id: {id}\n    action: shell/exec\n{needs}    input:\n      shell: true\n      command: \"sleep 0.02; echo {id} ${{execution.id}} $PPID >> '{effects}'\"\n"
        )
    };
    let write = |id: &str| {
        let file = dir.join(format!("{id}.txt")).display().to_string();
        format!("  - id: {id}\n    action: fs/write\n    input:\n      path: \"{file}\"\n      content: \"{id}\"\n")
    };
    let pure = |id: &str, from: &str| {
        format!("  - id: {id}\n    action: transform\n    input:\n      value: \"${{len({from})}}\"\n")
    };
    let mut yaml = String::from("name: storm\nvariables:\n  items: [1, 2, 3]\nsteps:\n");
    yaml.push_str(&pure("count", "items"));
    yaml.push_str(&pure("count_again", "items")); // side by side with `count`
    for index in 1..=6 {
        yaml.push_str(&shell(&format!("shell_{index}"), ""));
        yaml.push_str(&write(&format!("write_{index}")));
    }
    yaml.push_str(&format!(
        "  - id: each\n    action: shell/exec\n    loop: \"${{items}}\"\n    input:\n      shell: true\n      command: \"sleep 0.02; echo each-${{item}} ${{execution.id}} $PPID >> '{effects}'\"\n"
    ));
    for index in 1..=4 {
        yaml.push_str(&pure(&format!("sum_{index}"), "items"));
    }
    yaml.push_str(&shell("last", "    needs: [count, count_again]\n"));
    yaml
}

/// One kill: the killed process, the (execution, step) pairs finished at that moment, the effects made so far.
type Kill = (u32, BTreeSet<(String, String)>, usize);

/// A small deterministic generator: the storm is the same every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % bound
    }
}

fn pilot(home: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(args)
        .arg("-q")
        .env("PILOT_HOME", home)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn database(home: &Path) -> Connection {
    let conn = Connection::open(home.join("pilot.db")).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

/// (execution, step) pairs with the given statuses (none while the database is still being created).
fn steps_with(home: &Path, statuses: &[&str]) -> BTreeSet<(String, String)> {
    let conn = database(home);
    let Ok(mut statement) = conn.prepare("SELECT execution_id, step_id, status FROM execution_steps") else {
        return BTreeSet::new();
    };
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?)));
    rows.unwrap()
        .map(Result::unwrap)
        .filter(|(_, _, status)| statuses.contains(&status.as_str()))
        .map(|(e, s, _)| (e, s))
        .collect()
}

/// One effect on disk: which step of which execution, made by which process.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Effect {
    step: String,
    execution: String,
    pid: u32,
}

fn effects(dir: &Path) -> Vec<Effect> {
    let text = std::fs::read_to_string(dir.join("effects.log")).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut parts = line.split(' ');
            // Loop items say `each-N`: the step is `each`.
            let step = parts.next()?.split('-').next()?.to_owned();
            let execution = parts.next()?.to_owned();
            let pid = parts.next()?.trim().parse().ok()?;
            Some(Effect { step, execution, pid })
        })
        .collect()
}

fn statuses(home: &Path) -> BTreeMap<String, String> {
    let conn = database(home);
    let mut statement = conn.prepare("SELECT id, status FROM executions").unwrap();
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap();
    rows.map(Result::unwrap).collect()
}

fn wait_for(child: &mut Child, patience: Duration) -> bool {
    let deadline = Instant::now() + patience;
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn a_storm_of_sigkills_loses_nothing_and_doubles_nothing() {
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let file: PathBuf = work.path().join("storm.yaml");
    std::fs::write(&file, workflow(work.path())).unwrap();
    let mut random = Lcg(7);
    let mut kills: Vec<Kill> = Vec::new();
    let mut pids_in_order: Vec<u32> = Vec::new();
    let mut needs_resume = false;
    let mut kills_mid_step = 0;
    while kills.len() < KILLS {
        let mut child = if needs_resume {
            pilot(home.path(), &["resume"])
        } else {
            pilot(home.path(), &["run", file.to_str().unwrap()])
        };
        pids_in_order.push(child.id());
        let delay = Duration::from_millis(40 + random.below(400));
        if wait_for(&mut child, delay) {
            let status = child.wait().unwrap();
            assert!(status.success(), "a run that was not killed must succeed: {status}");
            needs_resume = false; // It finished on its own: the next cycle starts a new execution.
            continue;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(30)); // Its program children die with it.
        needs_resume = true;
        let finished = steps_with(home.path(), &["success", "skipped"]);
        if !steps_with(home.path(), &["running"]).is_empty() {
            kills_mid_step += 1;
        }
        let recorded = steps_with(home.path(), &["running", "success", "failed", "skipped"]);
        let on_disk = effects(work.path());
        for effect in &on_disk {
            let key = (effect.execution.clone(), effect.step.clone());
            assert!(recorded.contains(&key), "kill {}: effect without its start record: {effect:?}", kills.len());
        }
        kills.push((pids_in_order[pids_in_order.len() - 1], finished, on_disk.len()));
    }
    assert!(kills_mid_step >= KILLS / 3, "the storm must cut steps short: only {kills_mid_step} kills did");
    // Finish whatever the last kill interrupted.
    let mut last = pilot(home.path(), &["resume"]);
    pids_in_order.push(last.id());
    assert!(wait_for(&mut last, Duration::from_secs(60)), "the final resume did not end");

    let all_effects = effects(work.path());
    let position = |pid: u32| pids_in_order.iter().position(|p| *p == pid).unwrap_or(usize::MAX);
    for (index, (killed, finished, count_at_kill)) in kills.iter().enumerate() {
        for effect in &all_effects[*count_at_kill..] {
            // No orphan: the killed process made no effect after its kill.
            assert_ne!(effect.pid, *killed, "kill {index}: the killed process made an effect after it: {effect:?}");
            // Nothing finished before the kill ran again afterwards.
            let key = (effect.execution.clone(), effect.step.clone());
            assert!(
                !(finished.contains(&key) && position(effect.pid) > position(*killed)),
                "kill {index}: finished before the kill, yet run again: {effect:?}"
            );
        }
    }
    for (id, status) in statuses(home.path()) {
        assert_eq!(status, "success", "execution {id} did not complete");
    }
    let integrity: String = database(home.path()).query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
    assert_eq!(integrity, "ok");
}
