//! The daemon itself, end to end: one per `$PILOT_HOME`, the API token off loopback, a clean stop on SIGTERM, and
//! the live events stream.

mod serve_support;

use serde_json::{Value as Json, json};
use serve_support::Home;
use serve_support::http::{EventStream, Request};

const HELLO: &str = r#"
name: hello
triggers:
  - type: webhook
    path: /hooks/hello
steps:
  - id: greet
    action: log
    input:
      message: "hello ${trigger.body.who}"
"#;

#[test]
fn a_second_pilot_serve_on_the_same_home_is_refused_naming_the_holder() {
    let home = Home::new();
    let first = home.serve();

    let refused = match home.try_serve(&["--addr", "127.0.0.1:0"], &[]) {
        Ok(_) => panic!("a second daemon started on the same PILOT_HOME"),
        Err(failure) => failure,
    };
    assert_eq!(refused.status.code(), Some(2), "{refused}");
    let holder = format!("process {}, {}", first.pid(), first.addr);
    assert!(refused.stderr.contains("pilot serve is already running"), "{refused}");
    assert!(refused.stderr.contains(&holder), "names the holder ({holder}): {refused}");
    let document: Json = serde_json::from_str(&refused.stdout).unwrap_or_else(|_| panic!("{refused}"));
    assert_eq!(document["exit_code"], 2);
    assert!(document["error"].as_str().unwrap().contains(&holder), "{document}");

    assert_eq!(first.get("/api/v1/health").status, 200, "the first one goes on");
    assert!(first.stop().success());
    let again = home.serve();
    assert_eq!(again.get("/api/v1/health").status, 200, "once the holder stopped, the home is free");
}

#[test]
fn a_public_address_needs_an_api_token_and_the_api_then_needs_it() {
    let home = Home::new();
    let refused = match home.try_serve(&["--addr", "0.0.0.0:0"], &[]) {
        Ok(_) => panic!("pilot serve listened on 0.0.0.0 without a token"),
        Err(failure) => failure,
    };
    assert_eq!(refused.status.code(), Some(2), "{refused}");
    assert!(refused.stderr.contains("not a loopback address"), "{refused}");
    assert!(refused.stderr.contains("pilot token create"), "says what to do: {refused}");

    let created = home.pilot(&["token", "create", "--json"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let token = serde_json::from_slice::<Json>(&created.stdout).unwrap()["token"].as_str().unwrap().to_owned();
    let daemon = home.serve_with(&["--addr", "0.0.0.0:0"], &[]);
    assert!(daemon.announced["addr"].as_str().unwrap().starts_with("0.0.0.0:"), "{}", daemon.announced);

    let without = daemon.get("/api/v1/health");
    assert_eq!(without.status, 401, "{}", without.text());
    assert_eq!(without.json()["error"]["code"], "unauthorized");
    let wrong = daemon.send(Request::new("GET", "/api/v1/health").header("Authorization", "Bearer not-the-token"));
    assert_eq!(wrong.status, 401);
    let with = daemon.send(Request::new("GET", "/api/v1/health").header("Authorization", format!("Bearer {token}")));
    assert_eq!(with.status, 200, "{}", with.text());
    assert_eq!(with.json()["status"], "ok");
    assert!(!daemon.stderr().contains(&token), "the token is never logged");
}

#[test]
fn sigterm_lets_a_running_execution_finish_and_exits_0() {
    let home = Home::new();
    let marker = home.work_dir().join("finished");
    home.write_workflow(
        "slow.yaml",
        &format!(
            r#"
name: slow
triggers:
  - type: webhook
    path: /hooks/slow
steps:
  - id: wait
    action: shell/exec
    input:
      command: sleep
      args: ["2"]
  - id: done
    action: fs/write
    input:
      path: {}
      content: done
"#,
            marker.display()
        ),
    );
    let daemon = home.serve();
    let id = daemon.trigger("/hooks/slow", &json!({}));
    daemon.wait_for_execution(&id, "to run", |execution| execution["status"] == "running");

    let status = daemon.stop();
    assert_eq!(status.code(), Some(0), "a clean stop");
    assert_eq!(std::fs::read_to_string(&marker).unwrap(), "done", "the running execution finished in the drain time");
    let stored: String =
        home.store().query_row("SELECT status FROM executions WHERE id = ?1", [&id], |row| row.get(0)).unwrap();
    assert_eq!(stored, "success");
}

/// The events of one execution up to its `finished`, read from `stream`.
fn events_until_finished(stream: &mut EventStream, execution_id: &str) -> Vec<Json> {
    let mut events = Vec::new();
    loop {
        let event = stream.next();
        let data = event.json();
        assert_eq!(event.event.as_deref(), data["type"].as_str(), "`event:` is the type: {event:?}");
        assert_eq!(event.id.as_deref(), Some(data["id"].to_string().as_str()), "`id:` is the event's id");
        if data["execution_id"] != execution_id {
            continue;
        }
        let finished = data["type"] == "finished";
        events.push(data);
        if finished {
            return events;
        }
    }
}

#[test]
fn the_events_stream_delivers_a_webhook_runs_events_and_resumes_after_last_event_id() {
    let home = Home::new();
    home.write_workflow("hello.yaml", HELLO);
    let daemon = home.serve();
    let mut stream = EventStream::open(&daemon.addr, "/api/v1/events", &[]);

    let id = daemon.trigger("/hooks/hello", &json!({"who": "Ann"}));
    let events = events_until_finished(&mut stream, &id);
    let kinds: Vec<&str> = events.iter().map(|event| event["type"].as_str().unwrap()).filter(|t| *t != "log").collect();
    assert_eq!(kinds, ["queued", "started", "step_started", "step_finished", "finished"], "{events:#?}");
    assert_eq!(events[0]["workflow"], "hello");
    assert_eq!(events[0]["trigger_type"], "webhook");
    let step_finished = events.iter().find(|event| event["type"] == "step_finished").unwrap();
    assert_eq!((&step_finished["step_id"], &step_finished["status"]), (&json!("greet"), &json!("success")));
    assert_eq!(events.last().unwrap()["status"], "success");
    let ids: Vec<u64> = events.iter().map(|event| event["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "ids grow: {ids:?}");

    // A client that saw only the first event reconnects and gets the rest, in order.
    let seen = ids[0].to_string();
    let mut resumed = EventStream::open(
        &daemon.addr,
        &format!("/api/v1/events?execution_id={id}"),
        &[("Last-Event-ID", seen.as_str())],
    );
    let replayed = events_until_finished(&mut resumed, &id);
    assert_eq!(replayed, events[1..], "what came after Last-Event-ID, as first sent");
}
