//! The registry of diagnostic codes: code, title and long explanation (with a wrong and a right example) of
//! every code any pass emits. `pilot explain CODE` prints the explanation.
//!
//! To add a code, append one entry to the table in its range (the macro defines the constant passes use, so a
//! code cannot be emitted without being registered):
//! E00xx front end / YAML, E01xx structure, E02xx names, E03xx types, E04xx graph, E05xx triggers,
//! W0xxx warnings, N0xxx notes about the output itself. Explanations are plain text; examples are indented four spaces, under `Wrong:` and `Right:`.

/// One registered code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeInfo {
    pub code: &'static str,
    pub title: &'static str,
    pub explanation: &'static str,
}

macro_rules! registry {
    ($($name:ident = $code:literal, $title:literal, $explanation:literal;)*) => {
        $(pub const $name: &str = $code;)*
        /// Every code, in table order.
        pub static REGISTRY: &[CodeInfo] = &[$(CodeInfo { code: $code, title: $title, explanation: $explanation }),*];
    };
}

/// The registered code `code` (case-insensitive: `e0101` finds `E0101`).
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    REGISTRY.iter().find(|info| info.code.eq_ignore_ascii_case(code.trim()))
}

registry! {
    // ---- E00xx: reading the file (YAML / JSON) -----------------------------------------------------------------
    YAML_SYNTAX = "E0001", "YAML syntax error", r#"The file is not valid YAML (or JSON). The message says what the parser expected and the caret
shows where it stopped. Common causes: a tab used for indentation, a missing `:` after a key, an
unclosed quote or bracket, a value indented less than its key.

Wrong:

    steps:
      - id: fetch
        action: "http/get

Right:

    steps:
      - id: fetch
        action: "http/get"
"#;
    NOT_TEXT = "E0002", "file is not UTF-8 text", r#"Workflow files must be UTF-8 text. The file holds a NUL byte or bytes that are not valid UTF-8:
it is probably a binary file, or text saved in another encoding (Latin-1, UTF-16).

Wrong:

    (a file saved as UTF-16, or a zip or image renamed to .yaml)

Right:

    Save the file as UTF-8 (most editors: "Save with encoding" -> UTF-8).
"#;
    FILE_TOO_LARGE = "E0003", "file too large", r#"Workflow files are limited to 8 MiB. A larger file is almost certainly not a workflow (a data
dump, a log). Keep data in separate files and read it with `fs/read`.

Wrong:

    variables:
      customers: [ ... 100 000 entries ... ]

Right:

    steps:
      - id: customers
        action: fs/read
        input:
          path: "${HOME}/data/customers.json"
"#;
    YAML_TOO_DEEP = "E0004", "nesting too deep", r#"The YAML nests lists and mappings more than 64 levels deep. No workflow needs that; the limit
keeps a malformed or hostile file from exhausting the stack.

Wrong:

    variables:
      data: [[[[[[[[[[[[[[[[ ... ]]]]]]]]]]]]]]]]

Right:

    Flatten the structure, or keep deep data in a separate JSON file read with `fs/read`.
"#;
    ALIAS_EXPANSION = "E0005", "too many aliases", r#"YAML aliases (`*name`) copy the node of an anchor (`&name`). Aliases of aliases can grow a small
file into billions of nodes (the "billion laughs" attack), so expansion is limited to 10 000 nodes.

Wrong:

    a: &a [x, x, x, x, x, x, x, x, x]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]

Right:

    Write the values out, or use a variable and refer to it with `${name}`.
"#;
    EMPTY_FILE = "E0006", "empty file", r#"The file holds no YAML document (it is empty or holds only comments). A workflow needs at least
`name` and `steps`.

Wrong:

    # todo

Right:

    name: hello
    steps:
      - id: greet
        action: log
        input:
          message: hello
"#;
    MULTIPLE_DOCUMENTS = "E0007", "more than one document", r#"A workflow file holds exactly one YAML document. A second `---` starts another document; put
each workflow in its own file.

Wrong:

    name: first
    steps: []
    ---
    name: second
    steps: []

Right:

    # first.yaml
    name: first
    steps: []
"#;
    UNSUPPORTED_TAG = "E0008", "unsupported YAML tag", r#"Workflow files accept the YAML core tags only (`!!str`, `!!int`, `!!float`, `!!bool`, `!!null`,
`!!seq`, `!!map`). Custom tags such as `!include` or `!env` mean nothing to Pilot: use `${...}`
templates instead.

Wrong:

    variables:
      home: !env HOME

Right:

    variables:
      home: "${HOME}"
"#;
    UNREADABLE_FILE = "E0009", "cannot read the file", r#"The file could not be read at all: it does not exist, it is a folder given where a file was
expected, or its permissions refuse reading. The message carries the operating system's reason. Nothing in it was
checked, so `pilot check` counts it as an error rather than saying "no problems".

Wrong:

    pilot check workflow/backup.yaml     # a typo in the folder name

Right:

    pilot check workflows/backup.yaml
"#;
    INVALID_SETTINGS = "E0010", "invalid settings.json", r#"`$PILOT_HOME/settings.json` holds a key Pilot does not know, a value of the wrong type, or a
value out of range. `pilot check` without a path checks it beside the workflows; every command that reads a
section would otherwise fail at run time. `pilot schema --settings` prints the whole format.

Wrong:

    {"ai": {"timeout_secs": 30}}

Right:

    {"ai": {"timeout_seconds": 30}}
"#;
    // ---- E01xx: structure of the workflow ---------------------------------------------------------------------
    UNKNOWN_KEY = "E0101", "unknown key", r#"The mapping has a key the workflow format does not define, often a typo. The hint names the
closest known key. `pilot schema` prints every key.

Wrong:

    steps:
      - id: fetch
        acton: http/get

Right:

    steps:
      - id: fetch
        action: http/get
"#;
    MISSING_KEY = "E0102", "missing required key", r#"A required key is absent. A workflow needs `name` and `steps`; a step needs `id` and `action`;
a schedule trigger needs `cron`; webhook and file-watch triggers need `path`; an input parameter
needs `type`; a `loop:` mapping needs `items`; `concurrency:` needs `limit`; a webhook's `rate_limit`
needs `requests` and `per`. Some keys need another beside them: a webhook's `auth` needs `secret`, its
`wait_timeout` needs `wait: true`.

Wrong:

    steps:
      - action: fs/list
        input:
          path: /tmp

Right:

    steps:
      - id: list_files
        action: fs/list
        input:
          path: /tmp
"#;
    WRONG_TYPE = "E0103", "wrong value type", r#"The value has the wrong YAML type for its key: a list where a mapping is expected, a number
where text is expected, and so on.

Wrong:

    steps:
      id: fetch
      action: http/get

Right:

    steps:
      - id: fetch
        action: http/get
"#;
    DUPLICATE_KEY = "E0104", "duplicate key", r#"A mapping has the same key twice. YAML forbids it and the second value would silently replace
the first, so Pilot reports it. The label shows the first occurrence.

Wrong:

    - id: fetch
      action: http/get
      action: http/post

Right:

    - id: fetch
      action: http/post
"#;
    INVALID_DURATION = "E0105", "invalid duration", r#"Durations are numbers with a unit: `ms` (milliseconds), `s`, `m` (minutes), `h`, `d`. Parts may
be combined, largest first: `1h30m`. A bare number has no unit and is refused.

Wrong:

    timeout: 30
    retry:
      initial_delay: 2 minutes

Right:

    timeout: 30s
    retry:
      initial_delay: 2m
"#;
    INVALID_VALUE = "E0106", "value not allowed", r#"The key accepts only certain words (a trigger `type`, a parameter `type`, a retry `backoff`, a
webhook `method` or `auth`, file-watch `events`, a schedule's `catch_up`, `concurrency.policy`, `resume`),
and this is not one of them. The message lists
what is allowed.

Wrong:

    retry:
      backoff: linear

Right:

    retry:
      backoff: exponential
"#;
    OUT_OF_RANGE = "E0107", "number out of range", r#"The number is outside what the key accepts: `loop.concurrency`, `concurrency.limit` and
`catch_up_max` are 1..1000, `retry.max_attempts` 1..100, a webhook's `rate_limit.requests` 1..1000000 and
`max_body_size` 1..1073741824 (bytes). Durations that are windows or timeouts (`timeout`,
`catch_up_window`, `wait_timeout`, `rate_limit.per`) must be longer than zero.

Wrong:

    loop:
      items: "${files}"
      concurrency: 0

Right:

    loop:
      items: "${files}"
      concurrency: 4
"#;
    NON_STRING_KEY = "E0108", "mapping key is not text", r#"Keys of workflow mappings are names, so they must be text. A list or mapping used as a key
(`? [a, b]`), or a null key, cannot name anything.

Wrong:

    variables:
      ? [a, b]
      : 1

Right:

    variables:
      a_and_b: 1
"#;
    // ---- E02xx: names (ids, actions, inputs, references) ------------------------------------------------------
    INVALID_IDENTIFIER = "E0201", "invalid name", r#"Step ids, `output:` names, variables and input parameters are read back in expressions, so
they must be identifiers: letters, digits and `_`, not starting with a digit. A `-` is not
allowed: in `${fetch-data}` the `-` is a subtraction.

Wrong:

    steps:
      - id: fetch-data
        action: http/get

Right:

    steps:
      - id: fetch_data
        action: http/get
"#;
    DUPLICATE_ID = "E0202", "duplicate step id", r#"Two steps have the same id. Ids name step results (`${steps.ID.output}`) and `needs:` entries,
so each must be unique in the workflow, `on_failure` steps included. The label shows the first
step with that id.

Wrong:

    steps:
      - id: fetch
        action: http/get
      - id: fetch
        action: http/post

Right:

    steps:
      - id: fetch
        action: http/get
      - id: upload
        action: http/post
"#;
    NAME_CONFLICT = "E0203", "name already taken or reserved", r#"Step ids, `output:` names and variables share one namespace: `${x}` must mean one thing. A
name is also refused when it is reserved: `steps`, `inputs`, `trigger`, `workflow`,
`execution`, `secrets`, `item`, `index`, and the words `true`, `false`, `null`, `in`.

Wrong:

    variables:
      files: /tmp
    steps:
      - id: list
        action: fs/list
        input:
          path: "${files}"
        output: files

Right:

    variables:
      folder: /tmp
    steps:
      - id: list
        action: fs/list
        input:
          path: "${folder}"
        output: files
"#;
    UNKNOWN_ACTION = "E0204", "unknown action", r#"The step's `action` is not a built-in action nor an installed custom one. Actions are named
`connector/action` (`fs/list`, `http/get`, `notify/desktop`; `notification/*` is accepted for
`notify/*`) or are core actions (`filter`, `transform`, `log`, `sleep`). The hint names the
closest known action; `pilot connectors list` shows them all. When no installed connector has the
name before the `/`, the message says that connector is not installed: install a custom connector
with `pilot connectors install PATH` (PATH is its folder, holding `manifest.json`).

Wrong:

    - id: list_files
      action: fs/lst

Right:

    - id: list_files
      action: fs/list
"#;
    UNKNOWN_STEP = "E0205", "unknown step", r#"A `needs:` entry or a `steps.ID.output` reference names a step that does not exist (or, from a
main step, an `on_failure` step, which runs only when the execution fails). The hint names the
closest step id.

Wrong:

    - id: copy
      action: fs/copy
      needs: [list_file]

Right:

    - id: copy
      action: fs/copy
      needs: [list_files]
"#;
    UNKNOWN_NAME = "E0206", "unknown name", r#"An expression reads a name that is not defined here. A bare name is a variable, a step id, a
step's `output:` name, an ALL_CAPS environment variable (`${HOME}`), or, in a loop or a
filter condition, `item`, `index` and the item's fields. Other values are read through
`inputs.NAME`, `secrets.NAME`, `trigger.*`, `workflow.*`, `execution.*` and `steps.ID.output`.

Wrong:

    message: "found ${len(fils)} files"

Right:

    message: "found ${len(files)} files"
"#;
    USED_BEFORE_DEFINED = "E0207", "read before it exists", r#"An expression reads something that does not exist yet when it runs: the result of a step
further down the file (steps read only the steps above them), a variable declared further down
(variables read only earlier ones), or from a main step, an `on_failure` step. Move the step or
variable up, or the reader down.

Wrong:

    steps:
      - id: report
        action: log
        input:
          message: "${len(files)} files"
      - id: list
        action: fs/list
        input:
          path: /tmp
        output: files

Right:

    steps:
      - id: list
        action: fs/list
        input:
          path: /tmp
        output: files
      - id: report
        action: log
        input:
          message: "${len(files)} files"
"#;
    SELF_REFERENCE = "E0208", "reads itself", r#"A step reads its own result, or a variable its own value. Neither exists while it is being
computed.

Wrong:

    variables:
      folder: "${folder}/backup"

Right:

    variables:
      base: "${HOME}"
      folder: "${base}/backup"
"#;
    STEP_IN_VARIABLE = "E0209", "variable reads a step", r#"Variables are computed once, when the execution starts, before any step runs, so they cannot
read step results. Compute the value in a `transform` step instead, or write the expression
where it is used.

Wrong:

    variables:
      count: "${len(files)}"

Right:

    - id: count
      action: transform
      input:
        value: "${len(files)}"
"#;
    MISSING_INPUT = "E0210", "missing required input", r#"The step's action requires an input the step's `input:` does not give. The hint shows the
action's signature; `?` marks optional inputs.

Wrong:

    - id: copy
      action: fs/copy
      input:
        source: /tmp/a.txt

Right:

    - id: copy
      action: fs/copy
      input:
        source: /tmp/a.txt
        destination: /tmp/b.txt
"#;
    UNKNOWN_INPUT = "E0211", "unknown input", r#"The step gives an input its action does not take, often a typo. The hint names the closest
input of the action, or shows its signature. (Actions such as `transform` accept any input.)

Wrong:

    - id: list
      action: fs/list
      input:
        folder: /tmp

Right:

    - id: list
      action: fs/list
      input:
        path: /tmp
"#;
    // ---- E03xx: expressions and types --------------------------------------------------------------------------
    EXPR_SYNTAX = "E0301", "expression syntax error", r#"A `${...}` expression (or a bare condition) cannot be parsed. The caret shows where the parser
stopped. Strings in expressions use single quotes; a literal `${` is written `$${`.

Wrong:

    message: "${len(files}"

Right:

    message: "${len(files)}"
"#;
    INPUT_TYPE_MISMATCH = "E0302", "input has the wrong type", r#"The value given to an input does not have the type the action's signature declares (shown in
the hint). Values are typed statically: a template such as `"a ${x}"` is a string, a template
that is exactly one `${...}` has the expression's type, and `any` (a parsed HTTP body) is
checked when the step runs.

Wrong:

    - id: wait
      action: sleep
      input:
        duration: "${len(files)}"

Right:

    - id: wait
      action: sleep
      input:
        duration: 30s
"#;
    EXPR_TYPE_MISMATCH = "E0303", "type mismatch in an expression", r#"An operator or function gets a value of a type it does not accept: comparing a timestamp with
a string, `len` of a number, adding a string to a number. Timestamps compare with timestamps
(`now() - 1d`, `parse_date('2024-01-31')`), durations with durations.

Wrong:

    condition: "modified_at > 'yesterday'"

Right:

    condition: "modified_at > now() - 1d"
"#;
    UNKNOWN_FIELD = "E0304", "unknown field", r#"The value has a known shape and no field of that name, often a typo. The hint names the
closest field. The fields of each action's result are in `pilot connectors list`; the file
entries of `fs/list` have `path`, `name`, `size`, `modified_at`, `created_at`, `is_dir` and
`extension`.

Wrong:

    destination: "${backup_folder}/${item.nmae}"

Right:

    destination: "${backup_folder}/${item.name}"
"#;
    UNKNOWN_FUNCTION = "E0305", "unknown function", r#"The expression calls a function the language does not have. The hint names the closest one.

Wrong:

    message: "${lenght(files)} files"

Right:

    message: "${len(files)} files"
"#;
    WRONG_ARGUMENT_COUNT = "E0306", "wrong number of arguments", r#"A function is called with too few or too many arguments.

Wrong:

    label: "${if(count > 10, 'many')}"

Right:

    label: "${if(count > 10, 'many', 'few')}"
"#;
    NOT_ITERABLE = "E0307", "not a list", r#"`[*]`, `in` or a list function is applied to something that is not a list.

Wrong:

    names: "${workflow.name[*]}"

Right:

    names: "${files[*].name}"
"#;
    LOOP_NOT_LIST = "E0308", "loop over something that is not a list", r#"`loop:` runs the step once per element of a list, so its value must be a list (a value typed
`any`, such as an HTTP body, is checked when the step runs). A string is one value, not a list
of characters or lines.

Wrong:

    - id: copy
      action: fs/copy
      loop: "${source_folder}"

Right:

    - id: copy
      action: fs/copy
      loop: "${recent_files}"
"#;
    CONDITION_NOT_BOOL = "E0309", "condition is not a bool", r#"An `if:` or a filter `condition` must be true or false. Compare the value to something. A
condition is written as a bare expression or as one `${...}`.

Wrong:

    if: "${files}"

Right:

    if: "${len(files) > 0}"
"#;
    TOO_DEEP = "E0310", "expression too deep", r#"The expression nests too deeply to check. Split it over several steps or variables.

Wrong:

    value: "${((((((((((((((((((((((((((((((((x))))))))))))))))))))))))))))))))}"

Right:

    value: "${x}"
"#;
    CONSTANT_FAILED = "E0311", "constant expression fails", r#"A part of the expression whose inputs are all known when the workflow is compiled was computed
then, and it fails: a division by zero, a date that cannot be parsed. It would fail on every run.

Wrong:

    ratio: "${10 / 0}"

Right:

    ratio: "${10 / count}"
"#;
    // ---- E04xx: the step graph ---------------------------------------------------------------------------------
    EXPR_OVER_BUDGET = "E0312", "expression over budget", r#"Folding a constant expression at compile time went over the expression budget: the value it
builds is bigger than `max_value_bytes` (16 MiB by default), or computing it takes more than
`max_steps` (ten million) steps. The same expression would fail when the workflow runs, so it is
refused now. Values that share parts count each use: `[t, t]` is twice the size of `t`.

Wrong:

    variables:
      v0: "aaaaaaaaaaaaaaaa"
      v1: "${v0 + v0}"
      # ... each variable doubling the one before
      v40: "${v39 + v39}"

Right:

    Build big texts and lists from data at run time (a file, an HTTP body), not by doubling
    constants; or raise the budget in settings.json if a workflow really needs more.
"#;
    DEPENDENCY_CYCLE = "E0401", "dependency cycle", r#"The steps wait for each other in a circle, through `needs:` and results read, so none can
start. The message lists the cycle and the carets show what makes each link: a `needs:` entry, or the id
of a step that reads another's result. A step that lists itself under `needs:` is the shortest cycle.
Remove one of the `needs:` (or the read) in it.

Wrong:

    - id: a
      action: log
      needs: [b]
      input:
        message: a
    - id: b
      action: log
      input:
        message: "${steps.a.output}"

Right:

    - id: a
      action: log
      input:
        message: a
    - id: b
      action: log
      input:
        message: "${steps.a.output}"
"#;
    TOO_MANY_STEPS = "E0402", "too many steps", r#"A workflow has at most 10 000 main steps. Scheduling keeps, for every step, the set of steps it
waits for; beyond that size the memory it needs grows too large. A workflow that big is usually
generated: split it into several workflows, or loop over a list instead of writing one step per
element.

Wrong:

    steps:
      - id: copy_1
        action: fs/copy
      - id: copy_2
        action: fs/copy
      # ... 10 000 more

Right:

    steps:
      - id: copy_all
        action: fs/copy
        loop: "${files}"
        input:
          source: "${item.path}"
          destination: "/backup/${item.name}"
"#;
    // ---- E05xx: triggers ---------------------------------------------------------------------------------------
    INVALID_CRON = "E0501", "invalid cron expression", r#"A schedule's `cron` does not parse. Three forms are read:
- 5 fields: minute hour day-of-month month day-of-week (`0 2 * * *`: 2 AM daily);
- 6 fields: a seconds field first (`30 0 2 * * *`: 2:00:30 AM daily);
- 7 fields: seconds first and a year last (`0 0 2 * * * 2030`: 2 AM daily in 2030).
Each field is a number, `*`, a range `1-5`, a list `1,15` or a step `*/10`; months and days of the
week may be names (`JAN`, `MON`), and `@daily`, `@hourly`, `@weekly`, `@monthly`, `@yearly` stand
for a whole expression.

Wrong:

    - type: schedule
      cron: "0 25 * * *"

Right:

    - type: schedule
      cron: "0 2 * * *"
"#;
    INVALID_WEBHOOK_PATH = "E0502", "invalid webhook path", r#"A webhook path is a plain URL path: it starts with `/`, uses letters, digits, `-`, `_`, `.`,
`~` and `/`, has no `.` or `..` segment, no empty segment, and no query (`?`) or fragment (`#`).

Wrong:

    - type: webhook
      path: trigger/backup?now=1

Right:

    - type: webhook
      path: /trigger/backup
"#;
    DUPLICATE_WEBHOOK = "E0503", "duplicate webhook", r#"Two webhook triggers of the workflow listen on the same path and method; one is enough.

Wrong:

    triggers:
      - type: webhook
        path: /backup
      - type: webhook
        path: /backup

Right:

    triggers:
      - type: webhook
        path: /backup
"#;
    INVALID_FILE_WATCH = "E0504", "invalid file watch", r#"A file-watch trigger needs a path to watch, and its `pattern`, when given, must be a valid
glob (`*.pdf`, `**/*.txt`, `report-[0-9].csv`).

Wrong:

    - type: file_watch
      path: ~/Downloads
      pattern: "[*.pdf"

Right:

    - type: file_watch
      path: ~/Downloads
      pattern: "*.pdf"
"#;
    UNKNOWN_TIMEZONE = "E0505", "unknown time zone", r#"A schedule's `timezone` must be a name from the IANA time zone database, such as `UTC`,
`Europe/Paris` or `America/New_York`; the cron fields are read in that zone. Abbreviations like `CEST` and
offsets like `+02:00` are not zones (they do not follow daylight saving time).

Wrong:

    - type: schedule
      cron: "0 2 * * *"
      timezone: Europe/Pariss

Right:

    - type: schedule
      cron: "0 2 * * *"
      timezone: Europe/Paris
"#;
    CRON_NEVER_FIRES = "E0506", "schedule never fires", r#"A schedule's `cron` parses, but no time from now on matches it, so the workflow would never run
from it: its year field (the seventh) names years that are over, or its day of the month does not
exist in its month (February 30). Checked against the current time when the workflow is compiled.

Wrong:

    - type: schedule
      cron: "0 30 9 * * 1-5 2025"

Right:

    - type: schedule
      cron: "0 30 9 * * 1-5"
"#;
    RESERVED_WEBHOOK_PATH = "E0507", "webhook path reserved", r#"`/api` and every path under it belong to the REST API of Pilot's daemon (`pilot serve`), which
the visual editor and other tools call; a webhook cannot take one of them. The check ignores letter case.

Wrong:

    - type: webhook
      path: /api/orders

Right:

    - type: webhook
      path: /hooks/orders
"#;
    SCHEDULE_MISSING_INPUT = "E0508", "schedule cannot fill an input", r#"A scheduled run starts with no one to give it inputs, so every input of a workflow with a
`schedule` trigger must be optional: give it a `default:` (or `required: false`, and handle the null).
Manual and webhook runs can still pass their own values.

Wrong:

    triggers:
      - type: schedule
        cron: "0 2 * * *"
    inputs:
      folder:
        type: string

Right:

    triggers:
      - type: schedule
        cron: "0 2 * * *"
    inputs:
      folder:
        type: string
        default: /home/me/Documents
"#;
    UNSUPPORTED_WEBHOOK_SECRET = "E0509", "webhook secret cannot be computed", r#"The daemon reads a webhook's secret when it starts listening, before any execution exists, so
the secret is one whole value: literal text, `${secrets.NAME}` (a stored credential), or an environment
variable of the daemon, `${NAME}` (capitals) or `${env('NAME')}`. Text around it, a second `${...}`, a
function other than `env` or a fallback are refused.

Wrong:

    - type: webhook
      path: /hooks/deploy
      secret: "prefix-${secrets.deploy_hook}"

Right:

    - type: webhook
      path: /hooks/deploy
      secret: "${secrets.deploy_hook}"
"#;
    DUPLICATE_WORKFLOW = "E0520", "workflow refused by the daemon", r#"`pilot serve` loads every file of `$PILOT_HOME/workflows/` and knows each workflow by its
`name:`. When two files define the same name, or two workflows listen on the same webhook path and method, the
file later in sorted order is refused (the earlier one keeps running) and this diagnostic is served for it by
the API (`GET /api/v1/workflows/{name}` and the file list).

Wrong:

    # workflows/backup.yaml
    name: backup
    # workflows/backup-copy.yaml
    name: backup

Right:

    # workflows/backup-copy.yaml
    name: backup-weekly
"#;
    // ---- W0xxx: warnings --------------------------------------------------------------------------------------
    NO_STEPS = "W0101", "workflow has no steps", r#"The workflow's `steps` list is empty: running it does nothing.

Wrong:

    name: cleanup
    steps: []

Right:

    name: cleanup
    steps:
      - id: remove_old
        action: fs/delete
        input:
          path: /tmp/old
"#;
    UNKNOWN_CREDENTIAL = "W0201", "unknown credential", r#"A `secrets.NAME` or a step's `credential:` names a credential that is not stored. The
workflow compiles, but the step fails when it runs unless the credential is added first
(`pilot credentials set NAME --provider api_key|basic|oauth2`).

Wrong:

    headers:
      authorization: "Bearer ${secrets.github_tokn}"

Right:

    headers:
      authorization: "Bearer ${secrets.github_token}"
"#;
    SECRET_IN_CLEAR = "W0501", "webhook secret in clear", r#"The webhook's `secret` is literal text: anyone who can read the workflow file (or its history,
or a backup) can call the webhook. Store the secret as a credential and read it with `${secrets.NAME}`:

    pilot credentials set deploy_hook --provider hmac

(`--provider bearer` for `auth: bearer`). An environment variable (`${DEPLOY_HOOK_SECRET}`) keeps it out
of the file too.

Wrong:

    - type: webhook
      path: /hooks/deploy
      secret: s3cr3t-t0k3n

Right:

    - type: webhook
      path: /hooks/deploy
      secret: "${secrets.deploy_hook}"
"#;
    // ---- N0xxx: notes about the output -----------------------------------------------------------------------
    PROBLEMS_LEFT_OUT = "N0001", "problems left out", r#"A file has more than 200 problems: `pilot check` shows the first 200 (by position in the file),
as text and as JSON, and this note counts the others. So many problems usually come from one
mistake repeated (a generated file, a template pasted many times): fix the first ones and check
again.

Wrong:

    message: "${x}${x}${x}${x} ... (a million times, `x` undefined)"

Right:

    variables:
      x: hello
    ...
    message: "${x}"
"#;
}
