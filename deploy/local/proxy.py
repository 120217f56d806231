#!/usr/bin/env python3
"""The load balancer of `deploy/local`: a small round-robin HTTP reverse proxy (python3
stdlib only) standing where nginx stands in `deploy/compose.yaml`.

- Requests go to the backends in turn. A backend that refuses the connection is skipped
  (nothing was sent, so trying the next one is safe) and left out for two seconds; a
  request that fails after it was sent answers 502, as nginx does, and is not retried
  (the client decides, with its Idempotency-Key).
- `X-Forwarded-For` is overwritten with the client's address (never appended to), so
  `WUFEI_TRUST_FORWARDED_FOR=1` is safe behind it.
- WebSocket upgrades (`/v1/ws`) are tunnelled to one backend for the socket's lifetime.
- `/metrics` answers 404, as at the production edge.

Not for production: no TLS, no timeouts tuned for the Internet, one thread per connection.

Usage: proxy.py LISTEN_PORT BACKEND_URL [BACKEND_URL ...]
"""

import http.client
import itertools
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "x-forwarded-for",
    "content-length",
}


def main() -> None:
    port = int(sys.argv[1])
    backends = [urlsplit(u) for u in sys.argv[2:]]
    if not backends:
        sys.exit("proxy.py: no backends")
    turn = itertools.count()
    lock = threading.Lock()
    down_until = [0.0] * len(backends)

    def order() -> list[int]:
        """Backends to try for one request, starting with the next in turn; those that
        recently refused a connection go last."""
        with lock:
            first = next(turn) % len(backends)
        ids = [(first + i) % len(backends) for i in range(len(backends))]
        now = time.monotonic()
        return [i for i in ids if down_until[i] <= now] + [i for i in ids if down_until[i] > now]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def fail(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def forward(self) -> None:
            if urlsplit(self.path).path == "/metrics":
                return self.fail(404, "not found\n")
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["X-Forwarded-For"] = self.client_address[0]
            if body or self.command in ("POST", "PUT", "PATCH"):
                headers["Content-Length"] = str(len(body))
            if self.headers.get("upgrade", "").lower() == "websocket":
                return self.tunnel(headers)
            for i in order():
                b = backends[i]
                conn = http.client.HTTPConnection(b.hostname, b.port, timeout=60)
                try:
                    conn.connect()
                except OSError:
                    with lock:
                        down_until[i] = time.monotonic() + 2.0
                    conn.close()
                    continue
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    res = conn.getresponse()
                    data = res.read()
                except OSError as e:
                    conn.close()
                    return self.fail(502, f"bad gateway: {b.netloc}: {e}\n")
                conn.close()
                self.send_response(res.status, res.reason)
                for k, v in res.getheaders():
                    if k.lower() not in HOP_BY_HOP:
                        self.send_header(k, v)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                return None
            return self.fail(502, "bad gateway: no backend accepts connections\n")

        def tunnel(self, headers: dict) -> None:
            for i in order():
                b = backends[i]
                try:
                    up = socket.create_connection((b.hostname, b.port), timeout=5)
                except OSError:
                    continue
                head = [f"{self.command} {self.path} HTTP/1.1"]
                head += [f"{k}: {v}" for k, v in headers.items()]
                head += ["Connection: Upgrade", f"Upgrade: {self.headers['upgrade']}", "", ""]
                up.sendall("\r\n".join(head).encode())
                up.settimeout(None)
                self.close_connection = True
                down = self.connection
                # Bytes the client sent after its request head and that are already
                # buffered (peeked without blocking) go first.
                down.setblocking(False)
                try:
                    pending = self.rfile.peek()
                except OSError:
                    pending = b""
                down.setblocking(True)
                if pending:
                    up.sendall(self.rfile.read(len(pending)))
                try:
                    socks = [down, up]
                    while True:
                        ready, _, _ = select.select(socks, [], [], 3600)
                        if not ready:
                            break
                        for s in ready:
                            data = s.recv(65536)
                            if not data:
                                return None
                            (up if s is down else down).sendall(data)
                except OSError:
                    return None
                finally:
                    up.close()
            return self.fail(502, "bad gateway: no backend accepts connections\n")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = forward

        def log_message(self, fmt: str, *args) -> None:
            # The path without its query: the WebSocket's access token travels in it.
            sys.stderr.write(f"proxy: {self.command} {urlsplit(self.path).path} {args[1] if len(args) > 1 else ''}\n")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"proxy on http://127.0.0.1:{port} -> {' '.join(b.geturl() for b in backends)}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
