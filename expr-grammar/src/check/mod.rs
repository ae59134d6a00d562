//! AST to [`Program`]: names resolved through the compiler's [`Scope`], types checked, constant sub-trees
//! folded. Every error is collected; a sub-expression with an error is typed `any` so one mistake is
//! reported once, not again by everything around it.

mod access;
mod calls;
mod operators;

use crate::ast::{BinaryOp, Expr, ExprKind, Literal};
use crate::program::{Op, Program, Run};
use crate::types::Type;
use crate::value::Value;
use crate::{
    CheckError, CheckErrorKind, Compiled, EvalContext, EvalErrorKind, Scope, SlotRef, Span, Template, TemplatePart,
};
use operators::Culprit;
use std::sync::Arc;

/// Deeper ASTs than this (only possible when built by hand, the parser stops at 64) are rejected.
const MAX_CHECK_DEPTH: usize = 2 * crate::parse::MAX_DEPTH;

pub(crate) fn compile_expression(expr: &Expr, scope: &dyn Scope) -> Result<Compiled, Vec<CheckError>> {
    let mut checker = Checker { scope, errors: Vec::new(), depth: 0 };
    let node = checker.expr(expr);
    checker.finish(node)
}

pub(crate) fn compile_template(template: &Template, scope: &dyn Scope) -> Result<Compiled, Vec<CheckError>> {
    if let [TemplatePart::Expr(expr)] = template.parts.as_slice() {
        return compile_expression(expr, scope);
    }
    let mut checker = Checker { scope, errors: Vec::new(), depth: 0 };
    let parts: Vec<Node> = template
        .parts
        .iter()
        .map(|part| match part {
            TemplatePart::Literal(text) => Node::constant(Value::string(text), Type::String),
            TemplatePart::Expr(expr) => checker.expr(expr),
        })
        .collect();
    let flags = Flags::of(&parts);
    let span = template_span(template);
    let op = Op::Interpolate { parts: parts.into_iter().map(|n| n.op).collect(), span };
    let node = checker.build(op, Type::String, flags, span, 0);
    checker.finish(node)
}

fn template_span(template: &Template) -> Span {
    let spans = template.parts.iter().filter_map(|p| match p {
        TemplatePart::Expr(e) => Some(e.span),
        TemplatePart::Literal(_) => None,
    });
    spans.reduce(Span::to).unwrap_or_default()
}

/// What a compiled sub-expression reads: slots / clock / environment (`dynamic`), or the projection
/// element (`element`). Sub-trees with neither are folded to constants.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Flags {
    pub dynamic: bool,
    pub element: bool,
}

impl Flags {
    fn of<'a>(nodes: impl IntoIterator<Item = &'a Node>) -> Flags {
        nodes.into_iter().fold(Flags::default(), |acc, n| Flags {
            dynamic: acc.dynamic || n.flags.dynamic,
            element: acc.element || n.flags.element,
        })
    }
}

pub(crate) struct Node {
    pub op: Op,
    pub ty: Type,
    pub flags: Flags,
}

impl Node {
    fn constant(value: Value, ty: Type) -> Node {
        Node { op: Op::Const(value), ty, flags: Flags::default() }
    }

    /// The stand-in for a sub-expression that had an error: `any` raises no further errors.
    fn poisoned() -> Node {
        Node { op: Op::Const(Value::Null), ty: Type::Any, flags: Flags { dynamic: true, element: false } }
    }

    fn as_constant(&self) -> Option<&Value> {
        match &self.op {
            Op::Const(value) => Some(value),
            _ => None,
        }
    }
}

pub(crate) struct Checker<'s> {
    scope: &'s dyn Scope,
    errors: Vec<CheckError>,
    depth: usize,
}

impl Checker<'_> {
    fn finish(self, node: Node) -> Result<Compiled, Vec<CheckError>> {
        if !self.errors.is_empty() {
            return Err(self.errors);
        }
        Ok(Compiled { program: Program::new(node.op), ty: node.ty })
    }

    fn error(&mut self, kind: CheckErrorKind, span: Span, message: impl Into<String>, hint: Option<String>) {
        self.errors.push(CheckError { kind, span, message: message.into(), hint });
    }

    /// Wrap up a node: fold it to a constant when it reads nothing at run time and its sub-tree had no
    /// error (`errors_before` is the error count when checking of this sub-tree began).
    fn build(&mut self, op: Op, ty: Type, flags: Flags, span: Span, errors_before: usize) -> Node {
        let foldable = !flags.dynamic && !flags.element && !matches!(op, Op::Const(_));
        if !foldable || self.errors.len() > errors_before {
            return Node { op, ty, flags };
        }
        match op.eval(&Run::new(&NoContext, self.scope.budget()), None) {
            Ok(value) => Node::constant(value, ty),
            Err(error) => {
                let span = if error.span == Span::default() { span } else { error.span };
                match error.kind {
                    EvalErrorKind::Failed => {
                        let message = format!("this constant expression fails: {}", error.message);
                        self.error(CheckErrorKind::EvaluationFailed, span, message, None);
                    }
                    EvalErrorKind::OverBudget => {
                        let hint = "build less in one expression, or raise the expression budget".to_string();
                        self.error(CheckErrorKind::OverBudget, span, error.message, Some(hint));
                    }
                }
                Node::poisoned()
            }
        }
    }

    pub(crate) fn expr(&mut self, expr: &Expr) -> Node {
        if self.depth >= MAX_CHECK_DEPTH {
            let message = format!("expression is nested deeper than {MAX_CHECK_DEPTH} levels");
            self.error(CheckErrorKind::TooDeep, expr.span, message, None);
            return Node::poisoned();
        }
        self.depth += 1;
        let node = self.expr_inner(expr);
        self.depth -= 1;
        node
    }

    fn expr_inner(&mut self, expr: &Expr) -> Node {
        let errors_before = self.errors.len();
        match &expr.kind {
            ExprKind::Literal(literal) => literal_node(literal),
            ExprKind::List(items) => {
                let nodes: Vec<Node> = items.iter().map(|item| self.expr(item)).collect();
                let ty = Type::list(nodes.iter().map(|n| n.ty.clone()).reduce(|a, b| a.unify(&b)).unwrap_or(Type::Any));
                let flags = Flags::of(&nodes);
                let op = Op::List { items: nodes.into_iter().map(|n| n.op).collect(), span: expr.span };
                self.build(op, ty, flags, expr.span, errors_before)
            }
            ExprKind::Object(entries) => self.object(entries, expr.span, errors_before),
            ExprKind::Name(_) | ExprKind::Field { .. } | ExprKind::Index { .. } | ExprKind::Wildcard { .. } => {
                self.access(expr)
            }
            ExprKind::Call { function, args } => self.call(function, args, expr.span),
            ExprKind::Unary { op, operand } => {
                let inner = self.expr(operand);
                let ty = match operators::unary_type(*op, &inner.ty) {
                    Ok(ty) => ty,
                    Err(problem) => {
                        let span = if problem.at == Culprit::Whole { expr.span } else { operand.span };
                        self.error(CheckErrorKind::TypeMismatch, span, problem.message, problem.hint);
                        Type::Any
                    }
                };
                let op = Op::Unary { op: *op, operand: Box::new(inner.op), span: expr.span };
                self.build(op, ty, inner.flags, expr.span, errors_before)
            }
            ExprKind::Binary { op, left, right, .. } => self.binary(*op, left, right, expr.span, errors_before),
        }
    }

    fn object(&mut self, entries: &[(crate::ast::Ident, Expr)], span: Span, errors_before: usize) -> Node {
        let mut fields = std::collections::BTreeMap::new();
        let mut ops = Vec::with_capacity(entries.len());
        let mut flags = Flags::default();
        for (key, value) in entries {
            let node = self.expr(value);
            flags = Flags::of([&node]).merge(flags);
            fields.insert(key.name.clone(), node.ty);
            ops.push((Arc::<str>::from(key.name.as_str()), node.op));
        }
        let ty = Type::Object(crate::types::ObjectType { fields, open: false });
        self.build(Op::Object { entries: ops.into_boxed_slice(), span }, ty, flags, span, errors_before)
    }

    fn binary(&mut self, op: BinaryOp, left: &Expr, right: &Expr, span: Span, errors_before: usize) -> Node {
        let (l, r) = (self.expr(left), self.expr(right));
        let ty = match operators::binary_type(op, &l.ty, &r.ty) {
            Ok(ty) => ty,
            Err(problem) => {
                let at = match problem.at {
                    Culprit::Whole => span,
                    Culprit::Left => left.span,
                    Culprit::Right => right.span,
                };
                self.error(CheckErrorKind::TypeMismatch, at, problem.message, problem.hint);
                Type::Any
            }
        };
        let flags = Flags::of([&l, &r]);
        let op = Op::Binary { op, left: Box::new(l.op), right: Box::new(r.op), span };
        self.build(op, ty, flags, span, errors_before)
    }
}

impl Flags {
    fn merge(self, other: Flags) -> Flags {
        Flags { dynamic: self.dynamic || other.dynamic, element: self.element || other.element }
    }
}

fn literal_node(literal: &Literal) -> Node {
    let (value, ty) = match literal {
        Literal::Null => (Value::Null, Type::Null),
        Literal::Bool(b) => (Value::Bool(*b), Type::Bool),
        Literal::Int(i) => (Value::Int(*i), Type::Int),
        Literal::Float(x) => (Value::Float(*x), Type::Float),
        Literal::String(s) => (Value::string(s), Type::String),
        Literal::Duration(d) => (Value::Duration(*d), Type::Duration),
    };
    Node::constant(value, ty)
}

/// The context constant folding evaluates in. Folding never reaches a slot, the clock or the environment
/// (those sub-trees are marked dynamic), so these answers are never used.
struct NoContext;

static NULL: Value = Value::Null;

impl EvalContext for NoContext {
    fn slot(&self, _slot: SlotRef) -> &Value {
        &NULL
    }

    fn now(&self) -> crate::Timestamp {
        crate::Timestamp(0)
    }

    fn env_var(&self, _name: &str) -> Option<String> {
        None
    }
}
