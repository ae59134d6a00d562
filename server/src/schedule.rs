//! When a `schedule` trigger is due: the slots of a cron expression in a time zone, and which missed slots to run
//! after the daemon was down. Pure functions of their arguments (no clock, no IO), so every rule is tested on
//! chosen instants.
//!
//! Daylight saving time, with croner's rules (the Open Cron Pattern Specification's): every wall-clock time runs
//! at most once.
//! - A fixed time in the spring-forward gap (02:30 on the night clocks jump from 02:00 to 03:00) runs once, at the
//!   first valid instant after the gap (03:00). A repeating pattern (`*/30 * * * *`) has no run at the times that
//!   do not exist and goes on at 03:00.
//! - A time in the autumn fold (02:30 happens twice) runs once, at its first pass; the second pass through the
//!   repeated hour runs nothing, also for repeating patterns.

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use expr_grammar::Timestamp;
use std::str::FromStr;
use std::time::Duration;

/// A parsed cron expression and the zone it is read in (UTC without one).
#[derive(Debug, Clone)]
pub struct CronSchedule {
    cron: croner::Cron,
    zone: Tz,
}

impl CronSchedule {
    /// `expression` in any form the compiler accepts (5 fields, 6 with seconds, 7 with a year); `timezone` an
    /// IANA name, or the machine's own zone when `None` (`0 2 * * *` is 2 AM where the user is). The compiler has
    /// already refused bad ones; the error here is for callers that skip it.
    pub fn parse(expression: &str, timezone: Option<&str>) -> Result<CronSchedule, String> {
        let cron = croner::Cron::from_str(expression).map_err(|err| format!("invalid cron `{expression}`: {err}"))?;
        let zone = match timezone {
            Some(name) => Tz::from_str(name).map_err(|_| format!("unknown time zone `{name}`"))?,
            None => local_zone(),
        };
        Ok(CronSchedule { cron, zone })
    }

    /// The first slot strictly after `after`, or `None` when the pattern never fires again.
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        // Slots are whole seconds; croner would carry the start's fraction into its answer.
        let whole_second = Timestamp(after.0.div_euclid(1_000_000) * 1_000_000);
        let start = self.zone.from_utc_datetime(&to_utc(whole_second)?.naive_utc());
        let next = self.cron.find_next_occurrence(&start, false).ok()?;
        Some(from_utc(next.with_timezone(&Utc)))
    }

    /// The slots in `(after, until]`, oldest first, at most `cap` of them.
    pub fn slots_between(&self, after: Timestamp, until: Timestamp, cap: usize) -> Vec<Timestamp> {
        let mut slots = Vec::new();
        let mut cursor = after;
        while slots.len() < cap {
            match self.next_after(cursor) {
                Some(slot) if slot <= until => {
                    slots.push(slot);
                    cursor = slot;
                }
                _ => break,
            }
        }
        slots
    }
}

/// The machine's time zone (`TZ`, else the system's setting), UTC when it cannot be told.
pub fn local_zone() -> Tz {
    let named =
        std::env::var("TZ").ok().filter(|name| !name.is_empty()).or_else(|| iana_time_zone::get_timezone().ok());
    named.and_then(|name| Tz::from_str(name.trim_start_matches(':')).ok()).unwrap_or(Tz::UTC)
}

/// What to do with the slots a schedule missed while the daemon was not running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CatchUp {
    /// Run none of them; wait for the next slot.
    None,
    /// Run the most recent missed slot once (the default: a daily backup missed overnight runs at start).
    #[default]
    Last,
    /// Run every missed slot, oldest first (the most recent ones, up to the cap).
    All,
}

/// A trigger's catch-up rule: the policy, how far back a missed slot still counts, and at most how many run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUpRule {
    pub policy: CatchUp,
    pub window: Duration,
    pub max_runs: usize,
}

impl CatchUpRule {
    /// The rule a compiled schedule trigger gives.
    pub fn of(plan: &compiler::ScheduleTriggerPlan) -> CatchUpRule {
        let policy = match plan.catch_up {
            compiler::CatchUp::None => CatchUp::None,
            compiler::CatchUp::Last => CatchUp::Last,
            compiler::CatchUp::All => CatchUp::All,
        };
        let window = plan.catch_up_window.to_std().unwrap_or_default();
        CatchUpRule { policy, window, max_runs: plan.catch_up_max as usize }
    }
}

impl Default for CatchUpRule {
    fn default() -> Self {
        CatchUpRule { policy: CatchUp::Last, window: Duration::from_secs(24 * 3600), max_runs: 10 }
    }
}

/// The missed slots to run now, oldest first: those after `last_slot` (the last slot this trigger fired for, or
/// the time it was first scheduled) and at or before `now`, within the window, per the policy and cap.
pub fn missed_slots(
    schedule: &CronSchedule,
    last_slot: Timestamp,
    now: Timestamp,
    rule: CatchUpRule,
) -> Vec<Timestamp> {
    if rule.policy == CatchUp::None || rule.max_runs == 0 {
        return Vec::new();
    }
    let window = i64::try_from(rule.window.as_micros()).unwrap_or(i64::MAX);
    let oldest = Timestamp(last_slot.0.max(now.0.saturating_sub(window).saturating_sub(1)));
    match rule.policy {
        CatchUp::All => {
            // The most recent ones when there are more than the cap; slots far in the past are bounded by the window.
            let mut slots = schedule.slots_between(oldest, now, usize::MAX);
            let extra = slots.len().saturating_sub(rule.max_runs);
            slots.drain(..extra);
            slots
        }
        _ => last_slot_in(schedule, oldest, now).into_iter().collect(),
    }
}

/// The latest slot in `(after, until]`, stepping forward (croner has no bounded backward search we can cap).
fn last_slot_in(schedule: &CronSchedule, after: Timestamp, until: Timestamp) -> Option<Timestamp> {
    let mut last = None;
    let mut cursor = after;
    while let Some(slot) = schedule.next_after(cursor).filter(|slot| *slot <= until) {
        last = Some(slot);
        cursor = slot;
    }
    last
}

fn to_utc(at: Timestamp) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(at.0)
}

fn from_utc(at: DateTime<Utc>) -> Timestamp {
    Timestamp(at.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A wall-clock time in a zone, as an instant (the earlier one when it happens twice).
    fn local(zone: &str, text: &str) -> Timestamp {
        let zone = Tz::from_str(zone).unwrap();
        let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").unwrap();
        from_utc(zone.from_local_datetime(&naive).earliest().unwrap().with_timezone(&Utc))
    }

    fn utc(text: &str) -> Timestamp {
        local("UTC", text)
    }

    fn show(at: Timestamp, zone: &str) -> String {
        let zone = Tz::from_str(zone).unwrap();
        to_utc(at).unwrap().with_timezone(&zone).format("%Y-%m-%d %H:%M:%S %Z").to_string()
    }

    #[test]
    fn a_daily_schedule_fires_at_its_time_in_its_zone() {
        let schedule = CronSchedule::parse("0 2 * * *", Some("Europe/Berlin")).unwrap();
        let next = schedule.next_after(utc("2026-06-01 12:00:00")).unwrap();
        assert_eq!(show(next, "Europe/Berlin"), "2026-06-02 02:00:00 CEST");
        assert_eq!(show(next, "UTC"), "2026-06-02 00:00:00 UTC");
    }

    #[test]
    fn seconds_and_years_are_read_as_the_compiler_reads_them() {
        let every_second = CronSchedule::parse("* * * * * *", Some("UTC")).unwrap();
        assert_eq!(every_second.next_after(utc("2026-01-01 00:00:00")), Some(utc("2026-01-01 00:00:01")));
        let over = CronSchedule::parse("0 30 9 * * 1-5 2025", Some("UTC")).unwrap();
        assert_eq!(over.next_after(utc("2026-01-01 00:00:00")), None, "2025 is over: it never fires again");
    }

    #[test]
    fn a_time_in_the_spring_forward_gap_runs_once_at_the_first_valid_instant() {
        // Europe/Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST; 02:30 does not exist that night.
        let schedule = CronSchedule::parse("30 2 * * *", Some("Europe/Berlin")).unwrap();
        let slots =
            schedule.slots_between(local("Europe/Berlin", "2026-03-28 12:00:00"), utc("2026-03-31 00:00:00"), 10);
        let shown: Vec<String> = slots.iter().map(|slot| show(*slot, "Europe/Berlin")).collect();
        assert_eq!(shown, ["2026-03-29 03:00:00 CEST", "2026-03-30 02:30:00 CEST"]);
    }

    #[test]
    fn a_time_in_the_autumn_fold_runs_once() {
        // Europe/Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET; 02:30 happens twice.
        let schedule = CronSchedule::parse("30 2 * * *", Some("Europe/Berlin")).unwrap();
        let slots =
            schedule.slots_between(local("Europe/Berlin", "2026-10-24 12:00:00"), utc("2026-10-27 00:00:00"), 10);
        let shown: Vec<String> = slots.iter().map(|slot| show(*slot, "Europe/Berlin")).collect();
        assert_eq!(shown, ["2026-10-25 02:30:00 CEST", "2026-10-26 02:30:00 CET"]);
    }

    #[test]
    fn a_repeating_pattern_runs_each_wall_clock_time_once_and_skips_times_that_do_not_exist() {
        let every_half_hour = CronSchedule::parse("*/30 * * * *", Some("Europe/Berlin")).unwrap();
        let fold = every_half_hour.slots_between(utc("2026-10-24 23:50:00"), utc("2026-10-25 02:10:00"), 10);
        let shown: Vec<String> = fold.iter().map(|slot| show(*slot, "Europe/Berlin")).collect();
        assert_eq!(shown, ["2026-10-25 02:00:00 CEST", "2026-10-25 02:30:00 CEST", "2026-10-25 03:00:00 CET"]);
        let gap = every_half_hour.slots_between(utc("2026-03-29 00:20:00"), utc("2026-03-29 01:40:00"), 10);
        let shown: Vec<String> = gap.iter().map(|slot| show(*slot, "Europe/Berlin")).collect();
        assert_eq!(shown, ["2026-03-29 01:30:00 CET", "2026-03-29 03:00:00 CEST", "2026-03-29 03:30:00 CEST"]);
    }

    #[test]
    fn catch_up_none_runs_nothing_last_runs_the_latest_all_runs_each_up_to_the_cap() {
        let hourly = CronSchedule::parse("0 * * * *", Some("UTC")).unwrap();
        let (down_since, now) = (utc("2026-01-01 00:30:00"), utc("2026-01-01 05:10:00"));
        let rule = |policy| CatchUpRule { policy, ..CatchUpRule::default() };
        assert_eq!(missed_slots(&hourly, down_since, now, rule(CatchUp::None)), vec![]);
        assert_eq!(missed_slots(&hourly, down_since, now, rule(CatchUp::Last)), vec![utc("2026-01-01 05:00:00")]);
        let all = missed_slots(&hourly, down_since, now, rule(CatchUp::All));
        assert_eq!(all.len(), 5);
        assert_eq!((all[0], all[4]), (utc("2026-01-01 01:00:00"), utc("2026-01-01 05:00:00")));
        let capped = missed_slots(&hourly, down_since, now, CatchUpRule { max_runs: 2, ..rule(CatchUp::All) });
        assert_eq!(capped, vec![utc("2026-01-01 04:00:00"), utc("2026-01-01 05:00:00")], "the latest, oldest first");
    }

    #[test]
    fn catch_up_ignores_slots_older_than_its_window() {
        let hourly = CronSchedule::parse("0 * * * *", Some("UTC")).unwrap();
        let rule = CatchUpRule { policy: CatchUp::All, window: Duration::from_secs(2 * 3600), max_runs: 100 };
        let missed = missed_slots(&hourly, utc("2026-01-01 00:30:00"), utc("2026-01-01 05:10:00"), rule);
        assert_eq!(missed, vec![utc("2026-01-01 04:00:00"), utc("2026-01-01 05:00:00")]);
    }

    #[test]
    fn the_slot_already_fired_is_not_missed_again() {
        let hourly = CronSchedule::parse("0 * * * *", Some("UTC")).unwrap();
        let rule = CatchUpRule { policy: CatchUp::All, ..CatchUpRule::default() };
        let missed = missed_slots(&hourly, utc("2026-01-01 05:00:00"), utc("2026-01-01 05:10:00"), rule);
        assert_eq!(missed, vec![]);
    }
}
