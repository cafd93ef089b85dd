"""``Idempotency-Key`` on POST: the same key and body within 24 h gets the first response again; the same key
with another body is 422; a retry while the first request still runs is 409. Keys are kept per organisation,
for requests carrying a valid access token."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.db import IdMixin, UTCDateTime, utcnow
from shared.errors import AppError, send_problem

TTL = timedelta(hours=24)
_KEY_OK = re.compile(r"^[\x21-\x7e]{1,255}$")
_REPLAYED_HEADERS = {b"content-type", b"location", b"etag"}


def idempotency_table(base: Any) -> Any:
    class IdempotencyKey(IdMixin, base):  # type: ignore[misc, valid-type]
        __tablename__ = "idempotency_keys"
        __table_args__ = (UniqueConstraint("scope", "key"),)

        scope: Mapped[str] = mapped_column(String(64))
        key: Mapped[str] = mapped_column(String(255))
        fingerprint: Mapped[str] = mapped_column(String(64))
        state: Mapped[str] = mapped_column(String(16), default="running")
        status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
        headers: Mapped[str | None] = mapped_column(String(4000), nullable=True)
        body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    return IdempotencyKey


def request_fingerprint(path: str, query: bytes, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([path.encode(), query, body])).hexdigest()


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the app once, then defers to the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, model: Any):
        self.app = app
        self.model = model

    async def _scope_of(self, scope: Scope, headers: dict[bytes, bytes]) -> str | None:
        """The caller's organisation; None for a request without a valid token (webhook senders deduplicate
        by their own delivery ids, and an unauthenticated key space could be squatted by anyone)."""
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if not auth.lower().startswith("bearer "):
            return None
        try:
            principal = await scope["app"].state.verifier.verify(auth[7:].strip())
        except AppError:
            return None
        return f"org:{principal.org_id}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        raw_key = headers.get(b"idempotency-key")
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1")
        if not _KEY_OK.match(key):
            await send_problem(send, 400, "Bad Request", "Idempotency-Key must be 1–255 visible ASCII characters")
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        owner = await self._scope_of(scope, headers)
        if owner is None:
            await self.app(scope, _replay(body, receive), send)
            return
        fingerprint = request_fingerprint(scope["path"], scope.get("query_string", b""), body)

        sessionmaker = scope["app"].state.sessionmaker
        row_id = await self._claim(sessionmaker, owner, key, fingerprint, send)
        if row_id is None:
            return

        replay_receive = _replay(body, receive)
        captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        finished = False

        async def capture_send(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
                if not message.get("more_body") and not finished:
                    # stored before the client sees the end of the response: a retry sent the moment it
                    # arrives gets the replay, not "still being processed"
                    finished = True
                    await self._finish(sessionmaker, row_id, captured)
            await send(message)

        try:
            await self.app(scope, replay_receive, capture_send)
        finally:
            if not finished:
                await self._finish(sessionmaker, row_id, captured)

    async def _claim(self, sessionmaker: Any, owner: str, key: str, fingerprint: str, send: Send) -> str | None:
        M = self.model
        now = utcnow()
        for _ in range(2):
            async with sessionmaker() as session:
                row = M(scope=owner, key=key, fingerprint=fingerprint, state="running", expires_at=now + TTL)
                session.add(row)
                try:
                    await session.commit()
                    return str(row.id)
                except IntegrityError:
                    await session.rollback()
                existing = (await session.execute(select(M).where(M.scope == owner, M.key == key))).scalar_one_or_none()
                if existing is None:
                    continue
                if existing.expires_at <= now:
                    await session.execute(delete(M).where(M.id == existing.id))
                    await session.commit()
                    continue
                if existing.fingerprint != fingerprint:
                    await send_problem(
                        send,
                        422,
                        "Unprocessable Content",
                        "this Idempotency-Key was used with a different request; use a new key",
                    )
                    return None
                if existing.state == "running":
                    await send_problem(
                        send, 409, "Conflict", "a request with this Idempotency-Key is still being processed"
                    )
                    return None
                stored = json.loads(existing.headers or "[]")
                out_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored]
                out_headers.append((b"idempotent-replayed", b"true"))
                await send({"type": "http.response.start", "status": existing.status_code, "headers": out_headers})
                await send({"type": "http.response.body", "body": existing.body or b""})
                return None
        await send_problem(send, 409, "Conflict", "could not claim the Idempotency-Key; retry")
        return None

    async def _finish(self, sessionmaker: Any, row_id: str, captured: dict[str, Any]) -> None:
        M = self.model
        async with sessionmaker() as session:
            row = await session.get(M, row_id)
            if row is None:
                return
            if captured["status"] >= 500:  # a failure the client may retry with the same key
                await session.delete(row)
            else:
                kept = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in captured["headers"]
                    if k.lower() in _REPLAYED_HEADERS
                ]
                row.state, row.status_code = "done", captured["status"]
                row.headers, row.body = json.dumps(kept), b"".join(captured["body"])
            await session.commit()
