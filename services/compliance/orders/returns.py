"""A buyer's return of a released import order (docs/returns.md; GACC 2020 No.45): applied within 30 days of
release, by line and quantity, declared with CEB625, the goods back in the supervised area within 45 days of
release. Only customs' approval (CEB626 399) restores quota and refunds tax. Both windows count from customs'
own release time (the ``returnTime`` of its release receipt), not from when XBM happened to process it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.context import CustomsContext
from services.compliance.customs.messages import is_refusal
from services.compliance.order_states import RELEASED, OrderState
from services.compliance.orders.declaration import cop_no, prepare_or_wait, queue
from services.compliance.orders.logistics_models import ExportReturn
from services.compliance.orders.models import CustomsReturn, Declaration, Order
from services.compliance.orders.release_schemas import ReturnOverdueOut
from services.compliance.orders.state import change_state, order_returned
from services.compliance.pii import Pii
from shared.db import new_id, scoped, utcnow
from shared.errors import Conflict, FieldError

RETURN_WINDOW = timedelta(days=30)
#: the goods of a declared return must be back in the supervised area this long after release
GOODS_BACK_WINDOW = timedelta(days=45)
#: overdue returns listed among the exceptions (the oldest deadline first)
MAX_OVERDUE = 100
#: the states of a return whose goods are still expected back
OPEN_RETURNS = ("requested", "approved")


def released_at(order: Order) -> datetime | None:
    """When customs released the order: its release receipt's ``returnTime``; XBM's own processing time only for
    an order released before XBM kept customs' time."""
    return order.customs_released_at or order.released_at


def note_release(order: Order, customs_time: str, status: int) -> None:
    """A release receipt (800) gives the release time; a closing one (899) only when no release was seen.
    ``customs_time`` is the receipt's time as ISO 8601 with customs' offset (China time)."""
    if order.customs_released_at is not None and status != 800:
        return
    try:
        at = datetime.fromisoformat(customs_time)
    except ValueError:
        return
    if at.tzinfo is None:
        return
    if status == 800 and order.customs_released_at is not None and order.customs_released_at <= at:
        return  # the earliest release receipt is the release
    order.customs_released_at = at


def goods_back_by(order: Order) -> datetime | None:
    """The last moment the goods of a return of this order may be back in the supervised area."""
    at = released_at(order)
    return at + GOODS_BACK_WINDOW if at is not None else None


async def record_goods_back(session: AsyncSession, order: Order, ret: CustomsReturn, at: datetime) -> None:
    """The goods of the return are back in the supervised area at ``at`` (not in the future, not before release)."""
    if ret.state not in OPEN_RETURNS:
        raise Conflict(f"this return was {ret.state} by customs; no goods are expected back")
    if at > utcnow() + timedelta(minutes=5):
        raise FieldError("arrived_at", "arrived_at: the goods cannot be back later than now")
    release = released_at(order)
    if release is not None and at < release:
        raise FieldError("arrived_at", "arrived_at: the goods cannot be back before customs released them")
    ret.goods_back_at = at
    ret.updated_at = utcnow()
    await session.flush()


async def overdue_returns(session: AsyncSession, org_id: str, now: datetime) -> list[tuple[CustomsReturn, Order]]:
    """Returns declared (and not refused) whose goods are not recorded back and whose 45 days have passed."""
    released, cutoff = Order.customs_released_at, now - GOODS_BACK_WINDOW
    due = or_(released < cutoff, and_(released.is_(None), Order.released_at < cutoff))
    stmt = (
        select(CustomsReturn, Order)
        .join(Order, Order.id == CustomsReturn.order_id)
        .where(
            CustomsReturn.org_id == org_id,
            Order.org_id == org_id,
            CustomsReturn.state.in_(OPEN_RETURNS),
            CustomsReturn.goods_back_at.is_(None),
            due,
        )
        .order_by(released, CustomsReturn.created_at)
        .limit(MAX_OVERDUE)
    )
    return [(ret, order) for ret, order in (await session.execute(stmt)).all()]


def return_lines(
    order: Order, lines: list[tuple[int, Decimal]] | None, returned: dict[int, Decimal]
) -> list[dict[str, str]]:
    items = {int(item["gnum"]): Decimal(str(item["qty"])) for item in order.document["items"]}
    left_of = {g: q - returned.get(g, Decimal(0)) for g, q in items.items()}
    wanted = lines if lines is not None else [(g, left) for g, left in left_of.items() if left > 0]
    out = []
    for gnum, qty in wanted:
        if gnum not in items:
            raise FieldError("lines", f"lines: the order has no line {gnum}")
        left = items[gnum] - returned.get(gnum, Decimal(0))
        if qty <= 0 or qty > left:
            raise FieldError("lines", f"lines: line {gnum} has {left} left to return, not {qty}")
        out.append({"gnum": str(gnum), "qty": str(qty)})
    if not out:
        raise Conflict("everything in this order has been returned already")
    return out


async def _returns(session: AsyncSession, order: Order) -> list[CustomsReturn]:
    stmt = scoped(CustomsReturn, order.org_id).where(CustomsReturn.order_id == order.id)
    return list((await session.execute(stmt.order_by(CustomsReturn.created_at))).scalars())


def returned_by_line(returns: Sequence[CustomsReturn | ExportReturn]) -> dict[int, Decimal]:
    """The quantities ``returns`` take back, by line (gnum)."""
    out: dict[int, Decimal] = {}
    for ret in returns:
        for line in ret.lines:
            out[int(line["gnum"])] = out.get(int(line["gnum"]), Decimal(0)) + Decimal(line["qty"])
    return out


def _returned(returns: list[CustomsReturn], states: tuple[str, ...]) -> dict[int, Decimal]:
    return returned_by_line([ret for ret in returns if ret.state in states])


def returned_value(order: Order, returned: dict[int, Decimal]) -> Decimal:
    """The part of the order's paid amount that the returned quantities make up (by the lines' totals)."""
    items = order.document["items"]
    goods = sum((Decimal(str(i["total"])) for i in items), Decimal(0))
    back = sum(
        (Decimal(str(i["total"])) * min(returned.get(int(i["gnum"]), Decimal(0)), Decimal(str(i["qty"])))
         / Decimal(str(i["qty"])) for i in items),
        Decimal(0),
    )  # fmt: skip
    if not goods:
        return Decimal(0)
    return (Decimal(order.actual_paid) * back / goods).quantize(Decimal("0.0001"))


async def request_return(
    session: AsyncSession,
    pii: Pii,
    order: Order,
    reason: str,
    lines: list[tuple[int, Decimal]] | None,
    *,
    ctx: CustomsContext | None = None,
) -> CustomsReturn:
    """Declare a return (all lines when ``lines`` is None); the order keeps its state until customs decides."""
    if order.trade_direction != "import":
        raise Conflict("an export return comes back through the logistics side's CEB213, not CEB625")
    release = released_at(order)
    if order.state not in RELEASED or release is None:
        raise Conflict(f"only a released order can be returned; this one is {order.state}")
    if utcnow() > release + RETURN_WINDOW:
        closed = (release + RETURN_WINDOW).isoformat()
        raise Conflict(f"the 30 days after customs released the order (at {release.isoformat()}) in which a return "
                       f"may be applied for ended at {closed}")  # fmt: skip
    declaration = await session.get(Declaration, order.declaration_id) if order.declaration_id else None
    if declaration is None or not declaration.invt_no:
        raise Conflict("customs has not numbered this order's inventory list; a return names that number")
    ret = CustomsReturn(
        id=new_id(),
        org_id=order.org_id,
        order_id=order.id,
        cop_no=cop_no(),
        state="requested",
        reason=(reason or "returned by the buyer")[:500],
        lines=return_lines(order, lines, _returned(await _returns(session, order), ("requested", "approved"))),
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(ret)
    message = queue(session, order, "CEB625", declaration_id=declaration.id, return_id=ret.id)
    await session.flush()
    if ctx is not None:
        await prepare_or_wait(session, ctx, pii, message)
    return ret


async def decide_return(session: AsyncSession, order: Order, ret: CustomsReturn, status: int) -> None:
    """CEB626: 399 approves (quota and tax restored for what came back), 100 or an error refuses."""
    if ret.state != "requested":
        return
    if status == 399:
        ret.state, ret.decided_at = "approved", utcnow()
        returned = _returned(await _returns(session, order), ("approved",))
        items = order.document["items"]
        if all(returned.get(int(i["gnum"]), Decimal(0)) >= Decimal(str(i["qty"])) for i in items):
            await change_state(session, order, OrderState.RETURNED_BY_BUYER)  # out of the quota states: quota restored
        elif order.dutiable_value is not None:
            # a partial return gives back the returned lines' share of the value (and of the tax)
            goods = sum((Decimal(str(i["total"])) for i in items), Decimal(0))
            back = sum(
                (Decimal(str(i["total"])) * Decimal(line["qty"]) / Decimal(str(i["qty"]))
                 for line in ret.lines for i in items if int(i["gnum"]) == int(line["gnum"])),
                Decimal(0),
            )  # fmt: skip
            share = back / goods if goods else Decimal(0)
            order.dutiable_value = (order.dutiable_value * (1 - share)).quantize(Decimal("0.0001"))
            if order.tax is not None:
                order.tax = (order.tax * (1 - share)).quantize(Decimal("0.01"))
        if order.state != "returned_by_buyer" and order.actual_paid is not None:
            # a partial return: the returned lines' share of what the buyer paid (all approved returns so far)
            await order_returned(session, order, returned_value(order, returned))
    elif is_refusal(status):
        ret.state, ret.decided_at = "refused", utcnow()


async def returns_overdue(session: AsyncSession, org_id: str) -> list[ReturnOverdueOut]:
    """Declared import returns whose goods are not back in the supervised area 45 days after release."""
    out = []
    for ret, order in await overdue_returns(session, org_id, utcnow()):
        release = released_at(order)
        if release is not None:
            deadline = release + GOODS_BACK_WINDOW
            out.append(ReturnOverdueOut(return_id=ret.id, ebp_code=order.ebp_code, order_no=order.order_no,
                                        state=ret.state, released_at=release, deadline=deadline))  # fmt: skip
    return out
