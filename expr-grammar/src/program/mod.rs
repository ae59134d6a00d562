//! Compiled programs: a tree of operations over slot reads, with names resolved, functions looked up and
//! constants folded. Evaluation never parses or looks anything up by name.

pub(crate) mod operators;

use crate::ast::{BinaryOp, UnaryOp};
use crate::budget::{Budget, Meter};
use crate::functions::{Body, FunctionDef, ResultSize};
use crate::span::Span;
use crate::value::Value;
use crate::{EvalContext, EvalError, EvalErrorKind, SlotRef};
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
    List {
        items: Box<[Op]>,
        span: Span,
    },
    Object {
        entries: Box<[(Arc<str>, Op)]>,
        span: Span,
    },
    /// Template parts joined into a string.
    Interpolate {
        parts: Box<[Op]>,
        span: Span,
    },
}

/// A checked expression ready to run: names are slot indices, functions are resolved, constants folded.
/// Cheap to clone (shared), and `Send + Sync`.
#[derive(Debug, Clone)]
pub struct Program {
    inner: Arc<ProgramInner>,
    /// The text the program was compiled from, to name the expression in a budget error.
    source: Option<Arc<str>>,
}

#[derive(Debug)]
struct ProgramInner {
    root: Op,
    slots: Vec<SlotRef>,
}

/// One evaluation: the context it reads and what it has used of its budget.
pub(crate) struct Run<'a> {
    pub ctx: &'a dyn EvalContext,
    pub meter: Meter,
}

impl<'a> Run<'a> {
    pub(crate) fn new(ctx: &'a dyn EvalContext, budget: Budget) -> Run<'a> {
        Run { ctx, meter: Meter::new(budget) }
    }
}

impl Program {
    pub(crate) fn new(root: Op) -> Program {
        let mut slots = Vec::new();
        root.collect_slots(&mut slots);
        slots.sort_unstable();
        slots.dedup();
        Program { inner: Arc::new(ProgramInner { root, slots }), source: None }
    }

    /// A program that always yields `value`.
    pub fn constant(value: Value) -> Program {
        Program::new(Op::Const(value))
    }

    /// The program, knowing the text it was compiled from (the template or the bare expression whose spans it
    /// carries): an error past the budget then quotes the part of the text that went over.
    pub fn with_source(mut self, source: &str) -> Program {
        self.source = Some(Arc::from(source));
        self
    }

    /// Evaluate under the context's [`Budget`]: past it, an [`EvalErrorKind::OverBudget`] error, never an abort
    /// or a hang.
    pub fn eval(&self, ctx: &dyn EvalContext) -> Result<Value, EvalError> {
        let run = Run::new(ctx, ctx.budget());
        self.inner.root.eval(&run, None).map_err(|error| self.name_expression(error))
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

    /// A budget error says which expression went over: "in `replace(r, 'a', r)`, the result ...".
    fn name_expression(&self, mut error: EvalError) -> EvalError {
        let Some(source) = &self.source else { return error };
        if error.kind != EvalErrorKind::OverBudget {
            return error;
        }
        let (start, end) = (error.span.start as usize, error.span.end as usize);
        let text = if start < end { source.get(start..end).unwrap_or(source) } else { source };
        let text = text.trim();
        let shown = match text.char_indices().nth(MAX_QUOTED) {
            Some((cut, _)) => format!("{}...", &text[..cut]),
            None => text.to_string(),
        };
        error.message = format!("in `{shown}`, {}", error.message);
        error
    }
}

/// Longest expression text quoted in a budget error, in characters.
const MAX_QUOTED: usize = 80;

fn fail(span: Span, message: impl Into<String>) -> EvalError {
    EvalError { span, message: message.into(), kind: EvalErrorKind::Failed }
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
            Op::Call { args: ops, .. } | Op::List { items: ops, .. } | Op::Interpolate { parts: ops, .. } => {
                ops.iter().for_each(|op| op.collect_slots(out));
            }
            Op::Object { entries, .. } => entries.iter().for_each(|(_, op)| op.collect_slots(out)),
        }
    }

    /// Evaluate with `element` bound inside a projection. Each operation is a step of the budget; what it
    /// builds is measured against the budget before or as it is built.
    pub(crate) fn eval(&self, run: &Run<'_>, element: Option<&Value>) -> Result<Value, EvalError> {
        run.meter.step()?;
        match self {
            Op::Const(value) => Ok(value.clone()),
            Op::Slot(slot) => Ok(run.ctx.slot(*slot).clone()),
            Op::Element => Ok(element.cloned().unwrap_or_default()),
            Op::Now => Ok(Value::Timestamp(run.ctx.now())),
            Op::Env { name, fallback, span } => self.env(run, element, name, fallback.as_deref(), *span),
            Op::Field { .. } => self.eval_cow(run, element).map(Cow::into_owned),
            Op::Index { target, index, span } => {
                index_into(target.eval_cow(run, element)?.as_ref(), index.eval_cow(run, element)?.as_ref(), *span)
            }
            Op::Project { source, body, span } => project(run, source.eval_cow(run, element)?.as_ref(), body, *span),
            Op::Unary { op, operand, span } => {
                operators::unary(*op, &operand.eval(run, element)?).map_err(|m| fail(*span, m))
            }
            Op::Binary { op, left, right, span } => binary(run, element, *op, left, right, *span),
            Op::If { condition, then, otherwise, span } => match condition.eval(run, element)? {
                Value::Bool(true) => then.eval(run, element),
                Value::Bool(false) => otherwise.eval(run, element),
                other => Err(fail(*span, format!("the condition of `if` must be a bool, got {}", other.kind_name()))),
            },
            Op::Default { value, fallback } => match value.eval(run, element)? {
                Value::Null => fallback.eval(run, element),
                present => Ok(present),
            },
            Op::Call { function, args, span } => call(run, element, function, args, *span),
            Op::List { items, span } => {
                let mut size = 8usize;
                let mut values = Vec::with_capacity(items.len());
                for item in items.iter() {
                    let value = item.eval(run, element)?;
                    size = size.saturating_add(run.meter.size_of(&value, *span)?);
                    run.meter.allow(size, &"this list", *span)?;
                    values.push(value);
                }
                Ok(Value::from(values))
            }
            Op::Object { entries, span } => {
                let mut size = 8usize;
                let mut object = crate::value::Object::with_capacity(entries.len());
                for (key, op) in entries.iter() {
                    let value = op.eval(run, element)?;
                    size = size.saturating_add(key.len()).saturating_add(run.meter.size_of(&value, *span)?);
                    run.meter.allow(size, &"this object", *span)?;
                    object.insert(key.to_string(), value);
                }
                Ok(Value::from(object))
            }
            Op::Interpolate { parts, span } => {
                let mut text = String::new();
                for part in parts.iter() {
                    use std::fmt::Write as _;
                    let value = part.eval(run, element)?;
                    let size = run.meter.size_of(&value, *span)?;
                    run.meter.allow(text.len().saturating_add(size), &"this text", *span)?;
                    let _ = write!(text, "{value}");
                    run.meter.allow(8 + text.len(), &"this text", *span)?;
                }
                Ok(Value::from(text))
            }
        }
    }

    /// Like [`Op::eval`], but reads of slots, constants and their fields are borrowed, not cloned: a filter
    /// condition reading `item.modified_at` touches no reference count.
    pub(crate) fn eval_cow<'a>(
        &'a self,
        run: &'a Run<'a>,
        element: Option<&'a Value>,
    ) -> Result<Cow<'a, Value>, EvalError> {
        match self {
            Op::Const(value) => run.meter.step().map(|()| Cow::Borrowed(value)),
            Op::Slot(slot) => run.meter.step().map(|()| Cow::Borrowed(run.ctx.slot(*slot))),
            Op::Element => {
                run.meter.step()?;
                Ok(element.map_or(Cow::Owned(Value::Null), Cow::Borrowed))
            }
            Op::Field { target, name, span } => {
                run.meter.step()?;
                match target.eval_cow(run, element)? {
                    Cow::Borrowed(value) => field(value, name, *span).map(Cow::Borrowed),
                    Cow::Owned(value) => field(&value, name, *span).map(|f| Cow::Owned(f.clone())),
                }
            }
            _ => self.eval(run, element).map(Cow::Owned),
        }
    }

    fn env(
        &self,
        run: &Run<'_>,
        element: Option<&Value>,
        name: &Op,
        fallback: Option<&Op>,
        span: Span,
    ) -> Result<Value, EvalError> {
        let name = name.eval(run, element)?;
        let Value::String(name) = name else {
            return Err(fail(span, format!("an environment variable name must be a string, got {}", name.kind_name())));
        };
        match (run.ctx.env_var(&name), fallback) {
            (Some(value), _) => {
                run.meter.allow(8 + value.len(), &format_args!("environment variable `{name}`"), span)?;
                Ok(Value::from(value))
            }
            (None, Some(fallback)) => fallback.eval(run, element),
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

/// `source[*]...`: the body once per element; the list it builds is measured as it grows.
fn project(run: &Run<'_>, source: &Value, body: &Op, span: Span) -> Result<Value, EvalError> {
    match source {
        Value::List(items) => {
            let mut size = 8usize;
            let mut mapped = Vec::with_capacity(items.len());
            for item in items.iter() {
                run.meter.step()?;
                let value = body.eval(run, Some(item))?;
                size = size.saturating_add(run.meter.size_of(&value, span)?);
                run.meter.allow(size, &"the list `[*]` builds", span)?;
                mapped.push(value);
            }
            Ok(Value::from(mapped))
        }
        Value::Null => Ok(Value::Null),
        other => Err(fail(span, format!("`[*]` needs a list, got {}", other.kind_name()))),
    }
}

fn binary(
    run: &Run<'_>,
    element: Option<&Value>,
    op: BinaryOp,
    left: &Op,
    right: &Op,
    span: Span,
) -> Result<Value, EvalError> {
    let left = left.eval_cow(run, element)?;
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
    let right = right.eval_cow(run, element)?;
    // Comparing, searching and joining big values is work; `+` on texts, lists and objects builds their sum.
    let size = run.meter.size_of(&left, span)?.saturating_add(run.meter.size_of(&right, span)?);
    if op == BinaryOp::Add {
        run.meter.allow(size, &"`+`", span)?;
    }
    operators::binary(op, &left, &right).map_err(|m| fail(span, m))
}

fn call(
    run: &Run<'_>,
    element: Option<&Value>,
    function: &FunctionDef,
    args: &[Op],
    span: Span,
) -> Result<Value, EvalError> {
    let Body::Pure(body) = function.body else {
        return Err(fail(span, format!("`{}` cannot be called here", function.name)));
    };
    let mut values = Vec::with_capacity(args.len());
    let mut arguments_size = 0usize;
    for (arg, param) in args.iter().zip(function.params) {
        let value = arg.eval(run, element)?;
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
        arguments_size = arguments_size.saturating_add(run.meter.size_of(&value, span)?);
        values.push(value);
    }
    let what = ResultOf(function.name);
    match function.result_size {
        ResultSize::Small => {}
        ResultSize::LikeArguments => run.meter.allow(arguments_size, &what, span)?,
        ResultSize::Computed(size) => run.meter.allow(size(&values, arguments_size), &what, span)?,
    }
    let result = body(&values).map_err(|message| fail(span, format!("{}: {message}", function.name)))?;
    if !matches!(function.result_size, ResultSize::Small) {
        run.meter.check(&result, &what, span)?;
    }
    Ok(result)
}

/// "the result of `replace`", written only when a budget error needs it.
struct ResultOf(&'static str);

impl std::fmt::Display for ResultOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the result of `{}`", self.0)
    }
}
