//! A tiny in-memory S3 double: just enough of the S3 REST API, over hand-written HTTP/1.1
//! on `127.0.0.1:0`, for `object_store`'s Amazon S3 client to put, get, head and delete
//! objects path-style (`/<bucket>/<key>`). It checks no signature and must never be used
//! outside tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One stored object.
#[derive(Debug, Clone)]
pub struct StoredObject {
    /// Its bytes.
    pub body: Vec<u8>,
    /// The `Content-Type` it was put with, if any.
    pub content_type: Option<String>,
    /// Its ETag.
    pub etag: String,
}

#[derive(Default)]
struct State {
    /// Keyed by request path without the query, e.g. `/bucket/uploads/a.jpg`.
    objects: Mutex<HashMap<String, StoredObject>>,
    /// When set, every request answers 503.
    down: AtomicBool,
    next_etag: AtomicU64,
}

/// A running double. Dropping it stops accepting connections.
pub struct S3Double {
    addr: SocketAddr,
    state: Arc<State>,
    accept: tokio::task::JoinHandle<()>,
}

impl Drop for S3Double {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl S3Double {
    /// Starts the double on an ephemeral port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::default());
        let accept_state = Arc::clone(&state);
        let accept = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve_connection(stream, Arc::clone(&accept_state)));
            }
        });
        Ok(Self {
            addr,
            state,
            accept,
        })
    }

    /// The endpoint to give `S3Config::endpoint`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The raw object at `path` (`/<bucket>/<key>`), as S3 would hold it.
    pub fn object(&self, path: &str) -> Option<StoredObject> {
        self.state
            .objects
            .lock()
            .ok()
            .and_then(|objects| objects.get(path).cloned())
    }

    /// Every stored path, sorted.
    pub fn paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = self
            .state
            .objects
            .lock()
            .map(|objects| objects.keys().cloned().collect())
            .unwrap_or_default();
        paths.sort();
        paths
    }

    /// Makes every request fail with 503 (or recover).
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }
}

struct Request {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

struct Response {
    status: u16,
    reason: &'static str,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// HEAD: send the headers (Content-Length included) but no body.
    omit_body: bool,
}

impl Response {
    fn empty(status: u16, reason: &'static str) -> Self {
        Self {
            status,
            reason,
            headers: Vec::new(),
            body: Vec::new(),
            omit_body: false,
        }
    }

    fn error(status: u16, reason: &'static str, code: &str) -> Self {
        let mut response = Self::empty(status, reason);
        response
            .headers
            .push(("Content-Type".into(), "application/xml".into()));
        response.body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{code}</Message></Error>"
        )
        .into_bytes();
        response
    }
}

async fn serve_connection(mut stream: TcpStream, state: Arc<State>) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let request = match read_request(&mut stream, &mut buf).await {
            Ok(Some(request)) => request,
            Ok(None) | Err(_) => return,
        };
        let close = request
            .headers
            .get("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        let response = handle(&state, request);
        if write_response(&mut stream, response).await.is_err() || close {
            return;
        }
    }
}

/// Reads one request; `None` when the client closed the connection between requests.
async fn read_request(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(pos) = find(buf, b"\r\n\r\n") {
            break pos;
        }
        if !fill(stream, buf).await? {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end + 4);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();

    let body = if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        read_chunked(stream, buf).await?
    } else {
        let len: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < len {
            if !fill(stream, buf).await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        buf.drain(..len).collect()
    };
    Ok(Some(Request {
        method,
        path,
        headers,
        body,
    }))
}

async fn read_chunked(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = loop {
            if let Some(pos) = find(buf, b"\r\n") {
                break pos;
            }
            if !fill(stream, buf).await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        };
        let size_line = String::from_utf8_lossy(&buf[..line_end]).into_owned();
        buf.drain(..line_end + 2);
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("0").trim(), 16)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidData))?;
        while buf.len() < size + 2 {
            if !fill(stream, buf).await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        body.extend(buf.drain(..size));
        buf.drain(..2);
        if size == 0 {
            return Ok(body);
        }
    }
}

/// Reads more bytes into `buf`; false on end of stream.
async fn fill(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn handle(state: &State, request: Request) -> Response {
    if state.down.load(Ordering::SeqCst) {
        return Response::error(503, "Service Unavailable", "SlowDown");
    }
    let Ok(mut objects) = state.objects.lock() else {
        return Response::error(500, "Internal Server Error", "InternalError");
    };
    match request.method.as_str() {
        "PUT" => {
            let etag = format!("\"{}\"", state.next_etag.fetch_add(1, Ordering::SeqCst) + 1);
            objects.insert(
                request.path,
                StoredObject {
                    body: request.body,
                    content_type: request.headers.get("content-type").cloned(),
                    etag: etag.clone(),
                },
            );
            let mut response = Response::empty(200, "OK");
            response.headers.push(("ETag".into(), etag));
            response
        }
        "GET" | "HEAD" => {
            let Some(object) = objects.get(&request.path) else {
                let mut response = Response::error(404, "Not Found", "NoSuchKey");
                response.omit_body = request.method == "HEAD";
                return response;
            };
            let total = object.body.len();
            let (status, reason, range) = match request
                .headers
                .get("range")
                .and_then(|r| parse_range(r, total))
            {
                Some(range) => (206, "Partial Content", range),
                None => (200, "OK", 0..total),
            };
            let mut response = Response::empty(status, reason);
            response.headers.push(("ETag".into(), object.etag.clone()));
            response.headers.push((
                "Last-Modified".into(),
                "Sun, 29 Nov 2026 00:00:00 GMT".into(),
            ));
            if let Some(content_type) = &object.content_type {
                response
                    .headers
                    .push(("Content-Type".into(), content_type.clone()));
            }
            if status == 206 {
                response.headers.push((
                    "Content-Range".into(),
                    format!(
                        "bytes {}-{}/{total}",
                        range.start,
                        range.end.saturating_sub(1)
                    ),
                ));
            }
            response.body = object.body[range].to_vec();
            response.omit_body = request.method == "HEAD";
            response
        }
        "DELETE" => {
            objects.remove(&request.path);
            Response::empty(204, "No Content")
        }
        _ => Response::error(405, "Method Not Allowed", "MethodNotAllowed"),
    }
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n`, as an exclusive range within `total`.
fn parse_range(header: &str, total: usize) -> Option<std::ops::Range<usize>> {
    let spec = header.strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let range = match (start.parse::<usize>().ok(), end.parse::<usize>().ok()) {
        (Some(s), Some(e)) => s..(e + 1).min(total),
        (Some(s), None) => s..total,
        (None, Some(n)) => total.saturating_sub(n)..total,
        (None, None) => return None,
    };
    (range.start < range.end).then_some(range)
}

async fn write_response(stream: &mut TcpStream, response: Response) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", response.status, response.reason);
    for (name, value) in &response.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    head.push_str("x-amz-request-id: s3-double\r\n\r\n");
    stream.write_all(head.as_bytes()).await?;
    if !response.omit_body {
        stream.write_all(&response.body).await?;
    }
    stream.flush().await
}
