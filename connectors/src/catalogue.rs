//! The typed signatures of every built-in action, and the lookup the compiler uses to find them.
//!
//! Each built-in action is declared by its own small function (`fn fs_list() -> ActionDefinition`), so the
//! helpers refining one connector never edit the same lines as another.
//!
//! Decisions recorded here because they shape the types:
//! - `fs/list`'s `created_at` is the file's birth time where the file system records one; where it does not,
//!   it is the modification time. It is never null, so a condition such as `created_at > now() - 1d` cannot fail
//!   at run time on a file system without birth times.
//! - `ai/*` actions have effect `read`: they change nothing on this machine, so they may run in parallel with
//!   other reads. (A remote provider bills or logs the call, but no later step can observe that.)
//! - `ai/embed` takes a string or a list of strings (`any`, checked at run time: a list is one request) and has
//!   one output shape for both: `embeddings` (one vector per text) and `embedding` (the first).
//! - `log` returns null; the executor records the step's evaluated `message` input, which is the log line.

mod index;
#[cfg(test)]
mod tests;

use expr_grammar::Type;

pub use index::{AddActionError, Catalogue, UnknownAction, canonical_name};

use crate::{ActionDefinition, Effect, InputField, InputKind, OutputSpec};

// ---------------------------------------------------------------------------------------------------------------
// Built-in actions. One function each.
// ---------------------------------------------------------------------------------------------------------------

fn builtin_actions() -> Vec<ActionDefinition> {
    vec![
        filter(),
        transform(),
        log(),
        sleep(),
        fs_read(),
        fs_write(),
        fs_copy(),
        fs_move(),
        fs_delete(),
        fs_list(),
        fs_watch(),
        http_get(),
        http_post(),
        http_put(),
        http_delete(),
        http_download(),
        ai_complete(),
        ai_chat(),
        ai_embed(),
        ai_summarize(),
        ai_classify(),
        notify_desktop(),
        notify_email(),
        notify_slack(),
        notify_webhook(),
        shell_exec(),
    ]
}

fn required(name: &str, ty: Type, description: &str) -> InputField {
    InputField { name: name.into(), ty, required: true, description: description.into(), kind: InputKind::Value }
}

fn optional(name: &str, ty: Type, description: &str) -> InputField {
    InputField { required: false, ..required(name, ty, description) }
}

fn action(name: &str, description: &str, effect: Effect, inputs: Vec<InputField>, output: Type) -> ActionDefinition {
    ActionDefinition {
        name: name.into(),
        description: description.into(),
        inputs,
        output: OutputSpec::Fixed { ty: output },
        effect,
        open_inputs: false,
    }
}

/// `{..}`: an object with any fields (headers, query parameters, environment variables).
fn any_object() -> Type {
    Type::open_object([])
}

// --- core --------------------------------------------------------------------------------------------------------

fn filter() -> ActionDefinition {
    let condition = InputField {
        name: "condition".into(),
        ty: Type::Bool,
        required: true,
        description: "A bare expression evaluated per item; bare names are the item's fields (`modified_at > now() - \
                      1d`), `item` and `index` are the item and its position. Items where it is true are kept."
            .into(),
        kind: InputKind::ItemCondition { items_field: "items".into() },
    };
    ActionDefinition {
        name: "filter".into(),
        description: "Keep the items of a list for which a condition holds, in their order.".into(),
        inputs: vec![required("items", Type::list(Type::Any), "The list to filter."), condition],
        output: OutputSpec::SameAsInput { field: "items".into() },
        effect: Effect::Pure,
        open_inputs: false,
    }
}

fn transform() -> ActionDefinition {
    ActionDefinition {
        name: "transform".into(),
        description: "Build an object from expressions: every input becomes a field of the output, with its type."
            .into(),
        inputs: Vec::new(),
        output: OutputSpec::InputObject,
        effect: Effect::Pure,
        open_inputs: true,
    }
}

fn log() -> ActionDefinition {
    action(
        "log",
        "Write a message to the execution log. Logs keep their order relative to other writes.",
        Effect::Write,
        vec![
            required("message", Type::Any, "What to log: text or any value (shown as JSON)."),
            optional("level", Type::String, "`debug`, `info` (default), `warn` or `error`."),
        ],
        Type::Null,
    )
}

fn sleep() -> ActionDefinition {
    action(
        "sleep",
        "Wait for a duration. Cancelling the execution ends the wait.",
        Effect::Pure,
        vec![required("duration", Type::Duration, "How long to wait, e.g. `30s`.")],
        Type::Null,
    )
}

// --- fs ----------------------------------------------------------------------------------------------------------

fn path_input(description: &str) -> InputField {
    required("path", Type::String, description)
}

fn fs_read() -> ActionDefinition {
    action(
        "fs/read",
        "Read a UTF-8 text file.",
        Effect::Read,
        vec![path_input("The file to read; `~` is the home folder.")],
        Type::object([("path", Type::String), ("content", Type::String), ("size", Type::Int)]),
    )
}

fn fs_write() -> ActionDefinition {
    action(
        "fs/write",
        "Write text to a file, creating it (and its missing folders) or replacing its content, or appending. A \
         replacement appears whole or not at all: it is written to a temporary file beside the destination, then \
         renamed. An append adds to the end as `>>` does, so executions appending to one file at once all keep \
         their text. A replaced file keeps its permissions; a symbolic link is written through to its target.",
        Effect::Write,
        vec![
            path_input("The file to write."),
            required("content", Type::String, "The text to write."),
            optional("append", Type::Bool, "Add to the end of the file instead of replacing it (default false)."),
        ],
        Type::object([("path", Type::String), ("size", Type::Int)]),
    )
}

fn fs_copy() -> ActionDefinition {
    action(
        "fs/copy",
        "Copy a file, or a folder with everything in it; missing parent folders of the destination are created. \
         Like `cp`, an existing destination file is replaced (and a folder is merged into an existing one), so a \
         backup run again succeeds; `overwrite: false` refuses an existing destination. Each file is copied \
         through a temporary file and a rename, so the destination never holds half a file. `size` is the number \
         of bytes copied.",
        Effect::Write,
        vec![
            required("source", Type::String, "The file or folder to copy."),
            required("destination", Type::String, "The new path (not the folder to copy into)."),
            optional(
                "overwrite",
                Type::Bool,
                "Replace an existing destination file, or merge into an existing folder (default true); false \
                 fails when the destination exists.",
            ),
        ],
        Type::object([("source", Type::String), ("destination", Type::String), ("size", Type::Int)]),
    )
}

fn fs_move() -> ActionDefinition {
    action(
        "fs/move",
        "Move or rename a file or folder; missing parent folders of the destination are created. Like `mv`, an \
         existing destination file is replaced (a folder replaces only an empty folder); `overwrite: false` \
         refuses an existing destination. Across file systems it copies, then deletes the source.",
        Effect::Write,
        vec![
            required("source", Type::String, "The file or folder to move."),
            required("destination", Type::String, "The new path (not the folder to move into)."),
            optional(
                "overwrite",
                Type::Bool,
                "Replace an existing destination (default true); false fails when the destination exists.",
            ),
        ],
        Type::object([("source", Type::String), ("destination", Type::String)]),
    )
}

fn fs_delete() -> ActionDefinition {
    action(
        "fs/delete",
        "Delete a file or folder. A folder that is not empty is deleted only with `recursive: true`.",
        Effect::Write,
        vec![
            path_input("The file or folder to delete."),
            optional("recursive", Type::Bool, "Delete a folder with everything in it (default false)."),
            optional("missing_ok", Type::Bool, "Succeed when the path does not exist (default false: fail)."),
        ],
        Type::object([("path", Type::String), ("deleted", Type::Bool)]),
    )
}

/// The type of one `fs/list` entry.
pub fn file_entry_type() -> Type {
    Type::object([
        ("path", Type::String),
        ("name", Type::String),
        ("size", Type::Int),
        ("modified_at", Type::Timestamp),
        ("created_at", Type::Timestamp),
        ("is_dir", Type::Bool),
        ("extension", Type::String),
    ])
}

fn fs_list() -> ActionDefinition {
    action(
        "fs/list",
        "List a folder's entries, sorted by path. Each entry has `path`, `name`, `size` (bytes), `modified_at`, \
         `created_at` (the modification time where the file system records no birth time), `is_dir` and \
         `extension` (without the dot; empty when none).",
        Effect::Read,
        vec![
            path_input("The folder to list."),
            optional(
                "pattern",
                Type::String,
                "A glob such as `*.docx` matched against each name (and, when recursive, the path relative to \
                 `path`, so `**/*.rs` works).",
            ),
            optional("recursive", Type::Bool, "Include the entries of sub-folders (default false)."),
        ],
        Type::list(file_entry_type()),
    )
}

fn fs_watch() -> ActionDefinition {
    action(
        "fs/watch",
        "Wait for the next change under a path (a file created, modified, removed or renamed) and return it.",
        Effect::Read,
        vec![
            path_input("The file or folder to watch (folders are watched with their sub-folders)."),
            optional("pattern", Type::String, "Only changes whose file name (or relative path) matches this glob."),
            required("timeout", Type::Duration, "Fail if nothing changes within this time."),
        ],
        Type::object([("path", Type::String), ("kind", Type::String)]),
    )
}

// --- http --------------------------------------------------------------------------------------------------------

fn http_request_inputs() -> Vec<InputField> {
    vec![
        required("url", Type::String, "The URL to call."),
        optional("headers", any_object(), "Request headers, name to value."),
        optional("query", any_object(), "Query parameters added to the URL, name to value."),
        optional("json", Type::Any, "A body sent as JSON (sets `content-type: application/json`)."),
        optional("form", any_object(), "A body sent URL-encoded, name to value."),
        optional("body", Type::String, "A raw text body."),
        optional("timeout", Type::Duration, "Give up after this long (default 30s)."),
        optional("fail_on_status", Type::Bool, "Fail on a 4xx or 5xx status (default true)."),
        optional("follow_redirects", Type::Bool, "Follow redirects (default true)."),
    ]
}

fn http_response_type() -> Type {
    Type::object([("status", Type::Int), ("headers", any_object()), ("body", Type::Any), ("text", Type::String)])
}

fn http_request(method: &str, effect: Effect) -> ActionDefinition {
    action(
        &format!("http/{}", method.to_ascii_lowercase()),
        &format!(
            "Send an HTTP {method} request. `body` is the response parsed as JSON when it is JSON, else the text; \
             `text` is the raw response text. A step `credential:` of provider `basic` ({{username, password}}) or \
             `bearer`/`api_key` ({{token}} or {{api_key}}) adds an `Authorization` header."
        ),
        effect,
        http_request_inputs(),
        http_response_type(),
    )
}

fn http_get() -> ActionDefinition {
    http_request("GET", Effect::Read)
}

fn http_post() -> ActionDefinition {
    http_request("POST", Effect::Write)
}

fn http_put() -> ActionDefinition {
    http_request("PUT", Effect::Write)
}

fn http_delete() -> ActionDefinition {
    http_request("DELETE", Effect::Write)
}

fn http_download() -> ActionDefinition {
    action(
        "http/download",
        "Download a URL to a file, streaming it to disk; the file appears only once complete.",
        Effect::Write,
        vec![
            required("url", Type::String, "The URL to download."),
            required("path", Type::String, "The file to write; in an existing folder, named after the URL."),
            optional("headers", any_object(), "Request headers, name to value."),
            optional("query", any_object(), "Query parameters added to the URL, name to value."),
            optional("timeout", Type::Duration, "Give up after this long (default: none; 60s without data fails)."),
            optional("follow_redirects", Type::Bool, "Follow redirects (default true)."),
            optional("overwrite", Type::Bool, "Replace an existing file (default true)."),
            optional(
                "max_size",
                Type::Int,
                "Largest accepted download in bytes; a bigger one fails and leaves no file (default: no limit).",
            ),
        ],
        Type::object([("path", Type::String), ("size", Type::Int), ("sha256", Type::String), ("status", Type::Int)]),
    )
}

// --- ai ----------------------------------------------------------------------------------------------------------

/// The provider settings every `ai/*` action accepts.
fn ai_provider_inputs() -> Vec<InputField> {
    vec![
        optional("provider", Type::String, "`openai`, `anthropic` or `ollama` (default from settings)."),
        optional("model", Type::String, "The model name (default from settings)."),
        optional("base_url", Type::String, "The provider's API address, e.g. a local Ollama server."),
    ]
}

/// The generation settings of the chat-based `ai/*` actions.
fn ai_generation_inputs() -> Vec<InputField> {
    vec![
        optional("max_tokens", Type::Int, "The most tokens to generate (Anthropic default from settings: 1024)."),
        optional("temperature", Type::Float, "Sampling temperature, 0 to 2."),
    ]
}

fn ai_usage_type() -> Type {
    Type::Any
}

fn with_ai_inputs(mut own: Vec<InputField>) -> Vec<InputField> {
    own.extend(ai_provider_inputs());
    own.extend(ai_generation_inputs());
    own
}

fn ai_complete() -> ActionDefinition {
    action(
        "ai/complete",
        "Generate text from a prompt. `usage` holds the token counts the provider reports, or null; \
         `finish_reason` is `stop`, `length` or the provider's own reason.",
        Effect::Read,
        with_ai_inputs(vec![
            required("prompt", Type::String, "The prompt."),
            optional("system", Type::String, "A system instruction."),
        ]),
        Type::object([
            ("text", Type::String),
            ("model", Type::String),
            ("usage", ai_usage_type()),
            ("finish_reason", Type::String),
        ]),
    )
}

fn chat_message_type() -> Type {
    Type::object([("role", Type::String), ("content", Type::String)])
}

fn ai_chat() -> ActionDefinition {
    action(
        "ai/chat",
        "Continue a conversation. `message` is the reply as a message to append to `messages`; `usage` holds the \
         token counts the provider reports, or null.",
        Effect::Read,
        with_ai_inputs(vec![
            required(
                "messages",
                Type::list(chat_message_type()),
                "The conversation so far: `role` is `user`, `assistant` or `system`.",
            ),
            optional("system", Type::String, "A system instruction."),
        ]),
        Type::object([
            ("text", Type::String),
            ("message", chat_message_type()),
            ("model", Type::String),
            ("usage", ai_usage_type()),
            ("finish_reason", Type::String),
        ]),
    )
}

fn ai_embed() -> ActionDefinition {
    let mut inputs = vec![required("text", Type::Any, "A string, or a list of strings embedded in one request.")];
    inputs.extend(ai_provider_inputs());
    action(
        "ai/embed",
        "Compute embedding vectors (OpenAI, Ollama). `embeddings` has one vector per text, in order; `embedding` is \
         the first (the only one for a single string).",
        Effect::Read,
        inputs,
        Type::object([
            ("embedding", Type::list(Type::Float)),
            ("embeddings", Type::list(Type::list(Type::Float))),
            ("dimensions", Type::Int),
            ("model", Type::String),
        ]),
    )
}

fn ai_summarize() -> ActionDefinition {
    action(
        "ai/summarize",
        "Summarize a text.",
        Effect::Read,
        with_ai_inputs(vec![
            required("text", Type::String, "The text to summarize."),
            optional("max_words", Type::Int, "About how long the summary may be."),
            optional("system", Type::String, "Further instructions, added to the built-in summarizing prompt."),
        ]),
        Type::object([("summary", Type::String), ("model", Type::String), ("usage", ai_usage_type())]),
    )
}

fn ai_classify() -> ActionDefinition {
    action(
        "ai/classify",
        "Pick the label that best fits a text. `score` is the model's confidence (0 to 1) when it gives one, \
         else null.",
        Effect::Read,
        with_ai_inputs(vec![
            required("text", Type::String, "The text to classify."),
            required("labels", Type::list(Type::String), "The labels to choose from."),
            optional("system", Type::String, "Further instructions, added to the built-in classifying prompt."),
        ]),
        Type::object([("label", Type::String), ("score", Type::Any), ("model", Type::String)]),
    )
}

// --- notify ------------------------------------------------------------------------------------------------------

fn notify_desktop() -> ActionDefinition {
    action(
        "notify/desktop",
        "Show a desktop notification (D-Bus on Linux). Where no notification service can be reached, the step \
         fails as unavailable.",
        Effect::Write,
        vec![
            required("title", Type::String, "The title."),
            optional("body", Type::String, "The text."),
            optional("icon", Type::String, "An icon name such as `dialog-information`, or a file path."),
            optional("urgency", Type::String, "`low`, `normal` or `critical` (Linux and BSD only)."),
            optional("expire_after", Type::Duration, "How long the notification stays (default: the server decides)."),
            optional("app_name", Type::String, "The application name shown (default `Dooz Pilot`)."),
            optional("timeout", Type::Duration, "How long to try reaching the notification server (default 10s)."),
        ],
        Type::object([("id", Type::Any)]),
    )
}

fn notify_email() -> ActionDefinition {
    action(
        "notify/email",
        "Send an email over SMTP. The login comes from the step's `credential:` (provider `basic` or `smtp`, \
         {username, password}); the server defaults come from the `smtp` section of settings.json.",
        Effect::Write,
        vec![
            required("to", Type::Any, "The recipient: an address, several separated by commas, or a list."),
            required("subject", Type::String, "The subject."),
            required("body", Type::String, "The message."),
            optional("from", Type::String, "The sender (default from settings)."),
            optional("reply_to", Type::String, "The Reply-To address."),
            optional("cc", Type::Any, "Copy recipients: an address, several separated by commas, or a list."),
            optional("bcc", Type::Any, "Blind copy recipients (no Bcc header is sent)."),
            optional("html", Type::Bool, "Send `body` as HTML (default false: plain text)."),
            optional("smtp_host", Type::String, "The SMTP server (default from settings)."),
            optional("smtp_port", Type::Int, "The SMTP port (default 587; 465 with `tls: tls`; 25 with `none`)."),
            optional("tls", Type::String, "`starttls` (default), `tls` (implicit TLS) or `none` (local relays only)."),
            optional("tls_ca_file", Type::String, "A PEM file of further CA certificates to trust."),
            optional("timeout", Type::Duration, "Give up after this long (default 30s)."),
            optional("allow_partial", Type::Bool, "Send to the accepted recipients when some are refused."),
        ],
        Type::object([
            ("message_id", Type::String),
            ("accepted", Type::list(Type::String)),
            ("rejected", Type::list(Type::object([("address", Type::String), ("reply", Type::String)]))),
        ]),
    )
}

fn notify_slack() -> ActionDefinition {
    action(
        "notify/slack",
        "Post a Slack message through an incoming webhook, or with a bot token (the step's `credential:`) \
         through `chat.postMessage`.",
        Effect::Write,
        vec![
            required("text", Type::String, "The message text (also the fallback when `blocks` are given)."),
            optional("channel", Type::String, "The channel; required with a bot token."),
            optional("webhook_url", Type::String, "The webhook URL (default: the step's `credential:`)."),
            optional("blocks", Type::Any, "Slack Block Kit blocks (a list)."),
            optional("thread_ts", Type::String, "Reply in the thread of this message (`ts` of an earlier post)."),
            optional("api_base", Type::String, "The Web API address (default https://slack.com/api)."),
            optional("timeout", Type::Duration, "Give up after this long (default 30s)."),
        ],
        Type::object([("ok", Type::Bool), ("channel", Type::Any), ("ts", Type::Any)]),
    )
}

fn notify_webhook() -> ActionDefinition {
    action(
        "notify/webhook",
        "POST a JSON payload to a URL. With `secret` (or an `hmac` credential {secret}), `X-Pilot-Timestamp` \
         carries the send time (Unix seconds) and `X-Pilot-Signature: sha256=<hex>` the HMAC-SHA256 of \
         `TIMESTAMP.BODY` (the timestamp, a dot, the exact body bytes), so a receiver can also refuse replays.",
        Effect::Write,
        vec![
            required("url", Type::String, "The URL to call."),
            required("payload", Type::Any, "The JSON body."),
            optional("secret", Type::String, "A shared secret to sign the body with."),
            optional("headers", any_object(), "Extra request headers, name to value."),
            optional("timeout", Type::Duration, "Give up after this long (default 30s)."),
        ],
        Type::object([("status", Type::Int)]),
    )
}

// --- shell -------------------------------------------------------------------------------------------------------

fn shell_exec() -> ActionDefinition {
    action(
        "shell/exec",
        "Run a program and capture its output. Without `shell: true` the command is run directly, not through \
         a shell, so arguments need no quoting. The program leads a process group of its own: a timeout or a \
         cancel kills it with everything it started, and it dies with the `pilot` running it (Linux); `pilot \
         resume` kills what an interrupted run's program left running before it re-runs or reports the step.",
        Effect::Write,
        vec![
            required("command", Type::String, "The program (or, with `shell: true`, the shell command line)."),
            optional("args", Type::list(Type::String), "Arguments, passed as they are."),
            optional("shell", Type::Bool, "Run `command` through `sh -c` (default false)."),
            optional("cwd", Type::String, "The working folder."),
            optional("env", any_object(), "Extra environment variables, name to value."),
            optional("timeout", Type::Duration, "Kill the program, and what it started, after this long."),
            optional("stdin", Type::String, "Text written to the process's standard input."),
            optional("allow_failure", Type::Bool, "Succeed even when the exit code is not 0 (default false)."),
        ],
        Type::object([("exit_code", Type::Int), ("stdout", Type::String), ("stderr", Type::String)]),
    )
}
