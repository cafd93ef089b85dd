"""Headless Chromium driven over the DevTools protocol, and static pages served from an origin of their own.

No browser download and no npm: the Debian ``chromium`` binary, a fresh profile per test, and the protocol's
JSON over a WebSocket (``websockets`` comes with uvicorn[standard])."""

from __future__ import annotations

import http.server
import itertools
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

CHROMIUM = "/usr/bin/chromium"
needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM), reason="Chromium is not installed (apt-get install chromium; .ci/run does)"
)
#: a headless Chromium that reaches nothing on its own (no updates, sync or first-run pages)
HEADLESS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: the same, driven over the DevTools protocol
FLAGS = [*HEADLESS, "--no-default-browser-check", "--remote-debugging-port=0"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_origin(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on a port of its own: a distinct origin ``http://127.0.0.1:PORT``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Page:
    def __init__(self, browser: Browser, session_id: str):
        self.browser = browser
        self.session_id = session_id

    def evaluate(self, expression: str, timeout: float = 30) -> Any:
        """The value of ``expression`` (awaited when it is a promise); a thrown error fails the test."""
        result = self.browser.call(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True, "timeout": timeout * 1000},
            session_id=self.session_id,
            timeout=timeout + 5,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise AssertionError(details.get("exception", {}).get("description") or json.dumps(details))
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll until ``expression`` is truthy (what a person waits for on screen); its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                text = self.evaluate("document.body ? document.body.innerText : ''")
                raise AssertionError(f"timed out waiting for {expression!r}; the page shows:\n{text}")
            time.sleep(0.1)


class Browser:
    def __init__(self, profile: Path):
        profile.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("Chromium did not start its DevTools endpoint")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self._connection = connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=30)
        self.ws: ClientConnection = self._connection.__enter__()
        self._ids = itertools.count(1)

    def call(self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None,
             timeout: float = 30) -> dict[str, Any]:  # fmt: skip
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = json.loads(self.ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))

    def open(self, url: str) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        self.call("Page.navigate", {"url": url}, session_id=session)
        page.wait_for(
            f"location.href.startsWith({json.dumps(url.split('#')[0])}) && document.readyState === 'complete'"
        )
        return page

    def close(self) -> None:
        try:
            self._connection.__exit__(None, None, None)
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextmanager
def chromium(profile: Path) -> Iterator[Browser]:
    browser = Browser(profile)
    try:
        yield browser
    finally:
        browser.close()
