//! Run-time semantics of the operators, shared by evaluation and compile-time constant folding.
//! Errors are messages; the caller attaches the span.

use crate::ast::{BinaryOp, UnaryOp};
use crate::value::{Duration, Timestamp, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// Every binary operator except the short-circuiting `&&` and `||`, which the evaluator handles.
pub(crate) fn binary(op: BinaryOp, left: &Value, right: &Value) -> Result<Value, String> {
    match op {
        BinaryOp::Add => add(left, right),
        BinaryOp::Sub => sub(left, right),
        BinaryOp::Mul => mul(left, right),
        BinaryOp::Div => div(left, right),
        BinaryOp::Rem => rem(left, right),
        BinaryOp::Eq => Ok(Value::Bool(left == right)),
        BinaryOp::Ne => Ok(Value::Bool(left != right)),
        BinaryOp::Lt => compare(op, left, right, Ordering::is_lt),
        BinaryOp::Le => compare(op, left, right, Ordering::is_le),
        BinaryOp::Gt => compare(op, left, right, Ordering::is_gt),
        BinaryOp::Ge => compare(op, left, right, Ordering::is_ge),
        BinaryOp::In => contains(left, right),
        BinaryOp::And | BinaryOp::Or => logic(op, left, right),
    }
}

pub(crate) fn unary(op: UnaryOp, operand: &Value) -> Result<Value, String> {
    match (op, operand) {
        (UnaryOp::Neg, Value::Int(i)) => i.checked_neg().map(Value::Int).ok_or_else(overflow),
        (UnaryOp::Neg, Value::Float(x)) => Ok(Value::Float(-x)),
        (UnaryOp::Neg, Value::Duration(d)) => {
            d.0.checked_neg().map(|d| Value::Duration(Duration(d))).ok_or_else(overflow)
        }
        (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
        (op, value) => Err(format!("cannot apply `{}` to {}", op.symbol(), value.kind_name())),
    }
}

/// `&&` / `||` on two already evaluated operands (used when folding constants).
pub(crate) fn logic(op: BinaryOp, left: &Value, right: &Value) -> Result<Value, String> {
    match (left, right) {
        (Value::Bool(a), Value::Bool(b)) => Ok(Value::Bool(if op == BinaryOp::And { *a && *b } else { *a || *b })),
        _ => Err(mismatch(op, left, right)),
    }
}

fn mismatch(op: BinaryOp, left: &Value, right: &Value) -> String {
    format!("cannot apply `{}` to {} and {}", op.symbol(), left.kind_name(), right.kind_name())
}

fn overflow() -> String {
    "arithmetic overflow".to_string()
}

fn float(x: f64) -> Result<Value, String> {
    if x.is_finite() { Ok(Value::Float(x)) } else { Err("the result is not a finite number".to_string()) }
}

fn duration(micros: Option<i64>) -> Result<Value, String> {
    micros.map(|d| Value::Duration(Duration(d))).ok_or_else(overflow)
}

fn timestamp(micros: Option<i64>) -> Result<Value, String> {
    micros.map(|t| Value::Timestamp(Timestamp(t))).ok_or_else(overflow)
}

fn add(left: &Value, right: &Value) -> Result<Value, String> {
    match (left, right) {
        (Value::Int(a), Value::Int(b)) => a.checked_add(*b).map(Value::Int).ok_or_else(overflow),
        (Value::String(a), Value::String(b)) => Ok(Value::String(Arc::from(format!("{a}{b}")))),
        (Value::Timestamp(t), Value::Duration(d)) | (Value::Duration(d), Value::Timestamp(t)) => {
            timestamp(t.0.checked_add(d.0))
        }
        (Value::Duration(a), Value::Duration(b)) => duration(a.0.checked_add(b.0)),
        (Value::List(a), Value::List(b)) => Ok(Value::list(a.iter().chain(b.iter()).cloned())),
        (Value::Object(a), Value::Object(b)) => {
            let mut merged = (**a).clone();
            merged.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
            Ok(Value::from(merged))
        }
        _ => numeric(left, right, |a, b| a + b).unwrap_or_else(|| Err(mismatch(BinaryOp::Add, left, right))),
    }
}

fn sub(left: &Value, right: &Value) -> Result<Value, String> {
    match (left, right) {
        (Value::Int(a), Value::Int(b)) => a.checked_sub(*b).map(Value::Int).ok_or_else(overflow),
        (Value::Timestamp(t), Value::Duration(d)) => timestamp(t.0.checked_sub(d.0)),
        (Value::Timestamp(a), Value::Timestamp(b)) => duration(a.0.checked_sub(b.0)),
        (Value::Duration(a), Value::Duration(b)) => duration(a.0.checked_sub(b.0)),
        _ => numeric(left, right, |a, b| a - b).unwrap_or_else(|| Err(mismatch(BinaryOp::Sub, left, right))),
    }
}

fn mul(left: &Value, right: &Value) -> Result<Value, String> {
    match (left, right) {
        (Value::Int(a), Value::Int(b)) => a.checked_mul(*b).map(Value::Int).ok_or_else(overflow),
        (Value::Duration(d), Value::Int(n)) | (Value::Int(n), Value::Duration(d)) => duration(d.0.checked_mul(*n)),
        (Value::Duration(d), Value::Float(x)) | (Value::Float(x), Value::Duration(d)) => scale_duration(*d, *x),
        _ => numeric(left, right, |a, b| a * b).unwrap_or_else(|| Err(mismatch(BinaryOp::Mul, left, right))),
    }
}

fn scale_duration(d: Duration, factor: f64) -> Result<Value, String> {
    let micros = (d.0 as f64 * factor).round();
    if micros.is_finite() && micros.abs() < i64::MAX as f64 { duration(Some(micros as i64)) } else { Err(overflow()) }
}

fn div(left: &Value, right: &Value) -> Result<Value, String> {
    let zero = || "division by zero".to_string();
    match (left, right) {
        (_, Value::Int(0)) => Err(zero()),
        (_, Value::Float(x)) if *x == 0.0 => Err(zero()),
        (_, Value::Duration(Duration(0))) => Err(zero()),
        (Value::Int(a), Value::Int(b)) => a.checked_div(*b).map(Value::Int).ok_or_else(overflow),
        (Value::Duration(d), Value::Int(n)) => duration(d.0.checked_div(*n)),
        (Value::Duration(d), Value::Float(x)) => scale_duration(*d, 1.0 / x),
        (Value::Duration(a), Value::Duration(b)) => float(a.0 as f64 / b.0 as f64),
        _ => numeric(left, right, |a, b| a / b).unwrap_or_else(|| Err(mismatch(BinaryOp::Div, left, right))),
    }
}

fn rem(left: &Value, right: &Value) -> Result<Value, String> {
    let zero = || "division by zero".to_string();
    match (left, right) {
        (_, Value::Int(0)) => Err(zero()),
        (_, Value::Float(x)) if *x == 0.0 => Err(zero()),
        (_, Value::Duration(Duration(0))) => Err(zero()),
        (Value::Int(a), Value::Int(b)) => a.checked_rem(*b).map(Value::Int).ok_or_else(overflow),
        (Value::Duration(a), Value::Duration(b)) => duration(a.0.checked_rem(b.0)),
        _ => numeric(left, right, |a, b| a % b).unwrap_or_else(|| Err(mismatch(BinaryOp::Rem, left, right))),
    }
}

/// Float arithmetic when both sides are numbers and at least one is a float; `None` for non-numbers.
fn numeric(left: &Value, right: &Value, op: fn(f64, f64) -> f64) -> Option<Result<Value, String>> {
    match (left, right) {
        (Value::Float(_), Value::Int(_) | Value::Float(_)) | (Value::Int(_), Value::Float(_)) => {
            Some(float(op(left.as_f64()?, right.as_f64()?)))
        }
        _ => None,
    }
}

fn compare(op: BinaryOp, left: &Value, right: &Value, test: fn(Ordering) -> bool) -> Result<Value, String> {
    let comparable = matches!(
        (left, right),
        (Value::Int(_) | Value::Float(_), Value::Int(_) | Value::Float(_))
            | (Value::String(_), Value::String(_))
            | (Value::Duration(_), Value::Duration(_))
            | (Value::Timestamp(_), Value::Timestamp(_))
            | (Value::Bool(_), Value::Bool(_))
            | (Value::List(_), Value::List(_))
    );
    if !comparable {
        return Err(format!("cannot compare {} with {} using `{}`", left.kind_name(), right.kind_name(), op.symbol()));
    }
    // NaN compares as false in every direction.
    Ok(Value::Bool(left.partial_cmp(right).is_some_and(test)))
}

fn contains(needle: &Value, haystack: &Value) -> Result<Value, String> {
    match (needle, haystack) {
        (_, Value::List(items)) => Ok(Value::Bool(items.iter().any(|item| item == needle))),
        (Value::String(part), Value::String(whole)) => Ok(Value::Bool(whole.contains(&**part))),
        (Value::String(key), Value::Object(object)) => Ok(Value::Bool(object.contains_key(&**key))),
        _ => Err(format!(
            "`in` needs an element and a list, a substring and a string, or a key and an object; got {} in {}",
            needle.kind_name(),
            haystack.kind_name()
        )),
    }
}
