"""Customs code tables (JGS-20) as data: ISO 4217 currencies and ISO 3166 countries to the customs codes the
messages carry. The tables live in ``data/`` with their source; an unknown code is an error, never a default."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from shared.errors import Unprocessable

DATA = Path(__file__).parent / "data"


@cache
def _table(name: str) -> dict[str, str]:
    with (DATA / name).open(encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return {row["iso"]: row["customs"] for row in rows}


def currencies() -> dict[str, str]:
    return _table("jgs20-currency.csv")


def countries() -> dict[str, str]:
    return _table("jgs20-country.csv")


def currency_code(iso: str, field: str = "currency") -> str:
    """The customs code of an ISO 4217 currency (USD → 502); 422 naming the field when it is not in the table."""
    code = currencies().get(iso)
    if code is None:
        raise Unprocessable(f"{field}: currency {iso!r} has no customs code in the JGS-20 table", loc=[field])
    return code


def country_code(iso: str, field: str = "country") -> str:
    """The customs code of an ISO 3166 alpha-2 country (US → 502); a 3-digit customs code passes as it is."""
    if iso.isdigit() and len(iso) == 3 and iso in countries().values():
        return iso
    code = countries().get(iso.upper())
    if code is None:
        raise Unprocessable(f"{field}: country {iso!r} has no customs code in the JGS-20 table", loc=[field])
    return code


def iso_currency(code: str) -> str:
    """ISO 4217 for a currency as customs may write it (its code 142 → CNY); ISO codes pass through."""
    for iso, customs in currencies().items():
        if customs == code:
            return iso
    return code
