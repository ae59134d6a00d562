//! Function calls: look the function up, check the argument count and each argument's type, and compile
//! the special forms (`if`, `default`, `now`, `env`) to their own program nodes.

use super::{Checker, Flags, Node};
use crate::ast::{Expr, Ident};
use crate::functions::{self, Body, FunctionDef};
use crate::program::Op;
use crate::types::Type;
use crate::value::Value;
use crate::{CheckErrorKind, Span};

impl Checker<'_> {
    pub(super) fn call(&mut self, function: &Ident, args: &[Expr], span: Span) -> Node {
        let errors_before = self.errors.len();
        let nodes: Vec<Node> = args.iter().map(|arg| self.expr(arg)).collect();
        let Some(def) = functions::lookup(&function.name) else {
            let hint = crate::suggest::hint(&function.name, functions::all().map(|f| f.name));
            let message = format!("unknown function `{}`", function.name);
            self.error(CheckErrorKind::UnknownFunction, function.span, message, hint);
            return Node::poisoned();
        };
        if nodes.len() < def.required || nodes.len() > def.params.len() {
            let message = format!("`{}` takes {}, got {}", def.name, def.arity_text(), nodes.len());
            self.error(CheckErrorKind::WrongArgumentCount, span, message, Some(def.signature()));
            return Node::poisoned();
        }
        self.check_argument_types(def, args, &nodes);
        let types: Vec<Type> = nodes.iter().map(|n| n.ty.clone()).collect();
        let ty = match (def.result_type)(&types) {
            Ok(ty) => ty,
            Err(message) => {
                let at = args.first().map_or(span, |arg| arg.span);
                self.error(CheckErrorKind::TypeMismatch, at, message, Some(def.signature()));
                Type::Any
            }
        };
        match def.body {
            Body::Pure(_) => {
                let flags = Flags::of(&nodes);
                let op = Op::Call { function: def, args: nodes.into_iter().map(|n| n.op).collect(), span };
                self.build(op, ty, flags, span, errors_before)
            }
            Body::If => self.if_node(nodes, ty, span, errors_before),
            Body::Default => {
                let mut nodes = nodes.into_iter();
                let (value, fallback) =
                    (nodes.next().unwrap_or_else(Node::poisoned), nodes.next().unwrap_or_else(Node::poisoned));
                if let Some(v) = value.as_constant().filter(|v| !v.is_null()) {
                    return Node::constant(v.clone(), ty);
                }
                let flags = Flags::of([&value, &fallback]);
                let op = Op::Default { value: Box::new(value.op), fallback: Box::new(fallback.op) };
                self.build(op, ty, flags, span, errors_before)
            }
            Body::Now => Node { op: Op::Now, ty, flags: Flags { dynamic: true, element: false } },
            Body::Env => {
                let mut nodes = nodes.into_iter();
                let name = Box::new(nodes.next().map_or(Op::Const(Value::Null), |n| n.op));
                let fallback = nodes.next().map(|n| Box::new(n.op));
                Node { op: Op::Env { name, fallback, span }, ty, flags: Flags { dynamic: true, element: false } }
            }
        }
    }

    fn check_argument_types(&mut self, def: &FunctionDef, args: &[Expr], nodes: &[Node]) {
        for ((arg, node), param) in args.iter().zip(nodes).zip(def.params) {
            if param.accepts.accepts_type(&node.ty) {
                continue;
            }
            let message = format!("`{}` expects {} for `{}`, got {}", def.name, param.accepts, param.name, node.ty);
            self.error(CheckErrorKind::TypeMismatch, arg.span, message, Some(def.signature()));
        }
    }

    /// `if(c, a, b)`: lazy; a constant condition picks its branch at compile time.
    fn if_node(&mut self, nodes: Vec<Node>, ty: Type, span: Span, errors_before: usize) -> Node {
        let [condition, then, otherwise]: [Node; 3] = match nodes.try_into() {
            Ok(three) => three,
            Err(_) => return Node::poisoned(),
        };
        match condition.as_constant() {
            Some(Value::Bool(true)) => return Node { ty, ..then },
            Some(Value::Bool(false)) => return Node { ty, ..otherwise },
            _ => {}
        }
        let flags = Flags::of([&condition, &then, &otherwise]);
        let op = Op::If {
            condition: Box::new(condition.op),
            then: Box::new(then.op),
            otherwise: Box::new(otherwise.op),
            span,
        };
        self.build(op, ty, flags, span, errors_before)
    }
}
