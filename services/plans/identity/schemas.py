from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import Name, Out, Schema

Role = Literal["admin", "executive", "supervisor", "specialist", "analyst", "integration"]


class OrgCreate(Schema):
    name: Name


class OrgOut(Out):
    id: str
    name: str


class OrgCreated(Out):
    """The new organisation and its first admin API key (shown once: keep it)."""

    org: OrgOut
    key: str = Field(description="the admin API key; exchange it at POST /v1/auth/token", examples=["xbm_3kZ…"])
    admin_api_key: str = Field(
        description="deprecated alias of `key` (the name POST /v1/api-keys uses too); same value",
        json_schema_extra={"deprecated": True},
    )


class ApiKeyCreate(Schema):
    name: Name
    role: Role


class ApiKeyOut(Out):
    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str


class TokenRequest(Schema):
    api_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenOut(Out):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
