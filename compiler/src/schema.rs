//! The JSON Schema of workflow files, generated from the model types (`model.rs`) so it cannot drift from what
//! the front end reads, and from the action catalogue it is given (built-ins plus the installed custom
//! connectors): the `action` enum, and for each action the keys, types and required fields of its `input:`.
//! `pilot schema` prints it; editors use it for completion and checks.
//!
//! The schema accepts everything `pilot check` accepts (a property test holds it to that), so where a value may
//! be a `${...}` template whose type is only known to the checker, any template string is allowed.

use connectors::catalogue::Catalogue;
use connectors::{ActionDefinition, InputField, InputKind};
use expr_grammar::Type;
use schemars::{Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

/// The JSON Schema (draft 2020-12) of a workflow file whose steps call the actions of `catalogue`.
pub fn workflow_schema(catalogue: &Catalogue) -> Value {
    let generator = schemars::generate::SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<crate::model::Workflow>();
    let mut value = schema.to_value();
    set_action_enum(&mut value, action_names(catalogue));
    if let Some(step) = value.pointer_mut("/$defs/Step") {
        step["allOf"] = Value::Array(catalogue.iter().map(action_input_rule).collect());
    }
    value
}

/// The names a step may write for an action: its own, and `notification/X` for `notify/X`.
fn names_of(action: &ActionDefinition) -> Vec<String> {
    let alias = action.name.strip_prefix("notify/").map(|rest| format!("notification/{rest}"));
    std::iter::once(action.name.clone()).chain(alias).collect()
}

/// Every action name of the catalogue, with the aliases, sorted.
fn action_names(catalogue: &Catalogue) -> Vec<String> {
    let mut names: Vec<String> = catalogue.iter().flat_map(names_of).collect();
    names.sort();
    names.dedup();
    names
}

fn set_action_enum(schema: &mut Value, names: Vec<String>) {
    if names.is_empty() {
        return;
    }
    if let Some(action) = schema.pointer_mut("/$defs/Step/properties/action") {
        let description = action.get("description").cloned();
        let mut replaced = json!({ "type": "string", "enum": names });
        if let Some(description) = description {
            replaced["description"] = description;
        }
        *action = replaced;
    }
}

/// `if` the step calls this action, `then` its `input:` has the action's fields (required ones required, no
/// others unless the action takes any, like `transform`).
fn action_input_rule(action: &ActionDefinition) -> Value {
    let properties: Map<String, Value> =
        action.inputs.iter().map(|field| (field.name.clone(), field_schema(field))).collect();
    let required: Vec<&str> =
        action.inputs.iter().filter(|field| field.required).map(|field| field.name.as_str()).collect();
    let object = json!({
        "type": "object",
        "description": format!("{}\n\n{}", action.signature(), action.description),
        "properties": properties,
        "required": required,
        "additionalProperties": action.open_inputs,
    });
    let then = if required.is_empty() {
        json!({ "properties": { "input": { "anyOf": [object, { "type": "null" }] } } })
    } else {
        json!({ "properties": { "input": object }, "required": ["input"] })
    };
    json!({
        "if": { "properties": { "action": { "enum": names_of(action) } }, "required": ["action"] },
        "then": then,
    })
}

fn field_schema(field: &InputField) -> Value {
    let mut schema = match &field.kind {
        InputKind::ItemCondition { items_field } => json!({
            "type": "string",
            "description": format!("A condition on each element of `{items_field}`, e.g. `size > 0`."),
        }),
        InputKind::Value => value_schema(&field.ty),
    };
    if !field.description.is_empty() {
        schema["description"] = Value::String(field.description.clone());
    }
    if field.required {
        schema
    } else {
        // An optional input may be given as null (the same as leaving it out).
        let description = schema.as_object_mut().and_then(|object| object.remove("description"));
        let mut optional = json!({ "anyOf": [schema, { "type": "null" }] });
        if let Some(description) = description {
            optional["description"] = description;
        }
        optional
    }
}

/// A string holding a `${...}` template: its type is known to the checker, not to the schema.
fn template() -> Value {
    json!({ "type": "string", "pattern": "\\$\\{" })
}

/// A literal of type `ty` as YAML writes it, or a template.
fn value_schema(ty: &Type) -> Value {
    let literal = match ty {
        Type::Any => return json!({}),
        Type::String => return json!({ "type": "string" }),
        Type::Timestamp => return template(),
        Type::Null => json!({ "type": "null" }),
        Type::Bool => json!({ "type": "boolean" }),
        Type::Int => json!({ "type": "integer" }),
        Type::Float => json!({ "type": "number" }),
        Type::Duration => json!({ "type": "string", "pattern": DURATION_PATTERN }),
        Type::List { of } => json!({ "type": "array", "items": value_schema(of) }),
        Type::Object(object) => {
            let properties: Map<String, Value> =
                object.fields.iter().map(|(name, ty)| (name.clone(), value_schema(ty))).collect();
            // A field typed null or any may be left out (`Type::is_assignable_to`).
            let required: Vec<&String> = object
                .fields
                .iter()
                .filter(|(_, ty)| !matches!(ty, Type::Null | Type::Any))
                .map(|(name, _)| name)
                .collect();
            json!({ "type": "object", "properties": properties, "required": required })
        }
    };
    json!({ "anyOf": [literal, template()] })
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
