//! A custom connector runs as a real program speaking JSON over stdin/stdout.

use connectors::custom::{Manifest, ProcessConnector, installed};
use connectors::{ActionContext, ActionError, Connector};
use expr_grammar::Value;
use std::path::{Path, PathBuf};
use tokio_util::sync::CancellationToken;

fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/connectors/wordcount")
}

fn context() -> ActionContext {
    ActionContext {
        execution_id: "exec-1".into(),
        step_id: "count".into(),
        cancel: CancellationToken::new(),
        credential: None,
        ..Default::default()
    }
}

fn input(json: serde_json::Value) -> Value {
    Value::from_json(&json)
}

/// A connector folder with `program` as its executable shell script and one action `go` of output type `output`.
fn scripted_connector(dir: &Path, program: &str, output: &str) -> ProcessConnector {
    let manifest = serde_json::json!({
        "id": "scripted", "name": "Scripted", "version": "0.1.0", "executable": "run.sh",
        "actions": [{"name": "go", "effect": "read", "output": output}]
    });
    std::fs::write(dir.join("manifest.json"), manifest.to_string()).unwrap();
    let script = dir.join("run.sh");
    std::fs::write(&script, format!("#!/bin/sh\n{program}\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    ProcessConnector::new(dir.to_path_buf(), Manifest::load(dir).unwrap()).unwrap()
}

#[tokio::test]
async fn the_example_connector_counts_words() {
    let dir = example_dir();
    let connector = ProcessConnector::new(dir.clone(), Manifest::load(&dir).unwrap()).unwrap();
    let names: Vec<String> = connector.actions().into_iter().map(|def| def.name).collect();
    assert_eq!(names, ["wordcount/count", "wordcount/top"]);

    let text = input(serde_json::json!({"text": "one two three\nfour"}));
    let output = connector.execute("wordcount/count", text, &context()).await.unwrap();
    assert_eq!(output.to_json(), serde_json::json!({"words": 4, "lines": 2, "characters": 18}));
}

#[tokio::test]
async fn installed_lists_each_connector_folder_and_reports_broken_ones() {
    let home = tempfile::tempdir().unwrap();
    let good = home.path().join("good");
    std::fs::create_dir(&good).unwrap();
    scripted_connector(&good, "echo '{\"output\": 1}'", "int");
    std::fs::create_dir(home.path().join("broken")).unwrap();
    std::fs::write(home.path().join("broken/manifest.json"), "{\"id\": 3}").unwrap();

    let found = installed(home.path());
    assert_eq!(found.len(), 2);
    let broken = found[0].as_ref().unwrap_err().to_string();
    assert!(broken.contains("broken/manifest.json: not a valid manifest"), "{broken}");
    assert_eq!(found[1].as_ref().unwrap().1.id, "scripted");
}

#[tokio::test]
async fn an_error_answer_fails_the_step_with_the_programs_message() {
    let dir = tempfile::tempdir().unwrap();
    let connector = scripted_connector(dir.path(), "cat >/dev/null; echo '{\"error\": \"quota exceeded\"}'", "any");
    let err = connector.execute("scripted/go", Value::Null, &context()).await.unwrap_err();
    assert_eq!(err, ActionError::Failed { message: "connector `scripted`: quota exceeded".into() });
}

#[tokio::test]
async fn a_crash_without_an_answer_quotes_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let connector = scripted_connector(dir.path(), "echo 'Traceback: boom' >&2; exit 3", "any");
    let err = connector.execute("scripted/go", Value::Null, &context()).await.unwrap_err().to_string();
    assert!(err.contains("failed without an answer") && err.contains("Traceback: boom"), "{err}");
}

#[tokio::test]
async fn the_request_carries_action_input_and_ids_and_outputs_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    // Echoes the request back inside a typed output; `at` must come back as a timestamp.
    let program =
        "read -r request; printf '{\"output\": {\"request\": %s, \"at\": \"2026-11-24T10:00:00Z\"}}' \"$request\"";
    let connector = scripted_connector(dir.path(), program, "{request: any, at: timestamp}");
    let given = input(serde_json::json!({"n": 7}));
    let output = connector.execute("scripted/go", given, &context()).await.unwrap();
    let Value::Object(fields) = output else { panic!("not an object") };
    assert!(matches!(fields["at"], Value::Timestamp(_)));
    assert_eq!(
        fields["request"].to_json(),
        serde_json::json!({"action": "go", "input": {"n": 7}, "credential": null, "execution_id": "exec-1", "step_id": "count"})
    );
}

#[tokio::test]
async fn cancel_kills_a_program_that_never_answers() {
    let dir = tempfile::tempdir().unwrap();
    let connector = scripted_connector(dir.path(), "sleep 600", "any");
    let ctx = context();
    let cancel = ctx.cancel.clone();
    let call = tokio::spawn(async move { connector.execute("scripted/go", Value::Null, &ctx).await });
    tokio::task::yield_now().await;
    cancel.cancel();
    assert_eq!(call.await.unwrap().unwrap_err(), ActionError::Cancelled);
}
