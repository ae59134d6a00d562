//! `http/get|post|put|delete` against real servers on 127.0.0.1: the exact requests sent and the outputs built.

mod net_support;

use axum::http::Method;
use connectors::http::HttpConnector;
use expr_grammar::Value;
use net_support::*;
use serde_json::json;

#[tokio::test]
async fn get_sends_query_and_headers_and_parses_a_json_answer() {
    let server = TestServer::start(|_| json_reply(200, json!({"items": [1, 2], "name": "x"}))).await;
    let input = input(json!({
        "url": server.url("/items?fixed=1"),
        "query": {"page": 2, "tag": ["a b", "c&d"]},
        "headers": {"X-Trace": "abc", "Accept": "application/json"},
    }));
    let output = run(&HttpConnector::new(), "http/get", input, &ctx()).await.expect("get succeeds");

    let request = server.only_request();
    assert_eq!(request.method, Method::GET);
    assert_eq!(request.path, "/items");
    assert_eq!(request.query.as_deref(), Some("fixed=1&page=2&tag=a+b&tag=c%26d"));
    assert_eq!(request.header("x-trace"), Some("abc"));
    assert_eq!(request.header("accept"), Some("application/json"));
    assert_eq!(request.header("authorization"), None);
    assert!(request.body.is_empty());

    assert_eq!(field(&output, "status"), &Value::Int(200));
    assert_eq!(field(&output, "body"), &Value::from_json(&json!({"items": [1, 2], "name": "x"})));
    assert_eq!(text_of(&output, "text"), r#"{"items":[1,2],"name":"x"}"#);
    assert_eq!(text_of(field(&output, "headers"), "content-type"), "application/json");
}

#[tokio::test]
async fn a_non_json_answer_gives_its_text_as_body() {
    let server = TestServer::start(|_| reply(200, "text/plain", "hello there")).await;
    let output = run(&HttpConnector::new(), "http/get", input(json!({"url": server.url("/")})), &ctx()).await.unwrap();
    assert_eq!(field(&output, "body"), &Value::from("hello there"));
    assert_eq!(text_of(&output, "text"), "hello there");
}

#[tokio::test]
async fn json_declared_but_malformed_falls_back_to_text() {
    let server = TestServer::start(|_| reply(200, "application/problem+json; charset=utf-8", "{not json")).await;
    let output = run(&HttpConnector::new(), "http/get", input(json!({"url": server.url("/")})), &ctx()).await.unwrap();
    assert_eq!(field(&output, "body"), &Value::from("{not json"));
}

#[tokio::test]
async fn post_json_sends_the_exact_json_bytes_with_content_type() {
    let server = TestServer::ok().await;
    let input = input(json!({"url": server.url("/orders"), "json": {"id": 7, "tags": ["x"], "note": null}}));
    run(&HttpConnector::new(), "http/post", input, &ctx()).await.unwrap();

    let request = server.only_request();
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, "/orders");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.body_text(), r#"{"id":7,"tags":["x"],"note":null}"#);
}

#[tokio::test]
async fn put_form_sends_a_url_encoded_body() {
    let server = TestServer::ok().await;
    let input = input(json!({"url": server.url("/form"), "form": {"name": "Ann Lee", "n": 3, "and": "a&b"}}));
    run(&HttpConnector::new(), "http/put", input, &ctx()).await.unwrap();

    let request = server.only_request();
    assert_eq!(request.method, Method::PUT);
    assert_eq!(request.header("content-type"), Some("application/x-www-form-urlencoded"));
    assert_eq!(request.body_text(), "name=Ann+Lee&n=3&and=a%26b");
}

#[tokio::test]
async fn raw_body_is_sent_as_is_with_text_content_type_unless_headers_say_otherwise() {
    let server = TestServer::ok().await;
    let connector = HttpConnector::new();
    run(&connector, "http/post", input(json!({"url": server.url("/a"), "body": "line 1\nline 2"})), &ctx())
        .await
        .unwrap();
    let with_type = json!({"url": server.url("/b"), "body": "<x/>", "headers": {"Content-Type": "application/xml"}});
    run(&connector, "http/post", input(with_type), &ctx()).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests[0].header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(requests[0].body_text(), "line 1\nline 2");
    assert_eq!(requests[1].header("content-type"), Some("application/xml"));
    assert_eq!(requests[1].body_text(), "<x/>");
}

#[tokio::test]
async fn delete_sends_delete_and_returns_an_empty_body() {
    let server = TestServer::start(|_| reply(204, "text/plain", "")).await;
    let output =
        run(&HttpConnector::new(), "http/delete", input(json!({"url": server.url("/items/9")})), &ctx()).await.unwrap();
    let request = server.only_request();
    assert_eq!((request.method, request.path.as_str()), (Method::DELETE, "/items/9"));
    assert_eq!(field(&output, "status"), &Value::Int(204));
    assert_eq!(text_of(&output, "text"), "");
}

#[tokio::test]
async fn basic_credential_sends_basic_authorization_replacing_a_given_header() {
    let server = TestServer::ok().await;
    let ctx = ctx_with_credential("basic", json!({"username": "ann", "password": "p@ss:word"}));
    let input = input(json!({"url": server.url("/"), "headers": {"Authorization": "Bearer stale"}}));
    run(&HttpConnector::new(), "http/get", input, &ctx).await.unwrap();

    let request = server.only_request();
    // base64("ann:p@ss:word"), computed independently.
    assert_eq!(request.header("authorization"), Some("Basic YW5uOnBAc3M6d29yZA=="));
    assert_eq!(request.headers.get_all("authorization").iter().count(), 1);
}

#[tokio::test]
async fn bearer_and_api_key_credentials_send_a_bearer_token() {
    let server = TestServer::ok().await;
    let connector = HttpConnector::new();
    let url = input(json!({"url": server.url("/")}));
    run(&connector, "http/get", url.clone(), &ctx_with_credential("bearer", json!({"token": "tok-1"}))).await.unwrap();
    run(&connector, "http/get", url, &ctx_with_credential("api_key", json!({"api_key": "key-2"}))).await.unwrap();

    let requests = server.requests();
    assert_eq!(requests[0].header("authorization"), Some("Bearer tok-1"));
    assert_eq!(requests[1].header("authorization"), Some("Bearer key-2"));
}

#[tokio::test]
async fn api_key_with_a_header_name_sends_the_key_raw_in_that_header() {
    let server = TestServer::ok().await;
    let ctx = ctx_with_credential("api_key", json!({"api_key": "key-3", "header": "X-Api-Key"}));
    run(&HttpConnector::new(), "http/get", input(json!({"url": server.url("/")})), &ctx).await.unwrap();
    let request = server.only_request();
    assert_eq!(request.header("x-api-key"), Some("key-3"));
    assert_eq!(request.header("authorization"), None);
}

#[tokio::test]
async fn redirects_are_followed_by_default() {
    let server = TestServer::start(|request| match request.path.as_str() {
        "/old" => redirect("/new"),
        _ => reply(200, "text/plain", "arrived"),
    })
    .await;
    let output =
        run(&HttpConnector::new(), "http/get", input(json!({"url": server.url("/old")})), &ctx()).await.unwrap();
    assert_eq!(field(&output, "status"), &Value::Int(200));
    assert_eq!(text_of(&output, "text"), "arrived");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/old", "/new"]);
}

#[tokio::test]
async fn follow_redirects_false_returns_the_redirect_itself() {
    let server = TestServer::start(|_| redirect("/new")).await;
    let input = input(json!({"url": server.url("/old"), "follow_redirects": false, "fail_on_status": false}));
    let output = run(&HttpConnector::new(), "http/get", input, &ctx()).await.unwrap();
    assert_eq!(field(&output, "status"), &Value::Int(302));
    assert_eq!(text_of(field(&output, "headers"), "location"), "/new");
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_redirect_to_another_host_does_not_carry_the_credential() {
    let target = TestServer::ok().await;
    // `localhost` is another host than `127.0.0.1` to the client, though the same machine.
    let elsewhere = format!("http://localhost:{}/landing", target.address.port());
    let origin = TestServer::start(move |_| redirect(&elsewhere)).await;
    let ctx = ctx_with_credential("bearer", json!({"token": "tok-secret"}));
    run(&HttpConnector::new(), "http/get", input(json!({"url": origin.url("/start")})), &ctx).await.unwrap();

    assert_eq!(origin.only_request().header("authorization"), Some("Bearer tok-secret"));
    let landed = target.only_request();
    assert_eq!(landed.path, "/landing");
    assert_eq!(landed.header("authorization"), None);
}

#[tokio::test]
async fn repeated_response_headers_are_joined() {
    let server = TestServer::start(|_| {
        let response = axum::response::Response::builder()
            .status(200)
            .header("x-tag", "a")
            .header("x-tag", "b")
            .body(axum::body::Body::from("ok"))
            .unwrap();
        Reply::Now(response)
    })
    .await;
    let output = run(&HttpConnector::new(), "http/get", input(json!({"url": server.url("/")})), &ctx()).await.unwrap();
    assert_eq!(text_of(field(&output, "headers"), "x-tag"), "a, b");
}

#[tokio::test]
async fn the_registry_runs_http_notify_and_shell_actions() {
    let registry = connectors::registry::ConnectorRegistry::builtin();
    for action in
        ["http/get", "http/post", "http/put", "http/delete", "http/download", "notify/webhook", "notify/slack"]
    {
        assert!(registry.get(action).is_ok(), "{action} is not registered");
    }
    assert_eq!(registry.get("shell/exec").map(|c| c.id().to_string()).ok().as_deref(), Some("shell"));
    assert_eq!(registry.get("notification/webhook").map(|c| c.id().to_string()).ok().as_deref(), Some("notify"));
}

fn redirect(location: &str) -> Reply {
    let response = axum::response::Response::builder()
        .status(302)
        .header("location", location)
        .body(axum::body::Body::empty())
        .expect("redirect response");
    Reply::Now(response)
}
