"""What every generated XBM client class shares: the HTTP call, tokens, and problem+json errors."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx


class XbmError(Exception):
    """A refusal from XBM: the HTTP status and its problem detail (RFC 9457)."""

    def __init__(self, status: int, problem: dict[str, Any] | None, text: str = ""):
        self.status = status
        self.problem = problem or {}
        self.detail = self.problem.get("detail") or text or f"HTTP {status}"
        super().__init__(f"{status}: {self.detail}")


class BaseClient:
    """``base_url`` of one service (``http://127.0.0.1:8001``), an access token, and optionally your own
    ``httpx.Client`` (for timeouts, proxies, tests)."""

    def __init__(self, base_url: str, token: str | None = None, *, http: httpx.Client | None = None,
                 timeout: float = 10.0):  # fmt: skip
        self.token = token
        self._own = http is None
        self._http = http or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        if http is not None and not str(http.base_url).strip("/"):
            self._http.base_url = httpx.URL(base_url.rstrip("/"))

    def close(self) -> None:
        if self._own:
            self._http.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        template: str,
        *,
        path: Mapping[str, str],
        query: Mapping[str, Any],
        header: Mapping[str, str | None],
        headers: Mapping[str, str] | None,
        json: Any = None,
        content: bytes | str | None = None,
        content_type: str | None = None,
    ) -> Any:
        url = template
        for name, value in path.items():
            url = url.replace("{" + name + "}", quote(str(value), safe=""))
        sent: dict[str, str] = {k: v for k, v in header.items() if v is not None}
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if content_type:
            sent["Content-Type"] = content_type
        sent.update(headers or {})
        params = {k: v for k, v in query.items() if v is not None}
        response = self._http.request(
            method, url, params=params, headers=sent, json=json if content is None else None, content=content
        )
        if response.status_code >= 400:
            problem = None
            if "json" in response.headers.get("content-type", ""):
                problem = response.json()
            raise XbmError(response.status_code, problem, response.text)
        if response.status_code == 204 or not response.content:
            return None
        if "json" in response.headers.get("content-type", ""):
            return response.json()
        return response.text
