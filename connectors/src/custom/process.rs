//! Runs a custom connector's program for one action call (see the module docs of `custom` for the protocol).

use super::Manifest;
use crate::shell::capture;
use crate::{ActionContext, ActionDefinition, ActionError, Connector};
use expr_grammar::Value;
use std::path::PathBuf;
use std::process::Stdio;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// How much of stderr a failure quotes.
const STDERR_TAIL_CHARS: usize = 500;

#[derive(Debug, Clone)]
pub struct ProcessConnector {
    dir: PathBuf,
    manifest: Manifest,
    definitions: Vec<ActionDefinition>,
}

impl ProcessConnector {
    /// A connector for the manifest found in `dir` (already validated by [`Manifest::load`]).
    pub fn new(dir: PathBuf, manifest: Manifest) -> Result<ProcessConnector, String> {
        let definitions = manifest.action_definitions()?;
        Ok(ProcessConnector { dir, manifest, definitions })
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    fn request(&self, action: &str, input: Value, ctx: &ActionContext) -> String {
        let short_name = action.strip_prefix(&format!("{}/", self.manifest.id)).unwrap_or(action);
        let credential = ctx.credential.as_ref().map(|credential| credential.data.clone());
        serde_json::json!({
            "action": short_name,
            "input": input.to_json(),
            "credential": credential,
            "execution_id": ctx.execution_id,
            "step_id": ctx.step_id,
        })
        .to_string()
    }

    fn command(&self) -> Command {
        let mut command = Command::new(self.dir.join(&self.manifest.executable));
        command.current_dir(&self.dir).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        command
    }
}

#[async_trait::async_trait]
impl Connector for ProcessConnector {
    fn id(&self) -> &str {
        &self.manifest.id
    }

    fn actions(&self) -> Vec<ActionDefinition> {
        self.definitions.clone()
    }

    async fn execute(&self, action: &str, input: Value, ctx: &ActionContext) -> Result<Value, ActionError> {
        let program = self.dir.join(&self.manifest.executable);
        let (mut child, mut group) =
            crate::process::spawn(self.command(), &ctx.children).await.map_err(|err| ActionError::Failed {
                message: format!("connector `{}`: cannot start {}: {err}", self.manifest.id, program.display()),
            })?;
        let request = self.request(action, input, ctx);
        let stdin = child.stdin.take();
        let talk = async {
            if let Some(mut pipe) = stdin {
                // A program that exits without reading its request closes the pipe: its answer says why.
                let _ = pipe.write_all(request.as_bytes()).await;
            }
            tokio::join!(capture(child.stdout.take()), capture(child.stderr.take()))
        };
        let (stdout, stderr) = tokio::select! {
            streams = talk => streams,
            () = ctx.cancel.cancelled() => {
                group.kill();
                let _ = child.kill().await;
                return Err(ActionError::Cancelled);
            }
        };
        let status = child.wait().await;
        group.disarm();
        let stdout = stdout.map_err(|err| self.failure(format!("cannot read its output: {err}")))?;
        let stderr = String::from_utf8_lossy(&stderr.unwrap_or_default()).into_owned();
        let exit = status.map_err(|err| self.failure(format!("cannot wait for it: {err}")))?;
        self.answer(action, &stdout, exit.success(), &stderr)
    }
}

impl ProcessConnector {
    fn failure(&self, message: String) -> ActionError {
        ActionError::Failed { message: format!("connector `{}`: {message}", self.manifest.id) }
    }

    /// Reads the program's one-object answer: `{"output": ...}` or `{"error": "..."}`.
    fn answer(&self, action: &str, stdout: &[u8], exited_ok: bool, stderr: &str) -> Result<Value, ActionError> {
        let stderr_tail = stderr_tail(stderr);
        let reply: serde_json::Value = match serde_json::from_slice(stdout) {
            Ok(reply) => reply,
            Err(err) if exited_ok => {
                return Err(self.failure(format!("its answer is not JSON ({err}); stderr: {stderr_tail}")));
            }
            Err(_) => return Err(self.failure(format!("it failed without an answer; stderr: {stderr_tail}"))),
        };
        match (reply.get("output"), reply.get("error")) {
            (_, Some(error)) => {
                let message = error.as_str().map(str::to_string).unwrap_or_else(|| error.to_string());
                Err(self.failure(message))
            }
            (Some(output), None) if exited_ok => Ok(self.typed_output(action, output)),
            (Some(_), None) => Err(self.failure(format!("it exited with an error; stderr: {stderr_tail}"))),
            (None, None) => Err(self.failure("its answer has neither `output` nor `error`".to_string())),
        }
    }
}

impl ProcessConnector {
    /// The answer read as the declared output type, so a `timestamp` field is a timestamp again.
    fn typed_output(&self, action: &str, output: &serde_json::Value) -> Value {
        match self.definitions.iter().find(|def| def.name == action).map(|def| &def.output) {
            Some(crate::OutputSpec::Fixed { ty }) => Value::from_json_typed(output, ty),
            _ => Value::from_json(output),
        }
    }
}

/// The end of the program's stderr for a failure message.
fn stderr_tail(stderr: &str) -> String {
    match crate::fields::tail(stderr.trim(), STDERR_TAIL_CHARS) {
        tail if tail.is_empty() => "(empty)".to_string(),
        tail => tail,
    }
}
