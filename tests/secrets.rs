//! Credentials end to end through the `pilot` binary: stored encrypted with `pilot credentials set` (secret on
//! stdin), used by a workflow as `credential:` and `${secrets.NAME}` against a local HTTP server that checks the
//! bearer token, and then absent in plain text from the database (and its WAL), the logs and every `--json`
//! output. A wrong master key fails clearly and leaves the stored data untouched.

use executor::store::{CredentialRecord, SqliteStore, Store, StoreOptions};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

const SECRET: &str = "sk-live-Zq8vT3mW9pL2xN7r";
/// base64 of 32 bytes of 0x2a.
const MASTER_KEY: &str = "KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";
/// base64 of 32 bytes of 0x07.
const WRONG_MASTER_KEY: &str = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

fn pilot(home: &Path, master_key: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_pilot"));
    command
        .env("PILOT_HOME", home)
        .env("PILOT_MASTER_KEY", master_key)
        .env("PILOT_KEYRING", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn set_credential(home: &Path, name: &str, secret: &str) -> Output {
    let mut child = pilot(home, MASTER_KEY)
        .args(["credentials", "set", name, "--provider", "api_key"])
        .stdin(Stdio::piped())
        .spawn()
        .expect("pilot starts");
    child.stdin.take().expect("stdin").write_all(format!("{secret}\n").as_bytes()).expect("write secret");
    child.wait_with_output().expect("pilot ends")
}

/// What the server saw: every request's path and headers, and the bodies.
#[derive(Debug, Default)]
struct Seen {
    requests: Vec<(String, Vec<(String, String)>)>,
    bodies: Vec<String>,
}

/// A real HTTP/1.1 server on 127.0.0.1: `/check` answers 200 only to `Authorization: Bearer SECRET` (401
/// otherwise); `/echo` answers with its `x-token` header as the body; `/mirror` answers with the whole request as
/// it arrived (request line, headers, body); `/fail` answers 500 with the query.
fn start_server() -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(Mutex::new(Seen::default()));
    let recorded = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream, &recorded);
        }
    });
    (address, seen)
}

fn answer(stream: TcpStream, seen: &Mutex<Seen>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.trim_end().split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut request_body = vec![0; header("content-length").parse().unwrap_or(0)];
    let _ = std::io::Read::read_exact(&mut reader, &mut request_body);
    let request_body = String::from_utf8_lossy(&request_body).into_owned();
    let (status, body) = if target.starts_with("/mirror") {
        let head: String = headers.iter().map(|(name, value)| format!("{name}: {value}\n")).collect();
        ("200 OK", format!("{}\n{head}\n{request_body}", request_line.trim_end()))
    } else if target.starts_with("/check") {
        if header("authorization") == format!("Bearer {SECRET}") {
            ("200 OK", "ok".to_owned())
        } else {
            ("401 Unauthorized", "no".to_owned())
        }
    } else if target.starts_with("/echo") {
        ("200 OK", format!("token was {}", header("x-token")))
    } else {
        ("500 Internal Server Error", format!("failed for {target}"))
    };
    let mut seen = seen.lock().expect("lock");
    seen.requests.push((target, headers));
    seen.bodies.push(request_body);
    drop(seen);
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = stream;
    let _ = stream.write_all(response.as_bytes());
}

fn workflow(dir: &Path, base_url: &str) -> PathBuf {
    let yaml = format!(
        r#"name: secrets-e2e
steps:
  - id: call
    action: http/get
    credential: api
    input:
      url: "{base_url}/check"
  - id: echo
    action: http/get
    input:
      url: "{base_url}/echo"
      headers:
        x-token: "${{secrets.api}}"
  - id: shape
    action: transform
    input:
      token: "${{secrets.api}}"
      greeting: "hello ${{secrets.api}}"
  - id: say
    action: log
    input:
      message: "using ${{secrets.api}} now"
  - id: broken
    action: http/get
    continue_on_error: true
    input:
      url: "{base_url}/fail?t=${{secrets.api}}"
"#
    );
    let path = dir.join("secrets.yaml");
    std::fs::write(&path, yaml).expect("write workflow");
    path
}

/// Every file under `folder`, recursively.
fn files_under(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(folder).expect("read folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle.as_bytes())
}

fn stored_credentials(home: &Path) -> Vec<CredentialRecord> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let store = SqliteStore::open(home.join("pilot.db"), StoreOptions::default()).expect("store opens");
    runtime.block_on(store.credentials()).expect("credentials read")
}

#[test]
fn a_secret_reaches_the_server_but_never_the_database_logs_or_json() {
    let home = tempfile::tempdir().expect("tempdir");
    let (base_url, seen) = start_server();
    let stored = set_credential(home.path(), "api", SECRET);
    assert!(stored.status.success(), "set failed: {}", text(&stored.stderr));
    assert!(!text(&stored.stdout).contains(SECRET));

    let listed = pilot(home.path(), MASTER_KEY).args(["credentials", "list", "--json"]).output().expect("list");
    let list: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("list is JSON");
    assert_eq!((list[0]["name"].as_str(), list[0]["provider"].as_str()), (Some("api"), Some("api_key")));
    assert!(!text(&listed.stdout).contains(SECRET));

    // Holding a connection keeps the WAL file from being checkpointed away when `pilot` exits, so it is scanned.
    let _keep_wal = SqliteStore::open(home.path().join("pilot.db"), StoreOptions::default()).expect("store opens");
    let file = workflow(home.path(), &base_url);
    let run = pilot(home.path(), MASTER_KEY).arg("run").arg(&file).arg("--json").output().expect("run");
    let run_json = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "stdout: {run_json}\nstderr: {}", text(&run.stderr));
    assert!(!run_json.contains(SECRET) && !text(&run.stderr).contains(SECRET), "{run_json}");
    let execution: serde_json::Value = serde_json::from_str(&run_json).expect("run --json is JSON");
    let id = execution["id"].as_str().expect("execution id").to_owned();
    assert!(run_json.contains("hello ***") && run_json.contains("token was ***"), "{run_json}");

    // The secret did go where it was meant to: the bearer header and the x-token header.
    let seen = seen.lock().expect("lock");
    let paths: Vec<&str> = seen.requests.iter().map(|(path, _)| path.as_str()).collect();
    assert!(paths.contains(&"/check") && paths.contains(&"/echo"), "{paths:?}");
    let bearer = format!("Bearer {SECRET}");
    let authorized = |(path, headers): &&(String, Vec<(String, String)>)| {
        path == "/check" && headers.iter().any(|(n, v)| n == "authorization" && *v == bearer)
    };
    assert_eq!(seen.requests.iter().filter(authorized).count(), 1);
    assert!(seen.requests.iter().any(|(p, h)| p == "/echo" && h.iter().any(|(n, v)| n == "x-token" && v == SECRET)));

    let show = pilot(home.path(), MASTER_KEY).args(["executions", "show", &id, "--json"]).output().expect("show");
    assert!(show.status.success() && !text(&show.stdout).contains(SECRET), "{}", text(&show.stdout));
    let logs = pilot(home.path(), MASTER_KEY).args(["logs", &id]).output().expect("logs");
    // The failed step's error quoted the URL with the secret in it: the log line has it masked.
    assert!(text(&logs.stdout).contains("/fail?t=***"), "{}", text(&logs.stdout));
    // The `log` step's message is in the log, masked too.
    assert!(text(&logs.stdout).contains("[say] using *** now"), "{}", text(&logs.stdout));

    let files = files_under(home.path());
    assert!(files.iter().any(|f| f.ends_with("pilot.db")), "{files:?}");
    assert!(files.iter().any(|f| f.ends_with("pilot.db-wal")), "{files:?}");
    assert!(files.iter().any(|f| f.starts_with(home.path().join("logs"))), "{files:?}");
    // The scan reads the real records: the redacted output is there, in the database or its WAL.
    let redacted_stored = files.iter().any(|f| contains(&std::fs::read(f).unwrap_or_default(), "hello ***"));
    assert!(redacted_stored, "no stored file holds the redacted output");
    for file in files {
        let bytes = std::fs::read(&file).expect("read file");
        assert!(!contains(&bytes, SECRET), "{} holds the secret in plain text", file.display());
    }
}

#[test]
fn a_wrong_master_key_fails_the_run_clearly_and_changes_no_stored_data() {
    let home = tempfile::tempdir().expect("tempdir");
    let (base_url, seen) = start_server();
    assert!(set_credential(home.path(), "api", SECRET).status.success());
    let before = stored_credentials(home.path());
    let file = workflow(home.path(), &base_url);
    let run = pilot(home.path(), WRONG_MASTER_KEY).arg("run").arg(&file).output().expect("run");
    let stderr = text(&run.stderr);
    assert_eq!(run.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "cannot decrypt credential `api`: the master key does not match the one it was stored with (from \
             PILOT_MASTER_KEY)"
        ),
        "{stderr}"
    );
    let rotate = pilot(home.path(), WRONG_MASTER_KEY).args(["credentials", "rotate-key"]).output().expect("rotate");
    assert!(!rotate.status.success());
    assert_eq!(stored_credentials(home.path()), before);
    assert!(seen.lock().expect("lock").requests.is_empty(), "nothing ran");
}

#[test]
fn an_unknown_credential_name_warns_in_check_and_fails_the_run_naming_it() {
    let home = tempfile::tempdir().expect("tempdir");
    assert!(set_credential(home.path(), "api", SECRET).status.success());
    let file = home.path().join("unknown.yaml");
    let yaml = "name: unknown\nsteps:\n  - id: a\n    action: transform\n    input:\n      t: \"${secrets.apj}\"\n";
    std::fs::write(&file, yaml).expect("write");
    let check = pilot(home.path(), MASTER_KEY).arg("check").arg(&file).output().expect("check");
    let report = text(&check.stdout) + &text(&check.stderr);
    assert!(report.contains("no stored credential named `apj`") && report.contains("`api`"), "{report}");
    let run = pilot(home.path(), MASTER_KEY).arg("run").arg(&file).output().expect("run");
    assert_eq!(run.status.code(), Some(2));
    assert!(text(&run.stderr).contains("no credential named `apj` is stored"), "{}", text(&run.stderr));
}

#[test]
fn set_refuses_a_secret_given_nowhere_and_rm_removes() {
    let home = tempfile::tempdir().expect("tempdir");
    let empty = pilot(home.path(), MASTER_KEY).args(["credentials", "set", "api", "--provider", "api_key"]).output();
    let empty = empty.expect("set");
    assert_eq!(empty.status.code(), Some(2));
    assert!(text(&empty.stderr).contains("the secret is empty"), "{}", text(&empty.stderr));
    assert!(set_credential(home.path(), "api", SECRET).status.success());
    let removed = pilot(home.path(), MASTER_KEY).args(["credentials", "rm", "api"]).output().expect("rm");
    assert!(removed.status.success());
    assert!(stored_credentials(home.path()).is_empty());
    let again = pilot(home.path(), MASTER_KEY).args(["credentials", "rm", "api"]).output().expect("rm again");
    assert_eq!(again.status.code(), Some(2));
}

/// A key and a password with the characters that change on the wire: `&`, `=`, `/`, `+` are percent-encoded in a
/// query or a form body, `"` is escaped in JSON, and the basic pair travels as base64.
const WIRE_KEY: &str = "k3y&v=a/b+c9Q";
const WIRE_USER: &str = "ann";
const WIRE_PASSWORD: &str = "pa\"ss&wo=rd/9Z";

fn set_basic_credential(home: &Path, name: &str, username: &str, password: &str) -> Output {
    let mut child = pilot(home, MASTER_KEY)
        .args(["credentials", "set", name, "--provider", "basic", "--username", username])
        .stdin(Stdio::piped())
        .spawn()
        .expect("pilot starts");
    child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("write password");
    child.wait_with_output().expect("pilot ends")
}

/// As a query string or a form body carries text (`application/x-www-form-urlencoded`).
fn form_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b if b.is_ascii_alphanumeric() || b"*-._".contains(&b) => char::from(b).to_string(),
            b' ' => "+".to_owned(),
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// As a JSON string carries text, without the quotes.
fn json_escaped(text: &str) -> String {
    let quoted = serde_json::Value::from(text).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn base64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn wire_workflow(dir: &Path, base_url: &str) -> PathBuf {
    let yaml = format!(
        r#"name: secrets-on-the-wire
steps:
  - id: basic
    action: http/get
    credential: web
    input:
      url: "{base_url}/mirror"
  - id: query
    action: http/get
    input:
      url: "{base_url}/mirror"
      query:
        key: "${{secrets.api}}"
  - id: form
    action: http/post
    input:
      url: "{base_url}/mirror"
      form:
        key: "${{secrets.api}}"
  - id: json
    action: http/post
    input:
      url: "{base_url}/mirror"
      json:
        password: "${{secrets.web}}"
  - id: broken
    action: http/get
    continue_on_error: true
    input:
      url: "{base_url}/fail"
      query:
        t: "${{secrets.api}}"
"#
    );
    let path = dir.join("wire.yaml");
    std::fs::write(&path, yaml).expect("write workflow");
    path
}

/// A server echoes each secret in the form it travelled in: base64 of the basic pair, percent-encoded in a query
/// and a form body, JSON-escaped in a JSON body. None of those forms reaches the database (or its WAL), the log
/// file, `run --json`, `executions show --json` or `pilot logs`.
#[test]
fn a_secret_echoed_in_the_form_it_travelled_in_is_masked_everywhere() {
    let home = tempfile::tempdir().expect("tempdir");
    let (base_url, seen) = start_server();
    assert!(set_credential(home.path(), "api", WIRE_KEY).status.success());
    assert!(set_basic_credential(home.path(), "web", WIRE_USER, WIRE_PASSWORD).status.success());
    let basic_pair = base64(&format!("{WIRE_USER}:{WIRE_PASSWORD}"));
    let (key_in_form, password_in_json) = (form_encoded(WIRE_KEY), json_escaped(WIRE_PASSWORD));

    let _keep_wal = SqliteStore::open(home.path().join("pilot.db"), StoreOptions::default()).expect("store opens");
    let file = wire_workflow(home.path(), &base_url);
    let run = pilot(home.path(), MASTER_KEY).arg("run").arg(&file).arg("--json").output().expect("run");
    let run_json = text(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "stdout: {run_json}\nstderr: {}", text(&run.stderr));

    // Each form did travel: the test server received it.
    let seen = seen.lock().expect("lock");
    let headers: Vec<&(String, String)> = seen.requests.iter().flat_map(|(_, headers)| headers).collect();
    assert!(headers.iter().any(|(n, v)| n == "authorization" && *v == format!("Basic {basic_pair}")), "{headers:?}");
    assert!(seen.requests.iter().any(|(path, _)| *path == format!("/mirror?key={key_in_form}")), "{seen:?}");
    assert!(seen.bodies.iter().any(|body| *body == format!("key={key_in_form}")), "{seen:?}");
    assert!(seen.bodies.iter().any(|body| body.contains(&format!("\"{password_in_json}\""))), "{seen:?}");
    drop(seen);

    // Each echo is stored masked.
    let execution: serde_json::Value = serde_json::from_str(&run_json).expect("run --json is JSON");
    let body_of = |id: &str| {
        let steps = execution["steps"].as_array().expect("steps");
        let step = steps.iter().find(|step| step["id"] == id).expect("step recorded");
        step["output"]["body"].as_str().unwrap_or_default().to_owned()
    };
    assert!(body_of("basic").contains("authorization: Basic ***"), "{}", body_of("basic"));
    assert!(body_of("query").starts_with("GET /mirror?key=*** HTTP/1.1"), "{}", body_of("query"));
    assert!(body_of("form").ends_with("\nkey=***"), "{}", body_of("form"));
    assert!(body_of("json").ends_with(r#"{"password":"***"}"#), "{}", body_of("json"));

    let id = execution["id"].as_str().expect("execution id").to_owned();
    let show = pilot(home.path(), MASTER_KEY).args(["executions", "show", &id, "--json"]).output().expect("show");
    let logs = pilot(home.path(), MASTER_KEY).args(["logs", &id]).output().expect("logs");
    assert!(text(&logs.stdout).contains("failed for /fail?t=***"), "{}", text(&logs.stdout));

    let forms = [
        WIRE_KEY.to_owned(),
        WIRE_PASSWORD.to_owned(),
        basic_pair.trim_end_matches('=').to_owned(),
        key_in_form,
        password_in_json.clone(),
        json_escaped(&password_in_json),
    ];
    let outputs =
        [("run --json", run.stdout), ("run stderr", run.stderr), ("show", show.stdout), ("logs", logs.stdout)];
    for (what, output) in &outputs {
        for form in &forms {
            assert!(!contains(output, form), "{what} holds `{form}`: {}", text(output));
        }
    }
    for file in files_under(home.path()) {
        let bytes = std::fs::read(&file).expect("read file");
        for form in &forms {
            assert!(!contains(&bytes, form), "{} holds `{form}`", file.display());
        }
    }
}

#[test]
fn workflows_and_the_programs_they_start_never_see_the_master_key_or_the_store_url() {
    let home = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("peek.yaml");
    std::fs::write(
        &file,
        "name: peek
steps:
  - id: by_expression
    action: transform
    input:
      key: ${env('PILOT_MASTER_KEY', 'unset')}
      store: ${env('PILOT_STORE', 'unset')}
  - id: by_program
    action: shell/exec
    input:
      command: sh
      args: [\"-c\", \"echo key=$${PILOT_MASTER_KEY:-unset} store=$${PILOT_STORE:-unset}\"]
",
    )
    .unwrap();
    let output = pilot(home.path(), MASTER_KEY)
        .env("PILOT_STORE", "")
        .args(["run", file.to_str().unwrap(), "--json"])
        .output()
        .expect("pilot runs");
    let shown = text(&output.stdout);
    assert!(output.status.success(), "{shown}\n{}", text(&output.stderr));
    let result: serde_json::Value = serde_json::from_str(&shown).expect("JSON");
    let steps = result["steps"].as_array().expect("steps");
    let output_of = |id: &str| steps.iter().find(|step| step["id"] == id).expect(id)["output"].clone();
    assert_eq!(output_of("by_expression"), serde_json::json!({"key": "unset", "store": "unset"}));
    assert_eq!(output_of("by_program")["stdout"], "key=unset store=unset\n");
    assert!(!shown.contains(MASTER_KEY));
}
