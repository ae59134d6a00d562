//! The daemon's API answers as its own OpenAPI document says. A real `pilot serve` on loopback, holding harmless
//! workflows (log, sleep, a read of a missing file), is asked every operation the document lists, for its answers
//! that can be reached from outside (successes, 404, 409, 422, refused bodies and queries); every answer must be
//! one the document lists, with a body that fits the listed schema. The test fails when the document gains an
//! operation that no case here exercises.
//!
//! The document itself is checked structurally (`tests/api/openapi.rs`: version, unique operation ids, path
//! parameters, descriptions, every `$ref` resolving, every schema a valid JSON Schema 2020-12). Validation against
//! the official OpenAPI 3.1 schema and a property-based run over the whole document are in `scripts/test`
//! (openapi-spec-validator and schemathesis from PyPI).

#[path = "api/http.rs"]
mod http;
#[path = "api/openapi.rs"]
mod openapi;
#[path = "api/serve.rs"]
mod serve;

use http::{Answer, Request};
use openapi::{Document, Operation};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

const HELLO: &str = "name: hello
description: Says hello
inputs:
  who: {type: string, default: world}
steps:
  - id: greet
    action: log
    input:
      message: hello ${inputs.who}
";

const FAILS: &str = "name: fails
steps:
  - id: read_missing
    action: fs/read
    input:
      path: /nonexistent/pilot-conformance/missing.txt
";

const SLOW: &str = "name: slow
steps:
  - id: wait
    action: sleep
    input:
      duration: 60s
";

const NIGHTLY: &str = "name: nightly
triggers:
  - type: schedule
    cron: \"0 3 * * *\"
    catch_up: none
steps:
  - id: note
    action: log
    input:
      message: night
";

const HOOK: &str = "name: hook
triggers:
  - type: webhook
    path: /hooks/hello
steps:
  - id: note
    action: log
    input:
      message: hooked
";

/// Sends requests, checks each answer against the document, and remembers which operations were exercised.
struct Conformance {
    addr: SocketAddr,
    document: Document,
    exercised: BTreeSet<Operation>,
    problems: Vec<String>,
}

impl Conformance {
    /// Sends `request` as an instance of `operation` (method and path template), expects `status`, and checks
    /// the answer against the document.
    fn expect(&mut self, operation: (&str, &str), request: Request, status: u16) -> Answer {
        let operation = (operation.0.to_owned(), operation.1.to_owned());
        let answer = request.send(self.addr);
        if answer.status != status {
            self.problems.push(format!(
                "{} {} answered {}, expected {status}: {}",
                request.method,
                request.target,
                answer.status,
                answer.text()
            ));
        }
        if let Err(problem) = self.document.check_answer(&operation, &answer) {
            self.problems.push(format!("{problem} (request {} {})", request.method, request.target));
        }
        self.exercised.insert(operation);
        answer
    }

    fn get(&self, target: &str) -> Value {
        let answer = Request::new("GET", target).send(self.addr);
        assert_eq!(answer.status, 200, "GET {target}: {}", answer.text());
        answer.json()
    }

    /// Waits (up to a minute) until the execution has the status.
    fn wait_for_status(&self, id: &str, wanted: &str) -> Value {
        let started = Instant::now();
        loop {
            let detail = self.get(&format!("/api/v1/executions/{id}"));
            if detail["status"] == wanted {
                return detail;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "execution {id} never became {wanted}: {detail}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn write_workflows(home: &Path) {
    let folder = home.join("workflows");
    std::fs::create_dir_all(&folder).unwrap();
    for (file, text) in [
        ("hello.yaml", HELLO),
        ("fails.yaml", FAILS),
        ("slow.yaml", SLOW),
        ("nightly.yaml", NIGHTLY),
        ("hook.yaml", HOOK),
        ("broken.yaml", "name: broken\nsteps:\n  - id: x\n    action: no/such\n"),
    ] {
        std::fs::write(folder.join(file), text).unwrap();
    }
}

#[test]
fn every_operation_of_the_openapi_document_answers_as_the_document_says() {
    let home = tempfile::tempdir().expect("temporary PILOT_HOME");
    write_workflows(home.path());
    let daemon = serve::Serve::start(Path::new(env!("CARGO_BIN_EXE_pilot")), home.path());

    let served = Request::new("GET", "/api/v1/openapi.json").send(daemon.addr);
    assert_eq!(served.status, 200, "{}", served.text());
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_pilot"))
        .args(["schema", "--openapi"])
        .env("PILOT_HOME", home.path())
        .output()
        .expect("run pilot schema --openapi");
    let printed: Value = serde_json::from_slice(&printed.stdout).expect("pilot schema --openapi prints JSON");
    assert_eq!(served.json(), printed, "the served document is the one `pilot schema --openapi` prints");
    let document = Document::new(printed);
    let problems = document.structural_problems();
    assert!(problems.is_empty(), "the OpenAPI document has problems:\n{}", problems.join("\n"));

    let mut api = Conformance { addr: daemon.addr, document, exercised: BTreeSet::new(), problems: Vec::new() };
    system_operations(&mut api);
    workflow_operations(&mut api);
    execution_operations(&mut api);
    events_operation(&mut api);
    refusals_are_json_errors(&mut api);

    let listed = api.document.operations();
    let missed: Vec<String> = listed.difference(&api.exercised).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(missed.is_empty(), "operations in the document that no case exercises:\n{}", missed.join("\n"));
    assert!(api.problems.is_empty(), "answers that contradict the document:\n{}", api.problems.join("\n"));
    assert!(daemon.stop().success(), "pilot serve stops cleanly on SIGTERM");
}

fn system_operations(api: &mut Conformance) {
    let health = api.expect(("GET", "/api/v1/health"), Request::new("GET", "/api/v1/health"), 200).json();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["workflows"], 5, "every workflow that compiles is loaded: {health}");
    let connectors = api.expect(("GET", "/api/v1/connectors"), Request::new("GET", "/api/v1/connectors"), 200);
    assert!(connectors.text().contains("fs/read"), "the catalogue lists the built-in actions");
    let functions = api.expect(("GET", "/api/v1/functions"), Request::new("GET", "/api/v1/functions"), 200).json();
    let listed = functions.as_array().expect("a list of functions");
    assert!(listed.iter().any(|f| f["name"] == "upper"), "the expression functions are listed: {functions}");
    let schema = api.expect(("GET", "/api/v1/schema"), Request::new("GET", "/api/v1/schema"), 200).json();
    assert!(jsonschema::meta::is_valid(&schema), "the workflow schema is a JSON Schema");
    let credentials = api.expect(("GET", "/api/v1/credentials"), Request::new("GET", "/api/v1/credentials"), 200);
    assert_eq!(credentials.json(), json!([]), "no credential is stored in a new home");
    let scheduled = api.expect(("GET", "/api/v1/scheduled"), Request::new("GET", "/api/v1/scheduled"), 200).json();
    assert_eq!(scheduled[0]["workflow"], "nightly", "{scheduled}");
}

fn workflow_operations(api: &mut Conformance) {
    let check = ("POST", "/api/v1/check");
    let good = api.expect(check, Request::new("POST", "/api/v1/check").json(&json!({ "source": HELLO })), 200).json();
    assert_eq!(good["ok"], true, "{good}");
    let bad_source = json!({ "source": "name: x\nsteps:\n  - id: a\n    action: nope\n", "file_name": "x.yaml" });
    let bad = api.expect(check, Request::new("POST", "/api/v1/check").json(&bad_source), 200).json();
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["diagnostics"][0]["file"], "x.yaml", "{bad}");

    let list = api.expect(("GET", "/api/v1/workflows"), Request::new("GET", "/api/v1/workflows"), 200).json();
    let broken = list.as_array().unwrap().iter().find(|w| w["file"].as_str().unwrap().ends_with("broken.yaml"));
    assert!(broken.is_some_and(|w| w["problem"].is_string()), "a file that does not compile is listed: {list}");

    let one = ("GET", "/api/v1/workflows/{name}");
    let hello = api.expect(one, Request::new("GET", "/api/v1/workflows/hello"), 200).json();
    assert_eq!(hello["description"], "Says hello");
    api.expect(one, Request::new("GET", "/api/v1/workflows/no-such"), 404);

    let save = ("POST", "/api/v1/workflows");
    let saved_source = HELLO.replace("name: hello", "name: saved");
    let saved =
        api.expect(save, Request::new("POST", "/api/v1/workflows").json(&json!({ "source": saved_source })), 200);
    assert_eq!(saved.json()["name"], "saved");
    let not_compiling = json!({ "source": "name: nope\nsteps: 3\n" });
    let refused = api.expect(save, Request::new("POST", "/api/v1/workflows").json(&not_compiling), 422).json();
    assert!(refused["error"]["details"]["diagnostics"].is_array(), "{refused}");
    let clash = json!({ "source": HOOK.replace("name: hook", "name: hook2"), "file_name": "zz-hook2.yaml" });
    api.expect(save, Request::new("POST", "/api/v1/workflows").json(&clash), 409);
    let bad_file = json!({ "source": HELLO.replace("name: hello", "name: other"), "file_name": "../escape.yaml" });
    let refused = api.expect(save, Request::new("POST", "/api/v1/workflows").json(&bad_file), 422).json();
    assert_eq!(refused["error"]["code"], "invalid_file_name");

    let disable = ("POST", "/api/v1/workflows/{name}/disable");
    let enable = ("POST", "/api/v1/workflows/{name}/enable");
    let run = ("POST", "/api/v1/workflows/{name}/run");
    let off = api.expect(disable, Request::new("POST", "/api/v1/workflows/saved/disable"), 200).json();
    assert_eq!(off["enabled"], false);
    api.expect(run, Request::new("POST", "/api/v1/workflows/saved/run"), 409);
    api.expect(disable, Request::new("POST", "/api/v1/workflows/no-such/disable"), 404);
    let on = api.expect(enable, Request::new("POST", "/api/v1/workflows/saved/enable"), 200).json();
    assert_eq!(on["enabled"], true);
    api.expect(enable, Request::new("POST", "/api/v1/workflows/no-such/enable"), 404);

    let accepted = api.expect(run, Request::new("POST", "/api/v1/workflows/saved/run"), 202).json();
    assert_eq!(accepted["status"], "queued");
    let with_inputs = Request::new("POST", "/api/v1/workflows/hello/run").json(&json!({ "inputs": { "who": "Ann" } }));
    api.expect(run, with_inputs, 202);
    let wrong_type = Request::new("POST", "/api/v1/workflows/hello/run").json(&json!({ "inputs": { "who": 3 } }));
    api.expect(run, wrong_type, 422);
    api.expect(run, Request::new("POST", "/api/v1/workflows/no-such/run"), 404);

    let delete = ("DELETE", "/api/v1/workflows/{name}");
    api.wait_for_status(accepted["execution_id"].as_str().unwrap(), "success");
    api.expect(delete, Request::new("DELETE", "/api/v1/workflows/saved"), 204);
    api.expect(delete, Request::new("DELETE", "/api/v1/workflows/saved"), 404);
}

fn execution_operations(api: &mut Conformance) {
    let run = |api: &mut Conformance, name: &str| -> String {
        let target = format!("/api/v1/workflows/{name}/run");
        let accepted = api.expect(("POST", "/api/v1/workflows/{name}/run"), Request::new("POST", &target), 202);
        accepted.json()["execution_id"].as_str().unwrap().to_owned()
    };
    let succeeded = run(api, "hello");
    let failed = run(api, "fails");
    let sleeping = run(api, "slow");
    api.wait_for_status(&succeeded, "success");
    api.wait_for_status(&failed, "failed");
    api.wait_for_status(&sleeping, "running");

    let one = ("GET", "/api/v1/executions/{id}");
    let detail = api.expect(one, Request::new("GET", &format!("/api/v1/executions/{succeeded}")), 200).json();
    assert_eq!(detail["steps"][0]["id"], "greet");
    api.expect(one, Request::new("GET", "/api/v1/executions/0000-no-such"), 404);

    let list = ("GET", "/api/v1/executions");
    let page = api.expect(list, Request::new("GET", "/api/v1/executions?limit=1"), 200).json();
    let cursor = page["next_cursor"].as_str().expect("more than one execution: a next page").to_owned();
    let next = api.expect(list, Request::new("GET", &format!("/api/v1/executions?limit=1&after={cursor}")), 200);
    assert_ne!(next.json()["items"][0]["id"], page["items"][0]["id"], "the next page goes on");
    let filtered = "/api/v1/executions?workflow=fails&status=failed&trigger=manual";
    let only_failed = api.expect(list, Request::new("GET", filtered), 200).json();
    assert_eq!(only_failed["items"].as_array().unwrap().len(), 1, "{only_failed}");
    api.expect(list, Request::new("GET", "/api/v1/executions?status=sleepy"), 400);
    api.expect(list, Request::new("GET", "/api/v1/executions?limit=many"), 400);

    let logs = ("GET", "/api/v1/executions/{id}/logs");
    let log = api.expect(logs, Request::new("GET", &format!("/api/v1/executions/{succeeded}/logs")), 200).json();
    assert!(log["lines"].to_string().contains("hello world"), "{log}");
    api.expect(logs, Request::new("GET", &format!("/api/v1/executions/{succeeded}/logs?offset=x")), 400);
    api.expect(logs, Request::new("GET", "/api/v1/executions/0000-no-such/logs"), 404);

    let retry = ("POST", "/api/v1/executions/{id}/retry");
    let again = api.expect(retry, Request::new("POST", &format!("/api/v1/executions/{failed}/retry")), 202).json();
    api.wait_for_status(again["execution_id"].as_str().unwrap(), "failed");
    let from_start = Request::new("POST", &format!("/api/v1/executions/{succeeded}/retry"))
        .json(&json!({ "from": "start", "version": "current" }));
    api.expect(retry, from_start, 202);
    api.expect(retry, Request::new("POST", &format!("/api/v1/executions/{succeeded}/retry")), 422);
    let unknown_step = Request::new("POST", &format!("/api/v1/executions/{failed}/retry"))
        .json(&json!({ "from": "step", "step": "x" }));
    api.expect(retry, unknown_step, 422);
    api.expect(retry, Request::new("POST", &format!("/api/v1/executions/{sleeping}/retry")), 409);
    api.expect(retry, Request::new("POST", "/api/v1/executions/0000-no-such/retry"), 404);

    let cancel = ("POST", "/api/v1/executions/{id}/cancel");
    let cancelling = api.expect(cancel, Request::new("POST", &format!("/api/v1/executions/{sleeping}/cancel")), 200);
    assert_eq!(cancelling.json()["status"], "cancelling");
    api.wait_for_status(&sleeping, "cancelled");
    api.expect(cancel, Request::new("POST", &format!("/api/v1/executions/{sleeping}/cancel")), 409);
    api.expect(cancel, Request::new("POST", "/api/v1/executions/0000-no-such/cancel"), 404);
}

/// The live stream: its head and first event (a replay, asked for with `Last-Event-ID: 0`) fit the document.
fn events_operation(api: &mut Conformance) {
    let operation: Operation = ("GET".to_owned(), "/api/v1/events".to_owned());
    let request = Request::new("GET", "/api/v1/events").header("last-event-id", "0");
    let answer = request.send_reading_at_most(api.addr, 512, Duration::from_secs(10));
    let text = answer.text();
    let data = text.lines().find_map(|line| line.strip_prefix("data:")).map(str::trim).map(str::to_owned);
    let data = data.unwrap_or_else(|| panic!("no event in the stream's first bytes: {text}"));
    let event: Value = serde_json::from_str(&data).expect("an event is JSON");
    // Status and content type; the body is a stream, whose events are checked one by one below.
    if let Err(problem) = api.document.check_answer(&operation, &answer) {
        api.problems.push(problem);
    }
    let schema = api.document.value["paths"]["/api/v1/events"]["get"]["responses"]["200"]["content"]
        ["text/event-stream"]["schema"]
        .clone();
    if let Err(problem) = api.document.check_value(&schema, &event) {
        api.problems.push(format!("an event of /api/v1/events: {problem}"));
    }
    assert_eq!(answer.status, 200);
    let filtered = Request::new("GET", "/api/v1/events?execution_id=0000-no-such");
    let quiet = filtered.send_reading_at_most(api.addr, 1, Duration::from_millis(300));
    assert_eq!(quiet.status, 200, "a filter on an unknown execution is a quiet stream");
    api.exercised.insert(operation);
}

/// What axum itself refuses (a body that is not JSON, a missing content type, a method a route does not take)
/// comes as the same JSON error as the API's own refusals.
fn refusals_are_json_errors(api: &mut Conformance) {
    let check = ("POST", "/api/v1/check");
    api.expect(check, Request::new("POST", "/api/v1/check").header("content-type", "application/json").body(b"{"), 400);
    api.expect(check, Request::new("POST", "/api/v1/check").body(br#"{"source": ""}"#), 415);
    api.expect(check, Request::new("POST", "/api/v1/check").json(&json!({ "text": "" })), 422);
    let run = Request::new("POST", "/api/v1/workflows/hello/run").header("content-type", "text/plain").body(b"hi");
    api.expect(("POST", "/api/v1/workflows/{name}/run"), run, 415);

    let wrong_method = Request::new("PUT", "/api/v1/health").send(api.addr);
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("GET,HEAD"), "{:?}", wrong_method.headers);
    assert_eq!(wrong_method.json()["error"]["code"], "method_not_allowed");
    let unknown = Request::new("GET", "/api/v1/no-such-route").send(api.addr);
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["code"], "not_found");
}
