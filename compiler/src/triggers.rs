//! The `triggers` pass: cron expressions parse (with croner, as the scheduler reads them), webhook paths are
//! plain URL paths and unique per method, file-watch patterns are valid globs. The front end has already
//! checked the webhook method and file-watch event names.

use std::collections::HashMap;
use std::str::FromStr;

use expr_grammar::Span;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::expressions::TextForm;
use crate::model::{FileWatchTrigger, ScheduleTrigger, Spanned, Text, Trigger, WebhookTrigger, Workflow};
use crate::plan::TriggerPlan;
use crate::scope::Position;
use crate::values::{Binder, Place};

/// Checks every trigger; returns their plans (meaningful only when no error was reported).
pub fn check_triggers(workflow: &Workflow, binder: &mut Binder<'_>) -> Vec<TriggerPlan> {
    let now = binder.options.now.unwrap_or_else(chrono::Utc::now);
    let mut webhooks: HashMap<(String, String), Span> = HashMap::new();
    let mut plans = Vec::with_capacity(workflow.triggers.len());
    for trigger in &workflow.triggers {
        let plan = match &trigger.value {
            Trigger::Schedule(schedule) => check_schedule(schedule, now, &mut binder.diagnostics),
            Trigger::Webhook(webhook) => check_webhook(webhook, &mut webhooks, binder),
            Trigger::FileWatch(watch) => check_file_watch(watch, &mut binder.diagnostics),
            Trigger::Manual(_) => TriggerPlan::Manual,
        };
        plans.push(plan);
    }
    plans
}

/// The cron forms croner (and so the scheduler) reads.
const CRON_FORMS: &str = "5 fields: minute hour day-of-month month day-of-week, e.g. `0 2 * * *` (2 AM daily); \
                          6 fields: a seconds field first; 7 fields: seconds first and a year last";

fn check_schedule(
    schedule: &ScheduleTrigger,
    now: chrono::DateTime<chrono::Utc>,
    diagnostics: &mut Vec<Diagnostic>,
) -> TriggerPlan {
    let cron = &schedule.cron;
    let timezone = schedule.timezone.as_ref().and_then(|timezone| check_timezone(timezone, diagnostics));
    match croner::Cron::from_str(&cron.value) {
        Err(error) => diagnostics.push(
            Diagnostic::error(codes::INVALID_CRON, format!("invalid cron expression `{}`", cron.value), cron.span)
                .with_label(cron_reason(&error))
                .with_hint(CRON_FORMS),
        ),
        Ok(parsed) => {
            let timezone = timezone.unwrap_or(chrono_tz::UTC);
            if parsed.find_next_occurrence(&now.with_timezone(&timezone), false).is_err() {
                diagnostics.push(never_fires(&cron.value, cron.span));
            }
        }
    }
    TriggerPlan::Schedule { cron: cron.value.clone(), timezone: schedule.timezone.as_ref().map(|tz| tz.value.clone()) }
}

/// A schedule that parses but has no time to come: a year that is over, or a day no month has.
fn never_fires(cron: &str, span: Span) -> Diagnostic {
    let fields: Vec<&str> = cron.split_whitespace().collect();
    let hint = match fields.as_slice() {
        [.., year] if fields.len() == 7 => {
            format!("the seventh field is the year (`{year}`): write a year to come, or remove it (any year)")
        }
        _ => "check that the day of the month exists in the month (`30 2` is February 30)".to_string(),
    };
    Diagnostic::error(codes::CRON_NEVER_FIRES, format!("the schedule `{cron}` never fires again"), span)
        .with_label("no time from now on matches it")
        .with_hint(hint)
}

/// A schedule's `timezone` is an IANA name (`Europe/Paris`, `UTC`), checked against the tz database the
/// scheduler uses (chrono-tz), so a typo fails now and not silently at 2 AM.
fn check_timezone(timezone: &Spanned<String>, diagnostics: &mut Vec<Diagnostic>) -> Option<chrono_tz::Tz> {
    if let Ok(zone) = chrono_tz::Tz::from_str(&timezone.value) {
        return Some(zone);
    }
    let names = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let hint = expr_grammar::suggest::hint(&timezone.value, names).unwrap_or_else(|| {
        "use an IANA time zone name such as `UTC`, `Europe/Paris` or `America/New_York`".to_string()
    });
    diagnostics.push(
        Diagnostic::error(codes::UNKNOWN_TIMEZONE, format!("unknown time zone `{}`", timezone.value), timezone.span)
            .with_label("not in the IANA time zone database")
            .with_hint(hint),
    );
    None
}

/// croner's message, lower-cased first letter and without its final period, to fit our style.
fn cron_reason(error: &croner::errors::CronError) -> String {
    let text = error.to_string();
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn check_webhook(
    webhook: &WebhookTrigger,
    seen: &mut HashMap<(String, String), Span>,
    binder: &mut Binder<'_>,
) -> TriggerPlan {
    let path = &webhook.path;
    let method = webhook.method.as_ref().map_or_else(|| "POST".to_string(), |m| m.value.to_ascii_uppercase());
    match webhook_path_problem(&path.value) {
        Some((reason, hint)) => binder.diagnostics.push(
            Diagnostic::error(codes::INVALID_WEBHOOK_PATH, format!("invalid webhook path `{}`", path.value), path.span)
                .with_label(reason)
                .with_hint(hint),
        ),
        None => {
            if let Some(&first) = seen.get(&(path.value.clone(), method.clone())) {
                binder.diagnostics.push(
                    Diagnostic::error(
                        codes::DUPLICATE_WEBHOOK,
                        format!("two webhook triggers on {method} `{}`", path.value),
                        path.span,
                    )
                    .with_secondary(first, "first declared here")
                    .with_hint("one trigger per path and method is enough"),
                );
            } else {
                seen.insert((path.value.clone(), method.clone()), path.span);
            }
        }
    }
    if let Some(secret) = &webhook.secret {
        check_webhook_secret(secret, binder);
    }
    TriggerPlan::Webhook { path: path.value.clone(), method, secret: webhook.secret.as_ref().map(|s| s.value.clone()) }
}

/// What is wrong with a webhook path, and how to fix it.
pub fn webhook_path_problem(path: &str) -> Option<(&'static str, &'static str)> {
    if !path.starts_with('/') {
        return Some(("a webhook path starts with `/`", "write it like `/trigger/backup`"));
    }
    if path.contains('?') || path.contains('#') {
        return Some((
            "a webhook path has no query or fragment",
            "drop the part from `?`: the trigger matches the path alone",
        ));
    }
    if path.split('/').any(|segment| segment == ".." || segment == ".") {
        return Some(("a webhook path has no `.` or `..` segment", "write the path without them"));
    }
    if path.len() > 1 && path.split('/').skip(1).any(str::is_empty) {
        return Some(("a webhook path has no empty segment (`//` or a trailing `/`)", "remove the extra `/`"));
    }
    let url_safe = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '/');
    if !path.chars().all(url_safe) {
        return Some((
            "a webhook path uses only letters, digits, `-`, `_`, `.`, `~` and `/`",
            "replace spaces and other characters with `-` or `_`",
        ));
    }
    None
}

/// A webhook secret may be written literally or read `secrets.NAME` / an environment variable.
fn check_webhook_secret(secret: &Spanned<String>, binder: &mut Binder<'_>) {
    // The model keeps the secret as a plain string; its text is the scalar's content, so offsets map 1:1 except
    // for escapes, which only blur the caret position.
    let text = Text::verbatim(secret.value.clone(), secret.span);
    let place = Place::new(Position::Trigger);
    if let Some((compiled, _)) = binder.compile_text(&text, TextForm::Template, &place)
        && !compiled.ty.is_assignable_to(&expr_grammar::Type::String)
    {
        binder.diagnostics.push(Diagnostic::error(
            codes::INPUT_TYPE_MISMATCH,
            format!("a webhook secret must be a string, found {}", compiled.ty),
            secret.span,
        ));
    }
}

fn check_file_watch(watch: &FileWatchTrigger, diagnostics: &mut Vec<Diagnostic>) -> TriggerPlan {
    if watch.path.value.trim().is_empty() {
        diagnostics.push(
            Diagnostic::error(codes::INVALID_FILE_WATCH, "a file watch needs a path", watch.path.span)
                .with_hint("name the folder or file to watch, e.g. `~/Downloads`"),
        );
    }
    if let Some(pattern) = &watch.pattern
        && let Err(error) = globset::Glob::new(&pattern.value)
    {
        diagnostics.push(
            Diagnostic::error(
                codes::INVALID_FILE_WATCH,
                format!("invalid file pattern `{}`", pattern.value),
                pattern.span,
            )
            .with_label(error.kind().to_string())
            .with_hint("a glob such as `*.pdf` or `**/*.txt`"),
        );
    }
    TriggerPlan::FileWatch {
        path: watch.path.value.clone(),
        pattern: watch.pattern.as_ref().map(|p| p.value.clone()),
        events: watch
            .events
            .as_ref()
            .map_or_else(Vec::new, |events| events.value.iter().map(|e| e.value.clone()).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::webhook_path_problem;
    use crate::codes;
    use crate::{CompileOptions, compile_with};
    use connectors::catalogue::Catalogue;

    fn schedule_codes(cron: &str, now: &str) -> Vec<&'static str> {
        let source = format!("name: s\ntriggers:\n  - type: schedule\n    cron: \"{cron}\"\nsteps: []\n");
        let now = chrono::DateTime::parse_from_rfc3339(now).expect("a time").to_utc();
        let options = CompileOptions { now: Some(now), ..CompileOptions::default() };
        let (_, diagnostics) = compile_with(&source, "s", &Catalogue::builtin(), &options);
        diagnostics.iter().map(|d| d.code).filter(|code| code.starts_with('E')).collect()
    }

    #[test]
    fn a_schedule_must_fire_after_the_compile_time() {
        let year_2025 = "0 30 9 * * 1-5 2025";
        assert_eq!(schedule_codes(year_2025, "2025-12-31T09:00:00Z"), Vec::<&str>::new());
        assert_eq!(schedule_codes(year_2025, "2026-01-01T00:00:00Z"), vec![codes::CRON_NEVER_FIRES]);
        assert_eq!(schedule_codes("0 0 30 2 *", "2025-01-01T00:00:00Z"), vec![codes::CRON_NEVER_FIRES]);
        assert_eq!(schedule_codes("0 0 29 2 *", "2025-03-01T00:00:00Z"), Vec::<&str>::new(), "the next leap year");
    }

    #[test]
    fn five_six_and_seven_field_schedules_are_read() {
        for cron in ["0 2 * * *", "30 0 2 * * *", "0 0 2 * * * 2030", "@daily", "0 9 * JAN MON-FRI"] {
            assert_eq!(schedule_codes(cron, "2026-01-01T00:00:00Z"), Vec::<&str>::new(), "{cron}");
        }
        for cron in ["0 2 * *", "0 0 2 * * * 2030 1", "0 25 * * *"] {
            assert_eq!(schedule_codes(cron, "2026-01-01T00:00:00Z"), vec![codes::INVALID_CRON], "{cron}");
        }
    }

    #[test]
    fn webhook_paths_accept_plain_url_paths() {
        for path in ["/", "/trigger/backup", "/a-b_c.d~e/0"] {
            assert_eq!(webhook_path_problem(path), None, "{path}");
        }
    }

    #[test]
    fn webhook_paths_reject_relative_query_dots_and_unsafe_characters() {
        for path in ["trigger", "/a?b=1", "/a#x", "/a/../b", "/a/./b", "/a//b", "/a/", "/a b", "/é"] {
            assert!(webhook_path_problem(path).is_some(), "{path}");
        }
    }
}
