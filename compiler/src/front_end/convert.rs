//! The node tree to the workflow model, reporting every structural error on the way.

use super::fields::{Cx, Fields, free_pairs};
use super::scalars::Resolved;
use super::tree::{Node, NodeKind};
use super::values::{duration, yaml_mapping, yaml_value};
use super::{FILE_EVENTS, HTTP_METHODS};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::*;

pub(crate) const WORKFLOW_KEYS: &[&str] =
    &["name", "description", "version", "triggers", "concurrency", "inputs", "variables", "steps", "on_failure"];
pub(crate) const STEP_KEYS: &[&str] = &[
    "id",
    "action",
    "input",
    "output",
    "loop",
    "if",
    "needs",
    "retry",
    "timeout",
    "continue_on_error",
    "credential",
    "resume",
];
pub(crate) const LOOP_KEYS: &[&str] = &["items", "concurrency"];
pub(crate) const RETRY_KEYS: &[&str] = &["max_attempts", "backoff", "initial_delay"];
pub(crate) const INPUT_PARAM_KEYS: &[&str] = &["type", "default", "description", "required"];
pub(crate) const TRIGGER_TYPES: &[&str] = &["schedule", "webhook", "file_watch", "manual"];
pub(crate) const SCHEDULE_KEYS: &[&str] = &["type", "cron", "timezone", "catch_up", "catch_up_window", "catch_up_max"];
pub(crate) const WEBHOOK_KEYS: &[&str] =
    &["type", "path", "method", "auth", "secret", "wait", "wait_timeout", "rate_limit", "max_body_size"];
pub(crate) const RATE_LIMIT_KEYS: &[&str] = &["requests", "per"];
pub(crate) const FILE_WATCH_KEYS: &[&str] = &["type", "path", "pattern", "events", "recursive"];
pub(crate) const MANUAL_KEYS: &[&str] = &["type"];
pub(crate) const CONCURRENCY_KEYS: &[&str] = &["limit", "policy"];

pub(crate) const MAX_CONCURRENCY: i64 = 1000;
pub(crate) const MAX_ATTEMPTS: i64 = 100;
pub(crate) const MAX_CATCH_UP: i64 = 1000;
pub(crate) const MAX_RATE_REQUESTS: i64 = 1_000_000;
/// 1 GiB: the daemon holds a request body in memory.
pub(crate) const MAX_BODY_SIZE: i64 = 1 << 30;

pub(crate) fn workflow(cx: &mut Cx<'_>, root: &Node) -> Option<Workflow> {
    let fields = Fields::read(cx, root, "the workflow", WORKFLOW_KEYS)?;
    let name = fields.require(cx, "name", "the workflow").and_then(|n| cx.string(n, "`name`"));
    let description = fields.get("description").and_then(|n| cx.string(n, "`description`"));
    let version = fields.get("version").and_then(|n| cx.scalar_as_string(n, "`version`"));
    let (triggers, unreadable_triggers) = fields.get("triggers").map(|n| triggers(cx, n)).unwrap_or_default();
    let concurrency = fields.get("concurrency").and_then(|n| concurrency(cx, n));
    let inputs = fields.get("inputs").and_then(|n| inputs(cx, n));
    let variables = fields.get("variables").and_then(|n| yaml_mapping(cx, n, "`variables`"));
    let steps_node = fields.require(cx, "steps", "the workflow");
    let main_steps = steps_node.map(|n| steps(cx, n, "`steps`")).unwrap_or_default();
    if let Some(node) = steps_node.filter(|n| matches!(&n.kind, NodeKind::Sequence(items) if items.is_empty())) {
        cx.push(
            Diagnostic::warning(codes::NO_STEPS, "the workflow has no steps", node.span)
                .with_label("empty list")
                .with_hint(
                    "running it does nothing; add a step such as `{id: hello, action: log, input: {message: hi}}`",
                ),
        );
    }
    let on_failure = fields.get("on_failure").map(|n| steps(cx, n, "`on_failure`")).unwrap_or_default();
    Some(Workflow {
        span: root.span,
        name,
        description,
        version,
        triggers,
        unreadable_triggers,
        concurrency,
        inputs,
        variables,
        steps: main_steps,
        on_failure,
    })
}

/// `steps:` or `on_failure:`: a list of step mappings.
fn steps(cx: &mut Cx<'_>, node: &Node, place: &str) -> Vec<Step> {
    let NodeKind::Sequence(items) = &node.kind else {
        cx.wrong_type(node, "a list of steps", place);
        return Vec::new();
    };
    items.iter().enumerate().filter_map(|(index, item)| step(cx, item, place, index)).collect()
}

fn step(cx: &mut Cx<'_>, node: &Node, list: &str, index: usize) -> Option<Step> {
    let unnamed = format!("step {} of {list}", index + 1);
    // Messages about the step's keys name it by its id when it has a plain one.
    let place = match peek_text(node, "id") {
        Some(id) => format!("step `{id}`"),
        None => unnamed.clone(),
    };
    let fields = Fields::read(cx, node, &place, STEP_KEYS)?;
    let id = fields.require(cx, "id", &unnamed).and_then(|n| cx.string(n, "the step's `id`"));
    let action = fields.require(cx, "action", &place).and_then(|n| cx.string(n, &format!("`action` of {place}")));
    let input = fields.get("input").and_then(|n| yaml_mapping(cx, n, &format!("`input` of {place}")));
    let output = fields.get("output").and_then(|n| cx.string(n, &format!("`output` of {place}")));
    let looping = fields.get("loop").and_then(|n| looping(cx, n, &place));
    let condition = fields.get("if").and_then(|n| cx.text(n, &format!("`if` of {place}")));
    let needs = fields.get("needs").map(|n| needs(cx, n, &place)).unwrap_or_default();
    let retry = fields.get("retry").and_then(|n| retry(cx, n, &place));
    let timeout = fields.get("timeout").and_then(|n| duration(cx, n, &format!("`timeout` of {place}")));
    if let Some(zero) = timeout.as_ref().filter(|t| t.value.0 == 0) {
        let message = format!("`timeout` of {place} must be longer than zero");
        cx.push(Diagnostic::error(codes::OUT_OF_RANGE, message, zero.span).with_hint("remove `timeout` for no limit"));
    }
    let continue_on_error =
        fields.get("continue_on_error").and_then(|n| cx.bool(n, &format!("`continue_on_error` of {place}")));
    let credential = fields.get("credential").and_then(|n| cx.string(n, &format!("`credential` of {place}")));
    let resume = fields.get("resume").and_then(|n| resume(cx, n, &place));
    Some(Step {
        span: node.span,
        id: id?,
        action,
        input,
        output,
        looping,
        condition,
        needs,
        retry,
        timeout,
        continue_on_error,
        credential,
        resume,
    })
}

/// The text value of `key` in a mapping node, without reporting anything.
fn peek_text<'n>(node: &'n Node, key: &str) -> Option<&'n str> {
    let NodeKind::Mapping(pairs) = &node.kind else { return None };
    pairs.iter().find_map(|(k, v)| match (&k.kind, &v.kind) {
        (NodeKind::Scalar(k), NodeKind::Scalar(v))
            if k.value == key && super::scalars::resolve(v) == Resolved::String =>
        {
            Some(v.value.as_str())
        }
        _ => None,
    })
}

fn resume(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Spanned<ResumePolicy>> {
    let word = cx.word(node, &format!("`resume` of {place}"), &["rerun", "fail"])?;
    let policy = if word.value == "fail" { ResumePolicy::Fail } else { ResumePolicy::Rerun };
    Some(Spanned::new(policy, word.span))
}

/// `needs: fetch` or `needs: [fetch, parse]`.
fn needs(cx: &mut Cx<'_>, node: &Node, place: &str) -> Vec<Spanned<String>> {
    let what = format!("`needs` of {place}");
    match &node.kind {
        NodeKind::Sequence(items) => items.iter().filter_map(|item| cx.string(item, &what)).collect(),
        NodeKind::Scalar(_) => cx.string(node, &what).into_iter().collect(),
        NodeKind::Mapping(_) => {
            cx.wrong_type(node, "a step id or a list of step ids", &what);
            Vec::new()
        }
    }
}

/// `loop: "${items}"` or `loop: {items: "${items}", concurrency: 4}`.
fn looping(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Loop> {
    let what = format!("`loop` of {place}");
    if let NodeKind::Scalar(_) = &node.kind {
        let items = cx.text(node, &what)?;
        return Some(Loop { span: node.span, items, concurrency: None });
    }
    if let NodeKind::Sequence(_) = &node.kind {
        let found = node.describe();
        let message = format!("expected a template such as \"${{files}}\" for {what}, found {found}");
        cx.push(
            Diagnostic::error(codes::WRONG_TYPE, message, node.span)
                .with_label(format!("this is {found}"))
                .with_hint("to loop over fixed values, define them in `variables:` and write `loop: \"${name}\"`"),
        );
        return None;
    }
    let fields = Fields::read(cx, node, &what, LOOP_KEYS)?;
    let items = fields.require(cx, "items", &what).and_then(|n| cx.text(n, &format!("`loop.items` of {place}")));
    let concurrency = fields
        .get("concurrency")
        .and_then(|n| cx.count(n, &format!("`loop.concurrency` of {place}"), 1, MAX_CONCURRENCY));
    Some(Loop { span: node.span, items: items?, concurrency })
}

fn retry(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Retry> {
    let what = format!("`retry` of {place}");
    let fields = Fields::read(cx, node, &what, RETRY_KEYS)?;
    let max_attempts = fields
        .get("max_attempts")
        .and_then(|n| cx.count(n, &format!("`retry.max_attempts` of {place}"), 1, MAX_ATTEMPTS));
    let backoff = fields.get("backoff").and_then(|n| {
        let word = cx.word(n, &format!("`retry.backoff` of {place}"), &["fixed", "exponential"])?;
        let backoff = if word.value == "fixed" { Backoff::Fixed } else { Backoff::Exponential };
        Some(Spanned::new(backoff, word.span))
    });
    let initial_delay =
        fields.get("initial_delay").and_then(|n| duration(cx, n, &format!("`retry.initial_delay` of {place}")));
    Some(Retry { span: node.span, max_attempts, backoff, initial_delay })
}

/// `inputs:` parameters by name.
fn inputs(cx: &mut Cx<'_>, node: &Node) -> Option<Mapping<InputParam>> {
    let pairs = free_pairs(cx, node, "`inputs`")?;
    let entries = pairs
        .into_iter()
        .filter_map(|(key, value)| {
            let param = input_param(cx, value, &format!("input `{}`", key.value))?;
            Some(Entry { key, value: param })
        })
        .collect();
    Some(Mapping { span: node.span, entries })
}

fn input_param(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<InputParam> {
    let fields = Fields::read(cx, node, place, INPUT_PARAM_KEYS)?;
    let ty = fields.require(cx, "type", place).and_then(|n| {
        let word = cx.word(n, &format!("the `type` of {place}"), &ParamType::NAMES)?;
        Some(Spanned::new(ParamType::from_name(&word.value)?, word.span))
    });
    let default = fields.get("default").map(|n| yaml_value(cx, n, &format!("the `default` of {place}")));
    let description = fields.get("description").and_then(|n| cx.string(n, &format!("the `description` of {place}")));
    let required = fields.get("required").and_then(|n| cx.bool(n, &format!("`required` of {place}")));
    Some(InputParam { span: node.span, ty: ty?, default, description, required })
}

/// The readable triggers, and whether one was left out for its errors.
fn triggers(cx: &mut Cx<'_>, node: &Node) -> (Vec<Spanned<Trigger>>, bool) {
    let NodeKind::Sequence(items) = &node.kind else {
        cx.wrong_type(node, "a list of triggers", "`triggers`");
        return (Vec::new(), true);
    };
    let triggers: Vec<Spanned<Trigger>> = items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| Some(Spanned::new(trigger(cx, item, index)?, item.span)))
        .collect();
    let unreadable = triggers.len() < items.len();
    (triggers, unreadable)
}

/// `concurrency: {limit: 1, policy: skip}`.
fn concurrency(cx: &mut Cx<'_>, node: &Node) -> Option<Concurrency> {
    let place = "`concurrency`";
    if let NodeKind::Scalar(_) = &node.kind {
        let found = node.describe();
        cx.push(
            Diagnostic::error(codes::WRONG_TYPE, format!("expected a mapping for {place}, found {found}"), node.span)
                .with_label(format!("this is {found}"))
                .with_hint("write `concurrency: {limit: 1, policy: queue}` (policy: queue, skip or cancel_previous)"),
        );
        return None;
    }
    let fields = Fields::read(cx, node, place, CONCURRENCY_KEYS)?;
    let limit = fields.require(cx, "limit", place).and_then(|n| cx.count(n, "`concurrency.limit`", 1, MAX_CONCURRENCY));
    let policy = fields.get("policy").and_then(|n| {
        let word = cx.word(n, "`concurrency.policy`", &["queue", "skip", "cancel_previous"])?;
        let policy = match word.value.as_str() {
            "skip" => ConcurrencyPolicy::Skip,
            "cancel_previous" => ConcurrencyPolicy::CancelPrevious,
            _ => ConcurrencyPolicy::Queue,
        };
        Some(Spanned::new(policy, word.span))
    });
    Some(Concurrency { span: node.span, limit: limit?, policy })
}

/// Common wrong trigger types and the right one.
const TRIGGER_TYPE_HINTS: &[(&str, &str)] =
    &[("cron", "schedule"), ("http", "webhook"), ("watch", "file_watch"), ("file", "file_watch"), ("fs", "file_watch")];

fn trigger(cx: &mut Cx<'_>, node: &Node, index: usize) -> Option<Trigger> {
    let place = format!("trigger {}", index + 1);
    let any_keys: Vec<&str> = [SCHEDULE_KEYS, WEBHOOK_KEYS, FILE_WATCH_KEYS].concat();
    // First pass only to find `type`; keys are checked against the chosen type below.
    let NodeKind::Mapping(_) = &node.kind else {
        cx.wrong_type(node, "a mapping such as `{type: schedule, cron: \"0 2 * * *\"}`", &place);
        return None;
    };
    let mut probe = Cx { source: cx.source, diagnostics: Vec::new() };
    let type_node = Fields::read(&mut probe, node, &place, &any_keys).and_then(|f| f.get("type"));
    let Some(type_node) = type_node else {
        let fields = Fields::read(cx, node, &place, &any_keys)?;
        fields.require(cx, "type", &place);
        return None;
    };
    let kind = trigger_type(cx, type_node, &place)?;
    let place = format!("{place} ({kind})");
    match kind.as_str() {
        "schedule" => schedule(cx, node, &place),
        "webhook" => webhook(cx, node, &place),
        "file_watch" => file_watch(cx, node, &place),
        _ => {
            Fields::read(cx, node, &place, MANUAL_KEYS)?;
            Some(Trigger::Manual(ManualTrigger {}))
        }
    }
}

fn trigger_type(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<String> {
    let text = cx.string(node, &format!("the `type` of {place}"))?;
    if TRIGGER_TYPES.contains(&text.value.as_str()) {
        return Some(text.value);
    }
    let list = TRIGGER_TYPES.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
    let message = format!("unknown trigger type `{}`", text.value);
    let mut diagnostic =
        Diagnostic::error(codes::INVALID_VALUE, message, text.span).with_label(format!("expected one of {list}"));
    if let Some((_, right)) = TRIGGER_TYPE_HINTS.iter().find(|(wrong, _)| *wrong == text.value) {
        diagnostic = diagnostic.with_hint(format!("did you mean `{right}`?"));
    } else {
        diagnostic = diagnostic.with_suggestion(&text.value, TRIGGER_TYPES.iter().copied());
    }
    cx.push(diagnostic);
    None
}

fn schedule(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Trigger> {
    let fields = Fields::read(cx, node, place, SCHEDULE_KEYS)?;
    let cron = fields.require(cx, "cron", place).and_then(|n| cx.string(n, &format!("`cron` of {place}")));
    let timezone = fields.get("timezone").and_then(|n| cx.string(n, &format!("`timezone` of {place}")));
    let catch_up = fields.get("catch_up").and_then(|n| {
        let word = cx.word(n, &format!("`catch_up` of {place}"), &["none", "last", "all"])?;
        let policy = match word.value.as_str() {
            "none" => CatchUp::None,
            "all" => CatchUp::All,
            _ => CatchUp::Last,
        };
        Some(Spanned::new(policy, word.span))
    });
    let catch_up_window =
        fields.get("catch_up_window").and_then(|n| positive_duration(cx, n, &format!("`catch_up_window` of {place}")));
    let catch_up_max =
        fields.get("catch_up_max").and_then(|n| cx.count(n, &format!("`catch_up_max` of {place}"), 1, MAX_CATCH_UP));
    Some(Trigger::Schedule(ScheduleTrigger { cron: cron?, timezone, catch_up, catch_up_window, catch_up_max }))
}

/// A duration that must be longer than zero (a window, a timeout).
fn positive_duration(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Spanned<Duration>> {
    let value = duration(cx, node, place)?;
    if value.value.0 == 0 {
        let message = format!("{place} must be longer than zero");
        cx.push(Diagnostic::error(codes::OUT_OF_RANGE, message, value.span).with_label("zero"));
        return None;
    }
    Some(value)
}

fn webhook(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Trigger> {
    let fields = Fields::read(cx, node, place, WEBHOOK_KEYS)?;
    let path = fields.require(cx, "path", place).and_then(|n| cx.string(n, &format!("`path` of {place}")));
    let method = fields.get("method").and_then(|n| {
        let text = cx.string(n, &format!("`method` of {place}"))?;
        let upper = Spanned::new(text.value.to_ascii_uppercase(), text.span);
        if HTTP_METHODS.contains(&upper.value.as_str()) {
            return Some(upper);
        }
        cx.word(n, &format!("`method` of {place}"), &HTTP_METHODS)
    });
    let auth = fields.get("auth").and_then(|n| {
        let word = cx.word(n, &format!("`auth` of {place}"), &["hmac", "bearer"])?;
        let scheme = if word.value == "bearer" { WebhookAuthScheme::Bearer } else { WebhookAuthScheme::Hmac };
        Some(Spanned::new(scheme, word.span))
    });
    let secret = fields.get("secret").and_then(|n| cx.string(n, &format!("`secret` of {place}")));
    if let (Some(auth), None) = (&auth, fields.get("secret")) {
        cx.push(needs_key_beside(&auth.span, "auth", "secret", place, "add `secret: \"${secrets.NAME}\"`"));
    }
    let wait = fields.get("wait").and_then(|n| cx.bool(n, &format!("`wait` of {place}")));
    let wait_timeout =
        fields.get("wait_timeout").and_then(|n| positive_duration(cx, n, &format!("`wait_timeout` of {place}")));
    if let (Some(timeout), false) = (&wait_timeout, wait.as_ref().is_some_and(|w| w.value)) {
        cx.push(needs_key_beside(
            &timeout.span,
            "wait_timeout",
            "wait: true",
            place,
            "add `wait: true`, or remove `wait_timeout`",
        ));
    }
    let rate_limit = fields.get("rate_limit").and_then(|n| rate_limit(cx, n, place));
    let max_body_size = fields.get("max_body_size").and_then(|n| {
        let size = cx.whole_number(n, &format!("`max_body_size` of {place}"), 1, MAX_BODY_SIZE)?;
        Some(Spanned::new(size.value as u64, size.span))
    });
    Some(Trigger::Webhook(WebhookTrigger {
        path: path?,
        method,
        auth,
        secret,
        wait,
        wait_timeout,
        rate_limit,
        max_body_size,
    }))
}

/// `key` is given without `needed`, which it depends on.
fn needs_key_beside(at: &Span, key: &str, needed: &str, place: &str, hint: &str) -> Diagnostic {
    Diagnostic::error(codes::MISSING_KEY, format!("`{key}` of {place} needs `{needed}`"), *at)
        .with_label(format!("`{needed}` is missing"))
        .with_hint(hint)
}

/// `rate_limit: {requests: 10, per: 1m}`.
fn rate_limit(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<RateLimit> {
    let what = format!("`rate_limit` of {place}");
    if let NodeKind::Scalar(_) = &node.kind {
        let found = node.describe();
        cx.push(
            Diagnostic::error(codes::WRONG_TYPE, format!("expected a mapping for {what}, found {found}"), node.span)
                .with_label(format!("this is {found}"))
                .with_hint("write the count and its window: `rate_limit: {requests: 10, per: 1s}`"),
        );
        return None;
    }
    let fields = Fields::read(cx, node, &what, RATE_LIMIT_KEYS)?;
    let requests = fields
        .require(cx, "requests", &what)
        .and_then(|n| cx.count(n, &format!("`rate_limit.requests` of {place}"), 1, MAX_RATE_REQUESTS));
    let per = fields
        .require(cx, "per", &what)
        .and_then(|n| positive_duration(cx, n, &format!("`rate_limit.per` of {place}")));
    Some(RateLimit { span: node.span, requests: requests?, per: per? })
}

fn file_watch(cx: &mut Cx<'_>, node: &Node, place: &str) -> Option<Trigger> {
    let fields = Fields::read(cx, node, place, FILE_WATCH_KEYS)?;
    let path = fields.require(cx, "path", place).and_then(|n| cx.string(n, &format!("`path` of {place}")));
    let pattern = fields.get("pattern").and_then(|n| cx.string(n, &format!("`pattern` of {place}")));
    let events = fields.get("events").and_then(|n| {
        let what = format!("`events` of {place}");
        let NodeKind::Sequence(items) = &n.kind else {
            cx.wrong_type(n, "a list such as `[create, modify]`", &what);
            return None;
        };
        let names = items.iter().filter_map(|item| cx.word(item, &what, &FILE_EVENTS)).collect();
        Some(Spanned::new(names, n.span))
    });
    let recursive = fields.get("recursive").and_then(|n| cx.bool(n, &format!("`recursive` of {place}")));
    Some(Trigger::FileWatch(FileWatchTrigger { path: path?, pattern, events, recursive }))
}
