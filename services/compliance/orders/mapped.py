"""A platform order as intake's mapping reads it (``intake/mapping.py``): the canonical document and what the
platform says about its life. The orders' lifecycle (``lifecycle.py``) applies it to the stored order; it sits
here, with the orders, so that the lifecycle needs nothing of intake."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Mapped:
    """A platform order read into the canonical shape, with what the platform says about its life."""

    document: dict[str, Any]
    platform_id: str | None
    version: str | None
    test: bool = False
    cancelled: bool = False
    #: the platform's status said the order was refunded (WooCommerce ``refunded``)
    refunded: bool = False
    problems: list[dict[str, str]] = field(default_factory=list)
    #: the refunds this version of the order already counts (WooCommerce ``refunds``: ids, amounts, lines)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    #: names of lines carried by their bundle's line, not declared apart
    bundled: list[str] = field(default_factory=list)
