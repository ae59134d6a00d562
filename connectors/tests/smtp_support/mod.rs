//! A real SMTP server on 127.0.0.1 for the `notify/email` tests: EHLO with capabilities, STARTTLS (tokio-rustls,
//! a self-signed rcgen certificate for 127.0.0.1 and localhost), implicit TLS, AUTH PLAIN and LOGIN, MAIL FROM,
//! RCPT TO, DATA and QUIT. Every session is recorded as it happens (before each reply is sent), so a test can read
//! what the server received as soon as the client has its answer.
#![allow(dead_code)]

use base64::Engine as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

/// How connections start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Security {
    /// Plain text; STARTTLS is offered when `offer_starttls`.
    Plain,
    /// TLS from the first byte.
    ImplicitTls,
}

/// Which logins the server takes.
#[derive(Debug, Clone)]
pub enum AuthPolicy {
    /// No AUTH advertised.
    NotOffered,
    /// Offers `mechanisms`; accepts exactly this username and password, answers 535 to anything else.
    Accept { username: String, password: String },
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub security: Security,
    pub offer_starttls: bool,
    pub auth: AuthPolicy,
    /// The AUTH mechanisms advertised, e.g. `PLAIN LOGIN`.
    pub mechanisms: String,
    /// Recipients answered `550 5.1.1 <address>: Recipient address rejected: User unknown`.
    pub refuse_recipients: Vec<String>,
}

impl SmtpConfig {
    /// Plain text, STARTTLS offered, no login.
    pub fn starttls() -> SmtpConfig {
        SmtpConfig {
            security: Security::Plain,
            offer_starttls: true,
            auth: AuthPolicy::NotOffered,
            mechanisms: "PLAIN LOGIN".to_string(),
            refuse_recipients: Vec::new(),
        }
    }

    /// Plain text only: a local relay.
    pub fn plain() -> SmtpConfig {
        SmtpConfig { offer_starttls: false, ..SmtpConfig::starttls() }
    }

    pub fn implicit_tls() -> SmtpConfig {
        SmtpConfig { security: Security::ImplicitTls, offer_starttls: false, ..SmtpConfig::starttls() }
    }

    pub fn with_login(mut self, username: &str, password: &str, mechanisms: &str) -> SmtpConfig {
        self.auth = AuthPolicy::Accept { username: username.to_string(), password: password.to_string() };
        self.mechanisms = mechanisms.to_string();
        self
    }

    pub fn refusing(mut self, recipient: &str) -> SmtpConfig {
        self.refuse_recipients.push(recipient.to_string());
        self
    }
}

/// An AUTH exchange as the server decoded it.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthAttempt {
    pub mechanism: String,
    pub username: String,
    pub password: String,
    pub accepted: bool,
}

/// One connection, as received.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// Every command line, in order (AUTH continuation lines included, base64 as sent).
    pub commands: Vec<String>,
    pub implicit_tls: bool,
    /// STARTTLS was asked for and the TLS handshake completed.
    pub starttls: bool,
    pub auth: Option<AuthAttempt>,
    /// Whether each MAIL FROM / RCPT TO / DATA happened over TLS.
    pub encrypted_when_mailing: Option<bool>,
    pub mail_from: Option<String>,
    pub accepted_recipients: Vec<String>,
    pub refused_recipients: Vec<String>,
    /// The message as received after DATA, dot-unstuffed, lines joined with `\r\n`.
    pub data: Option<String>,
    pub quit: bool,
}

impl Session {
    /// The value of a header of the received message (first occurrence, unfolded).
    pub fn header(&self, name: &str) -> Option<String> {
        let data = self.data.as_deref()?;
        let head = data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.split("\r\n").find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_string())
        })
    }

    /// The message body (after the blank line).
    pub fn body(&self) -> Option<String> {
        let data = self.data.as_deref()?;
        data.split_once("\r\n\r\n").map(|(_, body)| body.to_string())
    }
}

pub struct SmtpServer {
    pub port: u16,
    sessions: Arc<Mutex<Vec<Session>>>,
    ca_dir: tempfile::TempDir,
}

impl SmtpServer {
    pub async fn start(config: SmtpConfig) -> SmtpServer {
        let certified = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".to_string()])
            .expect("generate certificate");
        let ca_dir = tempfile::tempdir().expect("temporary folder");
        std::fs::write(ca_dir.path().join("ca.pem"), certified.cert.pem()).expect("write CA file");
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls_config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .expect("server config");
        let acceptor = TlsAcceptor::from(Arc::new(tls_config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("address").port();
        let sessions = Arc::new(Mutex::new(Vec::new()));
        let shared = sessions.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let recorder = Recorder::open(&shared);
                tokio::spawn(serve_connection(stream, config.clone(), acceptor.clone(), recorder));
            }
        });
        SmtpServer { port, sessions, ca_dir }
    }

    /// The self-signed certificate, as a PEM file a client can trust.
    pub fn ca_file(&self) -> PathBuf {
        self.ca_dir.path().join("ca.pem")
    }

    pub fn sessions(&self) -> Vec<Session> {
        self.sessions.lock().expect("sessions").clone()
    }

    pub fn only_session(&self) -> Session {
        let sessions = self.sessions();
        assert_eq!(sessions.len(), 1, "expected exactly one SMTP session, got {sessions:#?}");
        sessions.into_iter().next().expect("one session")
    }
}

/// Writes into this connection's entry of the shared session list.
#[derive(Clone)]
struct Recorder {
    sessions: Arc<Mutex<Vec<Session>>>,
    index: usize,
}

impl Recorder {
    fn open(sessions: &Arc<Mutex<Vec<Session>>>) -> Recorder {
        let mut list = sessions.lock().expect("sessions");
        list.push(Session::default());
        Recorder { sessions: sessions.clone(), index: list.len() - 1 }
    }

    fn update(&self, change: impl FnOnce(&mut Session)) {
        change(&mut self.sessions.lock().expect("sessions")[self.index]);
    }
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    config: SmtpConfig,
    acceptor: TlsAcceptor,
    recorder: Recorder,
) {
    if config.security == Security::ImplicitTls {
        let Ok(tls) = acceptor.accept(stream).await else { return };
        recorder.update(|s| s.implicit_tls = true);
        let _ = converse(tls, &config, &recorder, true, true).await;
        return;
    }
    if let Ok(Some(plain)) = converse(stream, &config, &recorder, false, true).await {
        let Ok(tls) = acceptor.accept(plain).await else { return };
        recorder.update(|s| s.starttls = true);
        let _ = converse(tls, &config, &recorder, true, false).await;
    }
}

/// Serves commands until QUIT or the end of the stream. Returns the stream when the client asked for STARTTLS.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    config: &SmtpConfig,
    recorder: &Recorder,
    encrypted: bool,
    greet: bool,
) -> std::io::Result<Option<S>> {
    let mut stream = BufReader::new(stream);
    if greet {
        send(&mut stream, "220 test.local ESMTP ready").await?;
    }
    loop {
        let Some(line) = read_line(&mut stream).await? else { return Ok(None) };
        recorder.update(|s| s.commands.push(line.clone()));
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or_default().to_string();
        let reply = match verb.as_str() {
            "EHLO" | "HELO" => ehlo_reply(config, encrypted),
            "STARTTLS" if config.offer_starttls && !encrypted => {
                send(&mut stream, "220 2.0.0 Ready to start TLS").await?;
                return Ok(Some(stream.into_inner()));
            }
            "AUTH" if !matches!(config.auth, AuthPolicy::NotOffered) => {
                auth(&mut stream, &line, config, recorder).await?
            }
            "MAIL" => {
                let address = angle_address(&line);
                recorder.update(|s| {
                    s.mail_from = Some(address);
                    s.encrypted_when_mailing = Some(encrypted);
                });
                "250 2.1.0 Ok".to_string()
            }
            "RCPT" => recipient(&line, config, recorder),
            "DATA" => {
                send(&mut stream, "354 End data with <CR><LF>.<CR><LF>").await?;
                let data = read_data(&mut stream).await?;
                recorder.update(|s| s.data = Some(data));
                "250 2.0.0 Ok: queued as TEST1".to_string()
            }
            "RSET" | "NOOP" => "250 2.0.0 Ok".to_string(),
            "QUIT" => {
                recorder.update(|s| s.quit = true);
                send(&mut stream, "221 2.0.0 Bye").await?;
                return Ok(None);
            }
            _ => "502 5.5.2 Error: command not recognized".to_string(),
        };
        send(&mut stream, &reply).await?;
    }
}

/// One reply, flushed (a TLS stream holds written records until flushed).
async fn send<S: AsyncWrite + Unpin>(stream: &mut S, reply: &str) -> std::io::Result<()> {
    stream.write_all(format!("{reply}\r\n").as_bytes()).await?;
    stream.flush().await
}

fn ehlo_reply(config: &SmtpConfig, encrypted: bool) -> String {
    let mut lines = vec!["test.local".to_string(), "PIPELINING".to_string(), "8BITMIME".to_string()];
    if config.offer_starttls && !encrypted {
        lines.push("STARTTLS".to_string());
    }
    if !matches!(config.auth, AuthPolicy::NotOffered) {
        lines.push(format!("AUTH {}", config.mechanisms));
    }
    let last = lines.len() - 1;
    let numbered: Vec<String> = lines
        .iter()
        .enumerate()
        .map(|(index, line)| format!("250{}{line}", if index == last { ' ' } else { '-' }))
        .collect();
    numbered.join("\r\n")
}

fn recipient(line: &str, config: &SmtpConfig, recorder: &Recorder) -> String {
    let address = angle_address(line);
    if config.refuse_recipients.contains(&address) {
        recorder.update(|s| s.refused_recipients.push(address.clone()));
        return format!("550 5.1.1 <{address}>: Recipient address rejected: User unknown");
    }
    recorder.update(|s| s.accepted_recipients.push(address));
    "250 2.1.5 Ok".to_string()
}

/// `AUTH PLAIN [blob]` or `AUTH LOGIN`, with their 334 challenges.
async fn auth<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    line: &str,
    config: &SmtpConfig,
    recorder: &Recorder,
) -> std::io::Result<String> {
    let mut words = line.split_whitespace().skip(1);
    let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
    let initial = words.next().map(str::to_string);
    let (username, password) = match mechanism.as_str() {
        "PLAIN" => {
            let blob = match initial {
                Some(blob) => blob,
                None => challenge(stream, "334 ", recorder).await?,
            };
            let decoded = decode(&blob);
            let mut parts = decoded.split('\0').skip(1);
            (parts.next().unwrap_or_default().to_string(), parts.next().unwrap_or_default().to_string())
        }
        "LOGIN" => {
            let username = decode(&challenge(stream, "334 VXNlcm5hbWU6", recorder).await?);
            let password = decode(&challenge(stream, "334 UGFzc3dvcmQ6", recorder).await?);
            (username, password)
        }
        _ => return Ok("504 5.5.4 Unrecognized authentication type".to_string()),
    };
    let accepted =
        matches!(&config.auth, AuthPolicy::Accept { username: u, password: p } if *u == username && *p == password);
    recorder.update(|s| s.auth = Some(AuthAttempt { mechanism, username, password, accepted }));
    Ok(if accepted {
        "235 2.7.0 Authentication successful".to_string()
    } else {
        "535 5.7.8 Error: authentication failed: authentication failure".to_string()
    })
}

async fn challenge<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut BufReader<S>,
    prompt: &str,
    recorder: &Recorder,
) -> std::io::Result<String> {
    send(stream, prompt).await?;
    let answer = read_line(stream).await?.unwrap_or_default();
    recorder.update(|s| s.commands.push(answer.clone()));
    Ok(answer)
}

fn decode(blob: &str) -> String {
    let bytes = base64::engine::general_purpose::STANDARD.decode(blob.trim()).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// `MAIL FROM:<a@b> SIZE=1` → `a@b`.
fn angle_address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_string()
}

async fn read_line<S: AsyncRead + Unpin>(stream: &mut BufReader<S>) -> std::io::Result<Option<String>> {
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    Ok(Some(line.trim_end_matches(['\r', '\n']).to_string()))
}

/// The message lines up to the lone `.`, dot-unstuffed.
async fn read_data<S: AsyncRead + Unpin>(stream: &mut BufReader<S>) -> std::io::Result<String> {
    let mut lines = Vec::new();
    while let Some(line) = read_line(stream).await? {
        if line == "." {
            break;
        }
        lines.push(line.strip_prefix('.').map_or(line.clone(), str::to_string));
    }
    Ok(lines.join("\r\n"))
}
