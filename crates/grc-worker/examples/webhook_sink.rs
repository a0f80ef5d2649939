//! A fast local webhook receiver for the delivery benchmark (scripts/bench/webhooks.sh); not
//! part of the product. It answers every `POST` with 204 over keep-alive HTTP/1.1 connections
//! (one task per connection, requests parsed with `httparse`), so that a benchmark measures
//! the worker and not the receiver (Python's `http.server` tops out near the target).
//!
//!     cargo run -p grc-worker --example webhook_sink -- [PORT] [WHSEC]
//!
//! With `WHSEC` (a `whsec_...` secret) each call is verified as a receiver does
//! (`webhooks::verify`, 5 minutes' tolerance) and answered 401 when it does not verify; without
//! it every call gets 204. `GET /stats` answers `requests N verified N refused N distinct N`
//! (`distinct`: distinct `webhook-id`s). It prints `ready PORT` once it listens and runs until
//! killed.

use chrono::Utc;
use grc_domain::webhooks::{HEADER_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, WebhookSecret, verify};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Default)]
struct Stats {
    requests: u64,
    verified: u64,
    refused: u64,
    ids: HashSet<String>,
}

#[derive(Debug)]
struct Sink {
    secret: Option<WebhookSecret>,
    stats: Mutex<Stats>,
}

/// What one parsed request needs.
struct Request {
    method: String,
    path: String,
    header_len: usize,
    content_length: usize,
    id: String,
    timestamp: String,
    signature: String,
}

fn parse(buf: &[u8]) -> Result<Option<Request>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let header_len = match req.parse(buf).map_err(|e| e.to_string())? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let get = |name: &str| {
        req.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
            .unwrap_or_default()
    };
    let content_length = get("content-length").trim().parse().unwrap_or(0);
    Ok(Some(Request {
        method: req.method.unwrap_or_default().to_owned(),
        path: req.path.unwrap_or_default().to_owned(),
        header_len,
        content_length,
        id: get(HEADER_ID),
        timestamp: get(HEADER_TIMESTAMP),
        signature: get(HEADER_SIGNATURE),
    }))
}

impl Sink {
    /// Whether the call is accepted (verified, or no secret to verify with), counted.
    fn answer(&self, r: &Request, body: &[u8]) -> bool {
        let ok = self.secret.as_ref().is_none_or(|s| {
            verify(s, &r.id, &r.timestamp, &r.signature, body, Utc::now(), 300).is_ok()
        });
        let mut st = self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        st.requests += 1;
        if ok {
            st.verified += u64::from(self.secret.is_some());
            st.ids.insert(r.id.clone());
        } else {
            st.refused += 1;
        }
        ok
    }

    fn stats(&self) -> String {
        let st = self
            .stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        format!(
            "requests {} verified {} refused {} distinct {}\n",
            st.requests,
            st.verified,
            st.refused,
            st.ids.len()
        )
    }
}

async fn connection(sink: Arc<Sink>, mut sock: TcpStream) -> std::io::Result<()> {
    let _ = sock.set_nodelay(true);
    let mut buf: Vec<u8> = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    loop {
        // Everything buffered that forms a whole request is answered before reading more.
        while let Some(r) = parse(&buf).map_err(std::io::Error::other)? {
            let end = r.header_len + r.content_length;
            if buf.len() < end {
                break;
            }
            let response = if r.method == "GET" && r.path == "/stats" {
                let s = sink.stats();
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{s}",
                    s.len()
                )
            } else {
                if sink.answer(&r, &buf[r.header_len..end]) {
                    // A 204 carries no Content-Length (RFC 9110, 8.6).
                    "HTTP/1.1 204 No Content\r\n\r\n".to_owned()
                } else {
                    "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n".to_owned()
                }
            };
            sock.write_all(response.as_bytes()).await?;
            buf.drain(..end);
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map_or(Ok(0), |p| p.parse())?;
    let secret = args
        .next()
        .map(|s| WebhookSecret::parse(&s))
        .transpose()
        .map_err(|e| anyhow::anyhow!("WHSEC: {e}"))?;
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("ready {}", listener.local_addr()?.port());
    let sink = Arc::new(Sink {
        secret,
        stats: Mutex::default(),
    });
    loop {
        let (sock, _) = listener.accept().await?;
        let sink = sink.clone();
        tokio::spawn(async move {
            let _ = connection(sink, sock).await;
        });
    }
}
