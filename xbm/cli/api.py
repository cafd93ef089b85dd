"""The HTTP side of the CLI: one small client over httpx that maps every failure onto an exit code.

The transport is injectable (``use_transport``) so tests run the commands against ``httpx.MockTransport``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from xbm.cli.errors import CliError, Exit

Service = Literal["plans", "campaigns", "compliance"]
SERVICES: tuple[Service, ...] = ("plans", "campaigns", "compliance")
DEFAULT_URLS: dict[Service, str] = {
    "plans": "http://127.0.0.1:8001",
    "campaigns": "http://127.0.0.1:8002",
    "compliance": "http://127.0.0.1:8003",
}

_transport: httpx.BaseTransport | None = None


def default_url(service: Service) -> str:
    """Where `make run` listens by the same settings it reads (XBM_HOST, XBM_<SVC>_PORT), else the default."""
    host = os.environ.get("XBM_HOST") or "127.0.0.1"
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    port = os.environ.get(f"XBM_{service.upper()}_PORT")
    if not port:
        return DEFAULT_URLS[service] if host == "127.0.0.1" else f"http://{host}:{DEFAULT_URLS[service][-4:]}"
    return f"http://{host}:{port}"


@contextlib.contextmanager
def use_transport(transport: httpx.BaseTransport) -> Iterator[None]:
    """Send every request of the commands run inside this block through ``transport``."""
    global _transport
    previous, _transport = _transport, transport
    try:
        yield
    finally:
        _transport = previous


def problem_of(response: httpx.Response) -> object:
    """The refusal's body as JSON (its problem detail), or its text when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        return response.text.strip()[:2000] or None


def describe_problem(response: httpx.Response) -> str:
    """One readable paragraph from an application/problem+json body (or whatever the body is)."""
    head = f"{response.status_code} {response.reason_phrase}"
    try:
        problem = response.json()
    except ValueError:
        text = response.text.strip()
        return f"{head}: {text[:500]}" if text else head
    if not isinstance(problem, dict):
        return f"{head}: {problem}"
    detail = str(problem.get("detail") or problem.get("title") or "")
    lines = [f"{head}: {detail}".rstrip(": ")]
    for error in problem.get("errors") or []:
        if isinstance(error, dict):
            where = ".".join(str(part) for part in error.get("loc") or [])
            line = f"{where}: {error.get('msg')}"
            if line not in detail:  # some details already spell out the only error
                lines.append(f"  {line}")
    return "\n".join(lines)


@dataclass
class Api:
    urls: Mapping[Service, str]
    token: str | None = None
    timeout: float = 30.0
    #: a fresh token when a service refuses this one (it expired mid-command), or None when there is none to get
    refresh: Callable[[], str | None] | None = None

    def __post_init__(self) -> None:
        self._clients: dict[Service, httpx.Client] = {}

    def _client(self, service: Service) -> httpx.Client:
        if service not in self._clients:
            headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
            self._clients[service] = httpx.Client(
                base_url=self.urls[service].rstrip("/"),
                headers={"User-Agent": "xbm-cli", **headers},
                timeout=httpx.Timeout(self.timeout, connect=5.0),
                transport=_transport,
            )
        return self._clients[service]

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _send(self, service: Service, method: str, path: str, **request: Any) -> httpx.Response:
        try:
            return self._client(service).request(method, path, **request)
        except httpx.TransportError as exc:
            detail = str(exc) or type(exc).__name__
            raise CliError(f"cannot reach {service} at {self.urls[service]}: {detail}", Exit.UNREACHABLE) from exc

    def _renewed(self) -> bool:
        """Swap in a fresh token (once per refusal); False when there is none to get."""
        token = self.refresh() if self.refresh else None
        if not token or token == self.token:
            return False
        self.token = token
        for client in self._clients.values():
            client.headers["Authorization"] = f"Bearer {token}"
        return True

    def call(
        self,
        service: Service,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request (a JSON body, or ``content`` as it is); a 2xx comes back, everything else ends the
        command with its exit code. A refused token is renewed once (from the kept API key) and the request sent
        again."""
        headers = {"content-type": content_type} if content_type else None
        request = {"json": json, "content": content, "headers": headers, "params": params}
        response = self._send(service, method, path, **request)
        if response.status_code == 401 and self.token and self._renewed():
            response = self._send(service, method, path, **request)
        if response.is_success:
            return response
        status, problem = response.status_code, problem_of(response)
        if response.status_code == 401:
            # a refused token, or (with no token yet) a refused API key: either way, log in again
            what = "the token" if self.token else "the API key"
            raise CliError(
                f"{service} refused {what} ({describe_problem(response)}); run `xbm login`",
                Exit.NOT_LOGGED_IN,
                status=status,
                problem=problem,
            )
        raise CliError(
            f"{service} refused {method} {path}: {describe_problem(response)}",
            Exit.REFUSED,
            status=status,
            problem=problem,
        )

    def json(self, service: Service, method: str, path: str, *, json: Any = None) -> Any:
        response = self.call(service, method, path, json=json)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise CliError(f"{service} answered {method} {path} with a body that is not JSON", Exit.REFUSED) from exc
