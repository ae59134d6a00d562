//! How an `ai/*` step's `retry:` combines with the AI client's own retries, counted on a real local HTTP server
//! that answers every call with HTTP 500, as an overloaded OpenAI-compatible server does. A step with `retry:`
//! makes exactly its `max_attempts` calls (the client then tries once per attempt: 3, never 3 x 3 = 9); a step
//! without one gets the client's own `max_attempts` (3 by default).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

const WORKFLOW: &str = r#"
name: ai-retries
inputs:
  base:
    type: string
steps:
  - id: with_step_retry
    action: ai/complete
    retry:
      max_attempts: 3
      backoff: fixed
      initial_delay: 10ms
    continue_on_error: true
    input:
      provider: openai
      base_url: "${inputs.base}/step"
      model: local-model
      prompt: Hi
  - id: without_step_retry
    action: ai/complete
    continue_on_error: true
    input:
      provider: openai
      base_url: "${inputs.base}/client"
      model: local-model
      prompt: Hi
"#;

/// Calls received, by request path.
type Calls = Arc<Mutex<BTreeMap<String, usize>>>;

/// An HTTP/1.1 server on 127.0.0.1 that answers every request with 500 and an OpenAI-style error body.
fn start_overloaded_server() -> (String, Calls) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let calls = Calls::default();
    let counted = Arc::clone(&calls);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer_500(stream, &counted);
        }
    });
    (address, calls)
}

fn answer_500(mut stream: TcpStream, calls: &Mutex<BTreeMap<String, usize>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
        return;
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    *calls.lock().unwrap().entry(path).or_default() += 1;
    let error = r#"{"error": {"message": "The server is overloaded", "type": "server_error"}}"#;
    let response = format!(
        "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: \
         close\r\n\r\n{error}",
        error.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

fn pilot_run(pilot_home: &Path, workflow: &Path, base: &str) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_pilot"))
        .arg("run")
        .arg(workflow)
        .arg("--json")
        .arg("--var")
        .arg(format!("base={base}"))
        .env("PILOT_HOME", pilot_home)
        .output()
        .unwrap();
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| {
        panic!("--json prints the execution ({err}); stderr: {}", String::from_utf8_lossy(&output.stderr))
    })
}

#[test]
fn a_step_retry_replaces_the_ai_clients_retries_so_calls_never_multiply() {
    let (base, calls) = start_overloaded_server();
    let work = tempfile::tempdir().unwrap();
    let pilot_home = tempfile::tempdir().unwrap();
    // Tiny client waits keep the test quick; the number of tries stays the default (3).
    std::fs::write(
        pilot_home.path().join("settings.json"),
        r#"{"ai": {"initial_backoff_ms": 1, "max_backoff_ms": 5}}"#,
    )
    .unwrap();
    let workflow = work.path().join("ai-retries.yaml");
    std::fs::write(&workflow, WORKFLOW).unwrap();

    let printed = pilot_run(pilot_home.path(), &workflow, &base);

    let calls = calls.lock().unwrap().clone();
    assert_eq!(
        calls,
        BTreeMap::from([("/client/v1/chat/completions".to_owned(), 3), ("/step/v1/chat/completions".to_owned(), 3)]),
        "{printed:#}"
    );
    let steps = printed["steps"].as_array().unwrap();
    let step = |id: &str| steps.iter().find(|s| s["id"] == id).unwrap_or_else(|| panic!("{id}: {printed:#}"));
    assert_eq!(step("with_step_retry")["attempts"], 3, "three step attempts of one call each");
    assert_eq!(step("without_step_retry")["attempts"], 1, "one step attempt of three client tries");
    let client_error = step("without_step_retry")["error"].as_str().unwrap();
    assert!(
        client_error.contains("HTTP 500 Internal Server Error (after 3 tries): The server is overloaded"),
        "{client_error}"
    );
    let step_error = step("with_step_retry")["error"].as_str().unwrap();
    assert!(step_error.contains("HTTP 500 Internal Server Error: The server is overloaded"), "{step_error}");
}
