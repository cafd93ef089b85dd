"""deploy/nginx/nginx.conf: `nginx -t` accepts it, and a real nginx started on it routes every public path to
the right service (stand-in HTTP servers play the three services)."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.deploy.routes import ROUTES, SERVICES, UNROUTED

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "nginx.conf"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)

pytestmark = pytest.mark.skipif(
    NGINX is None, reason="nginx is not installed (apt-get install nginx; .ci/run installs it)"
)


class _StandIn(BaseHTTPRequestHandler):
    """Answers every request with the name of the service it plays and what it received."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        payload = {
            "service": self.server.service_name,  # type: ignore[attr-defined]
            "method": self.command,
            "path": self.path,
            "body": body,
            "request_id": self.headers.get("X-Request-ID"),
            "origin": self.headers.get("Origin"),
            "request_method": self.headers.get("Access-Control-Request-Method"),
            "request_headers": self.headers.get("Access-Control-Request-Headers"),
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        if self.headers.get("Origin"):  # as a service listing this origin in XBM_CORS_ORIGINS would
            self.send_header("Access-Control-Allow-Origin", self.headers["Origin"])
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _answer

    def log_message(self, *args: object) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_config(text: str, prefix: Path, listen_port: int, upstream_ports: dict[str, int]) -> str:
    """The shipped config with its upstreams, port and /tmp paths moved onto this machine."""
    for name, port in upstream_ports.items():
        assert f"server {name}:8000;" in text
        text = text.replace(f"server {name}:8000;", f"server 127.0.0.1:{port};")
    assert "listen 8000;" in text
    text = text.replace("listen 8000;", f"listen 127.0.0.1:{listen_port};")
    text = text.replace(" /tmp/", f" {prefix}/")
    text = text.replace("error_log /dev/stderr", f"error_log {prefix}/error.log")
    return text.replace("access_log /dev/stdout", f"access_log {prefix}/access.log")


def _nginx(prefix: Path, *args: str) -> list[str]:
    assert NGINX is not None
    return [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log"), *args]


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[dict[str, int]]:
    servers = []
    for name in SERVICES:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
        server.service_name = name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    yield {name: server.server_address[1] for name, server in zip(SERVICES, servers, strict=True)}
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory, stand_ins: dict[str, int]) -> Path:
    prefix = tmp_path_factory.mktemp("nginx")
    port = _free_port()
    (prefix / "nginx.conf").write_text(local_config(CONFIG.read_text(), prefix, port, stand_ins))
    (prefix / "port").write_text(str(port))
    return prefix


def test_nginx_accepts_the_config(prefix: Path) -> None:
    result = subprocess.run(_nginx(prefix, "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_nginx_refuses_a_broken_config(prefix: Path, tmp_path: Path) -> None:
    broken = (prefix / "nginx.conf").read_text().replace("proxy_pass http://campaigns;", "proxy_pass http://nowhere;")
    (tmp_path / "nginx.conf").write_text(broken.replace(str(prefix), str(tmp_path)))
    result = subprocess.run(_nginx(tmp_path, "-t"), capture_output=True, text=True, timeout=30)
    assert result.returncode != 0


@pytest.fixture(scope="module")
def gateway(prefix: Path) -> Iterator[httpx.Client]:
    proc = subprocess.Popen(
        _nginx(prefix, "-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{(prefix / 'port').read_text()}"
    try:
        with httpx.Client(base_url=url, timeout=5) as client:
            deadline = time.monotonic() + 10
            while True:
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        stderr = proc.stderr.read() if proc.stderr else ""
                        raise AssertionError(f"nginx did not start: {stderr}") from None
                    time.sleep(0.05)
            yield client
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(("path", "service", "seen"), ROUTES)
def test_the_gateway_routes_each_path_to_its_service(gateway: httpx.Client, path: str, service: str, seen: str) -> None:
    response = gateway.get(path)
    assert response.status_code == 200
    assert response.json()["service"] == service
    assert response.json()["path"] == seen


@pytest.mark.parametrize("path", UNROUTED)
def test_the_gateway_answers_unrouted_paths_itself_with_a_problem(gateway: httpx.Client, path: str) -> None:
    response = gateway.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 404


def test_the_bare_subscriptions_path_names_the_service_prefixes(gateway: httpx.Client) -> None:
    detail = gateway.get("/v1/subscriptions").json()["detail"]
    for name in SERVICES:
        assert f"/{name}/v1/subscriptions" in detail


def test_bodies_methods_and_request_ids_pass_through(gateway: httpx.Client) -> None:
    body = {"rows": [{"date": "2025-09-01"}]}
    response = gateway.put("/v1/campaigns/c1/metrics", json=body, headers={"X-Request-ID": "req-42"})
    seen = response.json()
    assert (seen["method"], json.loads(seen["body"]), seen["request_id"]) == ("PUT", body, "req-42")
    generated = gateway.post("/v1/auth/token", json={}).json()["request_id"]
    assert generated and len(generated) == 32


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/campaigns/c1", "/v1/compliance/orders", "/plans/v1/subscriptions"])
def test_cors_preflights_reach_the_services_and_their_answer_comes_back_once(gateway: httpx.Client, path: str) -> None:
    """The services answer CORS (XBM_CORS_ORIGINS); the gateway passes preflights through and adds nothing."""
    origin = "https://console.example.com"
    headers = {"Origin": origin, "Access-Control-Request-Method": "PATCH",
               "Access-Control-Request-Headers": "authorization, if-match"}  # fmt: skip
    response = gateway.options(path, headers=headers)
    seen = response.json()
    assert (seen["method"], seen["origin"], seen["request_method"]) == ("OPTIONS", origin, "PATCH")
    assert seen["request_headers"] == "authorization, if-match"
    assert response.headers.get_list("access-control-allow-origin") == [origin]


def test_the_gateway_reports_its_own_health(gateway: httpx.Client) -> None:
    response = gateway.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
