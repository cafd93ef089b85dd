"""An SBU as the API shows it (:class:`SbuView`: its own fields, and the names of its customer, channel and
product), read in one form for every route: one statement of columns and one shaping of its row into the view,
both derived from the declarations — ``SbuView``'s fields and the SBU's table (``Sbu.__table__``) with the tables
its foreign keys name — so a field added to the view (and its column to the table) is read and answered without
being written here again.

For a field of the view, the column of the same name; for a nested one (``budget``, ``customer`` …), each of its
own fields ``x`` is the SBU's column ``<field>_x`` (``budget_amount``, ``customer_id``) or else column ``x`` of the
table ``<field>_id`` refers to (``customers.name``). A field that is neither fails at import.

`GET /v1/sbus/{id}` (what campaigns asks before binding work to an SBU) reads it on the driver itself, one
prepared statement (:mod:`shared.driver`); a page of SBUs and the writes' answers read the same
columns for all their ids in one statement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.plans.sbus.models import Sbu
from services.plans.sbus.schemas import SbuView
from services.plans.tactics import models as _tactics  # noqa: F401  (the tables the SBU's foreign keys name)
from shared.db import is_uuid
from shared.driver import DriverStatement
from shared.errors import NotFound

_SBU = cast(Table, Sbu.__table__)

#: where a field's value is in the row: a column's position, or a nested model's ``(field, position)`` pairs
Place = int | tuple[tuple[str, int], ...]


def _referenced(table: Table, field: str) -> tuple[Table, Any]:
    """The table ``<field>_id`` of ``table`` refers to, and the join's condition."""
    column = table.c.get(f"{field}_id")
    if column is None or not column.foreign_keys:
        raise TypeError(f"{field}: no column {field}_id referring to another table")
    (key,) = column.foreign_keys
    return key.column.table, key.column == column  # type: ignore[return-value]


def shape(model: type[BaseModel], table: Table) -> tuple[list[Any], list[tuple[Table, Any]], list[tuple[str, Place]]]:
    """The columns to select for ``model`` from ``table`` (and from the tables it refers to, labelled
    ``<field>_<x>``), the tables to join with their conditions, and where each of the model's fields is in the
    row."""
    columns: list[Any] = []
    joins: list[tuple[Table, Any]] = []

    def at(column: Any) -> int:
        for i, seen in enumerate(columns):
            if seen is column:  # customer_id is a field and the customer's id: one column
                return i
        columns.append(column)
        return len(columns) - 1

    places: list[tuple[str, Place]] = []
    for name, field in model.model_fields.items():
        nested = field.annotation
        if name in table.c:
            places.append((name, at(table.c[name])))
        elif isinstance(nested, type) and issubclass(nested, BaseModel):
            parts = []
            for sub in nested.model_fields:
                own: Any = table.c.get(f"{name}_{sub}")
                if own is None:
                    other, on = _referenced(table, name)
                    if all(joined is not other for joined, _ in joins):
                        joins.append((other, on))
                    own = other.c[sub].label(f"{name}_{sub}")
                parts.append((sub, at(own)))
            places.append((name, tuple(parts)))
        else:
            raise TypeError(f"{model.__name__}.{name}: neither a column of {table.name} nor a model of its columns")
    return columns, joins, places


COLUMNS, _JOINS, PLACES = shape(SbuView, _SBU)


def _rows() -> Any:
    stmt = select(*COLUMNS).select_from(_SBU)
    for table, on in _JOINS:
        stmt = stmt.join(table, on)
    return stmt


#: the SBUs with their labels, built once (a read adds its WHERE)
ROWS = _rows()


def view_data(row: Sequence[Any]) -> dict[str, Any]:
    """A row of :data:`COLUMNS` as the view's fields (nested ones as dicts), ready to validate."""
    return {name: row[place] if isinstance(place, int) else {sub: row[i] for sub, i in place} for name, place in PLACES}


#: built once: composing the statement's expressions on every read cost as much as running it
ONE = DriverStatement("sbu_view", ROWS.where(_SBU.c.id == bindparam("sbu_id"), _SBU.c.org_id == bindparam("org_id")))


async def get_view(session: AsyncSession, org_id: str, sbu_id: str) -> SbuView:
    """One SBU of the organisation with its labels: one statement, on the driver where there is one."""
    if not is_uuid(sbu_id):
        raise NotFound(f"sbu {sbu_id[:64]!r} not found")
    row = await ONE.first(session, {"sbu_id": sbu_id, "org_id": org_id})
    if row is None:
        raise NotFound(f"sbu {sbu_id} not found")
    return SbuView.model_validate(view_data(row))


async def views_of(session: AsyncSession, sbus: Sequence[Sbu]) -> list[SbuView]:
    """The views of SBUs already loaded (a page, a write's result), in their order: one statement."""
    if not sbus:
        return []
    rows = (await session.execute(ROWS.where(_SBU.c.id.in_([s.id for s in sbus])))).all()
    by_id = {view.id: view for view in (SbuView.model_validate(view_data(row)) for row in rows)}
    return [by_id[s.id] for s in sbus]
