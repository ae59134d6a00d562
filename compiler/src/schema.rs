//! The JSON Schema of workflow files, generated from the model types (`model.rs`) so it cannot drift from what
//! the front end reads. `pilot schema` prints it; editors use it for completion and checks.

use schemars::{Schema, SchemaGenerator, json_schema};

/// Names of the built-in actions, for the schema's `action` enum (canonical names and their aliases).
fn action_names() -> Vec<String> {
    let mut names: Vec<String> = connectors::catalogue::Catalogue::builtin().names().map(str::to_string).collect();
    let aliases: Vec<String> = names
        .iter()
        .filter_map(|name| name.strip_prefix("notify/"))
        .map(|rest| format!("notification/{rest}"))
        .collect();
    names.extend(aliases);
    names.sort();
    names.dedup();
    names
}

/// The JSON Schema (draft 2020-12) of a workflow file.
pub fn workflow_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<crate::model::Workflow>();
    let mut value = schema.to_value();
    set_action_enum(&mut value, action_names());
    value
}

fn set_action_enum(schema: &mut serde_json::Value, names: Vec<String>) {
    if names.is_empty() {
        return;
    }
    if let Some(action) = schema.pointer_mut("/$defs/Step/properties/action") {
        let description = action.get("description").cloned();
        let mut replaced = serde_json::json!({ "type": "string", "enum": names });
        if let Some(description) = description {
            replaced["description"] = description;
        }
        *action = replaced;
    }
}

pub(crate) fn duration_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": DURATION_PATTERN,
        "description": "A duration: numbers with units ms, s, m, h, d, e.g. `30s`, `1h30m`, `500ms`."
    })
}

/// The duration syntax `front_end::duration` accepts, as a regular expression.
pub const DURATION_PATTERN: &str = r"^\s*([0-9]+(\.[0-9]+)?\s*(ms|s|m|h|d)\s*)+$";

pub(crate) fn backoff_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["fixed", "exponential"] })
}

pub(crate) fn resume_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["rerun", "fail"] })
}

pub(crate) fn catch_up_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["none", "last", "all"] })
}

pub(crate) fn webhook_auth_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["hmac", "bearer"] })
}

pub(crate) fn concurrency_policy_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": ["queue", "skip", "cancel_previous"] })
}

pub(crate) fn http_method_schema(_: &mut SchemaGenerator) -> Schema {
    // The front end accepts any letter case (`post` is `POST`).
    let upper = crate::front_end::HTTP_METHODS.iter().map(|m| m.to_string());
    let methods: Vec<String> = upper.clone().chain(upper.map(|m| m.to_ascii_lowercase())).collect();
    json_schema!({ "type": "string", "enum": methods })
}

pub(crate) fn version_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["string", "number"] })
}

pub(crate) fn file_events_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": "string", "enum": crate::front_end::FILE_EVENTS }
    })
}

pub(crate) fn needs_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            { "type": "string" },
            { "type": "array", "items": { "type": "string" } }
        ]
    })
}

pub(crate) fn loop_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "anyOf": [
            { "type": "string", "description": "A template giving the list, e.g. `${files}`." },
            {
                "type": "object",
                "properties": {
                    "items": { "type": "string", "description": "A template giving the list, e.g. `${files}`." },
                    "concurrency": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "How many elements may run at once (default 1: one after the other)."
                    }
                },
                "required": ["items"],
                "additionalProperties": false
            }
        ]
    })
}
