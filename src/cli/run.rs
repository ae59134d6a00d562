//! `pilot run FILE [--var KEY=VALUE]... [--input JSON] [--json] [--timeout DURATION]`: compiles a workflow and
//! runs it now, recording it in `$PILOT_HOME/pilot.db`.
//!
//! Shows its steps on stderr as they run (live on a terminal, plain lines otherwise) and how it ended on stdout
//! (the execution as JSON with `--json`). Exit status: 0 when the execution succeeded, 1 when it failed or was
//! cancelled, 2 when it did not run (the workflow does not compile, or an input is missing or wrong; with
//! `--json` the diagnostics are printed as JSON on stdout), 130 when Ctrl-C cancelled it. `pilot cancel ID` from
//! another terminal cancels it too.
//!
//! `pilot run NAME` (no such file) runs the workflow of that name in the daemon instead: `remote_run`.

use super::exit;
use super::progress::View;
use super::runner::{Runner, engine_failed, fail, progress, report, supervise, with_runner};
use super::ui;
use compiler::render::{RenderOptions, render_file};
use executor::Workflow;
use executor::engine::{Context, InputError, add_var, parse_input_json};
use executor::store::new_execution_id;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The workflow file (YAML or JSON), or the name of a workflow for the running daemon to run.
    #[arg(value_name = "FILE|NAME")]
    pub file: PathBuf,
    /// Set an input: KEY=VALUE (repeatable). VALUE is text for a string input and JSON otherwise.
    #[arg(long = "var", value_name = "KEY=VALUE")]
    pub vars: Vec<String>,
    /// Inputs as one JSON object, e.g. '{"folder": "/tmp", "limit": 3}'. `--var` overrides its keys.
    #[arg(long, value_name = "JSON")]
    pub input: Option<String>,
    /// Fail the execution when it has not ended after this long, e.g. `30s`, `5m`, `1h`.
    #[arg(long, value_name = "DURATION", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
}

pub(crate) fn parse_timeout(text: &str) -> Result<std::time::Duration, String> {
    expr_grammar::Duration::parse(text)
        .and_then(expr_grammar::Duration::to_std)
        .ok_or_else(|| format!("`{text}` is not a duration such as 30s, 5m or 1h"))
}

pub fn run(args: &RunArgs) -> ExitCode {
    if super::remote_run::is_workflow_name(&args.file) {
        return super::remote_run::run(args);
    }
    let workflow = match load_workflow(&args.file) {
        Ok(workflow) => workflow,
        Err(code) => return code,
    };
    let mut context = Context { timeout: args.timeout, ..Context::default() };
    if let Err(err) = collect_inputs(&workflow, args, &mut context) {
        return ui::fail(exit::NOT_RUN, &err.to_string());
    }
    with_runner(|runner| run_workflow(runner, workflow, context))
}

fn collect_inputs(workflow: &Workflow, args: &RunArgs, context: &mut Context) -> Result<(), InputError> {
    if let Some(text) = &args.input {
        context.inputs = parse_input_json(text)?;
    }
    for assignment in &args.vars {
        add_var(&workflow.plan, &mut context.inputs, assignment)?;
    }
    Ok(())
}

/// Reads and compiles a workflow file; on errors prints the diagnostics as `pilot check` does (on stderr, and as
/// JSON on stdout with `--json`).
pub(crate) fn load_workflow(path: &Path) -> Result<Workflow, ExitCode> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|err| ui::fail(exit::NOT_RUN, &format!("cannot read {display}: {err}")))?;
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("workflow");
    let catalogue = server::toolbox::Toolbox::load(&server::home::PilotHome::from_env()).catalogue;
    let (source, plan, diagnostics) = match compiler::front_end::decode(&bytes) {
        Ok(source) => {
            let options = compiler::CompileOptions {
                known_credentials: super::credentials::stored_credential_names().into(),
                budget: super::expression_budget(),
                ..Default::default()
            };
            let (plan, diagnostics) = compiler::compile_with(source, name, &catalogue, &options);
            (source.to_string(), plan, diagnostics)
        }
        Err(diagnostic) => (String::from_utf8_lossy(&bytes).into_owned(), None, vec![diagnostic]),
    };
    let Some(plan) = plan else {
        return Err(super::compile::does_not_compile(&display, &source, &diagnostics));
    };
    if !diagnostics.is_empty() && !ui::quiet() {
        eprintln!("{}", render_file(&display, &source, &diagnostics, RenderOptions { color: ui::color_stderr() }));
    }
    let id = workflow_id(&plan.workflow.name, path);
    Ok(Workflow { id, plan: Arc::new(plan), source: Arc::from(source), file_name: display })
}

/// The store id of a workflow run from a file: its name for a file of `$PILOT_HOME/workflows/` (the daemon's
/// definition), else its name and a digest of the file's path, so that running a copy kept elsewhere records
/// executions under the same name without replacing the daemon's stored definition.
fn workflow_id(name: &str, path: &Path) -> String {
    let workflows = server::home::PilotHome::from_env().workflows();
    let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let in_workflows = std::fs::canonicalize(&workflows).is_ok_and(|folder| absolute.starts_with(folder));
    if in_workflows {
        return name.to_owned();
    }
    // FNV-1a: stable across Rust versions (the std hasher is not promised to be).
    let digest = absolute
        .as_os_str()
        .as_encoded_bytes()
        .iter()
        .fold(0x811c_9dc5_u32, |hash, byte| (hash ^ u32::from(*byte)).wrapping_mul(0x0100_0193));
    format!("{name}@{digest:08x}")
}

async fn run_workflow(runner: Runner, workflow: Workflow, mut context: Context) -> ExitCode {
    let id = new_execution_id();
    let claim = match runner.active.claim(&id) {
        Ok(Ok(claim)) => claim,
        Ok(Err(pid)) => return fail(&format!("execution {id} is already run by process {pid}")),
        Err(err) => return fail(&err.to_string()),
    };
    let (sender, drawing) = progress(View::choose(), false);
    if let Err(err) = super::runner::add_credentials(&runner, &workflow.plan, &mut context).await {
        return ui::fail(exit::NOT_RUN, &err);
    }
    context.progress = Some(sender);
    context.execution_id = Some(id);
    context.children = claim.child_recorder();
    let handle = match runner.engine.start(&workflow, context).await {
        Ok(handle) => handle,
        Err(err) => return engine_failed(&err),
    };
    let supervised = supervise(&runner.engine, handle, &claim).await;
    let _ = drawing.await;
    drop(claim);
    report(runner.store.as_ref(), &supervised).await
}
