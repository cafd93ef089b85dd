"""Customs code tables (JGS-20) as data: ISO 4217 currencies and ISO 3166 countries to the customs codes the
messages carry. The tables live in ``data/`` with their sources (``data/SOURCE.md``); an ISO code customs has no
entry for is an error naming it, never a default."""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

from shared.errors import Unprocessable

DATA = Path(__file__).parent / "data"


@cache
def _rows(name: str) -> tuple[dict[str, str], ...]:
    with (DATA / name).open(encoding="utf-8") as f:
        return tuple(csv.DictReader(line for line in f if not line.startswith("#")))


@cache
def _table(name: str) -> dict[str, str]:
    return {row["iso"]: row["customs"] for row in _rows(name)}


def currencies() -> dict[str, str]:
    """ISO 4217 → customs currency code, every currency the customs table lists."""
    return _table("jgs20-currency.csv")


def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 → customs country (region) code, every country and region the customs table lists."""
    return _table("jgs20-country.csv")


@cache
def alpha3() -> dict[str, str]:
    """ISO 3166-1 alpha-3 → alpha-2, for the countries the customs table lists."""
    return {row["alpha3"]: row["iso"] for row in _rows("jgs20-country.csv")}


def alpha2(value: str) -> str:
    """An ISO 3166 country as XBM keeps it: alpha-2; an alpha-3 code customs lists becomes its alpha-2."""
    return alpha3().get(value, value) if len(value) == 3 else value


def currency_code(iso: str, field: str = "currency") -> str:
    """The customs code of an ISO 4217 currency (USD → 502); 422 naming the field when it is not in the table."""
    code = currencies().get(iso)
    if code is None:
        raise Unprocessable(f"{field}: currency {iso!r} has no customs code in the JGS-20 table", loc=[field])
    return code


def country_code(iso: str, field: str = "country") -> str:
    """The customs code of an ISO 3166 country, alpha-2 or alpha-3 (US, USA → 502); a 3-digit customs code passes
    as it is."""
    if iso.isascii() and iso.isdigit() and len(iso) == 3 and iso in countries().values():
        return iso
    code = countries().get(alpha2(iso.upper()))
    if code is None:
        raise Unprocessable(f"{field}: country {iso!r} has no customs code in the JGS-20 table", loc=[field])
    return code


def iso_currency(code: str) -> str:
    """ISO 4217 for a currency as customs may write it (its code 142 → CNY); ISO codes pass through."""
    for iso, customs in currencies().items():
        if customs == code:
            return iso
    return code
