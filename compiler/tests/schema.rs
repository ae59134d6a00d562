//! `pilot schema` against `pilot check`: every workflow the compiler accepts validates against the schema
//! generated from the same catalogue (built-ins plus a custom connector), and the schema describes each
//! action's `input:` (keys, types, required fields) so that an editor can complete and check it.
//!
//! The workflows are generated from the catalogue's signatures: each step calls a random action with values
//! of its input types (literals or `${...}` templates), beside random triggers, inputs, variables and step keys.

use compiler::schema::workflow_schema;
use connectors::catalogue::Catalogue;
use connectors::custom::Manifest;
use connectors::{ActionDefinition, InputKind};
use expr_grammar::Type;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

/// The built-ins plus the example custom connector, as `pilot` loads them with `wordcount` installed.
fn catalogue() -> Catalogue {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/connectors/wordcount");
    let manifest = Manifest::load(&dir).expect("the wordcount example connector");
    let mut catalogue = Catalogue::builtin();
    for definition in manifest.action_definitions().expect("its actions") {
        catalogue.add(definition).expect("a new action");
    }
    catalogue
}

fn validator(catalogue: &Catalogue) -> jsonschema::Validator {
    jsonschema::validator_for(&workflow_schema(catalogue)).expect("the schema is a valid JSON Schema")
}

/// The compiler's verdict on a workflow written as JSON (which `pilot check` reads like YAML).
fn check_accepts(workflow: &Value, catalogue: &Catalogue) -> Result<(), String> {
    let source = serde_json::to_string_pretty(workflow).expect("JSON text");
    let (_, diagnostics) = compiler::compile(&source, "generated.json", catalogue);
    if compiler::diagnostic::has_errors(&diagnostics) {
        let rendered = compiler::render::render_file("generated.json", &source, &diagnostics, Default::default());
        return Err(rendered);
    }
    Ok(())
}

fn schema_errors(validator: &jsonschema::Validator, workflow: &Value) -> Vec<String> {
    validator.iter_errors(workflow).map(|error| format!("{}: {error}", error.instance_path())).collect()
}

// ---- generating workflows from signatures --------------------------------------------------------------------

fn text() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z][a-z ./_-]{0,12}".prop_map(Value::from),
        Just(json!("${workflow.name}")),
        Just(json!("${len('abc')} files in ${workflow.name}")),
    ]
}

/// A JSON value of no particular type: what an `any` input takes. Strings hold no `$`.
fn anything() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z ]{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
            prop::collection::btree_map("[a-z]{1,5}", inner, 0..3).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A value an input of type `ty` accepts: a literal of the type or a template that the checker types as it.
fn value_of(ty: &Type) -> BoxedStrategy<Value> {
    match ty {
        Type::Any => anything().boxed(),
        Type::Null => Just(Value::Null).boxed(),
        Type::String => text().boxed(),
        Type::Bool => prop_oneof![any::<bool>().prop_map(Value::from), Just(json!("${1 < 2}"))].boxed(),
        Type::Int => prop_oneof![(0..10_000i64).prop_map(Value::from), Just(json!("${len('abc')}"))].boxed(),
        Type::Float => prop_oneof![
            (0..1000i64).prop_map(Value::from),
            (0.0..2.0f64).prop_map(Value::from),
            Just(json!("${0.5 * 3}")),
        ]
        .boxed(),
        Type::Duration => prop_oneof![
            prop::sample::select(vec!["30s", "1h30m", "500ms", "2d"]).prop_map(Value::from),
            Just(json!("${1m + 30s}"))
        ]
        .boxed(),
        Type::Timestamp => Just(json!("${now()}")).boxed(),
        Type::List { of } => {
            prop_oneof![prop::collection::vec(value_of(of), 0..3).prop_map(Value::from), Just(json!("${[]}")),].boxed()
        }
        Type::Object(object) => {
            let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = object
                .fields
                .iter()
                .map(|(name, ty)| {
                    let name = name.clone();
                    let value = value_of(ty).prop_map(move |v| Some((name.clone(), v)));
                    if matches!(ty, Type::Null | Type::Any) {
                        prop_oneof![Just(None), value].boxed()
                    } else {
                        value.boxed()
                    }
                })
                .collect();
            let extra = if object.open {
                prop::collection::btree_map("x_[a-z]{1,4}", anything(), 0..2).boxed()
            } else {
                Just(Default::default()).boxed()
            };
            (fields, extra)
                .prop_map(|(fields, extra)| {
                    let mut map: Map<String, Value> = fields.into_iter().flatten().collect();
                    map.extend(extra);
                    Value::Object(map)
                })
                .boxed()
        }
    }
}

/// The `input:` of a step calling `action`: every required input, some optional ones (or null), and for
/// actions that take any input (`transform`) some more.
fn input_of(action: &ActionDefinition) -> BoxedStrategy<Value> {
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = action
        .inputs
        .iter()
        .map(|field| {
            let name = field.name.clone();
            let value = match &field.kind {
                InputKind::ItemCondition { .. } => {
                    prop::sample::select(vec!["true", "index >= 0", "${item != null}"]).prop_map(Value::from).boxed()
                }
                InputKind::Value => value_of(&field.ty),
            };
            let value = value.prop_map(move |v| Some((name.clone(), v)));
            if field.required {
                value.boxed()
            } else {
                let name = field.name.clone();
                prop_oneof![2 => Just(None), 1 => Just(Some((name, Value::Null))), 2 => value].boxed()
            }
        })
        .collect();
    let extra = if action.open_inputs {
        prop::collection::btree_map("[a-z]{1,6}", anything(), 0..3).boxed()
    } else {
        Just(Default::default()).boxed()
    };
    (fields, extra)
        .prop_map(|(fields, extra)| {
            let mut map: Map<String, Value> = extra.into_iter().collect();
            map.extend(fields.into_iter().flatten());
            Value::Object(map)
        })
        .boxed()
}

/// Step keys besides `id`, `action` and `input`, each present or not.
fn step_extras(index: usize) -> impl Strategy<Value = Map<String, Value>> {
    let earlier = if index == 0 { Just(None).boxed() } else { prop::option::of(0..index).boxed() };
    (
        earlier,
        prop::option::of(prop::sample::select(vec!["${true}", "1 < 2"])),
        prop::option::of(prop::sample::select(vec!["30s", "5m"])),
        prop::option::of((1..5u32, prop::sample::select(vec!["fixed", "exponential"]))),
        prop::option::of(any::<bool>()),
        any::<bool>(),
        prop::option::of(prop::sample::select(vec!["rerun", "fail"])),
    )
        .prop_map(move |(needs, condition, timeout, retry, continue_on_error, named, resume)| {
            let mut extras = Map::new();
            if let Some(earlier) = needs {
                extras.insert("needs".into(), json!([format!("s{earlier}")]));
            }
            if let Some(condition) = condition {
                extras.insert("if".into(), json!(condition));
            }
            if let Some(timeout) = timeout {
                extras.insert("timeout".into(), json!(timeout));
            }
            if let Some((max_attempts, backoff)) = retry {
                extras.insert(
                    "retry".into(),
                    json!({"max_attempts": max_attempts, "backoff": backoff, "initial_delay": "1s"}),
                );
            }
            if let Some(flag) = continue_on_error {
                extras.insert("continue_on_error".into(), json!(flag));
            }
            if named {
                extras.insert("output".into(), json!(format!("out{index}")));
            }
            if let Some(resume) = resume {
                extras.insert("resume".into(), json!(resume));
            }
            extras
        })
}

fn step(index: usize, actions: &[ActionDefinition]) -> BoxedStrategy<Value> {
    let actions = actions.to_vec();
    (0..actions.len(), any::<bool>())
        .prop_flat_map(move |(which, alias)| {
            let action = actions[which].clone();
            let name = match action.name.strip_prefix("notify/") {
                Some(rest) if alias => format!("notification/{rest}"),
                _ => action.name.clone(),
            };
            (Just(name), input_of(&action), step_extras(index))
        })
        .prop_map(move |(name, input, extras)| {
            let mut step = Map::new();
            step.insert("id".into(), json!(format!("s{index}")));
            step.insert("action".into(), json!(name));
            step.insert("input".into(), input);
            step.extend(extras);
            Value::Object(step)
        })
        .boxed()
}

fn triggers() -> impl Strategy<Value = Value> {
    let trigger = prop::sample::select(vec![
        json!({"type": "schedule", "cron": "0 2 * * *"}),
        json!({"type": "schedule", "cron": "30 0 2 * * MON-FRI", "timezone": "Europe/Paris"}),
        json!({"type": "webhook", "path": "/hooks/generated", "method": "post"}),
        json!({"type": "file_watch", "path": "/tmp/inbox", "pattern": "*.pdf", "events": ["create"]}),
        json!({"type": "manual"}),
    ]);
    prop::collection::vec(trigger, 0..3).prop_map(|mut list| {
        // Two webhooks on the same path and method are an error: keep one of each trigger.
        list.dedup();
        list.sort_by_key(|t| t.to_string());
        list.dedup();
        Value::from(list)
    })
}

/// A whole workflow: header, triggers, typed inputs, variables, steps and maybe an `on_failure` step.
fn workflow(actions: Vec<ActionDefinition>) -> impl Strategy<Value = Value> {
    (1..5usize)
        .prop_flat_map(move |count| {
            let steps: Vec<BoxedStrategy<Value>> = (0..count).map(|i| step(i, &actions)).collect();
            (steps, triggers(), any::<bool>(), any::<bool>(), any::<bool>(), prop::option::of(Just("1.0")))
        })
        .prop_map(|(steps, triggers, with_inputs, with_variables, with_on_failure, version)| {
            let mut workflow = Map::new();
            workflow.insert("name".into(), json!("generated"));
            workflow.insert("description".into(), json!("made from the catalogue"));
            if let Some(version) = version {
                workflow.insert("version".into(), json!(version));
            }
            workflow.insert("triggers".into(), triggers);
            if with_inputs {
                workflow.insert(
                    "inputs".into(),
                    json!({
                        "count": {"type": "int", "default": 3, "description": "How many"},
                        "wait": {"type": "duration", "default": "30s"},
                        "folder": {"type": "string", "required": false},
                    }),
                );
            }
            if with_variables {
                workflow.insert("variables".into(), json!({"greeting": "hello", "total": "${1 + 2}"}));
            }
            workflow.insert("steps".into(), Value::from(steps));
            if with_on_failure {
                workflow.insert(
                    "on_failure".into(),
                    json!([{"id": "alert", "action": "log", "input": {"message": "failed", "level": "error"}}]),
                );
            }
            Value::Object(workflow)
        })
}

// ---- the properties ------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_workflow_check_accepts_validates_against_the_schema(workflow in workflow(catalogue().iter().cloned().collect())) {
        let catalogue = catalogue();
        if check_accepts(&workflow, &catalogue).is_ok() {
            let errors = schema_errors(&validator(&catalogue), &workflow);
            prop_assert!(errors.is_empty(), "accepted by check, refused by the schema:\n{}\n{:#}", errors.join("\n"), workflow);
        }
    }
}

/// The property above says nothing if `check` refuses most generated workflows: most must pass.
#[test]
fn most_generated_workflows_are_accepted_by_check() {
    let catalogue = catalogue();
    let strategy = workflow(catalogue.iter().cloned().collect());
    let mut runner = TestRunner::deterministic();
    let mut refused = Vec::new();
    let samples = 200;
    for _ in 0..samples {
        let workflow = strategy.new_tree(&mut runner).expect("a workflow").current();
        if let Err(rendered) = check_accepts(&workflow, &catalogue) {
            refused.push(rendered);
        }
    }
    assert!(refused.len() * 10 <= samples, "{} of {samples} refused; first:\n{}", refused.len(), refused[0]);
}

#[test]
fn the_schema_describes_a_custom_connectors_inputs() {
    let schema = workflow_schema(&catalogue());
    let names = schema["$defs"]["Step"]["properties"]["action"]["enum"].as_array().expect("action enum");
    assert!(names.contains(&json!("wordcount/count")) && names.contains(&json!("notification/desktop")));
    let rules = schema["$defs"]["Step"]["allOf"].as_array().expect("one rule per action");
    let count = rules
        .iter()
        .find(|rule| rule["if"]["properties"]["action"]["enum"] == json!(["wordcount/count"]))
        .expect("a rule for wordcount/count");
    let input = &count["then"]["properties"]["input"];
    assert_eq!(input["required"], json!(["text"]));
    assert_eq!(input["properties"]["text"]["type"], "string");
    assert_eq!(input["properties"]["text"]["description"], "The text to count");
    assert_eq!(input["additionalProperties"], false);
}

#[test]
fn the_schema_refuses_unknown_or_missing_inputs_and_wrong_types() {
    let catalogue = catalogue();
    let validator = validator(&catalogue);
    let with_step = |step: Value| json!({"name": "w", "steps": [step]});
    let good = with_step(json!({"id": "a", "action": "wordcount/count", "input": {"text": "a b", "min_length": 2}}));
    assert_eq!(schema_errors(&validator, &good), Vec::<String>::new());
    for bad in [
        json!({"id": "a", "action": "wordcount/count", "input": {"txt": "a b"}}),
        json!({"id": "a", "action": "wordcount/count"}),
        json!({"id": "a", "action": "wordcount/count", "input": {"text": "a", "min_length": "two"}}),
        json!({"id": "a", "action": "sleep", "input": {"duration": "soon"}}),
        json!({"id": "a", "action": "fs/list", "input": {"path": "/tmp", "recursive": "yes"}}),
    ] {
        let workflow = with_step(bad.clone());
        assert!(!schema_errors(&validator, &workflow).is_empty(), "the schema accepts {bad}");
        assert!(check_accepts(&workflow, &catalogue).is_err(), "check accepts {bad}");
    }
    // A template may stand for any type: the checker, not the schema, types it.
    let templated =
        with_step(json!({"id": "a", "action": "wordcount/count", "input": {"text": "x", "min_length": "${1 + 1}"}}));
    assert_eq!(schema_errors(&validator, &templated), Vec::<String>::new());
    let builtin_only = self::validator(&Catalogue::builtin());
    assert!(!schema_errors(&builtin_only, &good).is_empty(), "without the connector its actions are unknown");
}
