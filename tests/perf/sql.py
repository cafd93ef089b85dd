"""Counting the SQL statements a service sends to its database while a request runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


class Statements:
    """The statements seen on one engine (``before_cursor_execute``: one per round trip to the database)."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def record(self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        self.seen.append(" ".join(statement.split())[:160])

    def __len__(self) -> int:
        return len(self.seen)

    def report(self) -> str:
        return "\n".join(f"  {i + 1}. {s}" for i, s in enumerate(self.seen))


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Statements]:
    statements = Statements()
    event.listen(engine.sync_engine, "before_cursor_execute", statements.record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", statements.record)
