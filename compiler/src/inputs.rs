//! The `inputs` pass: a step gives every required input of its action and no input the action does not take
//! (unless the action accepts any, like `transform`). Types are checked later, with the expressions.

use connectors::ActionDefinition;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::Step;

pub fn check_inputs(steps: &[&Step], actions: &[Option<&ActionDefinition>], diagnostics: &mut Vec<Diagnostic>) {
    for (step, definition) in steps.iter().zip(actions) {
        if let Some(definition) = definition {
            check_step_inputs(step, definition, diagnostics);
        }
    }
}

fn check_step_inputs(step: &Step, definition: &ActionDefinition, diagnostics: &mut Vec<Diagnostic>) {
    let given = |name: &str| step.input.as_ref().is_some_and(|input| input.get(name).is_some());
    // Reported at the action: the missing field has no place of its own in the file.
    let place = step.action.as_ref().map_or(step.id.span, |action| action.span);
    for field in definition.inputs.iter().filter(|field| field.required && !given(&field.name)) {
        diagnostics.push(
            Diagnostic::error(
                codes::MISSING_INPUT,
                format!("step `{}` is missing input `{}`", step.id.value, field.name),
                place,
            )
            .with_label(format!("`{}` needs `{}` ({})", definition.name, field.name, field.ty))
            .with_hint(format!("signature: {}", definition.signature())),
        );
    }
    if definition.open_inputs {
        return;
    }
    let Some(input) = &step.input else { return };
    for entry in input.iter().filter(|entry| definition.input(&entry.key.value).is_none()) {
        let name = &entry.key.value;
        let diagnostic = Diagnostic::error(
            codes::UNKNOWN_INPUT,
            format!("`{}` has no input `{name}`", definition.name),
            entry.key.span,
        )
        .with_label(format!("in step `{}`", step.id.value))
        .with_suggestion(name, definition.inputs.iter().map(|field| field.name.as_str()));
        let diagnostic = if diagnostic.hint.is_none() {
            diagnostic.with_hint(format!("signature: {}", definition.signature()))
        } else {
            diagnostic
        };
        diagnostics.push(diagnostic);
    }
}
