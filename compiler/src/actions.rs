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
            diagnostics.push(unknown_action(&action.value, action.span, step, catalogue, &unknown.suggestions));
            None
        }
    }
}

/// Says whether the connector is missing or only the action, and how to go on: the nearest action name, else
/// how to install a connector or which actions the connector has.
fn unknown_action(
    name: &str,
    span: expr_grammar::Span,
    step: &Step,
    catalogue: &Catalogue,
    suggestions: &[String],
) -> Diagnostic {
    let canonical = connectors::catalogue::canonical_name(name);
    let connector = canonical.split_once('/').map(|(connector, _)| connector);
    let prefix = connector.map(|c| format!("{c}/"));
    let siblings: Vec<&str> = match &prefix {
        Some(prefix) => catalogue.names().filter(|known| known.starts_with(prefix.as_str())).collect(),
        None => Vec::new(),
    };
    let message = match connector {
        Some(connector) if siblings.is_empty() => {
            format!("unknown action `{name}`: connector `{connector}` is not installed")
        }
        _ => format!("unknown action `{name}`"),
    };
    let diagnostic =
        Diagnostic::error(codes::UNKNOWN_ACTION, message, span).with_label(format!("in step `{}`", step.id.value));
    let hint = match (suggestions.first(), connector) {
        (Some(best), _) => expr_grammar::suggest::hint_for(best),
        (None, Some(_)) if siblings.is_empty() => "install it with `pilot connectors install PATH`, PATH being the \
             connector's folder (with its manifest.json); `pilot connectors list` shows what is installed"
            .to_string(),
        (None, Some(connector)) => format!("`{connector}` has: {}", siblings.join(", ")),
        (None, None) => "`pilot connectors list` shows every action".to_string(),
    };
    diagnostic.with_hint(hint)
}
