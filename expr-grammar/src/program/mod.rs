//! Compiled programs: a tree of operations over slot reads, with names resolved, functions looked up and
//! constants folded. Evaluation never parses or looks anything up by name.

pub(crate) mod operators;

use crate::ast::{BinaryOp, UnaryOp};
use crate::functions::{Body, FunctionDef};
use crate::span::Span;
use crate::value::Value;
use crate::{EvalContext, EvalError, SlotRef};
use std::borrow::Cow;
use std::sync::Arc;

/// One operation. Children are evaluated first except where noted (`&&`, `||`, `If`, `Default`).
#[derive(Debug)]
pub(crate) enum Op {
    Const(Value),
    Slot(SlotRef),
    /// The current element inside a `[*]` projection.
    Element,
    Now,
    /// An environment variable; `fallback` when unset, else an error naming it.
    Env {
        name: Box<Op>,
        fallback: Option<Box<Op>>,
        span: Span,
    },
    Field {
        target: Box<Op>,
        name: Arc<str>,
        span: Span,
    },
    Index {
        target: Box<Op>,
        index: Box<Op>,
        span: Span,
    },
    /// `source[*]...`: `body` evaluated once per element of `source` (with [`Op::Element`] bound to it).
    Project {
        source: Box<Op>,
        body: Box<Op>,
        span: Span,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Op>,
        span: Span,
    },
    Binary {
        op: BinaryOp,
        left: Box<Op>,
        right: Box<Op>,
        span: Span,
    },
    If {
        condition: Box<Op>,
        then: Box<Op>,
        otherwise: Box<Op>,
        span: Span,
    },
    Default {
        value: Box<Op>,
        fallback: Box<Op>,
    },
    Call {
        function: &'static FunctionDef,
        args: Box<[Op]>,
        span: Span,
    },
    List(Box<[Op]>),
    Object(Box<[(Arc<str>, Op)]>),
    /// Template parts joined into a string.
    Interpolate(Box<[Op]>),
}

/// A checked expression ready to run: names are slot indices, functions are resolved, constants folded.
/// Cheap to clone (shared), and `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Program {
    inner: Arc<ProgramInner>,
}

#[derive(Debug)]
struct ProgramInner {
    root: Op,
    slots: Vec<SlotRef>,
}

impl Program {
    pub(crate) fn new(root: Op) -> Program {
        let mut slots = Vec::new();
        root.collect_slots(&mut slots);
        slots.sort_unstable();
        slots.dedup();
        Program { inner: Arc::new(ProgramInner { root, slots }) }
    }

    /// A program that always yields `value`.
    pub fn constant(value: Value) -> Program {
        Program::new(Op::Const(value))
    }

    pub fn eval(&self, ctx: &dyn EvalContext) -> Result<Value, EvalError> {
        self.inner.root.eval(ctx, None)
    }

    /// The value, when the program folded to a constant.
    pub fn as_constant(&self) -> Option<&Value> {
        match &self.inner.root {
            Op::Const(value) => Some(value),
            _ => None,
        }
    }

    /// Every slot the program reads, sorted and without duplicates: the compiler turns these into DAG edges.
    pub fn slots(&self) -> Vec<SlotRef> {
        self.inner.slots.clone()
    }
}

fn fail(span: Span, message: impl Into<String>) -> EvalError {
    EvalError { span, message: message.into() }
}

impl Op {
    fn collect_slots(&self, out: &mut Vec<SlotRef>) {
        match self {
            Op::Slot(slot) => out.push(*slot),
            Op::Const(_) | Op::Element | Op::Now => {}
            Op::Env { name, fallback, .. } => {
                name.collect_slots(out);
                fallback.iter().for_each(|f| f.collect_slots(out));
            }
            Op::Field { target, .. } => target.collect_slots(out),
            Op::Index { target: a, index: b, .. }
            | Op::Project { source: a, body: b, .. }
            | Op::Binary { left: a, right: b, .. }
            | Op::Default { value: a, fallback: b } => {
                a.collect_slots(out);
                b.collect_slots(out);
            }
            Op::Unary { operand, .. } => operand.collect_slots(out),
            Op::If { condition, then, otherwise, .. } => {
                [condition, then, otherwise].iter().for_each(|op| op.collect_slots(out));
            }
            Op::Call { args: ops, .. } | Op::List(ops) | Op::Interpolate(ops) => {
                ops.iter().for_each(|op| op.collect_slots(out));
            }
            Op::Object(entries) => entries.iter().for_each(|(_, op)| op.collect_slots(out)),
        }
    }

    /// Evaluate with `element` bound inside a projection.
    pub(crate) fn eval(&self, ctx: &dyn EvalContext, element: Option<&Value>) -> Result<Value, EvalError> {
        match self {
            Op::Const(value) => Ok(value.clone()),
            Op::Slot(slot) => Ok(ctx.slot(*slot).clone()),
            Op::Element => Ok(element.cloned().unwrap_or_default()),
            Op::Now => Ok(Value::Timestamp(ctx.now())),
            Op::Env { name, fallback, span } => self.env(ctx, element, name, fallback.as_deref(), *span),
            Op::Field { .. } => self.eval_cow(ctx, element).map(Cow::into_owned),
            Op::Index { target, index, span } => {
                index_into(target.eval_cow(ctx, element)?.as_ref(), index.eval_cow(ctx, element)?.as_ref(), *span)
            }
            Op::Project { source, body, span } => project(ctx, source.eval_cow(ctx, element)?.as_ref(), body, *span),
            Op::Unary { op, operand, span } => {
                operators::unary(*op, &operand.eval(ctx, element)?).map_err(|m| fail(*span, m))
            }
            Op::Binary { op, left, right, span } => binary(ctx, element, *op, left, right, *span),
            Op::If { condition, then, otherwise, span } => match condition.eval(ctx, element)? {
                Value::Bool(true) => then.eval(ctx, element),
                Value::Bool(false) => otherwise.eval(ctx, element),
                other => Err(fail(*span, format!("the condition of `if` must be a bool, got {}", other.kind_name()))),
            },
            Op::Default { value, fallback } => match value.eval(ctx, element)? {
                Value::Null => fallback.eval(ctx, element),
                present => Ok(present),
            },
            Op::Call { function, args, span } => call(ctx, element, function, args, *span),
            Op::List(items) => {
                let values: Result<Vec<Value>, EvalError> = items.iter().map(|op| op.eval(ctx, element)).collect();
                Ok(Value::from(values?))
            }
            Op::Object(entries) => {
                let mut object = crate::value::Object::with_capacity(entries.len());
                for (key, op) in entries.iter() {
                    object.insert(key.to_string(), op.eval(ctx, element)?);
                }
                Ok(Value::from(object))
            }
            Op::Interpolate(parts) => {
                let mut text = String::new();
                for part in parts.iter() {
                    use std::fmt::Write as _;
                    let _ = write!(text, "{}", part.eval(ctx, element)?);
                }
                Ok(Value::from(text))
            }
        }
    }

    /// Like [`Op::eval`], but reads of slots, constants and their fields are borrowed, not cloned: a filter
    /// condition reading `item.modified_at` touches no reference count.
    pub(crate) fn eval_cow<'a>(
        &'a self,
        ctx: &'a dyn EvalContext,
        element: Option<&'a Value>,
    ) -> Result<Cow<'a, Value>, EvalError> {
        match self {
            Op::Const(value) => Ok(Cow::Borrowed(value)),
            Op::Slot(slot) => Ok(Cow::Borrowed(ctx.slot(*slot))),
            Op::Element => Ok(element.map_or(Cow::Owned(Value::Null), Cow::Borrowed)),
            Op::Field { target, name, span } => match target.eval_cow(ctx, element)? {
                Cow::Borrowed(value) => field(value, name, *span).map(Cow::Borrowed),
                Cow::Owned(value) => field(&value, name, *span).map(|f| Cow::Owned(f.clone())),
            },
            _ => self.eval(ctx, element).map(Cow::Owned),
        }
    }

    fn env(
        &self,
        ctx: &dyn EvalContext,
        element: Option<&Value>,
        name: &Op,
        fallback: Option<&Op>,
        span: Span,
    ) -> Result<Value, EvalError> {
        let name = name.eval(ctx, element)?;
        let Value::String(name) = name else {
            return Err(fail(span, format!("an environment variable name must be a string, got {}", name.kind_name())));
        };
        match (ctx.env_var(&name), fallback) {
            (Some(value), _) => Ok(Value::from(value)),
            (None, Some(fallback)) => fallback.eval(ctx, element),
            (None, None) => Err(fail(span, format!("environment variable `{name}` is not set"))),
        }
    }
}

/// `target.name`: a missing field reads as null, and so does any field of null.
fn field<'v>(target: &'v Value, name: &str, span: Span) -> Result<&'v Value, EvalError> {
    static NULL: Value = Value::Null;
    match target {
        Value::Object(object) => Ok(object.get(name).unwrap_or(&NULL)),
        Value::Null => Ok(&NULL),
        other => Err(fail(span, format!("cannot read field `{name}` of {}", other.kind_name()))),
    }
}

/// `target[index]`: negative list indexes count from the end; out of range and missing keys read as null.
fn index_into(target: &Value, index: &Value, span: Span) -> Result<Value, EvalError> {
    match (target, index) {
        (Value::List(items), Value::Int(i)) => {
            let at = if *i < 0 { i.checked_add(items.len() as i64) } else { Some(*i) };
            Ok(at.and_then(|at| usize::try_from(at).ok()).and_then(|at| items.get(at)).cloned().unwrap_or_default())
        }
        (Value::Object(object), Value::String(key)) => Ok(object.get(&**key).cloned().unwrap_or_default()),
        (Value::Null, _) => Ok(Value::Null),
        (target, index) => Err(fail(span, format!("cannot index {} with {}", target.kind_name(), index.kind_name()))),
    }
}

fn project(ctx: &dyn EvalContext, source: &Value, body: &Op, span: Span) -> Result<Value, EvalError> {
    match source {
        Value::List(items) => {
            let mapped: Result<Vec<Value>, EvalError> = items.iter().map(|item| body.eval(ctx, Some(item))).collect();
            Ok(Value::from(mapped?))
        }
        Value::Null => Ok(Value::Null),
        other => Err(fail(span, format!("`[*]` needs a list, got {}", other.kind_name()))),
    }
}

fn binary(
    ctx: &dyn EvalContext,
    element: Option<&Value>,
    op: BinaryOp,
    left: &Op,
    right: &Op,
    span: Span,
) -> Result<Value, EvalError> {
    let left = left.eval_cow(ctx, element)?;
    let short_circuit = match (op, left.as_ref()) {
        (BinaryOp::And, Value::Bool(false)) => Some(false),
        (BinaryOp::Or, Value::Bool(true)) => Some(true),
        (BinaryOp::And | BinaryOp::Or, Value::Bool(_)) => None,
        (BinaryOp::And | BinaryOp::Or, other) => {
            return Err(fail(span, format!("`{}` needs bool operands, got {}", op.symbol(), other.kind_name())));
        }
        _ => None,
    };
    if let Some(result) = short_circuit {
        return Ok(Value::Bool(result));
    }
    let right = right.eval_cow(ctx, element)?;
    operators::binary(op, &left, &right).map_err(|m| fail(span, m))
}

fn call(
    ctx: &dyn EvalContext,
    element: Option<&Value>,
    function: &FunctionDef,
    args: &[Op],
    span: Span,
) -> Result<Value, EvalError> {
    let Body::Pure(body) = function.body else {
        return Err(fail(span, format!("`{}` cannot be called here", function.name)));
    };
    let mut values = Vec::with_capacity(args.len());
    for (arg, param) in args.iter().zip(function.params) {
        let value = arg.eval(ctx, element)?;
        if !param.accepts.accepts_value(&value) {
            let message = format!(
                "`{}` expects {} for `{}`, got {}",
                function.name,
                param.accepts,
                param.name,
                value.kind_name()
            );
            return Err(fail(span, message));
        }
        values.push(value);
    }
    body(&values).map_err(|message| fail(span, format!("{}: {message}", function.name)))
}
