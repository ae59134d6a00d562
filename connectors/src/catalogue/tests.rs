//! The catalogue's built-in content and its lookup.

use super::*;
use crate::ActionDefinition;

#[test]
fn builtin_has_every_spec_action() {
    let catalogue = Catalogue::builtin();
    for name in [
        "fs/read",
        "fs/write",
        "fs/copy",
        "fs/move",
        "fs/delete",
        "fs/list",
        "fs/watch",
        "http/get",
        "http/post",
        "http/put",
        "http/delete",
        "http/download",
        "ai/complete",
        "ai/chat",
        "ai/embed",
        "ai/summarize",
        "ai/classify",
        "notify/desktop",
        "notify/email",
        "notify/slack",
        "notify/webhook",
        "shell/exec",
        "filter",
        "transform",
        "log",
        "sleep",
    ] {
        assert!(catalogue.lookup(name).is_ok(), "{name} missing");
    }
    assert_eq!(catalogue.len(), 26);
}

#[test]
fn notification_prefix_is_an_alias_of_notify() {
    let catalogue = Catalogue::builtin();
    assert_eq!(catalogue.lookup("notification/desktop").map(|d| d.name.as_str()), Ok("notify/desktop"));
    assert!(catalogue.is_builtin("notification/email"));
}

#[test]
fn unknown_action_suggests_near_names() {
    let catalogue = Catalogue::builtin();
    let err = catalogue.lookup("fs/lst").unwrap_err();
    assert_eq!(err.suggestions.first().map(String::as_str), Some("fs/list"));
    let err = catalogue.lookup("file/list").unwrap_err();
    assert!(err.suggestions.contains(&"fs/list".to_string()), "{:?}", err.suggestions);
    let err = catalogue.lookup("zzzzzz").unwrap_err();
    assert!(err.suggestions.is_empty(), "{:?}", err.suggestions);
    assert_eq!(err.to_string(), "unknown action `zzzzzz`");
}

#[test]
fn custom_actions_cannot_replace_builtins_or_each_other() {
    let mut catalogue = Catalogue::builtin();
    let custom = |name: &str| ActionDefinition { name: name.into(), ..fs_read() };
    assert_eq!(catalogue.add(custom("fs/read")), Err(AddActionError::ClashesWithBuiltin { name: "fs/read".into() }));
    assert!(matches!(catalogue.add(custom("notification/x")), Err(AddActionError::InvalidName { .. })));
    assert!(matches!(catalogue.add(custom("nopath")), Err(AddActionError::InvalidName { .. })));
    assert_eq!(catalogue.add(custom("jira/create")), Ok(()));
    assert_eq!(
        catalogue.add(custom("jira/create")),
        Err(AddActionError::AlreadyDefined { name: "jira/create".into() })
    );
    assert!(catalogue.lookup("jira/create").is_ok());
    assert!(!catalogue.is_builtin("jira/create"));
}

#[test]
fn every_input_has_a_description_and_names_are_unique_per_action() {
    for def in Catalogue::builtin().iter() {
        assert!(!def.description.is_empty(), "{}", def.name);
        let mut seen = std::collections::HashSet::new();
        for field in &def.inputs {
            assert!(!field.description.is_empty(), "{}.{}", def.name, field.name);
            assert!(seen.insert(&field.name), "{} repeats input {}", def.name, field.name);
        }
    }
}

#[test]
fn signature_shows_optional_inputs_output_and_effect() {
    let catalogue = Catalogue::builtin();
    let list = catalogue.lookup("fs/list").unwrap().signature();
    assert!(
        list.starts_with("fs/list(path: string, pattern?: string, recursive?: bool) -> list<{created_at: timestamp"),
        "{list}"
    );
    assert!(list.ends_with("}>  [read]"), "{list}");
    let filter = catalogue.lookup("filter").unwrap().signature();
    assert_eq!(filter, "filter(items: list<any>, condition: <condition on items>) -> <type of items>  [pure]");
}
