//! A minimal HTTP/1.1 client on hyper's connection API: one [`Conn`] is one keep-alive TCP
//! connection, used for one request at a time. No pool, no redirects, no TLS — the least
//! client-side work, since the load generator shares the machine's cores with the servers.

use std::net::SocketAddr;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{
    Method, Request, StatusCode,
    client::conn::http1::SendRequest,
    header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue},
};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// One request to send: method, path (with query), extra headers, optional body (JSON
/// unless said otherwise).
#[derive(Clone, Debug)]
pub struct RequestSpec {
    /// Method.
    pub method: Method,
    /// Path and query, e.g. `/v1/me`.
    pub path: String,
    /// Headers besides `Host` (and `Content-Type`, added with a body).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: Option<Bytes>,
    /// `Content-Type` of the body.
    pub content_type: HeaderValue,
}

/// Boundary of the multipart bodies [`RequestSpec::post_file`] builds.
const BOUNDARY: &str = "wufei-bench-boundary-7d1f0c";

impl RequestSpec {
    /// `GET path`.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            path: path.into(),
            headers: Vec::new(),
            body: None,
            content_type: HeaderValue::from_static("application/json"),
        }
    }

    /// `method path` with a JSON body.
    pub fn json(
        method: Method,
        path: impl Into<String>,
        body: &serde_json::Value,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Some(Bytes::from(serde_json::to_vec(body)?)),
            content_type: HeaderValue::from_static("application/json"),
        })
    }

    /// `POST path` with no body (state changes such as `/depart`).
    pub fn post_empty(path: impl Into<String>) -> Self {
        Self {
            method: Method::POST,
            ..Self::get(path)
        }
    }

    /// `POST path` with a `multipart/form-data` body holding one file in field `file`.
    pub fn post_file(
        path: impl Into<String>,
        filename: &str,
        mime: &str,
        content: &[u8],
    ) -> anyhow::Result<Self> {
        let mut body = Vec::with_capacity(content.len() + 256);
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        Ok(Self {
            method: Method::POST,
            path: path.into(),
            headers: Vec::new(),
            body: Some(Bytes::from(body)),
            content_type: HeaderValue::from_str(&format!(
                "multipart/form-data; boundary={BOUNDARY}"
            ))?,
        })
    }

    /// `POST path` with a JSON body.
    pub fn post_json(path: impl Into<String>, body: &serde_json::Value) -> anyhow::Result<Self> {
        Self::json(Method::POST, path, body)
    }

    /// Adds header `name: value`.
    pub fn header(mut self, name: HeaderName, value: &str) -> anyhow::Result<Self> {
        let value = HeaderValue::from_str(value)
            .with_context(|| format!("{value:?} is not a valid header value"))?;
        self.headers.push((name, value));
        Ok(self)
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(mut self, token: &str) -> anyhow::Result<Self> {
        let value = HeaderValue::from_str(&format!("Bearer {token}"))
            .context("the access token is not a valid header value")?;
        self.headers.push((hyper::header::AUTHORIZATION, value));
        Ok(self)
    }
}

/// One keep-alive HTTP/1.1 connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
    addr: SocketAddr,
}

impl Conn {
    /// Opens a connection to `addr` (TCP_NODELAY, as browsers and proxies do).
    pub async fn connect(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the connection closes; the sender then reports the error.
            let _ = conn.await;
        });
        Ok(Self {
            sender,
            host: HeaderValue::from_str(&addr.to_string())?,
            addr,
        })
    }

    /// Opens a new connection in place of this one if the server has closed it (see
    /// [`Self::is_closed`]); for callers that may have idled since the last request.
    pub async fn reopen_if_closed(&mut self) -> anyhow::Result<()> {
        if self.is_closed() {
            *self = Self::connect(self.addr).await?;
        }
        Ok(())
    }

    /// Whether the server has closed this connection (an idle keep-alive connection is
    /// closed after the server's keep-alive timeout; that is not an error of the request
    /// sent next, so callers that idle reconnect first).
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Sends `spec` and reads the whole answer.
    pub async fn send(&mut self, spec: &RequestSpec) -> anyhow::Result<(StatusCode, Bytes)> {
        self.sender.ready().await?;
        let response = self.sender.send_request(self.request(spec)?).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    /// Sends `spec` and reads the answer frame by frame without keeping it (large
    /// downloads): the status and the length of the body.
    pub async fn download(&mut self, spec: &RequestSpec) -> anyhow::Result<(StatusCode, u64)> {
        self.sender.ready().await?;
        let response = self.sender.send_request(self.request(spec)?).await?;
        let status = response.status();
        let mut body = response.into_body();
        let mut bytes = 0u64;
        while let Some(frame) = body.frame().await {
            if let Some(data) = frame?.data_ref() {
                bytes += data.len() as u64;
            }
        }
        Ok((status, bytes))
    }

    fn request(&self, spec: &RequestSpec) -> anyhow::Result<Request<Full<Bytes>>> {
        let mut builder = Request::builder()
            .method(spec.method.clone())
            .uri(spec.path.as_str())
            .header(HOST, self.host.clone());
        for (name, value) in &spec.headers {
            builder = builder.header(name, value);
        }
        let body = match &spec.body {
            Some(body) => {
                builder = builder.header(CONTENT_TYPE, spec.content_type.clone());
                Full::new(body.clone())
            }
            None => Full::new(Bytes::new()),
        };
        Ok(builder.body(body)?)
    }
}

/// Sends one request on a fresh connection (set-up and readiness probes).
pub async fn once(addr: SocketAddr, spec: &RequestSpec) -> anyhow::Result<(StatusCode, Bytes)> {
    Conn::connect(addr).await?.send(spec).await
}
