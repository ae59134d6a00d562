//! Webhooks end to end: `pilot serve` on an ephemeral port, workflows in its `$PILOT_HOME/workflows`, requests
//! over HTTP. What a webhook accepts becomes an execution carrying the request; what it refuses leaves no row.

mod serve_support;

use serde_json::json;
use serve_support::Home;
use serve_support::http::Request;

const GREET: &str = r#"
name: greet
triggers:
  - type: webhook
    path: /hooks/greet
inputs:
  who:
    type: string
  times:
    type: int
    default: 1
steps:
  - id: greet
    action: log
    input:
      message: "hello ${inputs.who} x${inputs.times}, order ${trigger.body.order.id} from ${trigger.query.source}"
"#;

#[test]
fn a_webhook_post_starts_an_execution_that_carries_its_payload() {
    let home = Home::new();
    home.write_workflow("greet.yaml", GREET);
    let daemon = home.serve();

    let response =
        daemon.post_json("/hooks/greet?source=shop", &json!({"who": "Ann", "times": 2, "order": {"id": 42}}));
    assert_eq!(response.status, 202, "{}", response.text());
    let accepted = response.json();
    assert_eq!(accepted["status"], "queued");
    let execution = daemon.wait_finished(accepted["execution_id"].as_str().unwrap());

    assert_eq!(execution["status"], "success", "{execution:#}");
    assert_eq!(execution["input"], json!({"who": "Ann", "times": 2}), "the declared inputs come from the body");
    assert_eq!(execution["trigger"]["type"], "webhook");
    assert_eq!(execution["trigger"]["body"]["order"], json!({"id": 42}), "the whole body is kept");
    assert_eq!(execution["steps"][0]["input"]["message"], "hello Ann x2, order 42 from shop");
}

#[test]
fn inputs_that_do_not_fit_are_refused_with_a_422_naming_them_and_nothing_runs() {
    let home = Home::new();
    home.write_workflow("greet.yaml", GREET);
    let daemon = home.serve();

    let wrong_type = daemon.post_json("/hooks/greet", &json!({"who": "Ann", "times": "twice"}));
    assert_eq!(wrong_type.status, 422, "{}", wrong_type.text());
    let error = &wrong_type.json()["error"];
    assert_eq!(error["code"], "invalid_inputs");
    assert!(error["message"].as_str().unwrap().contains("`times`"), "{error}");

    let missing = daemon.post_json("/hooks/greet", &json!({"times": 3}));
    assert_eq!(missing.status, 422, "{}", missing.text());
    assert!(missing.json()["error"]["message"].as_str().unwrap().contains("`who`"), "{}", missing.text());

    assert!(daemon.executions("greet").is_empty());
    assert_eq!(home.execution_rows("greet"), 0);
}

const SIGNED: &str = r#"
name: signed
triggers:
  - type: webhook
    path: /hooks/signed
    secret: "${HOOK_SECRET}"
steps:
  - id: note
    action: log
    input:
      message: "signed ${trigger.body.n}"
"#;

const BEARER: &str = r#"
name: bearer
triggers:
  - type: webhook
    path: /hooks/bearer
    secret: "${HOOK_TOKEN}"
    auth: bearer
steps:
  - id: note
    action: log
    input:
      message: "bearer ${trigger.body.n}"
"#;

const HOOK_SECRET: &str = "hmac-secret-4f1c";
const HOOK_TOKEN: &str = "bearer-token-9d2e";

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// A request signed as `notify/webhook` signs: `sha256=HMAC(secret, "TIMESTAMP.BODY")`.
fn signed<'a>(secret: &str, timestamp: u64, body: &str) -> Request<'a> {
    let signature = connectors::notify::webhook::signature_hex(secret.as_bytes(), timestamp, body.as_bytes());
    Request::new("POST", "/hooks/signed")
        .header("X-Pilot-Timestamp", timestamp.to_string())
        .header("X-Pilot-Signature", format!("sha256={signature}"))
        .body(body)
}

#[test]
fn a_bad_stale_or_missing_hmac_signature_gets_401_and_leaves_no_execution() {
    let home = Home::new();
    home.write_workflow("signed.yaml", SIGNED);
    let daemon = home.serve_with(&["--addr", "127.0.0.1:0"], &[("HOOK_SECRET", HOOK_SECRET)]);
    let body = r#"{"n": 1}"#;
    let now = unix_now();

    let refused = [
        ("signed with another secret", signed("not-the-secret", now, body)),
        ("signed an hour ago", signed(HOOK_SECRET, now - 3600, body)),
        ("signed an hour from now", signed(HOOK_SECRET, now + 3600, body)),
        ("signature of another body", signed(HOOK_SECRET, now, r#"{"n": 2}"#).body(body)),
        ("no signature", Request::new("POST", "/hooks/signed").header("X-Pilot-Timestamp", now.to_string()).body(body)),
        ("no timestamp", {
            let signature = connectors::notify::webhook::signature_hex(HOOK_SECRET.as_bytes(), now, body.as_bytes());
            Request::new("POST", "/hooks/signed").header("X-Pilot-Signature", format!("sha256={signature}")).body(body)
        }),
        ("nothing", Request::new("POST", "/hooks/signed").body(body)),
    ];
    for (what, request) in refused {
        let response = daemon.send(request);
        assert_eq!(response.status, 401, "{what}: {}", response.text());
        assert_eq!(response.json()["error"]["code"], "unauthorized", "{what}");
    }
    assert!(daemon.executions("signed").is_empty(), "no refused request is listed");
    assert_eq!(home.execution_rows("signed"), 0, "no refused request is stored");

    let accepted = daemon.send(signed(HOOK_SECRET, now, body));
    assert_eq!(accepted.status, 202, "a good signature is accepted: {}", accepted.text());
    let execution = daemon.wait_finished(accepted.json()["execution_id"].as_str().unwrap());
    assert_eq!(execution["status"], "success");
    assert_eq!(execution["trigger"]["headers"]["x-pilot-signature"], "***", "the signature is not kept");
    assert_eq!(home.execution_rows("signed"), 1);
}

#[test]
fn a_missing_or_wrong_bearer_token_gets_401_and_leaves_no_execution() {
    let home = Home::new();
    home.write_workflow("bearer.yaml", BEARER);
    let daemon = home.serve_with(&["--addr", "127.0.0.1:0"], &[("HOOK_TOKEN", HOOK_TOKEN)]);
    let request = || Request::new("POST", "/hooks/bearer").json(&json!({"n": 1}));

    for (what, request) in [
        ("no Authorization", request()),
        ("a wrong token", request().header("Authorization", "Bearer guess")),
        ("the token without the scheme", request().header("Authorization", HOOK_TOKEN)),
    ] {
        let response = daemon.send(request);
        assert_eq!(response.status, 401, "{what}: {}", response.text());
    }
    assert!(daemon.executions("bearer").is_empty());
    assert_eq!(home.execution_rows("bearer"), 0);

    let accepted = daemon.send(request().header("Authorization", format!("Bearer {HOOK_TOKEN}")));
    assert_eq!(accepted.status, 202, "{}", accepted.text());
    let id = accepted.json()["execution_id"].as_str().unwrap().to_owned();
    let execution = daemon.wait_finished(&id);
    assert_eq!(execution["status"], "success");
    assert_eq!(execution["trigger"]["headers"]["authorization"], "***");
    assert!(!daemon.get(&format!("/api/v1/executions/{id}")).text().contains(HOOK_TOKEN), "the token is never served");
    assert_eq!(home.execution_rows("bearer"), 1);
}

#[test]
fn a_repeated_idempotency_key_starts_one_execution() {
    let home = Home::new();
    home.write_workflow("greet.yaml", GREET);
    let daemon = home.serve();
    let with_key = |key: &str| {
        let request = Request::new("POST", "/hooks/greet").header("Idempotency-Key", key).json(&json!({"who": "Bo"}));
        let response = daemon.send(request);
        assert_eq!(response.status, 202, "{}", response.text());
        response.json()
    };

    let first = with_key("order-17");
    let again = with_key("order-17");
    assert_eq!(first["status"], "queued");
    assert_eq!(again["status"], "existing");
    assert_eq!(again["execution_id"], first["execution_id"], "the repeat answers the first execution");
    let other = with_key("order-18");
    assert_eq!(other["status"], "queued");
    assert_ne!(other["execution_id"], first["execution_id"]);

    daemon.wait_finished(first["execution_id"].as_str().unwrap());
    daemon.wait_finished(other["execution_id"].as_str().unwrap());
    assert_eq!(daemon.executions("greet").len(), 2);
    assert_eq!(home.execution_rows("greet"), 2);
}

#[test]
fn a_wrong_method_gets_405_and_an_unknown_path_404() {
    let home = Home::new();
    home.write_workflow("greet.yaml", GREET);
    let daemon = home.serve();

    let wrong_method = daemon.send(Request::new("PUT", "/hooks/greet").json(&json!({"who": "Ann"})));
    assert_eq!(wrong_method.status, 405, "{}", wrong_method.text());
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    assert_eq!(wrong_method.json()["error"]["code"], "method_not_allowed");

    let unknown = daemon.post_json("/hooks/greeet", &json!({"who": "Ann"}));
    assert_eq!(unknown.status, 404, "{}", unknown.text());
    assert_eq!(unknown.json()["error"]["code"], "not_found");
    let unknown_api = daemon.get("/api/v1/nothing-here");
    assert_eq!(unknown_api.status, 404, "{}", unknown_api.text());
    assert_eq!(unknown_api.json()["error"]["code"], "not_found");

    assert_eq!(home.execution_rows("greet"), 0);
}

#[test]
fn a_body_over_the_limit_gets_413() {
    let home = Home::new();
    home.write_workflow(
        "small.yaml",
        "name: small\ntriggers:\n  - type: webhook\n    path: /hooks/small\n    max_body_size: 64\n\
         steps:\n  - id: note\n    action: log\n    input:\n      message: \"${trigger.body}\"\n",
    );
    let daemon = home.serve();

    let large = json!({"text": "x".repeat(1000)});
    let response = daemon.post_json("/hooks/small", &large);
    assert_eq!(response.status, 413, "{}", response.text());
    assert_eq!(response.json()["error"]["code"], "payload_too_large");
    assert!(response.json()["error"]["message"].as_str().unwrap().contains("64 bytes"), "{}", response.text());
    assert_eq!(home.execution_rows("small"), 0);

    let small = daemon.post_json("/hooks/small", &json!({"text": "fits"}));
    assert_eq!(small.status, 202, "a body within the limit is accepted: {}", small.text());
}

#[test]
fn requests_over_the_rate_limit_get_429_with_retry_after() {
    let home = Home::new();
    home.write_workflow(
        "limited.yaml",
        "name: limited\ntriggers:\n  - type: webhook\n    path: /hooks/limited\n    rate_limit: {requests: 2, per: 1h}\n\
         steps:\n  - id: note\n    action: log\n    input:\n      message: hi\n",
    );
    let daemon = home.serve();

    for _ in 0..2 {
        let response = daemon.post_json("/hooks/limited", &json!({}));
        assert_eq!(response.status, 202, "{}", response.text());
    }
    let over = daemon.post_json("/hooks/limited", &json!({}));
    assert_eq!(over.status, 429, "{}", over.text());
    assert_eq!(over.json()["error"]["code"], "rate_limited");
    let retry_after: u64 = over.header("retry-after").expect("a Retry-After header").parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "Retry-After {retry_after} s: within the 1 h window");
    assert_eq!(home.execution_rows("limited"), 2, "the refused request left no row");
}

#[test]
fn a_webhook_with_wait_answers_with_the_outputs() {
    let home = Home::new();
    home.write_workflow(
        "echo.yaml",
        r#"
name: echo
triggers:
  - type: webhook
    path: /hooks/echo
    wait: true
inputs:
  who:
    type: string
steps:
  - id: say
    action: shell/exec
    input:
      command: echo
      args: ["hello ${inputs.who}"]
"#,
    );
    let daemon = home.serve();

    let response = daemon.post_json("/hooks/echo", &json!({"who": "Ann"}));
    assert_eq!(response.status, 200, "the answer waits for the end: {}", response.text());
    let done = response.json();
    assert_eq!(done["status"], "success", "{done:#}");
    assert_eq!(done["outputs"]["say"]["stdout"], "hello Ann\n");
    assert_eq!(done["outputs"]["say"]["exit_code"], 0);
    assert_eq!(daemon.execution(done["execution_id"].as_str().unwrap())["status"], "success");
}
