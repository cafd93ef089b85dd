from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from shared.schemas import Name, Out, Schema, examples

Role = Literal["admin", "executive", "supervisor", "specialist", "analyst", "integration"]


class OrgCreate(Schema):
    """A new organisation (needs the deployment's bootstrap token)."""

    model_config = examples({"name": "Company A"})

    name: Name
    """The organisation's display name, e.g. the company's trading name (1–200 characters)."""


class OrgOut(Out):
    """An organisation: everything in XBM belongs to one."""

    id: str
    """The organisation's id; every token of its API keys carries it."""
    name: str
    """The organisation's display name."""


class OrgCreated(Out):
    """The new organisation and its first admin API key (shown once: keep it)."""

    org: OrgOut
    """The organisation just created."""
    key: str = Field(description="the admin API key; exchange it at POST /v1/auth/token", examples=["xbm_3kZ…"])
    admin_api_key: str = Field(
        description="deprecated alias of `key` (the name POST /v1/api-keys uses too); same value",
        json_schema_extra={"deprecated": True},
    )


class ApiKeyCreate(Schema):
    """A new API key for a person or a script, with the role it acts in."""

    model_config = examples({"name": "ERP sync", "role": "integration"})

    name: Name
    """What the key is for or who holds it, e.g. `ERP sync` or `Li Wei (analyst)`."""
    role: Role
    """What the key's tokens may do: `admin`, `executive`, `supervisor`, `specialist`, `analyst` (read only) or
    `integration` (sends documents and metrics)."""


class ApiKeyOut(Out):
    """An API key of the organisation (never the key itself): its name, role, prefix and whether it is revoked."""

    id: str
    """The key's id, used to revoke it."""
    name: str
    """What the key is for or who holds it."""
    role: Role
    """The role the key's tokens act with."""
    prefix: str
    """The key's first characters, to recognise it (the whole key is shown only once)."""
    created_at: datetime
    """When the key was issued (RFC 3339, UTC)."""
    revoked_at: datetime | None
    """When the key was revoked; null while it is valid."""


class ApiKeyCreated(ApiKeyOut):
    """The new API key. `key` is shown this once: XBM keeps only its hash."""

    key: str
    """The secret API key, shown this once: store it now, XBM keeps only its hash. Exchange it at `POST
    /v1/auth/token`."""


class TokenRequest(Schema):
    """An API key to exchange for a short-lived access token."""

    model_config = examples({"api_key": "xbm_3q2Xv9cK7tYwE1pLm4N8rB6sD0fH5jUa"})

    api_key: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    """An API key (`xbm_…`) from `POST /v1/orgs` or `POST /v1/api-keys`."""


class TokenOut(Out):
    """An access token: send it as `Authorization: Bearer <access_token>` until it expires (`expires_in` seconds)."""

    access_token: str
    """The access token (a signed JWT): send it as `Authorization: Bearer <token>` to any of the three services."""
    token_type: Literal["bearer"] = "bearer"
    """Always `bearer`."""
    expires_in: int
    """Seconds until the token expires; exchange the API key again then."""
