//! The workflow model: what the front end reads out of a YAML or JSON file, before any name or type is checked.
//!
//! Every value carries its byte span in the file ([`Spanned`]), so later passes can point at a key, a value or a
//! character inside a `${...}` template ([`Text::file_span`]).
//!
//! What the front end has already checked (later passes need not repeat it): the shape of every key (types,
//! required keys, unknown keys, duplicate keys), durations (`timeout`, `initial_delay`), `retry.backoff`,
//! `loop.concurrency >= 1`, `retry.max_attempts >= 1`, the input parameter `type` names, the webhook `method`
//! and the file-watch `events` names, the trigger options' words and ranges (`catch_up`, `auth`, `catch_up_max`,
//! `rate_limit`, `max_body_size`, windows and timeouts longer than zero), a webhook `auth` only with a `secret`
//! and `wait_timeout` only with `wait: true`. Not checked here: names (`needs`, `${...}` references, actions), cron
//! syntax, expression syntax, types of defaults.
//!
//! Missing required values: a step without a usable `id` is dropped from [`Workflow::steps`] (its error is already
//! reported); a step without a usable `action` is kept with `action: None` (treat its output as `any`). A
//! workflow without `name` keeps `name: None`. [`crate::front_end::parse_workflow`] returns a model whenever the
//! document is a mapping, even when it reported errors, so later passes can report theirs too.
//!
//! The same types derive [`schemars::JsonSchema`]: `pilot schema` is generated from them (see `schema.rs`), so it
//! cannot drift from what the compiler reads. Doc comments on fields are user-facing: they become the schema's
//! descriptions.

use schemars::JsonSchema;

pub use crate::plan::{Backoff, CatchUp, ConcurrencyPolicy, ResumePolicy, WebhookAuthScheme};
pub use expr_grammar::{Duration, Span};

/// A value and its byte span in the file. For scalars the span covers the content (inside the quotes); for
/// mappings and sequences it covers the whole node.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Spanned { value, span }
    }

    pub fn as_ref(&self) -> Spanned<&T> {
        Spanned { value: &self.value, span: self.span }
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

// The schema of a spanned value is the schema of the value: spans are not part of the file format.
impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

/// A string that may hold `${...}` templates, with what is needed to map an offset inside the string back to
/// the file.
///
/// Mapping is exact for plain scalars, single-quoted scalars (`''` escapes included), double-quoted scalars
/// whose escapes are on one line, and single-line block scalars' lines. Where the YAML folds lines (multi-line
/// plain or quoted scalars) or a double-quoted escape spans a line break, the mapping is approximate: offsets
/// land on the right line's start at worst, never outside the scalar.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub value: String,
    /// The scalar's content in the file (inside the quotes).
    pub span: Span,
    /// `(offset in value, offset in file)` anchors, ascending; empty means the content is the value verbatim.
    pub(crate) anchors: Vec<(u32, u32)>,
}

impl Text {
    /// A text whose file content is exactly `value`, starting at `span.start`.
    pub fn verbatim(value: String, span: Span) -> Text {
        Text { value, span, anchors: Vec::new() }
    }

    /// The byte offset in the file of byte `offset` of [`Text::value`].
    pub fn file_offset(&self, offset: usize) -> usize {
        let offset = offset as u32;
        let mapped = match self.anchors.iter().rev().find(|(text, _)| *text <= offset) {
            Some((text, file)) => file + (offset - text),
            None => self.span.start + offset,
        };
        mapped.min(self.span.end).max(self.span.start) as usize
    }

    /// The file span of a span inside [`Text::value`] (an expression's span from `expr_grammar`).
    pub fn file_span(&self, inner: Span) -> Span {
        let start = self.file_offset(inner.start as usize);
        let end = self.file_offset(inner.end as usize).max(start);
        Span::new(start, end)
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl JsonSchema for Text {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Text".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

/// Any YAML value (`input:` fields, `variables:`, input defaults). Strings are [`Text`]: they may hold templates.
#[derive(Debug, Clone, PartialEq)]
pub enum YamlValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(Text),
    List(Vec<Spanned<YamlValue>>),
    Map(Mapping<Spanned<YamlValue>>),
}

impl JsonSchema for YamlValue {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "YamlValue".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!(true)
    }
}

/// A YAML mapping with free keys (variable names, input fields), in file order. Keys are unique: duplicates are
/// reported by the front end and only the first is kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping<T> {
    /// The whole mapping node.
    pub span: Span,
    pub entries: Vec<Entry<T>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry<T> {
    pub key: Spanned<String>,
    pub value: T,
}

impl<T> Mapping<T> {
    pub fn get(&self, key: &str) -> Option<&Entry<T>> {
        self.entries.iter().find(|entry| entry.key.value == key)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry<T>> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<T: JsonSchema> JsonSchema for Mapping<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Mapping_of_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let values = generator.subschema_for::<T>();
        schemars::json_schema!({ "type": "object", "additionalProperties": values })
    }
}

/// A Dooz Pilot workflow.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Dooz Pilot workflow")]
pub struct Workflow {
    /// The whole document.
    #[serde(skip)]
    pub span: Span,
    /// The workflow's name, unique among your workflows (e.g. `daily-backup`).
    #[schemars(required)]
    pub name: Option<Spanned<String>>,
    /// What the workflow does, for people.
    pub description: Option<Spanned<String>>,
    /// The workflow's own version (free text, e.g. `1.0.0`; a number such as `2` is read as its text).
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::version_schema")]
    pub version: Option<Spanned<String>>,
    /// What starts the workflow. Without triggers it runs only when started by hand.
    #[serde(default)]
    pub triggers: Vec<Spanned<Trigger>>,
    /// Whether a trigger was left out of `triggers` for its errors (then `trigger` is typed `any`).
    #[serde(skip)]
    pub unreadable_triggers: bool,
    /// How many executions of the workflow may run at once, and what a new one does when that many run
    /// (e.g. `{limit: 1, policy: skip}`). Default: no limit.
    pub concurrency: Option<Concurrency>,
    /// Typed parameters of manual and webhook runs, by name.
    #[serde(default)]
    #[schemars(with = "Mapping<InputParam>")]
    pub inputs: Option<Mapping<InputParam>>,
    /// Values computed once when an execution starts, by name. They may use `${...}` and read earlier variables.
    #[serde(default)]
    #[schemars(with = "Mapping<YamlValue>")]
    pub variables: Option<Mapping<Spanned<YamlValue>>>,
    /// The steps, in file order. Steps that do not depend on each other may run side by side.
    pub steps: Vec<Step>,
    /// Steps run, in order, when the execution fails.
    #[serde(default)]
    pub on_failure: Vec<Step>,
}

/// The top-level `concurrency:` mapping.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Concurrency {
    /// The whole mapping.
    #[serde(skip)]
    pub span: Span,
    /// How many executions may run at once (at least 1).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Spanned<u32>,
    /// What a new execution does when `limit` already run: `queue` (wait for one to end; default), `skip` (do
    /// not start) or `cancel_previous` (cancel the oldest running one and start).
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::concurrency_policy_schema")]
    pub policy: Option<Spanned<ConcurrencyPolicy>>,
}

/// What starts a workflow.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// Run on a cron schedule.
    Schedule(ScheduleTrigger),
    /// Run when an HTTP request arrives at `path` on Pilot's local webhook server.
    Webhook(WebhookTrigger),
    /// Run when files change under `path`.
    FileWatch(FileWatchTrigger),
    /// Run only when started by hand.
    Manual(ManualTrigger),
}

impl Trigger {
    pub fn kind(&self) -> crate::plan::TriggerKind {
        use crate::plan::TriggerKind;
        match self {
            Trigger::Schedule(_) => TriggerKind::Schedule,
            Trigger::Webhook(_) => TriggerKind::Webhook,
            Trigger::FileWatch(_) => TriggerKind::FileWatch,
            Trigger::Manual(_) => TriggerKind::Manual,
        }
    }
}

#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleTrigger {
    /// A cron expression: `minute hour day-of-month month day-of-week` (e.g. `"0 2 * * *"`: 2 AM daily); 6 fields
    /// add a leading seconds field, 7 also a trailing year. It must have a time to come.
    pub cron: Spanned<String>,
    /// An IANA time zone such as `Europe/Paris`; default: the machine's local time.
    pub timezone: Option<Spanned<String>>,
    /// What to do with the times missed while Pilot was not running: `none` (skip them), `last` (one run for
    /// the most recent; default) or `all` (one run per missed time, oldest first, at most `catch_up_max`).
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::catch_up_schema")]
    pub catch_up: Option<Spanned<CatchUp>>,
    /// Missed times older than this are dropped (e.g. `12h`); default `24h`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::duration_schema")]
    pub catch_up_window: Option<Spanned<Duration>>,
    /// With `catch_up: all`, the most missed times run (the most recent ones); default 10.
    #[schemars(range(min = 1, max = 1000))]
    pub catch_up_max: Option<Spanned<u32>>,
}

#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookTrigger {
    /// The URL path, starting with `/` (e.g. `/trigger/backup`).
    pub path: Spanned<String>,
    /// The HTTP method; default `POST`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::http_method_schema")]
    pub method: Option<Spanned<String>>,
    /// How callers prove they know `secret`: `hmac` (headers `X-Pilot-Timestamp` and `X-Pilot-Signature:
    /// sha256=<hex>`, the HMAC-SHA256 of `TIMESTAMP.BODY`, as `notify/webhook` sends them; the default when
    /// `secret` is given) or `bearer` (`Authorization: Bearer <secret>`). Needs `secret`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::webhook_auth_schema")]
    pub auth: Option<Spanned<WebhookAuthScheme>>,
    /// The shared secret: `${secrets.NAME}` (a stored credential, e.g. `pilot credentials set NAME --provider
    /// hmac`), `${NAME}` or `${env('NAME')}` (an environment variable of the daemon), or literal text (warned
    /// about: it is in clear in the file).
    pub secret: Option<Spanned<String>>,
    /// Answer the request when the execution ends (with its result) instead of as soon as it is accepted;
    /// default `false`.
    pub wait: Option<Spanned<bool>>,
    /// With `wait: true`, how long to wait for the end before answering that the execution is still running;
    /// default `30s`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::duration_schema")]
    pub wait_timeout: Option<Spanned<Duration>>,
    /// At most `requests` accepted requests per `per` (e.g. `{requests: 10, per: 1m}`); more are refused with
    /// HTTP 429. Default: no limit.
    pub rate_limit: Option<RateLimit>,
    /// The largest request body accepted, in bytes (at most 1 GiB, 1073741824); default: the daemon's setting.
    #[schemars(range(min = 1, max = 1073741824))]
    pub max_body_size: Option<Spanned<u64>>,
}

/// A webhook's `rate_limit:` mapping.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// The whole mapping.
    #[serde(skip)]
    pub span: Span,
    /// How many requests are accepted per `per` (1 to 1000000).
    #[schemars(range(min = 1, max = 1000000))]
    pub requests: Spanned<u32>,
    /// The window the count is over (e.g. `1s`, `1m`, `1h`).
    #[schemars(schema_with = "crate::schema::duration_schema")]
    pub per: Spanned<Duration>,
}

#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileWatchTrigger {
    /// The folder or file to watch.
    pub path: Spanned<String>,
    /// A glob the changed file's name must match (e.g. `*.pdf`).
    pub pattern: Option<Spanned<String>>,
    /// Which changes count (`create`, `modify`, `delete`, `rename`); default all of them.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::file_events_schema")]
    pub events: Option<Spanned<Vec<Spanned<String>>>>,
    /// Watch the folders below `path` too; default `false` (only `path` itself and its direct entries).
    pub recursive: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualTrigger {}

/// A typed parameter of manual and webhook runs.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputParam {
    /// The whole parameter mapping.
    #[serde(skip)]
    pub span: Span,
    /// The parameter's type.
    #[serde(rename = "type")]
    pub ty: Spanned<ParamType>,
    /// The value used when the run does not give one.
    pub default: Option<Spanned<YamlValue>>,
    /// What the parameter means, for people.
    pub description: Option<Spanned<String>>,
    /// Whether a run must give a value; default: required when there is no `default`.
    pub required: Option<Spanned<bool>>,
}

/// The type of an input parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    String,
    Int,
    Float,
    Bool,
    Duration,
    List,
    Object,
    Any,
}

impl ParamType {
    pub const NAMES: [&'static str; 8] = ["string", "int", "float", "bool", "duration", "list", "object", "any"];

    /// The word written in the file (`string`, `int`, ...).
    pub fn name(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Int => "int",
            ParamType::Float => "float",
            ParamType::Bool => "bool",
            ParamType::Duration => "duration",
            ParamType::List => "list",
            ParamType::Object => "object",
            ParamType::Any => "any",
        }
    }

    pub fn from_name(name: &str) -> Option<ParamType> {
        Some(match name {
            "string" => ParamType::String,
            "int" => ParamType::Int,
            "float" => ParamType::Float,
            "bool" => ParamType::Bool,
            "duration" => ParamType::Duration,
            "list" => ParamType::List,
            "object" => ParamType::Object,
            "any" => ParamType::Any,
            _ => return None,
        })
    }

    /// The static type expressions see: `list` is a list of `any`, `object` an open object.
    pub fn to_type(self) -> expr_grammar::Type {
        use expr_grammar::Type;
        match self {
            ParamType::String => Type::String,
            ParamType::Int => Type::Int,
            ParamType::Float => Type::Float,
            ParamType::Bool => Type::Bool,
            ParamType::Duration => Type::Duration,
            ParamType::List => Type::list(Type::Any),
            ParamType::Object => Type::open_object([]),
            ParamType::Any => Type::Any,
        }
    }
}

/// One step: an action called with an input.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The whole step mapping.
    #[serde(skip)]
    pub span: Span,
    /// The step's id, unique in the workflow; other steps read its result as `${ID}` or `${ID.field}`.
    pub id: Spanned<String>,
    /// The action to call, `connector/action` (e.g. `fs/list`), or a core action (`filter`, `transform`).
    #[schemars(required)]
    pub action: Option<Spanned<String>>,
    /// The action's input fields. Strings may use `${...}` templates.
    #[schemars(with = "Option<Mapping<YamlValue>>")]
    pub input: Option<Mapping<Spanned<YamlValue>>>,
    /// A second name for the step's result (`output: files` lets later steps write `${files}`).
    pub output: Option<Spanned<String>>,
    /// Run the step once per element of a list: `loop: "${items}"` or `loop: {items: "${items}", concurrency: 4}`.
    /// The element is `${item}`, its position `${index}`. Elements run one at a time unless `concurrency` says
    /// more. The step's result is the list of per-element results.
    #[serde(rename = "loop")]
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::loop_schema")]
    pub looping: Option<Loop>,
    /// A condition (`${...}` template or bare expression); when false the step is skipped and its result is null.
    #[serde(rename = "if")]
    pub condition: Option<Text>,
    /// Steps that must finish first, besides those whose results this step reads: an id or a list of ids.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::needs_schema")]
    pub needs: Vec<Spanned<String>>,
    /// Try again when the action fails.
    pub retry: Option<Retry>,
    /// Fail the attempt when it runs longer than this (e.g. `30s`, `5m`, `1h30m`).
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::duration_schema")]
    pub timeout: Option<Spanned<Duration>>,
    /// When true, a failure of this step does not fail the execution; its result is null.
    pub continue_on_error: Option<Spanned<bool>>,
    /// The name of a stored credential the action uses (`pilot credentials set`).
    pub credential: Option<Spanned<String>>,
    /// What `pilot resume` does when the execution was interrupted while this step ran: `rerun` (default; for
    /// steps safe to repeat) or `fail` (for steps that must not happen twice, such as sending an email).
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::resume_schema")]
    pub resume: Option<Spanned<ResumePolicy>>,
}

/// A step's `loop:`. The string form `loop: "${items}"` has concurrency 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Loop {
    /// The whole `loop:` value.
    pub span: Span,
    /// The template giving the list.
    pub items: Text,
    /// How many elements may run at once; `None` means 1. Always at least 1 when present.
    pub concurrency: Option<Spanned<u32>>,
}

/// Retry policy of a step.
#[derive(Debug, Clone, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Retry {
    /// The whole `retry:` mapping.
    #[serde(skip)]
    pub span: Span,
    /// Total attempts, the first included (at least 1); default 3 when `retry:` is given.
    #[schemars(range(min = 1))]
    pub max_attempts: Option<Spanned<u32>>,
    /// How the delay grows between attempts: `fixed` or `exponential` (doubling); default `exponential`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::backoff_schema")]
    pub backoff: Option<Spanned<Backoff>>,
    /// The delay before the second attempt (e.g. `1s`, `500ms`); default `1s`.
    #[serde(default)]
    #[schemars(schema_with = "crate::schema::duration_schema")]
    pub initial_delay: Option<Spanned<Duration>>,
}
