"""How the rows of ``PUT /v1/campaigns/{id}/metrics`` reach ``metric_rows``: the statement's columns are the
table's, less those the service fills itself, and each holds the :class:`MetricRowIn` field of its name (a money
field its amount). A figure added to the row model and to the table (with its migration) is written with no other
change; a field without a column, or a column without a field, stops the import.

On PostgreSQL all rows go in one statement, one array per column (``unnest``), the ids made by the server (the
API never shows a metric row's id, and an updated row keeps the one it has). Each array goes as the text of an
array literal: asyncpg encoding a list checks every element against three abstract base classes in Python, and
joining the text is C. Amounts go as decimal text and the server scales them into the stored units. Elsewhere
(SQLite) one ``INSERT … ON CONFLICT DO UPDATE``, compiled once, is sent with a parameter set per row."""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Any, cast

from sqlalchemy import Column, String, Table, UniqueConstraint, bindparam, text
from sqlalchemy.dialects import postgresql

from services.campaigns.campaigns.models import MetricRow
from services.campaigns.campaigns.schemas import MetricRowIn, RowMoney
from shared.db import ScaledDecimal, UTCDateTime, new_id, utcnow

TABLE = cast(Table, MetricRow.__table__)
#: the columns the service fills itself, not from a row's fields
FILLED = ("id", "org_id", "campaign_id", "created_at", "updated_at")
#: the columns a row's fields are written to, in the table's order
COLUMNS: tuple[Column[Any], ...] = tuple(c for c in TABLE.columns if c.name not in FILLED)
NAMES = tuple(c.name for c in COLUMNS)
#: a row is replaced by one of the same campaign, day and variant (the table's unique constraint)
KEY = next(tuple(c.name for c in u.columns) for u in TABLE.constraints if isinstance(u, UniqueConstraint))
#: what a replacing row changes
FIGURES = tuple(name for name in NAMES if name not in KEY)
#: the row's money fields: stored as their amounts, in the campaign's currency
MONEY_FIELDS = tuple(name for name, field in MetricRowIn.model_fields.items() if field.annotation is RowMoney)

if set(NAMES) != set(MetricRowIn.model_fields):
    raise TypeError(
        f"metric_rows' columns {sorted(NAMES)} and MetricRowIn's fields {sorted(MetricRowIn.model_fields)} "
        "differ: a metric row's field is stored in the column of its name"
    )


def _check_scales() -> None:
    """An amount is scaled into its column's units by the server, exactly: its field allows no more places."""
    for column in COLUMNS:
        if isinstance(column.type, ScaledDecimal):
            name = column.name
            info = RowMoney.model_fields["amount"] if name in MONEY_FIELDS else MetricRowIn.model_fields[name]
            places = next((m.decimal_places for m in info.metadata if getattr(m, "decimal_places", None)), None)
            if places is None or places > column.type.scale:
                raise TypeError(f"metric_rows.{name} keeps {column.type.scale} places; its field allows {places}")


_check_scales()


#: a row's values in the order of :data:`NAMES` (a money field's amount), read in one call per row
_ROW = attrgetter(*(f"{name}.amount" if name in MONEY_FIELDS else name for name in NAMES))
#: a field left out (None) is stored as its column's default: '' for no variant
_FILL = {
    c.name: c.default.arg  # type: ignore[attr-defined]
    for c in COLUMNS
    if MetricRowIn.model_fields[c.name].default is None and c.default is not None
}


def column_values(rows: list[MetricRowIn]) -> dict[str, Sequence[Any]]:
    """The values of each column for ``rows``, as the row model holds them (amounts as decimals)."""
    columns: dict[str, Sequence[Any]] = dict(zip(NAMES, zip(*map(_ROW, rows), strict=True), strict=True))
    for name, fill in _FILL.items():
        columns[name] = [fill if value is None else value for value in columns[name]]
    return columns


def row_parameters(org_id: str, campaign_id: str, rows: list[MetricRowIn]) -> list[dict[str, Any]]:
    """One parameter set per row, for the statement sent row by row (SQLite)."""
    now = utcnow()
    columns = column_values(rows)
    own = {"org_id": org_id, "campaign_id": campaign_id, "created_at": now, "updated_at": now}
    return [
        {"id": new_id(), **own, **dict(zip(NAMES, values, strict=True))}
        for values in zip(*(columns[name] for name in NAMES), strict=True)
    ]


def _element(column: Column[Any]) -> str:
    """The SQL type of one element of the column's array: amounts as numeric (scaled by the server)."""
    if isinstance(column.type, ScaledDecimal):
        return "numeric"
    return str(column.type.compile(dialect=postgresql.dialect()))


def _selected(column: Column[Any]) -> str:
    if isinstance(column.type, ScaledDecimal):
        return f"CAST(r.{column.name} * 1e{column.type.scale} AS bigint)"  # exact: no more places than the scale
    return f"r.{column.name}"


#: PostgreSQL: all rows in one statement, one array parameter per column
UPSERT_ARRAYS = text(
    f"INSERT INTO {TABLE.name} ({', '.join(FILLED)}, {', '.join(NAMES)}) "
    f"SELECT gen_random_uuid()::text, :org_id, :campaign_id, :now, :now, {', '.join(map(_selected, COLUMNS))} "
    f"FROM unnest({', '.join(f'CAST(CAST(:{c.name} AS text) AS {_element(c)}[])' for c in COLUMNS)}) "
    f"AS r({', '.join(NAMES)}) "
    f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in (*FIGURES, "updated_at"))
).bindparams(bindparam("now", type_=UTCDateTime()))

_QUOTED = frozenset(c.name for c in COLUMNS if isinstance(c.type, String))


def array_text(values: Sequence[Any], quoted: bool = False) -> str:
    """A PostgreSQL array literal of days, integers, decimals or (``quoted``) text."""
    if quoted:  # escaped at once: the values are joined by NUL, which no text of a body holds
        joined = "\x00".join(cast(Sequence[str], values)).replace("\\", "\\\\").replace('"', '\\"')
        return '{"' + joined.replace("\x00", '","') + '"}'
    return "{" + ",".join(map(str, values)) + "}"


def array_parameters(org_id: str, campaign_id: str, rows: list[MetricRowIn]) -> dict[str, Any]:
    """The parameters of :data:`UPSERT_ARRAYS`: one array literal per column."""
    arrays = {name: array_text(values, name in _QUOTED) for name, values in column_values(rows).items()}
    return {"org_id": org_id, "campaign_id": campaign_id, "now": utcnow(), **arrays}
