//! The `ids` pass: every declared name (input parameters, variables, step ids, `output:` names) is a valid
//! identifier, is not reserved, and is declared once. Builds the symbol table the later passes resolve in.

use std::collections::HashMap;
use std::sync::Arc;

use expr_grammar::{Span, Type, Value};

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::{Spanned, Step, Workflow};
use crate::scope::{Names, RESERVED_NAMES, StepPhase, declared_trigger_kinds, trigger_type};

/// Words of the expression language: a name spelled like one could never be read back.
const KEYWORDS: [&str; 4] = ["true", "false", "null", "in"];

/// Declares every name of `workflow`, reporting invalid, reserved and duplicate ones. `Names::steps[i]` is the
/// i-th step of `workflow.steps` followed by `workflow.on_failure`, duplicates included.
pub fn declare_names(workflow: &Workflow, diagnostics: &mut Vec<Diagnostic>) -> Names {
    let mut names = Names::new(workflow_constants(workflow), trigger_type_of(workflow));
    let mut declared = Declared::default();
    if let Some(inputs) = &workflow.inputs {
        for entry in inputs.iter() {
            if check_identifier(&entry.key, "input parameter", false, diagnostics) {
                names.declare_input(&entry.key.value, entry.value.ty.value.to_type());
            }
        }
    }
    if let Some(variables) = &workflow.variables {
        for entry in variables.iter() {
            if check_identifier(&entry.key, "variable", true, diagnostics) {
                declared.claim(&entry.key, "variable", diagnostics);
            }
            names.declare_variable(&entry.key.value);
        }
    }
    let phases = workflow.steps.iter().enumerate().map(|(i, step)| (StepPhase::Main(i), step));
    let failure_phases = workflow.on_failure.iter().enumerate().map(|(i, step)| (StepPhase::OnFailure(i), step));
    for (phase, step) in phases.chain(failure_phases) {
        declare_step(&mut names, &mut declared, phase, step, diagnostics);
    }
    names
}

fn declare_step(
    names: &mut Names,
    declared: &mut Declared,
    phase: StepPhase,
    step: &Step,
    diagnostics: &mut Vec<Diagnostic>,
) {
    if check_identifier(&step.id, "step id", true, diagnostics) {
        declared.claim(&step.id, "step", diagnostics);
    }
    let output = step.output.as_ref().filter(|output| output.value != step.id.value);
    if let Some(output) = output
        && check_identifier(output, "output name", true, diagnostics)
    {
        declared.claim(output, "output name", diagnostics);
    }
    names.declare_step(&step.id.value, step.output.as_ref().map(|o| o.value.as_str()), phase);
}

/// `workflow.name`, `workflow.description`, `workflow.version`: constants folded into expressions.
/// `trigger`'s type; `any` when a trigger was left out for its errors (its fields are unknown, and guessing
/// would only add errors to fix twice).
fn trigger_type_of(workflow: &Workflow) -> Type {
    if workflow.unreadable_triggers {
        return Type::Any;
    }
    trigger_type(&declared_trigger_kinds(workflow.triggers.iter().map(|trigger| trigger.value.kind())))
}

fn workflow_constants(workflow: &Workflow) -> Vec<(&'static str, Value)> {
    let text = |field: &Option<Spanned<String>>| match field {
        Some(value) => Value::String(Arc::from(value.value.as_str())),
        None => Value::Null,
    };
    vec![
        ("name", text(&workflow.name)),
        ("description", text(&workflow.description)),
        ("version", text(&workflow.version)),
    ]
}

/// Bare names already taken (variables, step ids, output names), with where and as what.
#[derive(Default)]
struct Declared {
    taken: HashMap<String, (Span, &'static str)>,
}

impl Declared {
    fn claim(&mut self, name: &Spanned<String>, what: &'static str, diagnostics: &mut Vec<Diagnostic>) {
        if let Some(&(first_span, first_what)) = self.taken.get(&name.value) {
            let (code, message) = if first_what == "step" && what == "step" {
                (codes::DUPLICATE_ID, format!("duplicate step id `{}`", name.value))
            } else {
                (codes::NAME_CONFLICT, format!("`{}` is already the name of a {first_what}", name.value))
            };
            diagnostics.push(
                Diagnostic::error(code, message, name.span)
                    .with_label(format!("{what} `{}` declared again here", name.value))
                    .with_secondary(first_span, "first declared here")
                    .with_hint("every step id, `output:` name and variable needs its own name"),
            );
            return;
        }
        self.taken.insert(name.value.clone(), (name.span, what));
    }
}

/// Whether `name` can be written in an expression; reports why not. `bare` names must also avoid the roots of
/// the built-in paths (`steps`, `inputs`, ...), which are read before them.
fn check_identifier(name: &Spanned<String>, what: &str, bare: bool, diagnostics: &mut Vec<Diagnostic>) -> bool {
    let text = name.value.as_str();
    let mut chars = text.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        let hint = if text.contains('-') {
            format!("use `_` instead of `-` (`{}`): in an expression `a-b` is a subtraction", text.replace('-', "_"))
        } else {
            "use letters, digits and `_`, not starting with a digit".to_string()
        };
        diagnostics.push(
            Diagnostic::error(codes::INVALID_IDENTIFIER, format!("`{text}` is not a valid {what}"), name.span)
                .with_hint(hint),
        );
        return false;
    }
    let reserved = KEYWORDS.contains(&text) || (bare && RESERVED_NAMES.contains(&text));
    if reserved {
        diagnostics.push(
            Diagnostic::error(codes::NAME_CONFLICT, format!("`{text}` is reserved and cannot be a {what}"), name.span)
                .with_hint(format!("`{text}` already means something in expressions; pick another name")),
        );
        return false;
    }
    true
}
