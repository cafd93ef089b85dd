"""``xbm metrics push``: a CSV of daily metric rows read into the body of ``PUT /v1/campaigns/{id}/metrics``.

Columns: date,variant,impressions,clicks,cost,conversions,revenue,currency and optionally sends,opens,
unsubscribes. Every row is checked before anything is sent, so a bad file sends nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from xbm.cli.errors import CliError, usage

REQUIRED = ("date", "variant", "impressions", "clicks", "cost", "conversions", "revenue", "currency")
OPTIONAL = ("sends", "opens", "unsubscribes")
COUNTS = ("impressions", "clicks")
MAX_BATCH = 1000
MAX_ROWS = 1_000_000


def _count(value: str, column: str, line: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise usage(f"line {line}: {column} must be a whole number, got {value!r}") from None
    if number < 0:
        raise usage(f"line {line}: {column} must not be negative")
    return number


def _amount(value: str, column: str, line: int) -> str:
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise usage(f"line {line}: {column} must be a decimal amount, got {value!r}") from None
    if not number.is_finite() or number < 0:
        raise usage(f"line {line}: {column} must be a non-negative amount")
    return str(number)


def _conversions(value: str, line: int) -> int | str:
    """Conversions as the ad platforms count them: a whole number, or a decimal (Google Ads' data-driven
    attribution reports 2.37), sent as the API takes it."""
    try:
        return _count(value, "conversions", line)
    except CliError:
        return _amount(value, "conversions", line)


def _row(record: dict[str, str], line: int) -> dict[str, Any]:
    value = {k: (v or "").strip() for k, v in record.items() if k is not None}
    try:
        day = dt.date.fromisoformat(value["date"]).isoformat()
    except ValueError:
        raise usage(f"line {line}: date must be YYYY-MM-DD, got {value['date']!r}") from None
    currency = value["currency"].upper()
    if len(currency) != 3 or not currency.isalpha():
        raise usage(f"line {line}: currency must be an ISO 4217 code, got {value['currency']!r}")
    row: dict[str, Any] = {"date": day}
    if value["variant"]:
        row["variant"] = value["variant"]
    for column in COUNTS:
        row[column] = _count(value[column], column, line)
    row["conversions"] = _conversions(value["conversions"], line)
    row["cost"] = {"amount": _amount(value["cost"], "cost", line), "currency": currency}
    row["revenue"] = {"amount": _amount(value["revenue"], "revenue", line), "currency": currency}
    for column in OPTIONAL:
        if value.get(column):
            row[column] = _count(value[column], column, line)
    return row


def read_rows(text: str) -> list[dict[str, Any]]:
    """Every row of the CSV as an API metric row; a usage error names the first bad line."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise usage(f"the CSV lacks the column(s) {', '.join(missing)} (needs {','.join(REQUIRED)})")
    unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise usage(f"the CSV has unknown column(s) {', '.join(unknown)}")
    reader.fieldnames = columns
    rows: list[dict[str, Any]] = []
    try:
        for record in reader:
            if len(rows) >= MAX_ROWS:
                raise usage(f"the CSV has more than {MAX_ROWS} rows; split it")
            if not any((v or "").strip() for v in record.values() if isinstance(v, str)):
                continue
            rows.append(_row(record, reader.line_num))
    except csv.Error as exc:
        raise usage(f"line {reader.line_num}: {exc}") from None
    if not rows:
        raise usage("the CSV holds no rows")
    return rows


def batches(rows: list[dict[str, Any]], size: int = MAX_BATCH) -> Iterator[list[dict[str, Any]]]:
    if not 1 <= size <= MAX_BATCH:
        raise usage(f"batch size must be 1..{MAX_BATCH}")
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
