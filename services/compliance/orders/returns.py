"""A buyer's return of a released import order (docs/flows.md; GACC 2020 No.45): applied within 30 days of release,
by line and quantity, declared with CEB625. Only customs' approval (CEB626 399) restores quota and refunds tax."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from services.compliance.customs.context import CustomsContext
from services.compliance.orders.declaration import cop_no, prepare_or_wait, queue
from services.compliance.orders.models import CustomsReturn, Declaration, Order
from services.compliance.orders.state import change_state, order_returned
from services.compliance.pii import Pii
from shared.db import new_id, scoped, utcnow
from shared.errors import Conflict, FieldError

RETURN_WINDOW = timedelta(days=30)


def _lines(order: Order, lines: list[tuple[int, Decimal]] | None, returned: dict[int, Decimal]) -> list[dict[str, str]]:
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


def _returned(returns: list[CustomsReturn], states: tuple[str, ...]) -> dict[int, Decimal]:
    out: dict[int, Decimal] = {}
    for ret in returns:
        if ret.state in states:
            for line in ret.lines:
                out[int(line["gnum"])] = out.get(int(line["gnum"]), Decimal(0)) + Decimal(line["qty"])
    return out


def _returned_value(order: Order, returned: dict[int, Decimal]) -> Decimal:
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
    if order.state not in ("released", "closed") or order.released_at is None:
        raise Conflict(f"only a released order can be returned; this one is {order.state}")
    if utcnow() - order.released_at > RETURN_WINDOW:
        raise Conflict("the 30 days after release in which a return may be applied for have passed")
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
        lines=_lines(order, lines, _returned(await _returns(session, order), ("requested", "approved"))),
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
            await change_state(session, order, "returned_by_buyer")  # out of the quota states: quota restored
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
            await order_returned(session, order, _returned_value(order, returned))
    elif status < 0 or status in (4, 100):
        ret.state, ret.decided_at = "refused", utcnow()
