//! Reading the daemon's OpenAPI 3.1 document: its operations, structural checks, and whether an answer is one the
//! document allows (a listed status, the listed content type, a body that fits the listed schema).

use super::http::Answer;
use serde_json::{Value, json};
use std::collections::BTreeSet;

const METHODS: &[&str] = &["get", "put", "post", "delete", "patch", "head", "options", "trace"];

pub struct Document {
    pub value: Value,
}

/// One operation: `("GET", "/api/v1/executions/{id}")`.
pub type Operation = (String, String);

impl Document {
    pub fn new(value: Value) -> Document {
        Document { value }
    }

    /// Every (method, path template) the document lists.
    pub fn operations(&self) -> BTreeSet<Operation> {
        let mut found = BTreeSet::new();
        for (path, item) in self.value["paths"].as_object().into_iter().flatten() {
            for method in METHODS {
                if item.get(*method).is_some() {
                    found.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        found
    }

    fn operation(&self, (method, path): &Operation) -> Option<&Value> {
        self.value["paths"].get(path)?.get(method.to_ascii_lowercase())
    }

    /// What is wrong with the document's structure, beyond what a JSON Schema of OpenAPI checks: every `$ref`
    /// resolves, path templates and path parameters agree, operation ids are unique, every response has a
    /// description, every schema is a valid JSON Schema 2020-12 (the dialect of OpenAPI 3.1).
    pub fn structural_problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let doc = &self.value;
        if !doc["openapi"].as_str().is_some_and(|version| version.starts_with("3.1.")) {
            problems.push(format!("`openapi` is {}, not 3.1.x", doc["openapi"]));
        }
        for field in ["title", "version"] {
            if doc["info"][field].as_str().is_none_or(str::is_empty) {
                problems.push(format!("info.{field} is missing"));
            }
        }
        let mut operation_ids = BTreeSet::new();
        for operation in self.operations() {
            let (method, path) = &operation;
            let place = format!("{method} {path}");
            let body = self.operation(&operation).expect("listed");
            if !path.starts_with("/api/v1/") {
                problems.push(format!("{place}: not under /api/v1/"));
            }
            match body["operationId"].as_str() {
                Some(id) if !operation_ids.insert(id.to_owned()) => {
                    problems.push(format!("{place}: operationId `{id}` is used twice"))
                }
                Some(_) => {}
                None => problems.push(format!("{place}: no operationId")),
            }
            let in_template: BTreeSet<String> = path
                .split('/')
                .filter_map(|part| part.strip_prefix('{').and_then(|rest| rest.strip_suffix('}')))
                .map(str::to_owned)
                .collect();
            let declared: BTreeSet<String> = body["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|parameter| parameter["in"] == "path")
                .filter_map(|parameter| parameter["name"].as_str().map(str::to_owned))
                .collect();
            if in_template != declared {
                problems.push(format!("{place}: path parameters {declared:?} do not match the template"));
            }
            let responses = body["responses"].as_object();
            if responses.is_none_or(|responses| responses.is_empty()) {
                problems.push(format!("{place}: no responses"));
            }
            for (status, response) in responses.into_iter().flatten() {
                if response["description"].as_str().is_none_or(str::is_empty) {
                    problems.push(format!("{place}: response {status} has no description"));
                }
                if !(status.len() == 3 && status.chars().all(|c| c.is_ascii_digit())) {
                    problems.push(format!("{place}: response key `{status}` is not a status code"));
                }
            }
        }
        let mut refs = Vec::new();
        collect_refs(doc, &mut refs);
        for reference in refs {
            let resolved = reference.strip_prefix('#').map(|pointer| doc.pointer(pointer).is_some());
            if resolved != Some(true) {
                problems.push(format!("`$ref: {reference}` does not resolve"));
            }
        }
        for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
            if let Err(err) = jsonschema::draft202012::meta::validate(schema) {
                problems.push(format!("components.schemas.{name} is not a valid JSON Schema 2020-12: {err}"));
            }
        }
        problems
    }

    /// Whether the document allows `answer` to a request of `operation`: its status is listed, and its body has
    /// the listed content type and fits the listed schema (or is empty when none is listed).
    pub fn check_answer(&self, operation: &Operation, answer: &Answer) -> Result<(), String> {
        let (method, path) = operation;
        let place = format!("{method} {path} answered {}", answer.status);
        let body = self.operation(operation).ok_or_else(|| format!("{method} {path} is not in the document"))?;
        let listed = &body["responses"];
        let Some(response) = listed.get(answer.status.to_string()).or_else(|| listed.get("default")) else {
            let known: Vec<&String> = listed.as_object().map(|map| map.keys().collect()).unwrap_or_default();
            return Err(format!("{place}, but the document lists only {known:?}: {}", answer.text()));
        };
        let Some(content) = response["content"].as_object().filter(|content| !content.is_empty()) else {
            return if answer.body.is_empty() {
                Ok(())
            } else {
                Err(format!("{place} with a body, but the document lists none: {}", answer.text()))
            };
        };
        let content_type = answer.header("content-type").unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let Some(listed_media) = content.get(media) else {
            let known: Vec<&String> = content.keys().collect();
            return Err(format!("{place} as `{content_type}`, but the document lists {known:?}"));
        };
        if media != "application/json" {
            return Ok(());
        }
        let value: Value = serde_json::from_slice(&answer.body)
            .map_err(|err| format!("{place}: the body is not JSON ({err}): {}", answer.text()))?;
        self.check_value(&listed_media["schema"], &value).map_err(|why| format!("{place}: {why}"))
    }

    /// Whether `value` fits `schema` (a schema of the document, whose `$ref`s point into its components).
    pub fn check_value(&self, schema: &Value, value: &Value) -> Result<(), String> {
        let mut root = schema.clone();
        if let Some(object) = root.as_object_mut() {
            object.insert("$schema".to_owned(), json!("https://json-schema.org/draft/2020-12/schema"));
            object.insert("components".to_owned(), self.value["components"].clone());
        }
        let validator =
            jsonschema::draft202012::new(&root).map_err(|err| format!("the schema does not build: {err}"))?;
        let errors: Vec<String> =
            validator.iter_errors(value).map(|err| format!("{} at {}", err, err.instance_path())).collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!("the body does not fit its schema: {}; body: {value}", errors.join("; ")))
        }
    }
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(reference)) => into.push(reference.clone()),
                    _ => collect_refs(inner, into),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| collect_refs(item, into)),
        _ => {}
    }
}
