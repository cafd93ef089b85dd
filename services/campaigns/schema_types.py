"""Field types campaigns' schemas share: ids of other services' objects and plausible days."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from shared.schemas import IsoDate

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Uuid = Annotated[str, StringConstraints(max_length=36, pattern=UUID_PATTERN)]

EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def _plausible(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"must be between {EARLIEST} and {LATEST}")
    return value


Day = Annotated[IsoDate, AfterValidator(_plausible)]
