//! The `triggers` pass: cron expressions parse (with croner, as the scheduler reads them), a schedule can fill
//! every input, webhook paths are plain URL paths outside the daemon's `/api`, unique per method, with a secret
//! the daemon can read; file-watch patterns are valid globs. The front end has already checked the shapes,
//! the webhook method and the file-watch event names. Every default is filled in here, into [`TriggerPlan`].

use std::collections::HashMap;
use std::str::FromStr;

use expr_grammar::ast::{Expr, ExprKind, Literal};
use expr_grammar::{Duration, Span, TemplatePart};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::expressions::{self, Parsed, TextForm};
use crate::model::{FileWatchTrigger, ScheduleTrigger, Spanned, Text, Trigger, WebhookTrigger, Workflow};
use crate::plan::{
    FileEvent, FileWatchTriggerPlan, RateLimit, ScheduleTriggerPlan, TriggerPlan, WebhookAuth, WebhookAuthScheme,
    WebhookSecret, WebhookTriggerPlan,
};
use crate::values::{CompileOptions, unknown_credential};

/// Missed schedule times older than this are not caught up, unless `catch_up_window` says otherwise.
pub const DEFAULT_CATCH_UP_WINDOW: Duration = Duration(24 * 3_600 * 1_000_000);
/// The most missed times `catch_up: all` runs, unless `catch_up_max` says otherwise.
pub const DEFAULT_CATCH_UP_MAX: u32 = 10;
/// How long a webhook with `wait: true` waits for the execution's end, unless `wait_timeout` says otherwise.
pub const DEFAULT_WAIT_TIMEOUT: Duration = Duration(30 * 1_000_000);

/// Checks every trigger; returns their plans (meaningful only when no error was reported).
pub fn check_triggers(
    workflow: &Workflow,
    options: &CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<TriggerPlan> {
    let now = options.now.unwrap_or_else(chrono::Utc::now);
    let mut webhooks: HashMap<(String, String), Span> = HashMap::new();
    let mut plans = Vec::with_capacity(workflow.triggers.len());
    for trigger in &workflow.triggers {
        let plan = match &trigger.value {
            Trigger::Schedule(schedule) => {
                check_inputs_for_schedule(workflow, trigger.span, diagnostics);
                check_schedule(schedule, now, diagnostics)
            }
            Trigger::Webhook(webhook) => check_webhook(webhook, &mut webhooks, options, diagnostics),
            Trigger::FileWatch(watch) => check_file_watch(watch, diagnostics),
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
    TriggerPlan::Schedule(ScheduleTriggerPlan {
        cron: cron.value.clone(),
        timezone: schedule.timezone.as_ref().map(|tz| tz.value.clone()),
        catch_up: schedule.catch_up.as_ref().map(|c| c.value).unwrap_or_default(),
        catch_up_window: schedule.catch_up_window.as_ref().map_or(DEFAULT_CATCH_UP_WINDOW, |w| w.value),
        catch_up_max: schedule.catch_up_max.as_ref().map_or(DEFAULT_CATCH_UP_MAX, |m| m.value),
    })
}

/// A scheduled run has no one to give inputs: every input needs a default (or `required: false`).
fn check_inputs_for_schedule(workflow: &Workflow, trigger: Span, diagnostics: &mut Vec<Diagnostic>) {
    let Some(inputs) = &workflow.inputs else { return };
    let unfilled: Vec<_> = inputs
        .iter()
        .filter(|entry| entry.value.default.is_none() && entry.value.required.as_ref().is_none_or(|r| r.value))
        .collect();
    let Some(first) = unfilled.first() else { return };
    let names = unfilled.iter().map(|entry| format!("`{}`", entry.key.value)).collect::<Vec<_>>().join(", ");
    let (noun, pronoun) = if unfilled.len() == 1 { ("input", "it") } else { ("inputs", "each") };
    let mut diagnostic = Diagnostic::error(
        codes::SCHEDULE_MISSING_INPUT,
        format!("a schedule cannot fill required {noun} {names}"),
        trigger,
    )
    .with_label("a scheduled run is started without inputs")
    .with_hint(format!(
        "give {pronoun} a `default:` (or `required: false`), e.g. `{}: {{type: {}, default: ...}}`",
        first.key.value,
        first.value.ty.value.name()
    ));
    for entry in &unfilled {
        diagnostic = diagnostic.with_secondary(entry.key.span, "required, with no default");
    }
    diagnostics.push(diagnostic);
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
    options: &CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> TriggerPlan {
    let path = &webhook.path;
    let method = webhook.method.as_ref().map_or_else(|| "POST".to_string(), |m| m.value.to_ascii_uppercase());
    if let Some((reason, hint)) = webhook_path_problem(&path.value) {
        diagnostics.push(
            Diagnostic::error(codes::INVALID_WEBHOOK_PATH, format!("invalid webhook path `{}`", path.value), path.span)
                .with_label(reason)
                .with_hint(hint),
        );
    } else if is_reserved_path(&path.value) {
        diagnostics.push(
            Diagnostic::error(
                codes::RESERVED_WEBHOOK_PATH,
                format!("the webhook path `{}` is the daemon's own", path.value),
                path.span,
            )
            .with_label("`/api` and the paths under it are Pilot's REST API")
            .with_hint(format!("choose another path, e.g. `/hooks{}`", path.value)),
        );
    } else if let Some(&first) = seen.get(&(path.value.clone(), method.clone())) {
        diagnostics.push(
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
    let secret = webhook.secret.as_ref().and_then(|secret| check_webhook_secret(secret, webhook, options, diagnostics));
    let scheme = webhook.auth.as_ref().map_or(WebhookAuthScheme::Hmac, |auth| auth.value);
    TriggerPlan::Webhook(WebhookTriggerPlan {
        path: path.value.clone(),
        method,
        auth: secret.map(|secret| WebhookAuth { scheme, secret }),
        wait: webhook.wait.as_ref().is_some_and(|w| w.value),
        wait_timeout: webhook.wait_timeout.as_ref().map_or(DEFAULT_WAIT_TIMEOUT, |t| t.value),
        rate_limit: webhook
            .rate_limit
            .as_ref()
            .map(|limit| RateLimit { requests: limit.requests.value, per: limit.per.value }),
        max_body_size: webhook.max_body_size.as_ref().map(|size| size.value),
    })
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

/// `/api` and everything under it belong to the daemon's REST API. URL paths are case-sensitive, but a
/// webhook on `/API/x` would still confuse people and proxies: refused too.
pub fn is_reserved_path(path: &str) -> bool {
    let first_segment = path.trim_start_matches('/').split('/').next().unwrap_or("");
    first_segment.eq_ignore_ascii_case("api")
}

/// Reads where a webhook's secret comes from: literal text (warned about), `${secrets.NAME}`, or an environment
/// variable (`${NAME}`, `${env('NAME')}`). Anything else is refused: the daemon reads the secret when it arms
/// the trigger, with no execution to evaluate an expression in.
fn check_webhook_secret(
    secret: &Spanned<String>,
    webhook: &WebhookTrigger,
    options: &CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<WebhookSecret> {
    // The model keeps the secret as a plain string; its text is the scalar's content, so offsets map 1:1 except
    // for escapes, which only blur the caret position.
    let text = Text::verbatim(secret.value.clone(), secret.span);
    let parsed = expressions::parse_text(&text, TextForm::Template, diagnostics)?;
    let Parsed::Template(template) = parsed else { return None };
    let mut literal = String::new();
    let mut expression = None;
    for part in &template.parts {
        match part {
            TemplatePart::Literal(text) => literal.push_str(text),
            TemplatePart::Expr(expr) if expression.is_none() => expression = Some(expr),
            TemplatePart::Expr(expr) => {
                diagnostics.push(unsupported_secret(text.file_span(expr.span)));
                return None;
            }
        }
    }
    let Some(expr) = expression else {
        diagnostics.push(clear_secret(secret.span, webhook));
        return Some(WebhookSecret::Literal(literal));
    };
    if !literal.is_empty() {
        diagnostics.push(unsupported_secret(text.file_span(expr.span)));
        return None;
    }
    let source = secret_source(expr);
    match &source {
        Some(WebhookSecret::Credential(name)) => {
            if let Some(known) = options.known_credentials.stored()
                && !known.contains(name)
            {
                let label = "the webhook refuses every request unless it is added";
                diagnostics.push(unknown_credential(name, text.file_span(expr.span), known, label));
            }
        }
        Some(_) => {}
        None => diagnostics.push(unsupported_secret(text.file_span(expr.span))),
    }
    source
}

/// `secrets.NAME`, `NAME` (capitals) or `env('NAME')`.
fn secret_source(expr: &Expr) -> Option<WebhookSecret> {
    match &expr.kind {
        ExprKind::Field { target, field } if matches!(&target.kind, ExprKind::Name(root) if root.name == "secrets") => {
            Some(WebhookSecret::Credential(field.name.clone()))
        }
        ExprKind::Name(name) if crate::scope::is_env_var_name(&name.name) => {
            Some(WebhookSecret::Env(name.name.clone()))
        }
        ExprKind::Call { function, args } if function.name == "env" => match args.as_slice() {
            [Expr { kind: ExprKind::Literal(Literal::String(name)), .. }] if !name.is_empty() => {
                Some(WebhookSecret::Env(name.clone()))
            }
            _ => None,
        },
        _ => None,
    }
}

fn unsupported_secret(span: Span) -> Diagnostic {
    Diagnostic::error(codes::UNSUPPORTED_WEBHOOK_SECRET, "a webhook secret cannot be computed", span)
        .with_label("the daemon reads the secret before any execution exists")
        .with_hint(
            "write the whole secret as `${secrets.NAME}` (a stored credential), `${NAME}` or `${env('NAME')}` (an \
             environment variable), or as plain text",
        )
}

/// A literal secret is readable by anyone who can read the file (or its history in git).
fn clear_secret(span: Span, webhook: &WebhookTrigger) -> Diagnostic {
    let provider = match webhook.auth.as_ref().map(|a| a.value) {
        Some(WebhookAuthScheme::Bearer) => "bearer",
        _ => "hmac",
    };
    Diagnostic::warning(codes::SECRET_IN_CLEAR, "the webhook secret is written in clear", span)
        .with_label("anyone who can read this file can call the webhook")
        .with_hint(format!(
            "store it with `pilot credentials set NAME --provider {provider}` and write `secret: \"${{secrets.NAME}}\"`"
        ))
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
    let mut events: Vec<FileEvent> = Vec::new();
    for event in watch.events.iter().flat_map(|events| &events.value) {
        if let Some(event) = FileEvent::from_name(&event.value)
            && !events.contains(&event)
        {
            events.push(event);
        }
    }
    TriggerPlan::FileWatch(FileWatchTriggerPlan {
        path: watch.path.value.clone(),
        pattern: watch.pattern.as_ref().map(|p| p.value.clone()),
        events,
        recursive: watch.recursive.as_ref().is_some_and(|r| r.value),
    })
}

#[cfg(test)]
mod tests {
    use super::{is_reserved_path, webhook_path_problem};
    use crate::codes;
    use crate::plan::*;
    use crate::{CompileOptions, KnownCredentials, compile, compile_with};
    use connectors::catalogue::Catalogue;
    use expr_grammar::Duration;

    /// The trigger plans of a workflow with `triggers` (YAML lines under `triggers:`), which must compile.
    fn trigger_plans(triggers: &str) -> Vec<TriggerPlan> {
        let source =
            format!("name: t\ntriggers:\n{triggers}steps:\n  - {{id: a, action: log, input: {{message: hi}}}}\n");
        let (plan, diagnostics) = compile(&source, "t", &Catalogue::builtin());
        let errors: Vec<_> = diagnostics.iter().filter(|d| d.is_error()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        plan.expect("a plan").triggers
    }

    fn codes_of(source: &str) -> Vec<&'static str> {
        let (_, diagnostics) = compile(source, "t", &Catalogue::builtin());
        diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn trigger_plans_carry_their_defaults() {
        let plans = trigger_plans(
            "  - {type: schedule, cron: \"0 2 * * *\"}\n  - {type: webhook, path: /hooks/a}\n  - {type: file_watch, path: /tmp}\n",
        );
        assert_eq!(
            plans[0],
            TriggerPlan::Schedule(ScheduleTriggerPlan {
                cron: "0 2 * * *".into(),
                timezone: None,
                catch_up: CatchUp::Last,
                catch_up_window: Duration::from_secs(24 * 3600),
                catch_up_max: 10,
            })
        );
        assert_eq!(
            plans[1],
            TriggerPlan::Webhook(WebhookTriggerPlan {
                path: "/hooks/a".into(),
                method: "POST".into(),
                auth: None,
                wait: false,
                wait_timeout: Duration::from_secs(30),
                rate_limit: None,
                max_body_size: None,
            })
        );
        assert_eq!(
            plans[2],
            TriggerPlan::FileWatch(FileWatchTriggerPlan {
                path: "/tmp".into(),
                pattern: None,
                events: Vec::new(),
                recursive: false,
            })
        );
    }

    #[test]
    fn trigger_plans_carry_what_the_file_says() {
        let plans = trigger_plans(
            r#"  - type: schedule
    cron: "*/5 * * * *"
    catch_up: all
    catch_up_window: 2h
    catch_up_max: 3
  - type: webhook
    path: /hooks/deploy
    method: put
    auth: bearer
    secret: "${secrets.deploy}"
    wait: true
    wait_timeout: 2m
    rate_limit: {requests: 5, per: 1m}
    max_body_size: 65536
  - type: file_watch
    path: /tmp
    events: [rename, create, rename]
    recursive: true
"#,
        );
        let TriggerPlan::Schedule(schedule) = &plans[0] else { panic!("{:?}", plans[0]) };
        assert_eq!(
            (schedule.catch_up, schedule.catch_up_window, schedule.catch_up_max),
            (CatchUp::All, Duration::from_secs(7200), 3)
        );
        let TriggerPlan::Webhook(webhook) = &plans[1] else { panic!("{:?}", plans[1]) };
        assert_eq!(webhook.method, "PUT");
        assert_eq!(
            webhook.auth,
            Some(WebhookAuth { scheme: WebhookAuthScheme::Bearer, secret: WebhookSecret::Credential("deploy".into()) })
        );
        assert!(webhook.wait);
        assert_eq!(webhook.wait_timeout, Duration::from_secs(120));
        assert_eq!(webhook.rate_limit, Some(RateLimit { requests: 5, per: Duration::from_secs(60) }));
        assert_eq!(webhook.max_body_size, Some(65536));
        let TriggerPlan::FileWatch(watch) = &plans[2] else { panic!("{:?}", plans[2]) };
        assert_eq!(watch.events, [FileEvent::Rename, FileEvent::Create]);
        assert!(watch.recursive);
    }

    #[test]
    fn a_webhook_secret_is_a_literal_a_credential_or_an_environment_variable() {
        let secret_of = |secret: &str| {
            let plans = trigger_plans(&format!("  - {{type: webhook, path: /h, secret: \"{secret}\"}}\n"));
            let TriggerPlan::Webhook(webhook) = &plans[0] else { panic!("{:?}", plans[0]) };
            let auth = webhook.auth.clone().expect("a secret means auth");
            assert_eq!(auth.scheme, WebhookAuthScheme::Hmac, "hmac when only `secret` is given");
            auth.secret
        };
        assert_eq!(secret_of("plain text"), WebhookSecret::Literal("plain text".into()));
        assert_eq!(secret_of("${secrets.hook}"), WebhookSecret::Credential("hook".into()));
        assert_eq!(secret_of("${HOOK_SECRET}"), WebhookSecret::Env("HOOK_SECRET".into()));
        assert_eq!(secret_of("${env('hook_secret')}"), WebhookSecret::Env("hook_secret".into()));
    }

    #[test]
    fn a_literal_secret_never_shows_in_debug_or_json() {
        let auth = WebhookAuth { scheme: WebhookAuthScheme::Hmac, secret: WebhookSecret::Literal("hunter2".into()) };
        assert!(!format!("{auth:?}").contains("hunter2"));
        let json = serde_json::to_string(&auth).expect("json");
        assert!(!json.contains("hunter2"), "{json}");
        assert_eq!(json, r#"{"scheme":"hmac","secret":{"from":"literal"}}"#);
    }

    #[test]
    fn a_literal_secret_is_warned_about_and_a_stored_one_checked() {
        let source = "name: t\ntriggers:\n  - {type: webhook, path: /h, secret: abc}\n  - {type: webhook, path: /i, \
                      secret: \"${secrets.hok}\"}\nsteps:\n  - {id: a, action: log, input: {message: hi}}\n";
        let options = CompileOptions {
            known_credentials: KnownCredentials::Stored(["hook".to_string()].into()),
            ..CompileOptions::default()
        };
        let (plan, diagnostics) = compile_with(source, "t", &Catalogue::builtin(), &options);
        assert!(plan.is_some(), "warnings only");
        let found: Vec<_> = diagnostics.iter().map(|d| (d.code, d.hint.clone().unwrap_or_default())).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, codes::SECRET_IN_CLEAR);
        assert!(found[0].1.contains("pilot credentials set NAME --provider hmac"), "{}", found[0].1);
        assert_eq!(found[1], (codes::UNKNOWN_CREDENTIAL, "did you mean `hook`?".to_string()));
    }

    #[test]
    fn a_webhook_secret_is_not_a_slot_of_the_run() {
        let source = "name: t\ntriggers:\n  - {type: webhook, path: /h, secret: \"${secrets.hook}\"}\nsteps:\n  - {id: a, action: log, input: {message: hi}}\n";
        let (plan, _) = compile(source, "t", &Catalogue::builtin());
        let secret_slots =
            plan.expect("a plan").slots.iter().filter(|s| matches!(s.kind, SlotKind::Secret { .. })).count();
        assert_eq!(secret_slots, 0, "runs must not need the webhook's credential");
    }

    #[test]
    fn the_api_prefix_is_reserved_for_the_daemon() {
        for path in ["/api", "/api/x", "/API/v1/runs"] {
            assert!(is_reserved_path(path), "{path}");
        }
        for path in ["/", "/apis", "/api-hooks/x", "/hooks/api"] {
            assert!(!is_reserved_path(path), "{path}");
        }
    }

    #[test]
    fn a_schedule_needs_every_input_to_have_a_default_or_be_optional() {
        let with_inputs = |inputs: &str| {
            format!("name: t\ntriggers:\n  - {{type: schedule, cron: \"0 2 * * *\"}}\ninputs:\n{inputs}steps: []\n")
        };
        assert_eq!(
            codes_of(&with_inputs("  a: {type: int, default: 1}\n  b: {type: int, required: false}\n")),
            ["W0101"]
        );
        assert_eq!(codes_of(&with_inputs("  a: {type: int}\n")), ["E0508", "W0101"]);
        assert_eq!(codes_of(&with_inputs("  a: {type: int, required: true}\n")), ["E0508", "W0101"]);
        let manual_only = "name: t\ninputs:\n  a: {type: int}\nsteps: []\n";
        assert_eq!(codes_of(manual_only), ["W0101"], "a manual run is given its inputs");
    }

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
