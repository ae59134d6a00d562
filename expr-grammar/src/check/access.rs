//! Names and access chains: `steps.fetch.output.body[0].name`, `data.users[*].email`.
//!
//! A chain is flattened to its base and a list of accessors. When the base is a name, the longest leading
//! run of plain identifiers is handed to the [`Scope`](crate::Scope); the segments it did not consume and the
//! remaining accessors are applied to the resolved type. After `[*]`, the following accessors map over the
//! elements (a projection), and the result is a list.

use super::{Checker, Flags, Node};
use crate::ast::{Expr, ExprKind, Ident};
use crate::program::Op;
use crate::types::Type;
use crate::value::Value;
use crate::{CheckErrorKind, Resolution, Span};
use std::sync::Arc;

enum Accessor<'a> {
    Field(&'a Ident),
    Index(&'a Expr),
    Wildcard,
}

/// One accessor and the span of the chain up to and including it.
struct Step<'a> {
    accessor: Accessor<'a>,
    span: Span,
}

/// The chain being built: `node` is the current value (inside a projection: built on the element),
/// `projections` the sources of the enclosing `[*]`s, outermost first.
struct Chain {
    node: Node,
    projections: Vec<(Node, Span)>,
}

fn flatten(expr: &Expr) -> (&Expr, Vec<Step<'_>>) {
    let mut steps = Vec::new();
    let mut current = expr;
    loop {
        let (accessor, target) = match &current.kind {
            ExprKind::Field { target, field } => (Accessor::Field(field), target),
            ExprKind::Index { target, index } => (Accessor::Index(index), target),
            ExprKind::Wildcard { target } => (Accessor::Wildcard, target),
            _ => break,
        };
        steps.push(Step { accessor, span: current.span });
        current = target;
    }
    steps.reverse();
    (current, steps)
}

impl Checker<'_> {
    pub(super) fn access(&mut self, expr: &Expr) -> Node {
        let (base, steps) = flatten(expr);
        if self.depth + steps.len() >= super::MAX_CHECK_DEPTH {
            self.error(CheckErrorKind::TooDeep, expr.span, "access chain is too long", None);
            return Node::poisoned();
        }
        let (node, consumed) = match &base.kind {
            ExprKind::Name(ident) => self.resolve(ident, &steps),
            _ => (self.expr(base), 0),
        };
        let mut chain = Chain { node, projections: Vec::new() };
        for step in &steps[consumed..] {
            chain = self.apply(chain, step);
        }
        self.close_projections(chain)
    }

    /// Resolve the leading identifier chain; returns the node and how many `steps` it consumed.
    fn resolve(&mut self, name: &Ident, steps: &[Step<'_>]) -> (Node, usize) {
        let fields: Vec<(&Ident, Span)> = steps
            .iter()
            .map_while(|s| if let Accessor::Field(f) = s.accessor { Some((f, s.span)) } else { None })
            .collect();
        let segments: Vec<(&Ident, Span)> = std::iter::once((name, name.span)).chain(fields).collect();
        let path: Vec<&str> = segments.iter().map(|(ident, _)| ident.name.as_str()).collect();
        let (node, consumed) = match self.scope.resolve(&path) {
            Resolution::Slot { consumed, slot, ty } => {
                (Node { op: Op::Slot(slot), ty, flags: Flags { dynamic: true, element: false } }, consumed)
            }
            Resolution::Constant { consumed, value } => {
                let ty = value.type_of();
                (Node::constant(value, ty), consumed)
            }
            Resolution::EnvVar { name: variable } => {
                let op = Op::Env { name: Box::new(Op::Const(Value::from(variable))), fallback: None, span: name.span };
                (Node { op, ty: Type::String, flags: Flags { dynamic: true, element: false } }, 1)
            }
            Resolution::Unknown { segment, message, suggestions } => {
                let span = segments.get(segment).or(segments.last()).map_or(name.span, |(ident, _)| ident.span);
                let hint = suggestions.first().map(|best| crate::suggest::hint_for(best));
                self.error(CheckErrorKind::UnknownName, span, message, hint);
                return (Node::poisoned(), segments.len() - 1);
            }
        };
        let consumed = consumed.min(segments.len());
        let mut node = node;
        for (ident, span) in &segments[consumed..] {
            node = self.field(node, ident, *span);
        }
        (node, segments.len() - 1)
    }

    fn apply(&mut self, chain: Chain, step: &Step<'_>) -> Chain {
        let Chain { node, mut projections } = chain;
        let node = match step.accessor {
            Accessor::Field(ident) => self.field(node, ident, step.span),
            Accessor::Index(index) => self.index(node, index, step.span),
            Accessor::Wildcard => match self.wildcard_item(&node.ty, step.span) {
                Some(item_ty) => {
                    projections.push((node, step.span));
                    Node { op: Op::Element, ty: item_ty, flags: Flags { dynamic: false, element: true } }
                }
                None => Node::poisoned(),
            },
        };
        Chain { node, projections }
    }

    fn close_projections(&mut self, chain: Chain) -> Node {
        let Chain { mut node, projections } = chain;
        for (source, span) in projections.into_iter().rev() {
            let errors_before = self.errors.len();
            let ty = Type::list(node.ty.clone());
            let flags = Flags { dynamic: source.flags.dynamic || node.flags.dynamic, element: source.flags.element };
            let op = Op::Project { source: Box::new(source.op), body: Box::new(node.op), span };
            node = self.build(op, ty, flags, span, errors_before);
        }
        node
    }

    fn wildcard_item(&mut self, ty: &Type, span: Span) -> Option<Type> {
        if let Some(item) = ty.iteration_item_type() {
            return Some(item);
        }
        let hint = match ty {
            Type::Object(_) => Some("for the values of an object, write `values(...)[*]`".to_string()),
            _ => None,
        };
        self.error(CheckErrorKind::NotIterable, span, format!("`[*]` needs a list, got {ty}"), hint);
        None
    }

    /// `target.name`; `span` covers the chain up to the field, the error underlines the field name.
    pub(super) fn field(&mut self, target: Node, name: &Ident, span: Span) -> Node {
        let errors_before = self.errors.len();
        let ty = self.field_type(&target.ty, &name.name, name.span);
        let op = Op::Field { target: Box::new(target.op), name: Arc::from(name.name.as_str()), span };
        self.build(op, ty, target.flags, span, errors_before)
    }

    fn field_type(&mut self, ty: &Type, name: &str, span: Span) -> Type {
        match ty {
            Type::Any => Type::Any,
            Type::Object(object) => match object.fields.get(name) {
                Some(field_ty) => field_ty.clone(),
                None if object.open => Type::Any,
                None => {
                    let hint = crate::suggest::hint(name, object.fields.keys().map(String::as_str));
                    let known: Vec<&str> = object.fields.keys().map(String::as_str).collect();
                    let message = format!("unknown field `{name}`; known fields: {}", known.join(", "));
                    self.error(CheckErrorKind::UnknownField, span, message, hint);
                    Type::Any
                }
            },
            other => {
                let message = format!("cannot read field `{name}` of {other}");
                self.error(CheckErrorKind::TypeMismatch, span, message, None);
                Type::Any
            }
        }
    }

    fn index(&mut self, target: Node, index: &Expr, span: Span) -> Node {
        let errors_before = self.errors.len();
        let key = self.expr(index);
        let ty = match (&target.ty, &key.ty, key.as_constant()) {
            (Type::Any, Type::Any | Type::Int | Type::String, _) => Type::Any,
            (Type::List { of }, Type::Int | Type::Any, _) => (**of).clone(),
            (Type::Object(_), Type::String, Some(Value::String(name))) => self.field_type(&target.ty, name, index.span),
            (Type::Object(_), Type::String | Type::Any, _) => Type::Any,
            (Type::List { .. }, other, _) => {
                self.index_mismatch(index.span, format!("a list index must be an int, got {other}"))
            }
            (Type::Object(_), other, _) => {
                self.index_mismatch(index.span, format!("an object key must be a string, got {other}"))
            }
            (target_ty, key_ty, _) => self.index_mismatch(span, format!("cannot index {target_ty} with {key_ty}")),
        };
        let flags = Flags::of([&target, &key]);
        let op = Op::Index { target: Box::new(target.op), index: Box::new(key.op), span };
        self.build(op, ty, flags, span, errors_before)
    }

    fn index_mismatch(&mut self, span: Span, message: String) -> Type {
        self.error(CheckErrorKind::TypeMismatch, span, message, None);
        Type::Any
    }
}
