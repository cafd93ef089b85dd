"""``Idempotency-Key`` on POST: the same key and body within 24 h gets the first response again; the same key
with another body is 422; a retry while the first request still runs is 409. Keys are kept per organisation,
for requests carrying a valid access token.

The stored response is replayed only to the principal (API key) that made the request: it may hold what only
that key's role may see (a new API key, a signing secret), and the replay answers before the route's role
check runs. Anyone else naming the same key gets 422. A key whose first request died without an answer (the
process was killed) is released after :data:`LEASE` instead of answering 409 for a day.

The answer is recorded in the route's own transaction, so no database failure can leave a request done but its
answer unrecorded (a retry would run it twice)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, LargeBinary, String, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import bearer_principal
from shared.context import context_of
from shared.db import IDEMPOTENT_SESSION, IdMixin, UTCDateTime, utcnow
from shared.errors import AppError, database_unreachable, send_problem
from shared.observability import replay_body

TTL = timedelta(hours=24)
#: how long a request may hold its key before a retry may take the key over
LEASE = timedelta(seconds=60)
_KEY_OK = re.compile(r"^[\x21-\x7e]{1,255}$")
_REPLAYED = {b"content-type", b"location", b"etag"}


def idempotency_table(base: Any) -> Any:
    class IdempotencyKey(IdMixin, base):  # type: ignore[misc, valid-type]
        __tablename__ = "idempotency_keys"
        __table_args__ = (UniqueConstraint("scope", "key"),)

        scope: Mapped[str] = mapped_column(String(64))
        key: Mapped[str] = mapped_column(String(255))
        fingerprint: Mapped[str] = mapped_column(String(64))
        #: the access token's subject (API key id) that made the request; only it gets the replay
        principal: Mapped[str | None] = mapped_column(String(64), nullable=True)
        state: Mapped[str] = mapped_column(String(16), default="running")
        status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
        headers: Mapped[str | None] = mapped_column(String(4000), nullable=True)
        body: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
        created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
        expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    return IdempotencyKey


def request_fingerprint(path: str, query: bytes, body: bytes) -> str:
    return hashlib.sha256(b"\n".join([path.encode(), query, body])).hexdigest()


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp, model: Any):
        self.app = app
        self.model = model

    async def _scope_of(self, scope: Scope) -> tuple[str, str] | None:
        """The caller's organisation and principal; None for a request without a valid token (webhook senders
        deduplicate by their own delivery ids, and an unauthenticated key space could be squatted by anyone)."""
        principal = await bearer_principal(scope)
        if principal is None:
            return None
        return f"org:{principal.org_id}", principal.subject[:64]

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
        try:
            while True:
                message = await receive()
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    break
        except AppError as exc:  # the input guard refused the body as it arrived (too large, too deep)
            await send_problem(send, exc.status, exc.title, exc.detail)
            return
        body = b"".join(chunks)
        caller = await self._scope_of(scope)
        if caller is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        owner, principal = caller
        fingerprint = request_fingerprint(scope["path"], scope.get("query_string", b""), body)

        sessionmaker = context_of(scope["app"]).sessionmaker
        try:
            row_id = await self._claim(sessionmaker, owner, principal, key, fingerprint, send)
        except Exception as exc:
            if not database_unreachable(exc):
                raise
            await send_problem(send, 503, "Service Unavailable", "the database cannot be reached; retry later",
                               retry_after=5)  # fmt: skip
            return
        if row_id is None:
            return

        # The route's own transaction records its answer: the session it writes through (DbSession) is this one,
        # flushed but not committed by the route, and committed here together with the stored response. A
        # request whose commit fails has changed nothing (the client gets 503 and its retry runs it once); one
        # whose commit succeeded is answered from the record on retry, even if the client never saw the answer.
        captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}
        lost = False
        async with sessionmaker() as session:
            session.info["idempotency_key"] = row_id
            scope.setdefault("state", {})[IDEMPOTENT_SESSION] = session

            async def capture_send(message: Message) -> None:
                if message["type"] == "http.response.start":
                    captured["status"] = message["status"]
                    captured["headers"] = message.get("headers", [])
                elif message["type"] == "http.response.body":
                    captured["body"].append(message.get("body", b""))

            try:
                await self.app(scope, replay_body(body, receive), capture_send)
            except BaseException:
                await _abandon(session)
                await self._release(sessionmaker, row_id)
                raise
            finally:
                scope["state"].pop(IDEMPOTENT_SESSION, None)
            try:
                if captured["status"] >= 500:  # a failure the client may retry with the same key
                    await session.rollback()
                    await session.execute(delete(self.model).where(self.model.id == row_id))
                else:
                    await session.execute(self._done(row_id, captured))
                await session.commit()
            except Exception as exc:
                if not database_unreachable(exc):
                    raise
                lost = True
                await _abandon(session)
        if lost:
            await self._release(sessionmaker, row_id)
            await send_problem(send, 503, "Service Unavailable", "the database cannot be reached; nothing was "
                               "changed, retry with the same Idempotency-Key", retry_after=5)  # fmt: skip
            return
        await send({"type": "http.response.start", "status": captured["status"], "headers": captured["headers"]})
        await send({"type": "http.response.body", "body": b"".join(captured["body"])})

    def _done(self, row_id: str, captured: dict[str, Any]) -> Any:
        kept = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in captured["headers"] if k.lower() in _REPLAYED]
        return (
            update(self.model)
            .where(self.model.id == row_id)
            .values(
                state="done", status_code=captured["status"], headers=json.dumps(kept), body=b"".join(captured["body"])
            )
        )

    async def _release(self, sessionmaker: Any, row_id: str) -> None:
        """Frees the key of a request that changed nothing, so its retry runs at once (if the database is still
        unreachable, the key is released when its lease ends)."""
        try:
            async with sessionmaker() as session:
                await session.execute(delete(self.model).where(self.model.id == row_id, self.model.state == "running"))
                await session.commit()
        except Exception as exc:
            if not database_unreachable(exc):
                raise

    async def _claim(
        self, sessionmaker: Any, owner: str, principal: str, key: str, fingerprint: str, send: Send
    ) -> str | None:
        M = self.model
        now = utcnow()
        for _ in range(3):
            async with sessionmaker() as session:
                row = M(
                    scope=owner,
                    key=key,
                    fingerprint=fingerprint,
                    principal=principal,
                    state="running",
                    created_at=now,
                    expires_at=now + TTL,
                )
                session.add(row)
                try:
                    await session.commit()
                    return str(row.id)
                except IntegrityError:
                    await session.rollback()
                existing = (await session.execute(select(M).where(M.scope == owner, M.key == key))).scalar_one_or_none()
                if existing is None:
                    continue
                abandoned = existing.state == "running" and existing.created_at <= now - LEASE
                if existing.expires_at <= now or abandoned:
                    # conditional on what was read: of two retries taking over one key, one deletes it
                    await session.execute(delete(M).where(M.id == existing.id, M.state == existing.state))
                    await session.commit()
                    continue
                if existing.principal != principal:
                    await send_problem(
                        send,
                        422,
                        "Unprocessable Content",
                        "this Idempotency-Key was used by another API key; use a key of your own",
                    )
                    return None
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


async def _abandon(session: Any) -> None:
    """Drops the session's transaction and connection, whatever state the connection is in (a connection the
    server closed cannot even roll back)."""
    with contextlib.suppress(Exception):
        await session.invalidate()
