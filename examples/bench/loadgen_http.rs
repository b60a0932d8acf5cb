//! A minimal HTTP/1.1 keep-alive client for the benchmark: cheap enough that
//! the load generator does not eat the cores it is measuring.
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Conn {
    addr: String,
    stream: Option<BufReader<TcpStream>>,
}

pub struct Resp {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub body: Vec<u8>,
}

impl Conn {
    pub fn new(addr: &str) -> Conn {
        Conn {
            addr: addr.to_string(),
            stream: None,
        }
    }

    async fn stream(&mut self) -> std::io::Result<&mut BufReader<TcpStream>> {
        if self.stream.is_none() {
            let s = TcpStream::connect(&self.addr).await?;
            s.set_nodelay(true)?;
            self.stream = Some(BufReader::new(s));
        }
        Ok(self.stream.as_mut().expect("just set"))
    }

    /// One request; `body` makes it a form POST.
    pub async fn request(
        &mut self,
        method: &str,
        target: &str,
        cookie: Option<&str>,
        body: Option<&str>,
    ) -> std::io::Result<Resp> {
        let r = tokio::time::timeout(
            Duration::from_secs(30),
            self.request_inner(method, target, cookie, body),
        )
        .await;
        match r {
            Ok(Ok(resp)) => Ok(resp),
            Ok(Err(e)) => {
                self.stream = None;
                Err(e)
            }
            Err(_) => {
                self.stream = None;
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "timeout"))
            }
        }
    }

    async fn request_inner(
        &mut self,
        method: &str,
        target: &str,
        cookie: Option<&str>,
        body: Option<&str>,
    ) -> std::io::Result<Resp> {
        let host = self.addr.clone();
        let mut req = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n");
        if let Some(c) = cookie {
            req.push_str(&format!("Cookie: {c}\r\n"));
        }
        if let Some(b) = body {
            req.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            ));
        } else {
            req.push_str("\r\n");
        }
        let s = self.stream().await?;
        s.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        s.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("bad status line {line:?}"),
                )
            })?;
        let (mut len, mut location, mut set_cookie, mut close) = (0usize, None, None, false);
        loop {
            line.clear();
            s.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let v = v.trim();
                match k.to_ascii_lowercase().as_str() {
                    "content-length" => len = v.parse().unwrap_or(0),
                    "location" => location = Some(v.to_string()),
                    "set-cookie" => {
                        set_cookie = Some(v.split(';').next().unwrap_or("").to_string())
                    }
                    "connection" => close = v.eq_ignore_ascii_case("close"),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; len];
        s.read_exact(&mut body).await?;
        if close {
            self.stream = None;
        }
        Ok(Resp {
            status,
            location,
            set_cookie,
            body,
        })
    }
}
