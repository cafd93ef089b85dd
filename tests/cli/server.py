"""A stand-in for XBM over real HTTP (a thread on a port of its own), for running `xbm` as a subprocess: it
exchanges API keys for short-lived tokens and refuses a token once it has expired, as plans does."""

from __future__ import annotations

import http.server
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Seen:
    method: str
    path: str
    body: Any
    authorization: str | None


@dataclass
class TokenServer:
    keys: set[str]
    #: how long a token lives, in seconds
    ttl: float = 2.0
    specs: dict[str, Any] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)
    url: str = ""
    _counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def exchanges(self) -> list[Seen]:
        return [s for s in self.seen if s.path == "/v1/auth/token"]

    def calls(self) -> list[Seen]:
        return [s for s in self.seen if s.path not in ("/v1/auth/token", "/openapi.json")]

    def answer(self, method: str, path: str, body: Any, authorization: str | None) -> tuple[int, Any]:
        self.seen.append(Seen(method, path, body, authorization))
        if path == "/openapi.json":
            return (200, self.specs["plans"]) if "plans" in self.specs else (404, {"detail": "no schema"})
        if path == "/v1/auth/token":
            if not isinstance(body, dict) or body.get("api_key") not in self.keys:
                return 401, {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "unknown key"}
            token = f"tok-{next(self._counter)}"
            self.tokens[token] = time.time() + self.ttl
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": int(self.ttl)}
        token = (authorization or "").removeprefix("Bearer ")
        if self.tokens.get(token, 0) <= time.time():
            return 401, {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "token expired"}
        return 200, {"id": "del-1", "state": "pending", "token": token}


@contextmanager
def serving(server: TokenServer) -> Iterator[TokenServer]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            status, answer = server.answer(self.command, self.path, body, self.headers.get("authorization"))
            data = json.dumps(answer).encode()
            self.send_response(status)
            kind = "application/json" if status < 400 else "application/problem+json"
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
