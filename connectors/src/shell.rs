//! The `shell` connector: `shell/exec` runs a program and captures its output.
//!
//! Inputs: `command`, `args` (a list, passed as they are: no shell, no quoting), `shell` (run `sh -c command`
//! instead; `args` then become `$1`, `$2`, ...), `cwd` (a leading `~/` is the home folder), `env` (added to the inherited environment), `timeout`
//! (none by default; the step's own timeout still applies), `stdin` (text written to the program, then closed;
//! without it the program reads an empty input) and `allow_failure`.
//!
//! The output is `{exit_code, stdout, stderr}`, each stream read as UTF-8 (invalid bytes replaced) and kept up to
//! 16 MiB (the rest is read and dropped). An exit code other than 0 fails the step with the code and the end of
//! stderr, unless `allow_failure: true`. A program killed by a signal reports `128 + signal`, as shells do.
//!
//! The program starts through [`crate::process::spawn`]: in a process group of its own, and on Linux killed when
//! the `pilot` running it dies, even by `SIGKILL`. On cancel or timeout the whole group is killed (`SIGKILL`), so
//! programs it started die with it; the same happens if the step is dropped mid-run. While it runs, its group is
//! reported through `ActionContext::children`, so that `pilot resume` kills what an interrupted run left. A
//! program that exits normally leaves its background children alone; the step then ends when they close its
//! output.

use crate::fields::{Fields, invalid, tail};
use crate::{ActionContext, ActionDefinition, ActionError, Connector};
use expr_grammar::Value;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

/// Output kept per stream; beyond it the stream is still drained so the program never blocks on a full pipe.
const MAX_CAPTURE_BYTES: usize = 16 * 1024 * 1024;
/// How much of stderr a failure message quotes.
const STDERR_TAIL_CHARS: usize = 500;

#[derive(Debug, Default)]
pub struct ShellConnector;

impl ShellConnector {
    pub fn new() -> ShellConnector {
        ShellConnector
    }
}

#[async_trait::async_trait]
impl Connector for ShellConnector {
    fn id(&self) -> &str {
        "shell"
    }

    fn actions(&self) -> Vec<ActionDefinition> {
        crate::catalogue::Catalogue::builtin().iter().filter(|def| def.name.starts_with("shell/")).cloned().collect()
    }

    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        match action.strip_prefix("shell/").unwrap_or(action) {
            "exec" => exec(&Fields::new(&input)?, ctx).await,
            other => Err(ActionError::Unavailable { reason: format!("the shell connector has no action `{other}`") }),
        }
    }
}

/// What a finished program left.
struct Finished {
    status: ExitStatus,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

async fn exec(fields: &Fields<'_>, ctx: &ActionContext) -> Result<Value, ActionError> {
    let program = fields.required_string("command")?;
    let timeout = fields.optional_limit("timeout")?;
    let allow_failure = fields.bool_or("allow_failure", false)?;
    let stdin = fields.optional_string("stdin")?.map(str::to_string);
    let mut command = build_command(fields, program)?;
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let (mut child, mut group) =
        crate::process::spawn(command, &ctx.children).await.map_err(|err| spawn_error(program, fields, &err))?;
    let finished = tokio::select! {
        _ = ctx.cancel.cancelled() => {
            stop(&mut group, &mut child).await;
            return Err(ActionError::Cancelled);
        }
        _ = sleep_or_forever(timeout) => {
            stop(&mut group, &mut child).await;
            let limit = timeout.map(|t| expr_grammar::Duration(t.as_micros() as i64)).unwrap_or_default();
            return Err(ActionError::Failed { message: format!("`{program}` timed out after {limit} and was killed") });
        }
        finished = run_to_end(&mut child, stdin) => finished.map_err(|err| ActionError::Failed {
            message: format!("running `{program}` failed: {err}"),
        })?,
    };
    group.disarm();
    let exit_code = exit_code(finished.status);
    let stderr = String::from_utf8_lossy(&finished.stderr).into_owned();
    if exit_code != 0 && !allow_failure {
        let quoted = if stderr.trim().is_empty() {
            "(no output on stderr)".to_string()
        } else {
            tail(&stderr, STDERR_TAIL_CHARS)
        };
        return Err(ActionError::Failed { message: format!("`{program}` exited with code {exit_code}: {quoted}") });
    }
    Ok(Value::object([
        ("exit_code", Value::Int(i64::from(exit_code))),
        ("stdout", Value::from(String::from_utf8_lossy(&finished.stdout).into_owned())),
        ("stderr", Value::from(stderr)),
    ]))
}

fn build_command(fields: &Fields<'_>, program: &str) -> Result<Command, ActionError> {
    let args = fields.string_list("args")?;
    let mut command = if fields.bool_or("shell", false)? {
        let mut sh = Command::new("sh");
        sh.arg("-c").arg(program).arg("sh").args(&args);
        sh
    } else {
        let mut direct = Command::new(program);
        direct.args(&args);
        direct
    };
    if let Some(cwd) = fields.optional_string("cwd")? {
        let folder = crate::fields::expand_home(cwd);
        if !folder.is_dir() {
            return Err(invalid("cwd", format!("`{cwd}` is not an existing folder")));
        }
        command.current_dir(folder);
    }
    command.envs(fields.string_pairs("env")?);
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    Ok(command)
}

fn spawn_error(program: &str, fields: &Fields<'_>, err: &std::io::Error) -> ActionError {
    let shell = fields.bool_or("shell", false).unwrap_or(false);
    let shown = if shell { "sh" } else { program };
    let message = match err.kind() {
        std::io::ErrorKind::NotFound if shown.contains('/') => format!("command `{shown}` not found: no such file"),
        std::io::ErrorKind::NotFound => format!("command `{shown}` not found in PATH"),
        std::io::ErrorKind::PermissionDenied => format!("command `{shown}` cannot be run: permission denied"),
        _ => format!("cannot start `{shown}`: {err}"),
    };
    ActionError::Failed { message }
}

/// Feeds stdin, drains stdout and stderr, and waits for the exit.
async fn run_to_end(child: &mut Child, stdin: Option<String>) -> std::io::Result<Finished> {
    let input = child.stdin.take();
    let feed = async move {
        if let (Some(mut pipe), Some(text)) = (input, stdin) {
            // A program that exits without reading its input closes the pipe: not an error of ours.
            let _ = pipe.write_all(text.as_bytes()).await;
        }
    };
    let (_, stdout, stderr, status) =
        tokio::join!(feed, capture(child.stdout.take()), capture(child.stderr.take()), child.wait());
    Ok(Finished { status: status?, stdout: stdout?, stderr: stderr? })
}

/// Reads a stream to its end, keeping the first [`MAX_CAPTURE_BYTES`].
pub(crate) async fn capture(stream: Option<impl AsyncRead + Unpin>) -> std::io::Result<Vec<u8>> {
    let Some(mut stream) = stream else { return Ok(Vec::new()) };
    let mut kept = Vec::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = stream.read(&mut buffer).await?;
        if read == 0 {
            return Ok(kept);
        }
        let room = MAX_CAPTURE_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..read.min(room)]);
    }
}

async fn sleep_or_forever(limit: Option<Duration>) {
    match limit {
        Some(limit) => tokio::time::sleep(limit).await,
        None => std::future::pending().await,
    }
}

/// Kills the group and reaps the child, so no zombie is left.
async fn stop(group: &mut crate::process::ProcessGroup, child: &mut Child) {
    group.kill();
    let _ = child.kill().await;
}

#[cfg(unix)]
fn exit_code(status: ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(not(unix))]
fn exit_code(status: ExitStatus) -> i32 {
    status.code().unwrap_or(-1)
}
