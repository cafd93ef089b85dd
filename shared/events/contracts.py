"""The base of every event payload: each publisher declares its events as subclasses in the module its
consumers may import (``services/<publisher>/contracts.py``), the event's type name on the class.

One model serves both ends: the publisher builds it and :func:`shared.events.outbox.publish` stores
:meth:`Event.payload`; the consumer's inbox validates the payload with it (:mod:`shared.events.inbox`).
Decimals travel as canonical strings (:data:`shared.schemas.DecimalStr`), as they always have."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PlainSerializer, StringConstraints

from shared.schemas import AsDecimalString


class Event(BaseModel):
    """An event's ``data``. Publishers may add fields (docs/events.md: add freely, never break), so a
    consumer ignores the fields it does not know."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    #: the event type name on the wire (``sbu.retired``); set by every concrete event
    type: ClassVar[str]
    #: the service that publishes it (its inbox route at a consumer is ``/internal/events/<publisher>``)
    publisher: ClassVar[str]

    def payload(self) -> dict[str, JsonValue]:
        """The JSON ``data`` of the envelope, as subscribers receive it."""
        return self.model_dump(mode="json", by_alias=True)


class Part(BaseModel):
    """A nested object of an event's data (same rules as :class:`Event`)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


#: a timestamp sent as ``datetime.isoformat()`` (``+00:00``, as the first publishers wrote it)
IsoDateTime = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str, when_used="json")]
#: an id of another service's object
Id = Annotated[str, StringConstraints(min_length=1, max_length=36)]
#: an amount of money on the wire: a canonical decimal string, bounded as XBM's columns are
Amount = Annotated[Decimal, Field(ge=0, le=Decimal("1e14"), max_digits=24, decimal_places=4), AsDecimalString]
