#!/usr/bin/env python3
"""A local double of WeChat's server API for `deploy/local` (python3 stdlib only).

It answers the three calls Wufei makes, as `api/tests/api/helpers.rs`'s double does:

- `GET /sns/jscode2session`: the code `ok-<openid>` logs in the person `<openid>`; any other
  code answers WeChat's "invalid code" (40029).
- `GET /cgi-bin/token`: a new access token on each call.
- `POST /cgi-bin/message/subscribe/send`: accepted and counted (nothing leaves the machine).

Usage: wechat_double.py PORT APPID SECRET. It checks appid and secret as WeChat does.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


def main() -> None:
    port, appid, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    lock = threading.Lock()
    state = {"tokens": 0, "sent": 0}

    class Handler(BaseHTTPRequestHandler):
        def answer(self, body: dict, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def query(self) -> dict:
            q = parse_qs(urlsplit(self.path).query)
            return {k: v[0] for k, v in q.items()}

        def credentials_ok(self, q: dict, grant: str) -> bool:
            return q.get("appid") == appid and q.get("secret") == secret and q.get("grant_type") == grant

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path, q = urlsplit(self.path).path, self.query()
            if path == "/sns/jscode2session":
                if not self.credentials_ok(q, "authorization_code"):
                    return self.answer({"errcode": 40013, "errmsg": "invalid appid"})
                code = q.get("js_code", "")
                if not code.startswith("ok-") or len(code) <= 3:
                    return self.answer({"errcode": 40029, "errmsg": "invalid code"})
                openid = code[3:]
                return self.answer({"openid": openid, "session_key": "local-session-key", "unionid": f"union-{openid}"})
            if path == "/cgi-bin/token":
                if not self.credentials_ok(q, "client_credential"):
                    return self.answer({"errcode": 40013, "errmsg": "invalid appid"})
                with lock:
                    state["tokens"] += 1
                    n = state["tokens"]
                return self.answer({"access_token": f"LOCAL-ACCESS-TOKEN-{n}", "expires_in": 7200})
            if path == "/healthz":
                with lock:
                    return self.answer(dict(state))
            return self.answer({"errcode": 404, "errmsg": "no such call in the double"}, 404)

        def do_POST(self) -> None:  # noqa: N802
            path = urlsplit(self.path).path
            length = int(self.headers.get("content-length") or 0)
            self.rfile.read(length)
            if path == "/cgi-bin/message/subscribe/send":
                with lock:
                    state["sent"] += 1
                return self.answer({"errcode": 0, "errmsg": "ok"})
            return self.answer({"errcode": 404, "errmsg": "no such call in the double"}, 404)

        def log_message(self, fmt: str, *args) -> None:
            sys.stderr.write("wechat-double: " + (fmt % args) + "\n")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print(f"wechat double on http://127.0.0.1:{port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
