//! A small HTTP/1.1 client for talking to `pilot serve` on loopback: one request per connection, the answer's
//! status, headers and body. Enough for the tests and nothing more (no TLS, no redirects).

#![allow(dead_code)] // Shared by tests/api_conformance.rs and benches/daemon_load.rs; each uses a part.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// What the daemon answered.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    /// Names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| panic!("the body is not JSON ({err}): {}", self.text()))
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path and query, e.g. `/api/v1/executions?limit=1`.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: &str, target: &str) -> Request {
        Request { method: method.to_owned(), target: target.to_owned(), headers: Vec::new(), body: Vec::new() }
    }

    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// A JSON body with its content type.
    pub fn json(self, body: &serde_json::Value) -> Request {
        self.header("content-type", "application/json").body(body.to_string().as_bytes())
    }

    pub fn body(mut self, body: &[u8]) -> Request {
        self.body = body.to_vec();
        self
    }

    /// Sends it and reads the whole answer.
    pub fn send(&self, addr: SocketAddr) -> Answer {
        let mut stream = self.open(addr);
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap_or_else(|err| panic!("{} {}: {err}", self.method, self.target));
        parse(&raw).unwrap_or_else(|| panic!("{} {}: not an HTTP answer: {:?}", self.method, self.target, raw))
    }

    /// Sends it and reads the head and the body's first `bytes` bytes at most (for a stream that does not end).
    pub fn send_reading_at_most(&self, addr: SocketAddr, bytes: usize, wait: Duration) -> Answer {
        let mut stream = self.open(addr);
        stream.set_read_timeout(Some(wait)).expect("set a read timeout");
        let mut raw = Vec::new();
        let mut buffer = [0u8; 4096];
        let started = std::time::Instant::now();
        while started.elapsed() < wait {
            match stream.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(count) => raw.extend_from_slice(&buffer[..count]),
            }
            let head_end = find(&raw, b"\r\n\r\n");
            if head_end.is_some_and(|end| raw.len() >= end + 4 + bytes) {
                break;
            }
        }
        let end = find(&raw, b"\r\n\r\n").unwrap_or_else(|| panic!("{} {}: no answer", self.method, self.target));
        let mut answer = parse_head(&raw[..end]).expect("an HTTP head");
        answer.body = raw[end + 4..].to_vec();
        answer
    }

    fn open(&self, addr: SocketAddr) -> TcpStream {
        let mut stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("connect to {addr}: {err}"));
        stream.set_read_timeout(Some(Duration::from_secs(60))).expect("set a read timeout");
        let mut head = format!("{} {} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n", self.method, self.target);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", self.body.len()));
        stream.write_all(head.as_bytes()).expect("send the head");
        stream.write_all(&self.body).expect("send the body");
        stream
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn parse_head(head: &[u8]) -> Option<Answer> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(Answer { status, headers, body: Vec::new() })
}

fn parse(raw: &[u8]) -> Option<Answer> {
    let end = find(raw, b"\r\n\r\n")?;
    let mut answer = parse_head(&raw[..end])?;
    let rest = &raw[end + 4..];
    answer.body = if answer.header("transfer-encoding").is_some_and(|value| value.contains("chunked")) {
        unchunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(answer)
}

fn unchunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = find(raw, b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}
