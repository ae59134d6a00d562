//! Compiling one workflow string (a template, an `if:`, an item condition) with a scope, and turning the
//! expression crate's errors into diagnostics whose spans point at the exact characters in the file.

use expr_grammar::ast::{Expr, ExprKind, Ident};
use expr_grammar::{CheckError, CheckErrorKind, Compiled, SyntaxError, Template, TemplatePart};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::Text;
use crate::scope::ExprScope;

/// How a string is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextForm {
    /// Literal text with `${...}` parts (input values, variables, `loop:`).
    Template,
    /// A bare expression, or a string that is exactly one `${...}` (`if:`, a filter's `condition`).
    Expression,
}

/// A parsed string, before names are resolved.
#[derive(Debug, Clone)]
pub enum Parsed {
    Template(Template),
    Expression(Expr),
}

/// Parse `text`; syntax errors become diagnostics.
pub fn parse_text(text: &Text, form: TextForm, diagnostics: &mut Vec<Diagnostic>) -> Option<Parsed> {
    report_syntax(text, parse_source(text, form), diagnostics)
}

/// Parse `text` as `form`, keeping the syntax errors as they are.
pub fn parse_source(text: &Text, form: TextForm) -> Result<Parsed, Vec<SyntaxError>> {
    match form {
        TextForm::Template => expr_grammar::parse_template(&text.value).map(Parsed::Template),
        TextForm::Expression => parse_condition(&text.value),
    }
}

/// The parsed string, or `None` with its syntax errors turned into diagnostics.
pub fn report_syntax(
    text: &Text,
    result: Result<Parsed, Vec<SyntaxError>>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Parsed> {
    match result {
        Ok(parsed) => Some(parsed),
        Err(errors) => {
            diagnostics.extend(errors.into_iter().map(|error| syntax_diagnostic(text, error)));
            None
        }
    }
}

/// A condition is a bare expression; `${...}` around the whole of it (blanks aside) is accepted too.
fn parse_condition(source: &str) -> Result<Parsed, Vec<SyntaxError>> {
    let trimmed = source.trim();
    if trimmed.starts_with("${")
        && trimmed.ends_with('}')
        && let Ok(template) = expr_grammar::parse_template(source)
        && let Some(expr) = single_expression(&template)
    {
        return Ok(Parsed::Expression(expr.clone()));
    }
    expr_grammar::parse_expression(source).map(Parsed::Expression)
}

/// The one `${...}` of a template whose other parts are blank.
fn single_expression(template: &Template) -> Option<&Expr> {
    let mut found = None;
    for part in &template.parts {
        match part {
            TemplatePart::Expr(expr) if found.is_none() => found = Some(expr),
            TemplatePart::Literal(text) if text.trim().is_empty() => {}
            _ => return None,
        }
    }
    found
}

/// Resolve and check a parsed string; errors become diagnostics.
pub fn compile_parsed(
    text: &Text,
    parsed: &Parsed,
    scope: &ExprScope<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Compiled> {
    let result = match parsed {
        Parsed::Template(template) => expr_grammar::compile_template(template, scope),
        Parsed::Expression(expr) => expr_grammar::compile_expression(expr, scope),
    };
    match result {
        Ok(compiled) => Some(compiled),
        Err(errors) => {
            diagnostics.extend(errors.into_iter().map(|error| check_diagnostic(text, error, scope)));
            None
        }
    }
}

fn syntax_diagnostic(text: &Text, error: SyntaxError) -> Diagnostic {
    let mut diagnostic = Diagnostic::error(codes::EXPR_SYNTAX, error.message, text.file_span(error.span));
    if let Some((span, label)) = error.related {
        diagnostic = diagnostic.with_secondary(text.file_span(span), label);
    }
    match error.hint {
        Some(hint) => diagnostic.with_hint(hint),
        None => diagnostic,
    }
}

fn check_diagnostic(text: &Text, error: CheckError, scope: &ExprScope<'_>) -> Diagnostic {
    let code = scope.code_for(&error.message).unwrap_or(match error.kind {
        CheckErrorKind::UnknownName => codes::UNKNOWN_NAME,
        CheckErrorKind::UnknownField => codes::UNKNOWN_FIELD,
        CheckErrorKind::UnknownFunction => codes::UNKNOWN_FUNCTION,
        CheckErrorKind::WrongArgumentCount => codes::WRONG_ARGUMENT_COUNT,
        CheckErrorKind::TypeMismatch => codes::EXPR_TYPE_MISMATCH,
        CheckErrorKind::NotIterable => codes::NOT_ITERABLE,
        CheckErrorKind::TooDeep => codes::TOO_DEEP,
        CheckErrorKind::EvaluationFailed => codes::CONSTANT_FAILED,
        CheckErrorKind::OverBudget => codes::EXPR_OVER_BUDGET,
    });
    let diagnostic = Diagnostic::error(code, error.message, text.file_span(error.span));
    match error.hint {
        Some(hint) => diagnostic.with_hint(hint),
        None => diagnostic,
    }
}

/// Every name path read by a parsed string (`steps.a.output.body` as its identifiers), for the checks made
/// before compiling (secrets).
pub fn name_paths(parsed: &Parsed) -> Vec<Vec<&Ident>> {
    let mut paths = Vec::new();
    match parsed {
        Parsed::Expression(expr) => collect_paths(expr, &mut paths),
        Parsed::Template(template) => {
            for part in &template.parts {
                if let TemplatePart::Expr(expr) = part {
                    collect_paths(expr, &mut paths);
                }
            }
        }
    }
    paths
}

fn path_of(expr: &Expr) -> Option<Vec<&Ident>> {
    match &expr.kind {
        ExprKind::Name(ident) => Some(vec![ident]),
        ExprKind::Field { target, field } => {
            let mut path = path_of(target)?;
            path.push(field);
            Some(path)
        }
        _ => None,
    }
}

fn collect_paths<'a>(expr: &'a Expr, out: &mut Vec<Vec<&'a Ident>>) {
    if let Some(path) = path_of(expr) {
        out.push(path);
        return;
    }
    match &expr.kind {
        ExprKind::Literal(_) | ExprKind::Name(_) => {}
        ExprKind::List(items) => items.iter().for_each(|item| collect_paths(item, out)),
        ExprKind::Object(entries) => entries.iter().for_each(|(_, value)| collect_paths(value, out)),
        ExprKind::Field { target, .. } | ExprKind::Wildcard { target } => collect_paths(target, out),
        ExprKind::Index { target, index } => {
            collect_paths(target, out);
            collect_paths(index, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|arg| collect_paths(arg, out)),
        ExprKind::Unary { operand, .. } => collect_paths(operand, out),
        ExprKind::Binary { left, right, .. } => {
            collect_paths(left, out);
            collect_paths(right, out);
        }
    }
}
