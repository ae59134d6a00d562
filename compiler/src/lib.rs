//! The workflow compiler: YAML or JSON text in, a checked [`Plan`] and every diagnostic out.
//!
//! Architecture invariant: the compiler never fails fast. [`compile`] returns a plan *and* all diagnostics
//! of the file in one pass; a plan exists only when there is no error. It sees connectors only through their
//! signatures ([`connectors::ActionDefinition`]).

pub mod codes;
pub mod diagnostic;
pub mod front_end;
pub mod model;
pub mod plan;
pub mod schema;

pub use diagnostic::{Diagnostic, Label, Severity};
pub use front_end::parse_workflow;
pub use plan::*;
