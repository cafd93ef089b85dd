from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints

from shared.schemas import Name, Out, Schema, examples

KindKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,63}$")]


class KindIn(Schema):
    """A campaign kind of the organisation's own, with the JSON Schema its campaigns' settings must satisfy."""

    model_config = examples(
        {
            "key": "trade_show",
            "name": "Trade show",
            "settings_schema": {
                "type": "object",
                "properties": {"booth": {"type": "string"}, "city": {"type": "string"}},
                "required": ["city"],
            },
        }
    )

    key: KindKey
    """The kind's key, as campaigns name it (lowercase letters, digits, `_`), unique in your organisation."""
    name: Name
    """The kind's name for people."""
    settings_schema: Annotated[dict[str, Any], Field(max_length=50, description="a JSON Schema for the settings")]


class KindOut(Out):
    key: str
    """The kind's key."""
    name: str
    """The kind's name."""
    builtin: bool
    """True for XBM's own kinds; false for your organisation's."""
    settings_schema: dict[str, Any]
    """The JSON Schema a campaign's `settings` must satisfy."""
