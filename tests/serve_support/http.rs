//! A small HTTP/1.1 client over a plain TCP stream: one request per connection (`Connection: close`), and a
//! reader of server-sent events. Enough to talk to `pilot serve` on 127.0.0.1 without an HTTP crate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a request may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// An answer: status, headers (names in lower case) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(key, _)| *key == name).map(|(_, value)| value.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; fails the test, showing the body, when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.text()))
    }
}

/// A request to send.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl<'a> Request<'a> {
    pub fn new(method: &'a str, path: &'a str) -> Request<'a> {
        Request { method, path, headers: Vec::new(), body: Vec::new() }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Request<'a> {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request<'a> {
        self.body = body.into();
        self
    }

    pub fn json(self, value: &serde_json::Value) -> Request<'a> {
        self.header("Content-Type", "application/json").body(value.to_string())
    }

    /// Sends it to `addr` (`127.0.0.1:PORT`) and reads the whole answer.
    pub fn send(self, addr: &str) -> Response {
        self.try_send(addr).unwrap_or_else(|err| panic!("{addr}: {err}"))
    }

    /// [`Request::send`], or the error when the server cannot be reached or closes the connection before its
    /// answer (a node that was just killed).
    pub fn try_send(self, addr: &str) -> std::io::Result<Response> {
        let stream = TcpStream::connect(addr)?;
        stream.set_read_timeout(Some(PATIENCE))?;
        let mut stream = stream;
        // One write: the server reads the request whole even when it answers before reading the body (413).
        let _ = stream.write_all(&self.head_and_body());
        let mut reader = BufReader::new(stream);
        let (status, headers) = try_read_head(&mut reader)?;
        let chunked = headers.iter().any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
        let body = if chunked {
            let mut body = Vec::new();
            while let Some(chunk) = read_chunk(&mut reader) {
                body.extend(chunk);
            }
            body
        } else {
            let mut body = Vec::new();
            let _ = reader.read_to_end(&mut body);
            body
        };
        Ok(Response { status, headers, body })
    }

    fn head_and_body(&self) -> Vec<u8> {
        let mut head = format!("{} {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n", self.method, self.path);
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).unwrap_or_else(|err| panic!("cannot connect to {addr}: {err}"));
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream
}

fn read_head(reader: &mut impl BufRead) -> (u16, Vec<(String, String)>) {
    try_read_head(reader).unwrap_or_else(|err| panic!("reading an answer's head: {err}"))
}

fn try_read_head(reader: &mut impl BufRead) -> std::io::Result<(u16, Vec<(String, String)>)> {
    let broken = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| broken(format!("not an HTTP status line: {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(broken("the connection ended in the header".to_owned()));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    Ok((status, headers))
}

/// One chunk of a chunked body; `None` at the last (empty) chunk or when the connection ends.
fn read_chunk(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut size_line = String::new();
    if reader.read_line(&mut size_line).ok()? == 0 {
        return None;
    }
    let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
    let mut chunk = vec![0; size + 2]; // The data and its CRLF.
    reader.read_exact(&mut chunk).ok()?;
    chunk.truncate(size);
    (size > 0).then_some(chunk)
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.data).unwrap_or_else(|err| panic!("event data is not JSON ({err}): {}", self.data))
    }
}

/// A live `text/event-stream` answer, read event by event.
pub struct EventStream {
    reader: BufReader<TcpStream>,
    /// Decoded body bytes not yet split into lines.
    pending: Vec<u8>,
}

impl EventStream {
    /// Opens `GET path` with the given headers; fails the test unless it answers 200 with an event stream.
    pub fn open(addr: &str, path: &str, headers: &[(&str, &str)]) -> EventStream {
        let mut stream = connect(addr);
        let mut head = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        let mut reader = BufReader::new(stream);
        let (status, headers) = read_head(&mut reader);
        assert_eq!(status, 200, "{path}: {headers:?}");
        let content_type = headers.iter().find(|(name, _)| name == "content-type").map(|(_, v)| v.as_str());
        assert_eq!(content_type, Some("text/event-stream"), "{headers:?}");
        EventStream { reader, pending: Vec::new() }
    }

    /// The next event (comments and keep-alives skipped), waiting up to a minute.
    pub fn next(&mut self) -> SseEvent {
        let mut event = SseEvent { id: None, event: None, data: String::new() };
        let mut has_data = false;
        loop {
            let line = self.next_line();
            if line.is_empty() {
                if has_data {
                    return event;
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = line.split_once(':').map_or((line.as_str(), ""), |(f, v)| (f, v));
            let value = value.strip_prefix(' ').unwrap_or(value).to_owned();
            match field {
                "id" => event.id = Some(value),
                "event" => event.event = Some(value),
                "data" => {
                    if has_data {
                        event.data.push('\n');
                    }
                    event.data.push_str(&value);
                    has_data = true;
                }
                _ => {}
            }
        }
    }

    fn next_line(&mut self) -> String {
        loop {
            if let Some(end) = self.pending.iter().position(|byte| *byte == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return String::from_utf8_lossy(&line).trim_end_matches(['\r', '\n']).to_owned();
            }
            let chunk = read_chunk(&mut self.reader).expect("the event stream ended");
            self.pending.extend(chunk);
        }
    }
}
