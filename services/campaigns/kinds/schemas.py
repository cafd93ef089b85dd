from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from shared.schemas import Name, Out, Schema

KindKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


class KindIn(Schema):
    """A campaign kind of the organisation's own, with the JSON Schema its campaigns' settings must satisfy."""

    key: KindKey
    name: Name
    settings_schema: Annotated[dict[str, Any], Field(max_length=50, description="a JSON Schema for the settings")]


class KindOut(Out):
    key: str
    name: str
    builtin: bool
    settings_schema: dict[str, Any]
