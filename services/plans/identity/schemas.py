from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import Name, Out, Schema

Role = Literal["admin", "executive", "supervisor", "specialist", "analyst", "integration"]


class OrgCreate(Schema):
    """A new organisation (needs the deployment's bootstrap token)."""

    name: Name


class OrgOut(Out):
    """An organisation: everything in XBM belongs to one."""

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
    """A new API key for a person or a script, with the role it acts in."""

    name: Name
    role: Role


class ApiKeyOut(Out):
    """An API key of the organisation (never the key itself): its name, role, prefix and whether it is revoked."""

    id: str
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    """The new API key. `key` is shown this once: XBM keeps only its hash."""

    key: str


class TokenRequest(Schema):
    """An API key to exchange for a short-lived access token."""

    api_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class TokenOut(Out):
    """An access token: send it as `Authorization: Bearer <access_token>` until it expires (`expires_in` seconds)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
