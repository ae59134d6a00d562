//! The `actions` pass: every step's action is in the catalogue (`notification/*` is read as `notify/*`).

use connectors::ActionDefinition;
use connectors::catalogue::Catalogue;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::Step;

/// The definition of each step's action, in step order; `None` where the action is missing or unknown
/// (reported here, or by the front end when `action:` is missing).
pub fn resolve_actions<'c>(
    steps: &[&Step],
    catalogue: &'c Catalogue,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Option<&'c ActionDefinition>> {
    steps.iter().map(|step| resolve_action(step, catalogue, diagnostics)).collect()
}

fn resolve_action<'c>(
    step: &Step,
    catalogue: &'c Catalogue,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<&'c ActionDefinition> {
    let action = step.action.as_ref()?;
    match catalogue.lookup(&action.value) {
        Ok(definition) => Some(definition),
        Err(unknown) => {
            let diagnostic =
                Diagnostic::error(codes::UNKNOWN_ACTION, format!("unknown action `{}`", action.value), action.span)
                    .with_label(format!("in step `{}`", step.id.value));
            let diagnostic = match unknown.suggestions.first() {
                Some(best) => diagnostic.with_hint(format!("did you mean `{best}`?")),
                None => diagnostic.with_hint("`pilot connectors list` shows every action"),
            };
            diagnostics.push(diagnostic);
            None
        }
    }
}
