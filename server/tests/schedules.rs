//! Schedules of a real [`Daemon`] (store, queue, executions running `log` steps) on tokio's paused clock: the
//! daemon reads the time from a `TokioClock`, so days pass in milliseconds and every slot is a known instant.
//! A restart is the daemon shut down and opened again on the same `$PILOT_HOME` with a later (or earlier) clock.
//!
//! The test moves time itself ([`advance_to`]) and otherwise waits in real time on tokio's blocking pool
//! ([`settle`]), which keeps paused time from jumping ahead on its own while the store's writer thread works.
//! Waiting is causal: [`Daemon::next_slots`] tells which slot each schedule task waits for, and a task tells it
//! only once it has fired everything before it (its caught-up slots included).

use chrono::{NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use executor::engine::TokioClock;
use executor::store::{ExecutionFilter, Status, Timestamp};
use server::daemon::{Daemon, DaemonOptions};
use server::home::PilotHome;
use server::settings::Settings;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A wall-clock time in a zone, as an instant (the earlier one when it happens twice).
fn at(zone: &str, text: &str) -> Timestamp {
    let zone: Tz = zone.parse().unwrap();
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
    Timestamp(zone.from_local_datetime(&naive).earliest().unwrap().with_timezone(&Utc).timestamp_micros())
}

/// An instant as a wall-clock time of `zone`, with the zone's abbreviation (CET, CEST).
fn shown(slot: Timestamp, zone: &str) -> String {
    let zone: Tz = zone.parse().unwrap();
    let utc = chrono::DateTime::from_timestamp_micros(slot.0).unwrap();
    utc.with_timezone(&zone).format("%Y-%m-%d %H:%M:%S %Z").to_string()
}

fn write_workflow(home: &Path, name: &str, cron: &str, zone: &str, catch_up: &str) {
    let folder = home.join("workflows");
    std::fs::create_dir_all(&folder).unwrap();
    let text = format!(
        "name: {name}\ntriggers:\n  - type: schedule\n    cron: \"{cron}\"\n    timezone: {zone}\n{catch_up}\
         steps:\n  - id: note\n    action: log\n    input:\n      message: \"slot ${{trigger.scheduled_at}}\"\n"
    );
    std::fs::write(folder.join(format!("{name}.yaml")), text).unwrap();
}

/// Opens the daemon of `home` with its clock reading `now`, and starts its triggers.
async fn open(home: &Path, now: Timestamp) -> Arc<Daemon> {
    let mut settings = Settings::default();
    // The lease heartbeat is the daemon's only other timer; renewed every 8 h it does not crowd the virtual days.
    settings.daemon.lease_seconds = 24 * 3600;
    let clock = Arc::new(TokioClock::starting_at(now));
    let daemon = still(Daemon::open(DaemonOptions { home: PilotHome::at(home), settings, clock })).await.unwrap();
    daemon.start_triggers();
    daemon
}

/// Shuts the daemon down once nothing runs, and waits until its last reference is gone (its lock with it).
async fn stop(daemon: Arc<Daemon>) {
    settle(&daemon, "nothing to run", |runs| runs.iter().all(|run| run.status.is_finished())).await;
    still(daemon.shutdown(Duration::from_secs(60))).await;
    let patience = std::time::Instant::now();
    while Arc::strong_count(&daemon) > 1 {
        assert!(patience.elapsed() < PATIENCE, "the daemon's tasks still hold it after shutdown");
        real_pause().await;
    }
}

/// How long a test waits in real time for the daemon's work to be done (generous: the machine may be busy).
const PATIENCE: Duration = Duration::from_secs(60);

/// Lets a little real time pass without moving the paused clock (a running blocking task keeps it still).
async fn real_pause() {
    tokio::task::spawn_blocking(|| std::thread::sleep(Duration::from_millis(5))).await.unwrap();
}

/// Awaits `work` with the paused clock held still. Tokio moves paused time on its own to the next timer when
/// every task waits, as they do while the store's writer thread commits; not while a blocking task runs.
async fn still<T>(work: impl std::future::Future<Output = T>) -> T {
    let done = Arc::new(AtomicBool::new(false));
    let holding = {
        let done = Arc::clone(&done);
        tokio::task::spawn_blocking(move || {
            while !done.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    };
    let output = work.await;
    done.store(true, Ordering::Release);
    holding.await.unwrap();
    output
}

/// Moves the paused clock forward until the daemon's clock reads `target`; due timers fire.
async fn advance_to(daemon: &Daemon, target: Timestamp) {
    let ahead = target.0 - daemon.clock.now().0;
    assert!(ahead >= 0, "time only moves forward");
    tokio::time::advance(Duration::from_micros(ahead.unsigned_abs())).await;
}

/// A scheduled run as recorded: its slot and whether it ran late (caught up after a restart).
#[derive(Debug, Clone, PartialEq)]
struct Run {
    workflow: String,
    slot: Timestamp,
    late: bool,
    status: Status,
}

/// Every scheduled run in the store, oldest slot first.
async fn runs(daemon: &Daemon) -> Vec<Run> {
    let filter = ExecutionFilter { limit: 10_000, ..ExecutionFilter::default() };
    let mut found = Vec::new();
    for summary in daemon.store.list_executions(&filter).await.unwrap() {
        let record = daemon.store.load_execution(&summary.id).await.unwrap().unwrap();
        let slot = record.slot.expect("only schedules start these workflows");
        assert_eq!(record.trigger["type"], "schedule");
        found.push(Run {
            workflow: record.workflow_name,
            slot,
            late: record.trigger["late"].as_bool().unwrap(),
            status: record.status,
        });
    }
    found.sort_by_key(|run| (run.slot, run.workflow.clone()));
    found
}

/// The slots `workflow` ran for, shown in `zone`, each marked `(late)` when it was caught up.
fn slots_of(runs: &[Run], workflow: &str, zone: &str) -> Vec<String> {
    runs.iter()
        .filter(|run| run.workflow == workflow)
        .map(|run| format!("{}{}", shown(run.slot, zone), if run.late { " (late)" } else { "" }))
        .collect()
}

/// Waits in real time, the paused clock standing still, until the recorded runs satisfy `done`.
async fn settle(daemon: &Daemon, what: &str, done: impl Fn(&[Run]) -> bool) -> Vec<Run> {
    let patience = std::time::Instant::now();
    loop {
        // Held still: while the store's thread answers, every task waits and tokio would move the paused clock
        // to the next slot, firing it in the middle of the check.
        let found = still(runs(daemon)).await;
        if done(&found) {
            return found;
        }
        assert!(patience.elapsed() < PATIENCE, "{what}: never happened; runs: {found:#?}");
        real_pause().await;
    }
}

/// Waits until the schedule task of each of `workflows` waits for the slot `local` (a time of `zone`), having
/// fired everything before it, and nothing runs; returns every run, each checked successful.
async fn waits_for(daemon: &Daemon, workflows: &[&str], zone: &str, local: &str) -> Vec<Run> {
    let slot = at(zone, local);
    let waiting_for_it = |name: &str| {
        let prefix = format!("{name}:schedule:");
        daemon.next_slots().iter().any(|(trigger, next)| trigger.starts_with(&prefix) && *next == slot)
    };
    // The slot is looked at before the runs are read: a task waits for its next slot only once the slot before
    // it is committed, so the runs read after it include that slot.
    let patience = std::time::Instant::now();
    let found = loop {
        let waiting = workflows.iter().all(|name| waiting_for_it(name));
        let found = still(runs(daemon)).await;
        if waiting && found.iter().all(|run| run.status.is_finished()) {
            break found;
        }
        assert!(patience.elapsed() < PATIENCE, "the schedules to wait for {local} {zone}: never happened: {found:#?}");
        real_pause().await;
    };
    for run in &found {
        assert_eq!(run.status, Status::Success, "{run:?}");
    }
    found
}

/// Moves the clock to one second after `local` (a time of `zone`).
async fn advance_past(daemon: &Daemon, zone: &str, local: &str) {
    advance_to(daemon, Timestamp(at(zone, local).0 + 1_000_000)).await;
}

/// `2026-01-01 TIME` for each time.
fn new_years_day(times: &[&str]) -> Vec<String> {
    times.iter().map(|time| format!("2026-01-01 {time}")).collect()
}

#[tokio::test(start_paused = true)]
async fn after_a_restart_missed_slots_follow_each_catch_up_policy() {
    let home = tempfile::tempdir().unwrap();
    let hourly = "0 * * * *";
    write_workflow(home.path(), "none", hourly, "UTC", "    catch_up: none\n");
    write_workflow(home.path(), "last", hourly, "UTC", "    catch_up: last\n");
    write_workflow(home.path(), "all", hourly, "UTC", "    catch_up: all\n");
    write_workflow(home.path(), "all_two", hourly, "UTC", "    catch_up: all\n    catch_up_max: 2\n");
    let names = ["none", "last", "all", "all_two"];

    let daemon = open(home.path(), at("UTC", "2026-01-01 00:30:00")).await;
    waits_for(&daemon, &names, "UTC", "2026-01-01 01:00:00").await;
    advance_past(&daemon, "UTC", "2026-01-01 01:00:00").await;
    let runs = waits_for(&daemon, &names, "UTC", "2026-01-01 02:00:00").await;
    assert_eq!(runs.len(), 4, "one run each: {runs:#?}");
    stop(daemon).await;

    // Down from 01:00 to 05:10: the slots of 02:00 to 05:00 were missed.
    let daemon = open(home.path(), at("UTC", "2026-01-01 05:10:00")).await;
    let runs = waits_for(&daemon, &names, "UTC", "2026-01-01 06:00:00").await;
    assert_eq!(slots_of(&runs, "none", "UTC"), new_years_day(&["01:00:00 UTC"]), "none: no missed slot runs");
    assert_eq!(
        slots_of(&runs, "last", "UTC"),
        new_years_day(&["01:00:00 UTC", "05:00:00 UTC (late)"]),
        "last: the most recent missed slot, once"
    );
    assert_eq!(
        slots_of(&runs, "all", "UTC"),
        new_years_day(&[
            "01:00:00 UTC",
            "02:00:00 UTC (late)",
            "03:00:00 UTC (late)",
            "04:00:00 UTC (late)",
            "05:00:00 UTC (late)"
        ]),
        "all: every missed slot, oldest first"
    );
    assert_eq!(
        slots_of(&runs, "all_two", "UTC"),
        new_years_day(&["01:00:00 UTC", "04:00:00 UTC (late)", "05:00:00 UTC (late)"]),
        "all with catch_up_max 2: the two most recent"
    );
    stop(daemon).await;
}

#[tokio::test(start_paused = true)]
async fn no_slot_runs_twice_across_restarts_even_when_the_clock_was_set_back() {
    let home = tempfile::tempdir().unwrap();
    write_workflow(home.path(), "hourly", "0 * * * *", "UTC", "    catch_up: all\n");
    let hourly = ["hourly"];

    let daemon = open(home.path(), at("UTC", "2026-01-01 00:30:00")).await;
    for slot in ["01:00:00", "02:00:00"] {
        waits_for(&daemon, &hourly, "UTC", &format!("2026-01-01 {slot}")).await;
        advance_past(&daemon, "UTC", &format!("2026-01-01 {slot}")).await;
    }
    waits_for(&daemon, &hourly, "UTC", "2026-01-01 03:00:00").await;
    stop(daemon).await;

    // Started again just after the last slot it fired: nothing was missed, 02:00 is not run again.
    let daemon = open(home.path(), at("UTC", "2026-01-01 02:00:30")).await;
    let runs = waits_for(&daemon, &hourly, "UTC", "2026-01-01 03:00:00").await;
    assert_eq!(slots_of(&runs, "hourly", "UTC"), new_years_day(&["01:00:00 UTC", "02:00:00 UTC"]));
    advance_past(&daemon, "UTC", "2026-01-01 03:00:00").await;
    waits_for(&daemon, &hourly, "UTC", "2026-01-01 04:00:00").await;
    stop(daemon).await;

    // Started with a clock set back before slots it already fired: it waits for the first slot it has not fired.
    let daemon = open(home.path(), at("UTC", "2026-01-01 01:30:00")).await;
    waits_for(&daemon, &hourly, "UTC", "2026-01-01 04:00:00").await;
    advance_past(&daemon, "UTC", "2026-01-01 04:00:00").await;
    let runs = waits_for(&daemon, &hourly, "UTC", "2026-01-01 05:00:00").await;
    assert_eq!(
        slots_of(&runs, "hourly", "UTC"),
        new_years_day(&["01:00:00 UTC", "02:00:00 UTC", "03:00:00 UTC", "04:00:00 UTC"]),
        "each slot once"
    );
    stop(daemon).await;
}

#[tokio::test(start_paused = true)]
async fn a_time_in_the_spring_forward_gap_runs_once_at_three() {
    // Europe/Berlin, 2026-03-29: at 02:00 CET the clocks jump to 03:00 CEST; 02:30 does not exist that night.
    let home = tempfile::tempdir().unwrap();
    write_workflow(home.path(), "nightly", "30 2 * * *", "Europe/Berlin", "");
    let berlin = "Europe/Berlin";
    let daemon = open(home.path(), at(berlin, "2026-03-28 12:00:00")).await;

    waits_for(&daemon, &["nightly"], berlin, "2026-03-29 03:00:00").await;
    advance_past(&daemon, berlin, "2026-03-29 03:00:00").await;
    waits_for(&daemon, &["nightly"], berlin, "2026-03-30 02:30:00").await;
    advance_past(&daemon, berlin, "2026-03-30 02:30:00").await;
    let runs = waits_for(&daemon, &["nightly"], berlin, "2026-03-31 02:30:00").await;
    assert_eq!(
        slots_of(&runs, "nightly", berlin),
        ["2026-03-29 03:00:00 CEST", "2026-03-30 02:30:00 CEST"],
        "once in the night without 02:30, at the first instant after the gap"
    );
    stop(daemon).await;
}

#[tokio::test(start_paused = true)]
async fn a_time_in_the_autumn_fold_runs_once() {
    // Europe/Berlin, 2026-10-25: at 03:00 CEST the clocks fall back to 02:00 CET; 02:30 happens twice.
    let home = tempfile::tempdir().unwrap();
    write_workflow(home.path(), "nightly", "30 2 * * *", "Europe/Berlin", "");
    let berlin = "Europe/Berlin";
    let daemon = open(home.path(), at(berlin, "2026-10-24 12:00:00")).await;

    // `at` reads 02:30 of the fold night as its first pass (CEST).
    waits_for(&daemon, &["nightly"], berlin, "2026-10-25 02:30:00").await;
    advance_past(&daemon, berlin, "2026-10-25 02:30:00").await;
    waits_for(&daemon, &["nightly"], berlin, "2026-10-26 02:30:00").await;
    advance_past(&daemon, berlin, "2026-10-26 02:30:00").await;
    let runs = waits_for(&daemon, &["nightly"], berlin, "2026-10-27 02:30:00").await;
    assert_eq!(
        slots_of(&runs, "nightly", berlin),
        ["2026-10-25 02:30:00 CEST", "2026-10-26 02:30:00 CET"],
        "once in the night 02:30 happens twice, at its first pass"
    );
    stop(daemon).await;
}

#[tokio::test(start_paused = true)]
async fn enabling_a_workflow_again_does_not_catch_up_the_slots_it_missed_while_disabled() {
    let home = tempfile::tempdir().unwrap();
    write_workflow(home.path(), "hourly", "0 * * * *", "UTC", "    catch_up: all\n");
    let hourly = ["hourly"];
    let daemon = open(home.path(), at("UTC", "2026-01-01 00:30:00")).await;
    waits_for(&daemon, &hourly, "UTC", "2026-01-01 01:00:00").await;
    advance_past(&daemon, "UTC", "2026-01-01 01:00:00").await;
    waits_for(&daemon, &hourly, "UTC", "2026-01-01 02:00:00").await;

    still(daemon.set_enabled("hourly", false)).await.unwrap();
    advance_to(&daemon, at("UTC", "2026-01-01 05:10:00")).await;
    still(daemon.set_enabled("hourly", true)).await.unwrap();
    let runs = waits_for(&daemon, &hourly, "UTC", "2026-01-01 06:00:00").await;
    assert_eq!(
        slots_of(&runs, "hourly", "UTC"),
        new_years_day(&["01:00:00 UTC"]),
        "catch-up is for times the daemon was down, not for times the workflow was disabled"
    );
    stop(daemon).await;
}
