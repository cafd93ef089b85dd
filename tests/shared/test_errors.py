"""Database contention is a 503 the client may retry; any other database error stays a logged 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from shared.errors import install_error_handlers
from tests.support import assert_problem


class DriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None):
        super().__init__(message)
        self.sqlstate = sqlstate


def app_raising(orig: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise DBAPIError("UPDATE orders …", {}, orig)

    return app


@pytest.mark.parametrize(
    "orig",
    [
        DriverError("deadlock detected", "40P01"),
        DriverError("could not serialize", "40001"),
        DriverError("database is locked"),
    ],
)
async def test_contention_is_503_with_retry_after(orig: Exception) -> None:
    transport = httpx.ASGITransport(app=app_raising(orig), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        response = await client.get("/boom")
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"


async def test_other_database_errors_stay_500() -> None:
    transport = httpx.ASGITransport(app=app_raising(DriverError("syntax error", "42601")), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        response = await client.get("/boom")
    assert_problem(response, 500)
