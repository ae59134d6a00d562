//! The workflow compiler: YAML or JSON text in, a checked [`Plan`] and every diagnostic out.
//!
//! Architecture invariant: the compiler never fails fast. [`compile`] returns a plan *and* all diagnostics
//! of the file in one pass; a plan exists only when there is no error. It sees connectors only through their
//! signatures ([`connectors::ActionDefinition`]).

mod actions;
mod build;
pub mod codes;
pub mod dag;
pub mod diagnostic;
pub mod emit;
mod expressions;
pub mod front_end;
mod graph;
mod ids;
mod inputs;
pub mod model;
pub mod outline;
mod pipeline;
pub mod plan;
mod preparse;
pub mod render;
pub mod schema;
pub mod scope;
mod triggers;
mod typecheck;
mod values;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use front_end::parse_workflow;
pub use outline::{Outline, outline};
pub use pipeline::{Compilation, slot_name};
pub use plan::*;
pub use values::{CompileOptions, KnownCredentials};

/// Compile a workflow file's text against the action catalogue: the plan when the file has no error, and
/// every diagnostic of the file (errors and warnings, sorted by position). `file_name` names the workflow when
/// it has no `name:`.
pub fn compile(
    source: &str,
    file_name: &str,
    catalogue: &connectors::catalogue::Catalogue,
) -> (Option<Plan>, Vec<Diagnostic>) {
    compile_with(source, file_name, catalogue, &CompileOptions::default())
}

/// [`compile`] with what is known from outside the file (the stored credentials' names).
pub fn compile_with(
    source: &str,
    file_name: &str,
    catalogue: &connectors::catalogue::Catalogue,
    options: &CompileOptions,
) -> (Option<Plan>, Vec<Diagnostic>) {
    let compilation = compile_detailed(source, file_name, catalogue, options);
    (compilation.plan, compilation.diagnostics)
}

/// [`compile_with`], keeping what `pilot compile --emit json` shows besides the plan (each input's type).
pub fn compile_detailed(
    source: &str,
    file_name: &str,
    catalogue: &connectors::catalogue::Catalogue,
    options: &CompileOptions,
) -> Compilation {
    pipeline::compile_detailed(source, file_name, catalogue, options)
}
