//! The registry of diagnostic codes: code, title and long explanation (with a wrong and a right example) of
//! every code any pass emits. `pilot explain CODE` prints the explanation.
//!
//! To add a code, append one entry to the table in its range (the macro defines the constant passes use, so a
//! code cannot be emitted without being registered):
//! E00xx front end / YAML, E01xx structure, E02xx names, E03xx types, E04xx graph, E05xx triggers,
//! W0xxx warnings. Explanations are plain text; examples are indented four spaces, under `Wrong:` and `Right:`.

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
needs `type`; a `loop:` mapping needs `items`.

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
webhook `method`, file-watch `events`, `resume`), and this is not one of them. The message lists
what is allowed.

Wrong:

    retry:
      backoff: linear

Right:

    retry:
      backoff: exponential
"#;
    OUT_OF_RANGE = "E0107", "number out of range", r#"The number is outside what the key accepts: `loop.concurrency` and `retry.max_attempts` must
be at least 1 (and at most 1000 and 100).

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
}
