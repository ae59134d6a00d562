//! Parsed, unchecked expressions: what [`crate::parse_expression`] and [`crate::parse_template`] return.
//! Names are not resolved and types not checked yet; every node carries the span of its source text.

use crate::Span;
use crate::value::Duration;

/// An expression node and the span of the text it was parsed from.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub span: Span,
    pub kind: ExprKind,
}

/// An identifier with its place in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Literal(Literal),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `{a: 1, "b c": 2}`: keys in source order.
    Object(Vec<(Ident, Expr)>),
    /// A bare identifier: the start of a name path (`steps`, `item`, `HOME`, `modified_at`).
    Name(Ident),
    /// `target.field`
    Field {
        target: Box<Expr>,
        field: Ident,
    },
    /// `target[index]`
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
    /// `target[*]`: the accesses after it map over the elements of `target`.
    Wildcard {
        target: Box<Expr>,
    },
    /// `function(args...)`
    Call {
        function: Ident,
        args: Vec<Expr>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        op_span: Span,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
    Duration(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `!x`
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    In,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
            BinaryOp::In => "in",
        }
    }
}

impl UnaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            UnaryOp::Neg => "-",
            UnaryOp::Not => "!",
        }
    }
}

impl Expr {
    pub fn new(span: Span, kind: ExprKind) -> Self {
        Expr { span, kind }
    }
}

/// Fully parenthesized source form: shows how precedence grouped an expression (`(1 + (2 * 3))`).
impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.kind {
            ExprKind::Literal(literal) => write!(f, "{literal}"),
            ExprKind::List(items) => {
                f.write_str("[")?;
                write_separated(f, items.iter())?;
                f.write_str("]")
            }
            ExprKind::Object(entries) => {
                f.write_str("{")?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    let sep = if i > 0 { ", " } else { "" };
                    write!(f, "{sep}{:?}: {value}", key.name)?;
                }
                f.write_str("}")
            }
            ExprKind::Name(ident) => f.write_str(&ident.name),
            ExprKind::Field { target, field } => write!(f, "{target}.{}", field.name),
            ExprKind::Index { target, index } => write!(f, "{target}[{index}]"),
            ExprKind::Wildcard { target } => write!(f, "{target}[*]"),
            ExprKind::Call { function, args } => {
                write!(f, "{}(", function.name)?;
                write_separated(f, args.iter())?;
                f.write_str(")")
            }
            ExprKind::Unary { op, operand } => write!(f, "({}{operand})", op.symbol()),
            ExprKind::Binary { op, left, right, .. } => write!(f, "({left} {} {right})", op.symbol()),
        }
    }
}

fn write_separated<'a>(f: &mut std::fmt::Formatter<'_>, items: impl Iterator<Item = &'a Expr>) -> std::fmt::Result {
    for (i, item) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{item}")?;
    }
    Ok(())
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Literal::Null => f.write_str("null"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Int(i) => write!(f, "{i}"),
            Literal::Float(x) => write!(f, "{x:?}"),
            Literal::String(s) => write!(f, "{s:?}"),
            Literal::Duration(d) => write!(f, "{d}"),
        }
    }
}
