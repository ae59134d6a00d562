//! `http/download`: streamed to a temporary file and renamed into place, with size and SHA-256; nothing left
//! behind on failure or cancellation.

mod net_support;

use connectors::ActionError;
use connectors::http::HttpConnector;
use expr_grammar::Value;
use net_support::*;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// 5 MiB of bytes that are not all alike, so a wrong offset would change the hash.
fn payload() -> Vec<u8> {
    (0..5 * 1024 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes).as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn folder_entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .expect("read folder")
        .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn download_writes_the_file_and_reports_size_and_sha256() {
    let bytes = payload();
    let served = bytes.clone();
    let server = TestServer::start(move |_| reply(200, "application/octet-stream", served.clone())).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("sub/dir/data.bin");
    let input = input(json!({
        "url": server.url("/files/data.bin"),
        "path": path.to_str().unwrap(),
        "query": {"v": 2},
        "headers": {"X-Client": "pilot-test"},
    }));
    let output = run(&HttpConnector::new(), "http/download", input, &ctx()).await.expect("download succeeds");

    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(text_of(&output, "path"), path.to_str().unwrap());
    assert_eq!(field(&output, "size"), &Value::Int(bytes.len() as i64));
    assert_eq!(text_of(&output, "sha256"), sha256_hex(&bytes));
    assert_eq!(field(&output, "status"), &Value::Int(200));
    let request = server.only_request();
    assert_eq!((request.path.as_str(), request.query.as_deref()), ("/files/data.bin", Some("v=2")));
    assert_eq!(request.header("x-client"), Some("pilot-test"));
    // Only the finished file: no temporary file left beside it.
    assert_eq!(folder_entries(&folder.path().join("sub/dir")), ["data.bin"]);
}

#[tokio::test]
async fn download_into_a_folder_names_the_file_after_the_url() {
    let server = TestServer::start(|_| reply(200, "text/plain", "report body")).await;
    let folder = tempfile::tempdir().unwrap();
    let input = input(json!({"url": server.url("/reports/q3.txt?sig=abc"), "path": folder.path().to_str().unwrap()}));
    let output = run(&HttpConnector::new(), "http/download", input, &ctx()).await.unwrap();
    let expected = folder.path().join("q3.txt");
    assert_eq!(text_of(&output, "path"), expected.to_str().unwrap());
    assert_eq!(std::fs::read_to_string(expected).unwrap(), "report body");
}

#[tokio::test]
async fn download_with_a_bearer_credential_sends_it() {
    let server = TestServer::start(|_| reply(200, "text/plain", "x")).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("x.txt");
    let ctx = ctx_with_credential("bearer", json!({"token": "dl-token"}));
    let input = input(json!({"url": server.url("/x"), "path": path.to_str().unwrap()}));
    run(&HttpConnector::new(), "http/download", input, &ctx).await.unwrap();
    assert_eq!(server.only_request().header("authorization"), Some("Bearer dl-token"));
}

#[tokio::test]
async fn a_refused_download_fails_and_leaves_no_file() {
    let server = TestServer::start(|_| reply(403, "text/plain", "forbidden: token expired")).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("out.bin");
    let input = input(json!({"url": server.url("/secret.bin"), "path": path.to_str().unwrap()}));
    let message = failure_message(run(&HttpConnector::new(), "http/download", input, &ctx()).await);
    assert_eq!(message, format!("GET {} answered 403 Forbidden: forbidden: token expired", server.url("/secret.bin")));
    assert!(folder_entries(folder.path()).is_empty());
}

#[tokio::test]
async fn overwrite_false_refuses_an_existing_file_and_keeps_it() {
    let server = TestServer::start(|_| reply(200, "text/plain", "new")).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("keep.txt");
    std::fs::write(&path, "old").unwrap();
    let input = input(json!({"url": server.url("/keep.txt"), "path": path.to_str().unwrap(), "overwrite": false}));
    match run(&HttpConnector::new(), "http/download", input, &ctx()).await {
        Err(ActionError::InvalidInput { field, message }) => {
            assert_eq!(field, "path");
            assert!(message.contains("already exists"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn overwrite_by_default_replaces_an_existing_file() {
    let server = TestServer::start(|_| reply(200, "text/plain", "new")).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("file.txt");
    std::fs::write(&path, "old content").unwrap();
    let input = input(json!({"url": server.url("/file.txt"), "path": path.to_str().unwrap()}));
    run(&HttpConnector::new(), "http/download", input, &ctx()).await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
}

#[tokio::test]
async fn cancelling_mid_download_leaves_no_file_behind() {
    let (port, first_bytes_sent) = half_sending_server().await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("big.bin");
    let ctx = ctx();
    let watcher = async {
        first_bytes_sent.notified().await;
        // Cancel once the partial file exists, so the test sees it removed rather than never made.
        let mut saw_partial = false;
        for _ in 0..1000 {
            saw_partial = !folder_entries(folder.path()).is_empty();
            if saw_partial {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        ctx.cancel.cancel();
        saw_partial
    };
    let input = input(json!({"url": format!("http://127.0.0.1:{port}/big.bin"), "path": path.to_str().unwrap()}));
    let connector = HttpConnector::new();
    let (result, saw_partial) = tokio::join!(run(&connector, "http/download", input, &ctx), watcher);
    assert!(saw_partial, "the partial file should exist mid-download");
    assert_eq!(result, Err(ActionError::Cancelled));
    assert!(folder_entries(folder.path()).is_empty(), "left behind: {:?}", folder_entries(folder.path()));
}

#[tokio::test]
async fn a_download_cut_short_by_its_timeout_fails_and_leaves_no_file() {
    let (port, _) = half_sending_server().await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("big.bin");
    let url = format!("http://127.0.0.1:{port}/big.bin");
    let input = input_with(json!({"url": url, "path": path.to_str().unwrap()}), [("timeout", millis(300))]);
    let message = failure_message(run(&HttpConnector::new(), "http/download", input, &ctx()).await);
    assert!(message.contains("timed out after 300ms"), "{message}");
    assert!(folder_entries(folder.path()).is_empty());
}

#[tokio::test]
async fn a_download_announced_larger_than_max_size_fails_before_writing() {
    let server = TestServer::start(|_| reply(200, "application/octet-stream", vec![1u8; 10_000])).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("big.bin");
    let input = input(json!({"url": server.url("/big.bin"), "path": path.to_str().unwrap(), "max_size": 4096}));
    let message = failure_message(run(&HttpConnector::new(), "http/download", input, &ctx()).await);
    let expected =
        format!("download from {} is larger than max_size (4096 bytes): 10000 bytes or more", server.url("/big.bin"));
    assert_eq!(message, expected);
    assert!(folder_entries(folder.path()).is_empty());
}

#[tokio::test]
async fn a_chunked_download_that_grows_past_max_size_fails_and_leaves_no_file() {
    let port = chunked_server(10, 1000).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("stream.bin");
    let url = format!("http://127.0.0.1:{port}/stream.bin");
    let input = input(json!({"url": url, "path": path.to_str().unwrap(), "max_size": 4500}));
    let message = failure_message(run(&HttpConnector::new(), "http/download", input, &ctx()).await);
    assert!(message.contains("is larger than max_size (4500 bytes)"), "{message}");
    assert!(folder_entries(folder.path()).is_empty());
}

#[tokio::test]
async fn a_download_within_max_size_succeeds() {
    let port = chunked_server(4, 1000).await;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("stream.bin");
    let url = format!("http://127.0.0.1:{port}/stream.bin");
    let input = input(json!({"url": url, "path": path.to_str().unwrap(), "max_size": 4000}));
    let output = run(&HttpConnector::new(), "http/download", input, &ctx()).await.expect("within the limit");
    assert_eq!(field(&output, "size"), &Value::Int(4000));
    assert_eq!(std::fs::read(&path).unwrap(), vec![9u8; 4000]);
}

/// A raw HTTP server that answers one request with `chunks` chunks of `chunk_size` bytes and no content length.
async fn chunked_server(chunks: usize, chunk_size: usize) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ntransfer-encoding: chunked\r\n\r\n";
        let _ = stream.write_all(head.as_bytes()).await;
        for _ in 0..chunks {
            let _ = stream.write_all(format!("{chunk_size:x}\r\n").as_bytes()).await;
            let _ = stream.write_all(&vec![9u8; chunk_size]).await;
            let _ = stream.write_all(b"\r\n").await;
        }
        let _ = stream.write_all(b"0\r\n\r\n").await;
        let _ = stream.flush().await;
    });
    port
}

/// A raw HTTP server that promises 1 MB, sends 1000 bytes, signals, and then holds the connection open.
async fn half_sending_server() -> (u16, Arc<tokio::sync::Notify>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let sent = Arc::new(tokio::sync::Notify::new());
    let signal = sent.clone();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await;
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/octet-stream\r\ncontent-length: 1000000\r\n\r\n";
        stream.write_all(head.as_bytes()).await.expect("write head");
        stream.write_all(&[7u8; 1000]).await.expect("write first bytes");
        stream.flush().await.expect("flush");
        signal.notify_one();
        // Hold the connection until the client goes away.
        let _ = stream.read(&mut request).await;
    });
    (port, sent)
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_file_gets_umask_permissions_and_a_replaced_file_keeps_its_own() {
    use std::os::unix::fs::PermissionsExt;
    let server = TestServer::start(|_| reply(200, "text/plain", "content")).await;
    let folder = tempfile::tempdir().unwrap();
    let new_path = folder.path().join("new.txt");
    let kept_path = folder.path().join("kept.txt");
    std::fs::write(&kept_path, "old").unwrap();
    std::fs::set_permissions(&kept_path, std::fs::Permissions::from_mode(0o640)).unwrap();
    // What a plainly created file gets here (0666 less this process's umask).
    let probe = folder.path().join("probe");
    std::fs::write(&probe, "").unwrap();
    let usual = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;

    let connector = HttpConnector::new();
    for path in [&new_path, &kept_path] {
        let input = input(json!({"url": server.url("/f"), "path": path.to_str().unwrap()}));
        run(&connector, "http/download", input, &ctx()).await.unwrap();
    }
    assert_eq!(std::fs::metadata(&new_path).unwrap().permissions().mode() & 0o777, usual);
    assert_eq!(std::fs::metadata(&kept_path).unwrap().permissions().mode() & 0o777, 0o640);
    assert_eq!(std::fs::read_to_string(&kept_path).unwrap(), "content");
}
