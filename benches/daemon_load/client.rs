//! A lean HTTP/1.1 keep-alive client for load on loopback: a request is one write, an answer is read by its
//! `Content-Length`. Little CPU per request, so the generator leaves the machine to the daemon.

use std::net::SocketAddr;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Connection {
    stream: BufReader<TcpStream>,
    addr: SocketAddr,
}

/// Status and body of an answer.
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Connection {
    pub async fn open(addr: SocketAddr) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Connection { stream: BufReader::new(stream), addr })
    }

    /// POSTs a JSON body; reconnects once when the daemon closed the connection in between.
    pub async fn post(&mut self, path: &str, body: &[u8]) -> std::io::Result<Answer> {
        match self.try_post(path, body).await {
            Ok(answer) => Ok(answer),
            Err(_) => {
                *self = Connection::open(self.addr).await?;
                self.try_post(path, body).await
            }
        }
    }

    async fn try_post(&mut self, path: &str, body: &[u8]) -> std::io::Result<Answer> {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            self.addr,
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(body);
        self.stream.get_mut().write_all(&request).await?;
        self.read_answer().await
    }

    async fn read_answer(&mut self) -> std::io::Result<Answer> {
        let closed = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the daemon closed the connection");
        let mut line = String::new();
        if self.stream.read_line(&mut line).await? == 0 {
            return Err(closed());
        }
        let status = line.split(' ').nth(1).and_then(|code| code.parse().ok()).ok_or_else(closed)?;
        let mut length = 0usize;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(closed());
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok(Answer { status, body })
    }
}
