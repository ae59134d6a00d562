//! Pilot's expression language: `${...}` templates and bare expressions.
//!
//! Pipeline: text --[`parse_template`] / [`parse_expression`]--> AST --[`compile`] with a [`Scope`]-->
//! [`Program`] (names already resolved to slots, types checked, constants folded) --[`Program::eval`] with an
//! [`EvalContext`]--> [`Value`].
//!
//! Architecture invariant: this crate is pure. No IO, no environment, no clock, no async: the caller passes
//! `now` and environment variables in through [`EvalContext`].
#![forbid(unsafe_code)]

// The pest parser, generated without pest's `std` feature (see the workspace Cargo.toml), names `alloc`.
extern crate alloc;

pub mod ast;
pub mod budget;
mod check;
pub mod functions;
mod parse;
mod program;
pub mod span;
pub mod suggest;
pub mod types;
pub mod value;

pub use budget::{Budget, value_size};
pub use functions::{FunctionDoc, function_docs};
pub use parse::{MAX_DEPTH, MAX_LENGTH};
pub use program::Program;
pub use span::Span;
pub use types::{ObjectType, Type, iteration_item_type};
pub use value::{Duration, Object, Timestamp, Value};

/// Index of a value in an execution's slot table (variables, inputs, step outputs, loop item, ...).
/// The compiler assigns slots; the executor owns the table. No name is looked up at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct SlotRef(pub u32);

/// What a name path resolves to, answered by the compiler's [`Scope`].
#[derive(Debug, Clone, PartialEq)]
pub enum Resolution {
    /// The first `consumed` segments of the path name this slot; the rest are field accesses on it.
    /// `consumed: 0` means the whole path is fields of the slot: a filter condition's bare `modified_at` is
    /// `item.modified_at`.
    Slot { consumed: usize, slot: SlotRef, ty: Type },
    /// The first `consumed` segments name a value known at compile time (`workflow.name`): folded in.
    Constant { consumed: usize, value: Value },
    /// An environment variable (an ALL_CAPS bare name such as `HOME`), read at run time.
    EnvVar { name: String },
    /// Not a known name. `segment` is the index of the path segment that failed (its span is underlined),
    /// `suggestions` feed the "did you mean" hint.
    Unknown { segment: usize, message: String, suggestions: Vec<String> },
}

/// Name resolution, supplied by the compiler. `path` is the longest leading chain of plain identifiers of a
/// reference: for `steps.fetch.output.body[0]` it is `["steps", "fetch", "output", "body"]`.
pub trait Scope {
    fn resolve(&self, path: &[&str]) -> Resolution;

    /// The budget constant folding runs under (see [`budget`]).
    fn budget(&self) -> Budget {
        Budget::default()
    }
}

/// What a compiled program needs at run time.
pub trait EvalContext {
    /// The current value of a slot. A slot not yet filled reads as null.
    fn slot(&self, slot: SlotRef) -> &Value;
    /// The time `now()` returns; fixed for one evaluation so that `now() - now()` is zero.
    fn now(&self) -> Timestamp;
    /// An environment variable, for `env('HOME')` and bare `HOME`.
    fn env_var(&self, name: &str) -> Option<String>;
    /// What one evaluation may build and do (see [`budget`]).
    fn budget(&self) -> Budget {
        Budget::default()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The API below is the contract the compiler and executor code against. Bodies marked `todo!` are being written.
// ---------------------------------------------------------------------------------------------------------------

/// A string value from a workflow: literal text and `${...}` expressions. `$${` is a literal `${`.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub parts: Vec<TemplatePart>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Literal(String),
    /// The expression between `${` and `}`; its spans are byte offsets into the template source.
    Expr(ast::Expr),
}

/// A syntax error with the exact place. `hint` says how to fix it, when we know.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
    /// Another place that explains the error, with its label: the `(` a missing `)` should close.
    pub related: Option<(Span, String)>,
}

/// What went wrong while checking an expression; the compiler maps each kind to a diagnostic code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckErrorKind {
    UnknownName,
    UnknownField,
    UnknownFunction,
    WrongArgumentCount,
    TypeMismatch,
    NotIterable,
    TooDeep,
    /// A constant sub-expression failed when folded at compile time (`1/0`, `parse_date('soon')`).
    EvaluationFailed,
    /// Folding a constant sub-expression went over the [`Budget`]: the value it builds is too big, or the work too
    /// long.
    OverBudget,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckError {
    pub kind: CheckErrorKind,
    pub span: Span,
    pub message: String,
    pub hint: Option<String>,
}

/// An error while evaluating (only possible where types were `any`, or on arithmetic overflow, bad dates, ...,
/// or past the [`Budget`]).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct EvalError {
    pub span: Span,
    pub message: String,
    pub kind: EvalErrorKind,
}

/// Why an evaluation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EvalErrorKind {
    /// The operation does not apply to these values (a wrong type at run time, division by zero, a bad date).
    Failed,
    /// The evaluation went over its [`Budget`]; the message names the expression when the program knows its
    /// text ([`Program::with_source`]).
    OverBudget,
}

/// A compiled template or expression and its static type.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub program: Program,
    pub ty: Type,
}

/// Parse a workflow string: literal text with `${...}` expressions. A string that is exactly one `${...}`
/// keeps the expression's type when compiled; otherwise the parts interpolate into a string.
pub fn parse_template(source: &str) -> Result<Template, Vec<SyntaxError>> {
    parse::parse_template(source)
}

/// Parse a bare expression (an `if:` condition, a filter condition such as `modified_at > now() - 1d`).
/// Expressions longer than 64 KiB or nested deeper than 64 levels are rejected with a syntax error.
pub fn parse_expression(source: &str) -> Result<ast::Expr, Vec<SyntaxError>> {
    parse::parse_expression_at(source, 0)
}

/// A template that is exactly one `${...}` keeps the expression's type; otherwise it is a `string`.
pub fn compile_template(template: &Template, scope: &dyn Scope) -> Result<Compiled, Vec<CheckError>> {
    check::compile_template(template, scope)
}

/// Resolve names through `scope`, check types and fold constants (a failing constant such as `1/0` is a
/// [`CheckErrorKind::EvaluationFailed`]). Returns every error, not just the first.
pub fn compile_expression(expr: &ast::Expr, scope: &dyn Scope) -> Result<Compiled, Vec<CheckError>> {
    check::compile_expression(expr, scope)
}
