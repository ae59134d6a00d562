//! Static typing of the operators. `any` passes every check (it is checked at run time).

use crate::ast::{BinaryOp, UnaryOp};
use crate::types::Type;

/// Why an operator does not apply, and which operand to underline.
pub(crate) struct TypeProblem {
    pub message: String,
    pub hint: Option<String>,
    pub at: Culprit,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Culprit {
    Whole,
    Left,
    Right,
}

fn problem(message: String, hint: Option<String>, at: Culprit) -> TypeProblem {
    TypeProblem { message, hint, at }
}

pub(crate) fn unary_type(op: UnaryOp, operand: &Type) -> Result<Type, TypeProblem> {
    match (op, operand) {
        (_, Type::Any) => Ok(if op == UnaryOp::Not { Type::Bool } else { Type::Any }),
        (UnaryOp::Neg, Type::Int | Type::Float | Type::Duration) => Ok(operand.clone()),
        (UnaryOp::Not, Type::Bool) => Ok(Type::Bool),
        (UnaryOp::Neg, other) => Err(problem(format!("cannot negate {other}"), None, Culprit::Whole)),
        (UnaryOp::Not, other) => Err(problem(
            format!("`!` needs a bool, got {other}"),
            Some("compare it to get a bool, e.g. `x == null` or `len(x) == 0`".into()),
            Culprit::Left,
        )),
    }
}

pub(crate) fn binary_type(op: BinaryOp, left: &Type, right: &Type) -> Result<Type, TypeProblem> {
    match op {
        BinaryOp::And | BinaryOp::Or => logic(op, left, right),
        BinaryOp::Eq | BinaryOp::Ne => equality(op, left, right),
        BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => ordering(op, left, right),
        BinaryOp::In => membership(left, right),
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => arithmetic(op, left, right),
    }
}

fn logic(op: BinaryOp, left: &Type, right: &Type) -> Result<Type, TypeProblem> {
    let bool_like = |ty: &Type| matches!(ty, Type::Bool | Type::Any);
    let culprit = if !bool_like(left) {
        (Culprit::Left, left)
    } else if !bool_like(right) {
        (Culprit::Right, right)
    } else {
        return Ok(Type::Bool);
    };
    Err(problem(
        format!("`{}` needs bool operands, got {}", op.symbol(), culprit.1),
        Some("compare it to get a bool, e.g. `x != null` or `len(x) > 0`".into()),
        culprit.0,
    ))
}

/// The hint for the most common comparison mistake: a timestamp against a date written as a string.
fn timestamp_string_hint(left: &Type, right: &Type) -> Option<String> {
    match (left, right) {
        (Type::Timestamp, Type::String) | (Type::String, Type::Timestamp) => {
            Some("parse it first: parse_date('...')".to_string())
        }
        (Type::Duration, Type::String) | (Type::String, Type::Duration) => {
            Some("write a duration literal such as `1h30m`, or parse_duration('...')".to_string())
        }
        (Type::Duration, Type::Int | Type::Float) | (Type::Int | Type::Float, Type::Duration) => {
            Some("write the number with a unit, such as `30s` or `5m`".to_string())
        }
        _ => None,
    }
}

fn comparable(left: &Type, right: &Type) -> bool {
    match (left, right) {
        (Type::Any, _) | (_, Type::Any) => true,
        (a, b) if a.is_numeric() && b.is_numeric() => true,
        (Type::List { of: a }, Type::List { of: b }) => comparable(a, b),
        (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn equality(op: BinaryOp, left: &Type, right: &Type) -> Result<Type, TypeProblem> {
    if comparable(left, right) || matches!(left, Type::Null) || matches!(right, Type::Null) {
        return Ok(Type::Bool);
    }
    let message = format!("`{}` between {left} and {right} is always {}", op.symbol(), op == BinaryOp::Ne);
    Err(problem(message, timestamp_string_hint(left, right), Culprit::Whole))
}

fn ordering(op: BinaryOp, left: &Type, right: &Type) -> Result<Type, TypeProblem> {
    let orderable = |ty: &Type| {
        matches!(
            ty,
            Type::Int | Type::Float | Type::String | Type::Duration | Type::Timestamp | Type::Bool | Type::List { .. }
        )
    };
    let ok = match (left, right) {
        (Type::Any, other) | (other, Type::Any) => orderable(other) || matches!(other, Type::Any),
        (a, b) => orderable(a) && comparable(a, b),
    };
    if ok {
        return Ok(Type::Bool);
    }
    let message = format!("cannot compare {left} with {right} using `{}`", op.symbol());
    Err(problem(message, timestamp_string_hint(left, right), Culprit::Whole))
}

fn membership(left: &Type, right: &Type) -> Result<Type, TypeProblem> {
    let ok = match (left, right) {
        (_, Type::Any) => true,
        (element, Type::List { of }) => comparable(element, of) || matches!(element, Type::Null),
        (Type::String | Type::Any, Type::String | Type::Object(_)) => true,
        _ => false,
    };
    if ok {
        return Ok(Type::Bool);
    }
    Err(problem(
        format!("`in` cannot look for {left} in {right}"),
        Some("`in` finds an element in a list, a substring in a string, or a key in an object".to_string()),
        Culprit::Whole,
    ))
}

fn arithmetic(op: BinaryOp, left: &Type, right: &Type) -> Result<Type, TypeProblem> {
    use Type::{Any, Duration as D, Float, Int, Timestamp as T};
    let result = match (op, left, right) {
        (_, Int, Int) => Some(Int),
        (_, Int | Float, Int | Float) => Some(Float),
        (BinaryOp::Add, Type::String, Type::String) => Some(Type::String),
        (BinaryOp::Add, Type::List { of: a }, Type::List { of: b }) => Some(Type::list(a.unify(b))),
        (BinaryOp::Add, Type::Object(_), Type::Object(_)) => Some(Any),
        (BinaryOp::Add, T, D) | (BinaryOp::Add, D, T) | (BinaryOp::Sub, T, D) => Some(T),
        (BinaryOp::Sub, T, T) | (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Rem, D, D) => Some(D),
        (BinaryOp::Mul, D, Int | Float) | (BinaryOp::Mul, Int | Float, D) | (BinaryOp::Div, D, Int | Float) => Some(D),
        (BinaryOp::Div, D, D) => Some(Float),
        (_, Any, other) | (_, other, Any) => any_arithmetic(op, other),
        _ => None,
    };
    result.ok_or_else(|| {
        let message = format!("cannot apply `{}` to {left} and {right}", op.symbol());
        let hint = timestamp_string_hint(left, right).or_else(|| {
            (op == BinaryOp::Add && (matches!(left, Type::String) || matches!(right, Type::String)))
                .then(|| "convert the other side with string(...), or use a template: '${a}${b}'".to_string())
        });
        problem(message, hint, Culprit::Whole)
    })
}

/// `any` with a known type: allowed when some value of `any` could make the operation valid.
fn any_arithmetic(op: BinaryOp, known: &Type) -> Option<Type> {
    let possible = match known {
        Type::Any | Type::Int | Type::Float => true,
        Type::String | Type::List { .. } | Type::Object(_) => op == BinaryOp::Add,
        Type::Duration => true,
        Type::Timestamp => matches!(op, BinaryOp::Add | BinaryOp::Sub),
        Type::Null | Type::Bool => false,
    };
    possible.then_some(Type::Any)
}
