//! The workflow action reference, `docs/actions.md`, rendered from the catalogue so that it cannot drift: a test
//! fails when the file differs from [`render_markdown`]'s output (`UPDATE_DOCS=1` rewrites it).

use std::fmt::Write;

use crate::catalogue::Catalogue;
use crate::{ActionDefinition, Effect, InputKind, OutputSpec};

/// The sections of the reference: a title and the action-name prefix it gathers (`""` for core actions).
const SECTIONS: [(&str, &str); 6] = [
    ("Core actions", ""),
    ("File system (`fs/`)", "fs/"),
    ("HTTP (`http/`)", "http/"),
    ("AI (`ai/`)", "ai/"),
    ("Notifications (`notify/`, also spelled `notification/`)", "notify/"),
    ("Shell (`shell/`)", "shell/"),
];

/// The whole reference as markdown.
pub fn render_markdown(catalogue: &Catalogue) -> String {
    let mut out = String::new();
    out.push_str(
        "# Workflow actions\n\n\
         <!-- Generated from the connector catalogue (connectors/src/catalogue.rs) by \
         connectors::reference::render_markdown. Do not edit by hand: run \
         `UPDATE_DOCS=1 cargo test -p connectors reference` after changing the catalogue. -->\n\n\
         Every action a step's `action:` can name, with its inputs, output and effect. Optional inputs are marked \
         `?` in signatures. The effect tells the scheduler what may run in parallel: `pure` and `read` steps that \
         do not depend on each other run at the same time; `write` steps keep their file order relative to each \
         other and to `read` steps.\n",
    );
    for (title, prefix) in SECTIONS {
        let actions: Vec<&ActionDefinition> = catalogue.iter().filter(|def| in_section(def, prefix)).collect();
        if actions.is_empty() {
            continue;
        }
        let _ = write!(out, "\n## {title}\n");
        for def in actions {
            render_action(&mut out, def);
        }
    }
    let custom: Vec<&ActionDefinition> =
        catalogue.iter().filter(|def| !SECTIONS.iter().any(|(_, prefix)| in_section(def, prefix))).collect();
    if !custom.is_empty() {
        out.push_str("\n## Custom connectors\n");
        for def in custom {
            render_action(&mut out, def);
        }
    }
    out
}

/// The `pilot connectors list` text: actions grouped by connector, one signature per line. Actions named in
/// `unavailable` (declared but without an implementation in this build) are marked.
pub fn render_list(catalogue: &Catalogue, unavailable: &[&str]) -> String {
    let mut out = String::new();
    let mut current_group: Option<&str> = None;
    for def in catalogue.iter() {
        let group = def.name.split_once('/').map_or("core", |(connector, _)| connector);
        if current_group != Some(group) {
            let _ = writeln!(out, "{}{group}", if current_group.is_some() { "\n" } else { "" });
            current_group = Some(group);
        }
        let mark = if unavailable.contains(&def.name.as_str()) { "  (not available in this build)" } else { "" };
        let _ = writeln!(out, "  {}{mark}", def.signature());
    }
    let _ = write!(
        out,
        "\n{} actions. Inputs marked `?` are optional. `--json` prints the full catalogue with descriptions.\n",
        catalogue.len()
    );
    out
}

fn in_section(def: &ActionDefinition, prefix: &str) -> bool {
    if prefix.is_empty() { !def.name.contains('/') } else { def.name.starts_with(prefix) }
}

fn render_action(out: &mut String, def: &ActionDefinition) {
    let mut blocks =
        vec![format!("### `{}`", def.name), def.description.clone(), format!("```text\n{}\n```", def.signature())];
    if !def.inputs.is_empty() {
        blocks.push(inputs_table(def));
    }
    if def.open_inputs {
        blocks.push("Any input beyond the declared ones is accepted, with any type.".to_string());
    }
    let output = match &def.output {
        OutputSpec::Fixed { ty } => format!("`{ty}`"),
        OutputSpec::SameAsInput { field } => format!("the type of its `{field}` input"),
        OutputSpec::InputObject => "an object of all its inputs, each with its type".to_string(),
    };
    blocks.push(format!("**Output:** {output}. **Effect:** {}.", effect_name(def.effect)));
    let _ = write!(out, "\n{}\n", blocks.join("\n\n"));
}

fn inputs_table(def: &ActionDefinition) -> String {
    let mut table = String::from("| Input | Type | Required | Description |\n|---|---|---|---|");
    for field in &def.inputs {
        let ty = match &field.kind {
            InputKind::Value => format!("`{}`", field.ty),
            InputKind::ItemCondition { items_field } => format!("condition on each of `{items_field}`"),
        };
        let required = if field.required { "yes" } else { "no" };
        let _ = write!(table, "\n| `{}` | {ty} | {required} | {} |", field.name, table_cell(&field.description));
    }
    table
}

fn table_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn effect_name(effect: Effect) -> &'static str {
    match effect {
        Effect::Pure => "pure",
        Effect::Read => "read",
        Effect::Write => "write",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/actions.md` must be exactly what the catalogue renders.
    #[test]
    fn docs_actions_md_matches_the_catalogue() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/actions.md");
        let rendered = render_markdown(&Catalogue::builtin());
        if std::env::var_os("UPDATE_DOCS").is_some_and(|v| v == "1") {
            std::fs::create_dir_all(path.parent().expect("docs folder")).expect("create docs/");
            std::fs::write(&path, &rendered).expect("write docs/actions.md");
            return;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == rendered,
            "{} is stale: run `UPDATE_DOCS=1 cargo test -p connectors reference` to regenerate it",
            path.display()
        );
    }

    #[test]
    fn every_builtin_action_has_a_section_and_a_signature() {
        let rendered = render_markdown(&Catalogue::builtin());
        for def in Catalogue::builtin().iter() {
            assert!(rendered.contains(&format!("### `{}`", def.name)), "{} missing", def.name);
            assert!(rendered.contains(&def.signature()), "{} signature missing", def.name);
        }
        assert!(!rendered.contains("## Custom connectors"));
    }

    #[test]
    fn list_groups_actions_by_connector_and_marks_missing_ones() {
        let text = render_list(&Catalogue::builtin(), &["ai/chat"]);
        assert!(text.starts_with("core\n  filter("), "{text}");
        assert!(text.contains("\nfs\n  fs/read(path: string) -> "), "{text}");
        assert!(text.contains("\n  fs/list(path: string, pattern?: string, recursive?: bool) -> list<{"), "{text}");
        let chat = text.lines().find(|line| line.trim_start().starts_with("ai/chat(")).unwrap();
        assert!(chat.ends_with("[read]  (not available in this build)"), "{chat}");
        let complete = text.lines().find(|line| line.trim_start().starts_with("ai/complete(")).unwrap();
        assert!(complete.ends_with("[read]"), "{complete}");
        assert_eq!(text.lines().filter(|line| !line.starts_with(' ') && !line.is_empty()).count(), 7);
    }

    #[test]
    fn custom_actions_get_their_own_section() {
        let mut catalogue = Catalogue::builtin();
        let custom = ActionDefinition { name: "jira/create".into(), ..catalogue.lookup("fs/read").unwrap().clone() };
        catalogue.add(custom).unwrap();
        let rendered = render_markdown(&catalogue);
        let section = rendered.find("## Custom connectors").expect("custom section");
        assert!(rendered[section..].contains("### `jira/create`"));
    }
}
