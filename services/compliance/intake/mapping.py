"""Shopify and WooCommerce orders as the canonical order (docs/api.md), from each platform's fields. Pure.

What the buyer paid is what the canonical order carries: Shopify's ``presentment_money`` in
``presentment_currency`` (``shop_money`` is the shop's own currency), its ``current_*`` amounts and quantities
(the order after edits and refunds), shipping as charged (``discounted_price_set``), each line's discounts
allocated to that line, and no tax of its own when the prices already include it (``taxes_included``). Lines
that are not goods (``requires_shipping: false``: warranties, gift cards, tips; WooCommerce fees) are left out
of the goods and of ``actual_paid``, and named in ``not_goods``, so that
``goods_value − discount + freight + tax_total = actual_paid`` holds for the goods declared.

Buyer identity, which these platforms do not model, comes from Shopify ``note_attributes`` and WooCommerce
``meta_data`` (``buyer_id_number``, ``buyer_name``…). A value that cannot be read (a price that is not a
number, an absurd quantity) never raises: it is named in :attr:`Mapped.problems` and the order is held
``incomplete`` until it is completed.

Over 400 lines on purpose: the two platforms' payloads are mapped field by field side by side, with the reading
rules they share (money sets, HTML entities, refunds, lines that are not goods), so a rule changes in one place."""

# One module, over 400 lines: the Shopify and WooCommerce mappings share one reader (``_Reader``, its problems)
# and the helpers above the Shopify section, and are read side by side against the same rules; apart, each
# platform would import the other's private helpers.

from __future__ import annotations

import html
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, get_args
from urllib.parse import parse_qs, urlsplit

from services.compliance.orders.documents import UNPAID, PaymentStatus
from services.compliance.orders.mapped import Mapped

#: the largest amount or quantity taken from a platform body (the canonical schema's bound)
MAX_AMOUNT = Decimal("1e14")
MAX_QUANTITY = Decimal("1e9")
MAX_LINES = 500
#: WooCommerce statuses that end an order
WOO_ENDED = frozenset({"cancelled", "refunded", "failed"})
CENT = Decimal("0.01")
PAYMENT_STATUSES = frozenset(get_args(PaymentStatus))


class _Problems(list[dict[str, str]]):
    def append(self, problem: dict[str, str]) -> None:
        # marked as found in the platform's body (not in the canonical order), so a completion can tell them apart
        super().append({**problem, "found_in": "body"})


class _Reader:
    """Reads amounts and quantities, collecting what it could not read instead of raising."""

    def __init__(self) -> None:
        self.problems: list[dict[str, str]] = _Problems()

    def number(self, value: Any, where: str, *, default: str | None = "0", limit: Decimal = MAX_AMOUNT) -> Decimal:
        if value is None or value == "":
            if default is None:
                self.problems.append({"field": where, "msg": "missing"})
                return Decimal(0)
            return Decimal(default)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problems.append({"field": where, "msg": "not a number"})
            return Decimal(0)
        try:
            number = Decimal(str(value).strip()[:64])
        except InvalidOperation:
            self.problems.append({"field": where, "msg": f"not a number: {str(value)[:40]!r}"})
            return Decimal(0)
        if not number.is_finite() or abs(number) > limit:
            self.problems.append({"field": where, "msg": f"out of range: {str(value)[:40]!r}"})
            return Decimal(0)
        return number

    def quantity(self, value: Any, where: str, default: str | None = "1") -> Decimal:
        """Platforms count items in whole units; anything else is named, not guessed at."""
        number = self.number(value, where, default=default, limit=MAX_QUANTITY)
        if number != number.to_integral_value() or number < 0:
            self.problems.append({"field": where, "msg": f"not a whole number of items: {str(value)[:40]!r}"})
            return Decimal(0)
        return number


def _text(value: Any, limit: int = 1000) -> str:
    """Platform text with HTML entities decoded (WooCommerce writes ``&ndash;``, ``&amp;``…)."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return html.unescape(str(value)).strip()[:limit]


def _join(*parts: Any) -> str:
    return " ".join(t for t in (_text(p) for p in parts) if t)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value[:MAX_LINES] if isinstance(v, dict)] if isinstance(value, list) else []


def _attributes(pairs: Any, key: str = "name") -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in _list(pairs)[:200]:
        if isinstance(pair.get(key), str):
            out[pair[key]] = _text(pair.get("value", ""))
    return out


def _utm(landing_site: Any) -> str | None:
    if not isinstance(landing_site, str) or "?" not in landing_site:
        return None
    values = parse_qs(urlsplit(landing_site[:2000]).query).get("utm_campaign")
    return values[0][:200] if values else None


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y")


def utc_version(value: Any) -> str | None:
    """A platform timestamp as fixed-width UTC ISO text (so versions compare as text); WooCommerce's ``*_gmt``
    values carry no offset and are UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: the platforms' own SKU limit (Shopify: 255 characters); the customs item number is the item record's business
SKU_LIMIT = 255


def _item_no(*candidates: Any) -> str:
    """The line's SKU as the platform sent it, else the platform's variant or product id."""
    for value in candidates:
        text = _text(value, SKU_LIMIT)
        if text:
            return text
    return ""


def _buyer(attrs: dict[str, str], name: str, phone: str, reg_no: str) -> dict[str, Any]:
    buyer: dict[str, Any] = {
        "reg_no": attrs.get("buyer_reg_no") or reg_no or "unknown",
        "name": attrs.get("buyer_name") or name,
        "id_type": attrs.get("buyer_id_type", "1"),
        "verified": _truthy(attrs.get("buyer_verified", "false")),
    }
    if attrs.get("buyer_telephone") or phone:  # an export needs none: an empty one is not asked for
        buyer["telephone"] = attrs.get("buyer_telephone") or phone
    if attrs.get("buyer_id_number"):
        buyer["id_number"] = attrs["buyer_id_number"]
    return buyer


def _codes(attrs: dict[str, str], source: dict[str, Any]) -> dict[str, Any]:
    return {
        "ebp_code": source.get("ebp_code"),
        "ebp_name": source.get("ebp_name"),
        "ebc_code": attrs.get("ebc_code") or source.get("ebc_code") or source.get("ebp_code"),
        "trade_direction": attrs.get("trade_direction") or source.get("trade_direction") or "import",
        "customs_profile_id": source.get("customs_profile_id"),
        "pay_code": attrs.get("pay_code") or None,
        "pay_transaction_id": attrs.get("pay_transaction_id") or None,
    }


def _country(code: Any) -> dict[str, str]:
    """The consignee's country as an ISO code, where the platform gives one (an export's destination); a code
    XBM has no customs code for holds the order ``incomplete`` naming it."""
    text = _text(code, 8).upper()
    return {"country": text} if len(text) == 2 and text.isalpha() else {}


def _address(*parts: Any) -> str:
    """Street, city, region, postcode and country, as the waybill names them."""
    return _join(*parts)


def _consignee(name: str, phone: str, *, province: Any, city: Any, street1: Any, street2: Any, postcode: Any,
               country: Any) -> dict[str, Any]:  # fmt: skip
    """The consignee with the whole address (what customs is sent) and its parts as the platform gave them apart
    (what the comparison with the waybill reads: the street and the city identify the place)."""
    consignee: dict[str, Any] = {
        "name": name,
        "telephone": phone,
        "address": _address(province, city, street1, street2, postcode, country),
        **_country(country),
    }
    parts = {"street": _join(street1, street2)[:200], "city": _text(city, 100), "province": _text(province, 100),
             "postcode": _text(postcode, 20)}  # fmt: skip
    consignee.update({k: v for k, v in parts.items() if v})
    return consignee


def _fen(value: Decimal) -> str:
    return str(value.quantize(CENT)) if value == value.quantize(CENT) else str(value)


# --- Shopify ------------------------------------------------------------------------------------------------


def _money(r: _Reader, obj: dict[str, Any], name: str, where: str, *, current: bool = False) -> Decimal | None:
    """``<name>_set.presentment_money.amount`` (``current_<name>`` first when asked), else the shop-currency
    field itself — which is the same amount when the shop and the buyer share a currency."""
    names = [f"current_{name}", name] if current else [name]
    for n in names:
        money = _dict(_dict(obj.get(f"{n}_set")).get("presentment_money"))
        if "amount" in money:
            return r.number(money["amount"], f"{where}{n}_set", default=None)
    for n in names:
        if obj.get(n) not in (None, ""):
            return r.number(obj[n], f"{where}{n}")
    return None


def _allocated(r: _Reader, line: dict[str, Any], where: str) -> Decimal:
    total = Decimal(0)
    for j, allocation in enumerate(_list(line.get("discount_allocations"))):
        total += _money(r, allocation, "amount", f"{where}discount_allocations[{j}].") or Decimal(0)
    return total


def _shopify_lines(
    r: _Reader, data: dict[str, Any], taxes_included: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Decimal]:
    """(goods items, lines that are not goods, the tax those lines carry)."""
    items: list[dict[str, Any]] = []
    others: list[dict[str, Any]] = []
    other_tax = Decimal(0)
    for i, line in enumerate(_list(data.get("line_items"))):
        where = f"line_items[{i}]."
        ordered = r.quantity(line.get("quantity"), f"{where}quantity")
        qty = ordered
        if line.get("current_quantity") is not None:
            qty = r.quantity(line["current_quantity"], f"{where}current_quantity", default="0")
        if qty <= 0:
            continue  # removed by an edit or refunded in full: no longer part of the order
        price = _money(r, line, "price", where)
        if price is None:
            r.problems.append({"field": f"{where}price", "msg": "missing"})
            price = Decimal(0)
        discount = _allocated(r, line, where)
        if 0 < qty < ordered:
            # allocations are made on the quantity ordered; what remains after an edit carries its share
            discount = (discount * qty / ordered).quantize(CENT)
        name = _text(line.get("name") or line.get("title"), 250)
        if line.get("requires_shipping") is False:
            tax = Decimal(0)
            if not taxes_included:
                for j, tax_line in enumerate(_list(line.get("tax_lines"))):
                    tax += _money(r, tax_line, "price", f"{where}tax_lines[{j}].") or Decimal(0)
            others.append({"name": name, "total": _fen(price * qty - discount + tax)})
            other_tax += tax
            continue
        items.append(
            {
                "gnum": len(items) + 1,
                "item_no": _item_no(line.get("sku"), line.get("variant_id"), line.get("product_id"), line.get("id")),
                "name": name,
                "qty": str(qty),
                "price": str(price),
                "total": _fen(price * qty),
                "discount": _fen(discount),
            }
        )
    return items, others, other_tax


def _shopify_freight(r: _Reader, data: dict[str, Any]) -> Decimal:
    freight = Decimal(0)
    for i, line in enumerate(_list(data.get("shipping_lines"))):
        if line.get("is_removed") is True:
            continue
        where = f"shipping_lines[{i}]."
        charged = None
        for name in ("current_discounted_price", "discounted_price", "price"):
            charged = _money(r, line, name, where)
            if charged is not None:
                break
        freight += charged or Decimal(0)
    return freight


def _shopify_payment(r: _Reader, data: dict[str, Any], document: dict[str, Any]) -> None:
    """``financial_status``: an order not paid in full (``pending``, ``authorized``, ``partially_paid``) is kept
    as such and held until a later version says it is paid; what the buyer owes is ``total_outstanding``."""
    status = _text(data.get("financial_status"), 40)
    if status not in PAYMENT_STATUSES:
        return
    document["payment_status"] = status
    if status not in UNPAID:
        return
    outstanding = r.number(data.get("total_outstanding"), "total_outstanding", default=None) \
        if data.get("total_outstanding") not in (None, "") else None  # fmt: skip
    if outstanding is not None:
        document["outstanding"] = _fen(max(outstanding, Decimal(0)))
    owed = f" ({document['outstanding']} outstanding)" if "outstanding" in document else ""
    r.problems.append({"field": "financial_status", "msg": f"{status}: not paid in full{owed}; declared once paid"})


def shopify_order(data: dict[str, Any], source: dict[str, Any], *, test_header: bool = False) -> Mapped:
    r = _Reader()
    attrs = _attributes(data.get("note_attributes"))
    ship, bill, customer = (
        _dict(data.get("shipping_address")),
        _dict(data.get("billing_address")),
        _dict(data.get("customer")),
    )
    taxes_included = data.get("taxes_included") is True
    items, others, other_tax = _shopify_lines(r, data, taxes_included)
    goods = sum((Decimal(i["total"]) for i in items), Decimal(0))
    lines = _list(data.get("line_items"))
    if any("discount_allocations" in line for line in lines):
        discount = sum((Decimal(i["discount"]) for i in items), Decimal(0))
    else:  # bodies older than discount allocations carry the order's discount only
        discount = _money(r, data, "total_discounts", "", current=True) or Decimal(0)
    freight = _shopify_freight(r, data)
    tax = Decimal(0) if taxes_included else (_money(r, data, "total_tax", "", current=True) or Decimal(0)) - other_tax
    # duties charged at checkout are tax the buyer paid on top of the prices, whether or not those include tax
    tax += _money(r, data, "total_duties", "", current=True) or Decimal(0)
    fees = _money(r, data, "total_additional_fees", "", current=True)
    if fees:  # e.g. a packaging or an import fee: charged, not goods
        others.append({"name": "additional fees", "total": _fen(fees)})
    paid = _money(r, data, "total_price", "", current=True)
    if paid is None:
        r.problems.append({"field": "total_price", "msg": "missing"})
        paid = Decimal(0)
    paid -= sum((Decimal(o["total"]) for o in others), Decimal(0))
    name = _text(data.get("name") or data.get("order_number"), 80)
    ship_name = _text(ship.get("name")) or _join(ship.get("first_name"), ship.get("last_name"))
    # the consignee's phone, else the payer's, else the customer's
    phones = (ship.get("phone"), bill.get("phone"), customer.get("phone"), data.get("phone"))
    phone = next((_text(p, 60) for p in phones if _text(p)), "")
    buyer_name = ship_name or _text(bill.get("name")) or _join(customer.get("first_name"), customer.get("last_name"))
    consignee = _consignee(ship_name, phone, province=ship.get("province"), city=ship.get("city"),
                           street1=ship.get("address1"), street2=ship.get("address2"), postcode=ship.get("zip"),
                           country=ship.get("country_code") or ship.get("country"))  # fmt: skip
    document: dict[str, Any] = {
        "order_no": name.lstrip("#"),
        **_codes(attrs, source),
        "goods_value": _fen(goods),
        "freight": _fen(freight),
        "discount": _fen(discount),
        "tax_total": _fen(tax),
        "actual_paid": _fen(paid),
        "currency": _text(data.get("presentment_currency") or data.get("currency"), 8),
        "buyer": _buyer(attrs, buyer_name, phone, _text(customer.get("id"), 60)),
        "consignee": consignee,
        "items": items,
        "utm_campaign": attrs.get("utm_campaign") or _utm(data.get("landing_site")),
    }
    if others:
        document["not_goods"] = others
    _shopify_payment(r, data, document)
    return Mapped(
        document=document,
        platform_id=_text(data.get("id"), 40) or None,
        version=utc_version(data.get("updated_at")),
        test=data.get("test") is True or test_header,
        cancelled=bool(data.get("cancelled_at")),
        problems=list(r.problems),
    )


# --- WooCommerce --------------------------------------------------------------------------------------------

#: WooCommerce statuses of an order not paid yet (``on-hold``: awaiting a bank transfer or a check)
WOO_UNPAID = frozenset({"pending", "on-hold"})
WOO_PAID = frozenset({"processing", "completed"})
#: line meta naming the bundle a line belongs to (WooCommerce Product Bundles writes ``bundled_by`` on the line)
BUNDLE_META = ("_bundled_by", "_woosb_parent_id", "woosb_parent_id")


def is_woo_legacy(data: dict[str, Any]) -> bool:
    """WooCommerce's legacy REST API (v3, ``/wc-api/v3``) wraps the order: ``{"order": {...}}``."""
    return isinstance(data.get("order"), dict) and "line_items" not in data


def _woo_legacy(order: dict[str, Any]) -> dict[str, Any]:
    """A legacy v3 order in the names of the current REST API (the amounts mean the same: line ``subtotal``
    before the line's discounts, ``total`` after, both without tax)."""
    paid = _dict(order.get("payment_details")).get("paid")
    status = order.get("status")
    if paid is False and status not in WOO_ENDED:
        status = "pending"
    return {
        **order,
        "number": order.get("order_number") or order.get("id"),
        "status": status,
        "shipping": _dict(order.get("shipping_address")),
        "billing": _dict(order.get("billing_address")),
        "shipping_total": order.get("total_shipping"),
        "date_modified_gmt": order.get("updated_at"),
        "meta_data": order.get("meta_data") or [],
        "fee_lines": [{**fee, "name": fee.get("name") or fee.get("title")} for fee in _list(order.get("fee_lines"))],
    }


def _bundled(line: dict[str, Any], attrs: dict[str, str]) -> bool:
    """A line carried by its parent line: WooCommerce Product Bundles (``bundled_by``), Composite Products
    (``composite_parent``), WPC bundles (``_woosb_parent_id``)."""
    parent = _text(line.get("bundled_by"), 40) or _text(line.get("composite_parent"), 40)
    return bool(parent) or any(attrs.get(key) for key in BUNDLE_META)


def _refunded_line(refund_line: dict[str, Any], lines: list[dict[str, Any]]) -> str | None:
    """The order line a refund's line gives back: its ``_refunded_item_id``, else the same product and
    variation, else the same SKU."""
    meta = _attributes(refund_line.get("meta_data"), key="key")
    ids = {str(line.get("id")) for line in lines}
    if meta.get("_refunded_item_id") in ids:
        return meta["_refunded_item_id"]
    for line in lines:
        same = refund_line.get("product_id") and (refund_line.get("product_id"), refund_line.get("variation_id") or 0) \
            == (line.get("product_id"), line.get("variation_id") or 0)  # fmt: skip
        if same or (_text(refund_line.get("sku")) and _text(refund_line.get("sku")) == _text(line.get("sku"))):
            return str(line.get("id"))
    return None


def _woo_refunds(
    r: _Reader, data: dict[str, Any], lines: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], Decimal, dict[str, list[Decimal]]]:
    """(the refunds as XBM records them, the amount refunded, per order line: [quantity, goods, tax] refunded).
    The order's ``refunds`` carry the amount (negative); a refund carrying its ``line_items`` (as the refunds
    endpoint writes them, negative) also says which lines went back."""
    out: list[dict[str, Any]] = []
    refunded = Decimal(0)
    per_line: dict[str, list[Decimal]] = {}
    for i, refund in enumerate(_list(data.get("refunds"))):
        value = refund.get("total") if refund.get("total") not in (None, "") else refund.get("amount")
        amount = abs(r.number(value, f"refunds[{i}].total"))
        refunded += amount
        given: list[dict[str, str]] = []
        for j, line in enumerate(_list(refund.get("line_items"))):
            where = f"refunds[{i}].line_items[{j}]."
            key = _refunded_line(line, lines)
            qty = abs(r.number(line.get("quantity"), f"{where}quantity", limit=MAX_QUANTITY))
            if key is None or qty != qty.to_integral_value():
                continue
            acc = per_line.setdefault(key, [Decimal(0), Decimal(0), Decimal(0)])
            acc[0] += qty
            acc[1] += abs(r.number(line.get("total"), f"{where}total"))
            acc[2] += abs(r.number(line.get("total_tax"), f"{where}total_tax"))
            order_line = next(x for x in lines if str(x.get("id")) == key)
            item_no = _item_no(order_line.get("sku"), order_line.get("variation_id") or None,
                               order_line.get("product_id"), order_line.get("id"))  # fmt: skip
            if qty > 0:
                given.append({"item_no": item_no, "qty": str(qty)})
        out.append({"id": _text(refund.get("id"), 40), "total": _fen(amount),
                    "reason": _text(refund.get("reason") or refund.get("refund"), 200), "lines": given})  # fmt: skip
    return out[:50], refunded, per_line


def _gift_cards(r: _Reader, data: dict[str, Any], attrs: dict[str, Any]) -> Decimal:
    """What gift cards paid: WooCommerce Gift Cards' ``gift_cards`` and PW Gift Cards' ``pw_gift_cards_redeemed``
    (on the order, or in its meta), each ``amount`` redeemed. The order's ``total`` is what is left to pay."""
    paid = Decimal(0)
    meta = {m.get("key"): m.get("value") for m in _list(data.get("meta_data")) if isinstance(m.get("key"), str)}
    for name in ("gift_cards", "pw_gift_cards_redeemed"):
        cards = data.get(name) if isinstance(data.get(name), list) else meta.get(name)
        for i, card in enumerate(_list(cards)):
            paid += abs(r.number(card.get("amount"), f"{name}[{i}].amount"))
    return paid


def _take_back(items: list[dict[str, Any]], amounts: dict[str, Decimal], residual: Decimal) -> None:
    """A refund that names no goods lowers the price of what was sold (a discount shared over the lines by
    their value), then the freight, then the tax: what the buyer kept paying still adds up."""
    room = sum((Decimal(i["total"]) - Decimal(i["discount"]) for i in items), Decimal(0))
    on_goods = min(residual, room)
    shared = Decimal(0)
    for n, item in enumerate(items):
        left = Decimal(item["total"]) - Decimal(item["discount"])
        share = on_goods - shared if n == len(items) - 1 else (on_goods * left / room).quantize(CENT) if room else 0
        share = min(Decimal(share), left)
        item["discount"] = _fen(Decimal(item["discount"]) + share)
        shared += share
    amounts["discount"] += shared
    residual -= shared
    for name in ("freight", "tax_total"):
        cut = min(residual, amounts[name])
        amounts[name] -= cut
        residual -= cut


def woocommerce_order(data: dict[str, Any], source: dict[str, Any]) -> Mapped:
    """WooCommerce's REST order (and the legacy v3 ``{"order": …}``): line ``subtotal`` is before the line's
    discounts and ``total`` after, both without tax (also when ``prices_include_tax``), with the tax in
    ``total_tax``. ``total`` and the lines never change on a refund: the order's ``refunds`` say what went back,
    and XBM stores the order as it stands after them; gift cards are a means of payment, added back to
    ``total`` (what was left to pay) and shown in ``gift_card``."""
    if is_woo_legacy(data):
        data = _woo_legacy(data["order"])
    r = _Reader()
    attrs = _attributes(data.get("meta_data"), key="key")
    ship, billing = _dict(data.get("shipping")), _dict(data.get("billing"))
    lines = _list(data.get("line_items"))
    refunds, refunded, per_line = _woo_refunds(r, data, lines)
    items: list[dict[str, Any]] = []
    bundled: list[str] = []
    line_tax_back = Decimal(0)
    for i, line in enumerate(lines):
        where = f"line_items[{i}]."
        qty = r.quantity(line.get("quantity"), f"{where}quantity")
        subtotal = r.number(line.get("subtotal"), f"{where}subtotal", default=None)
        total = r.number(line.get("total"), f"{where}total", default=str(subtotal))
        name = _text(line.get("name"), 250)
        if _bundled(line, _attributes(line.get("meta_data"), key="key")) and subtotal == 0 and total == 0:
            bundled.append(name)  # declared as part of its bundle's line, which carries the price
            continue
        back = per_line.get(str(line.get("id")))
        if back is not None and qty > 0:
            line_tax_back += back[2]
            left = qty - back[0]
            if left <= 0:
                continue  # refunded in full: never declared
            subtotal, total, qty = (subtotal * left / qty).quantize(CENT), max(total - back[1], Decimal(0)), left
        if qty <= 0:
            continue
        items.append(
            {
                "gnum": len(items) + 1,
                "item_no": _item_no(line.get("sku"), line.get("variation_id") or None, line.get("product_id"),
                                    line.get("id")),
                "name": name,
                "qty": str(qty),
                "price": str((subtotal / qty).quantize(Decimal("0.0001"))),
                "total": _fen(subtotal),
                "discount": _fen(max(subtotal - total, Decimal(0))),
            }
        )  # fmt: skip
    others: list[dict[str, Any]] = []
    other_tax = Decimal(0)
    for i, fee in enumerate(_list(data.get("fee_lines"))):
        amount = r.number(fee.get("total"), f"fee_lines[{i}].total")
        fee_tax = r.number(fee.get("total_tax"), f"fee_lines[{i}].total_tax")
        others.append({"name": _text(fee.get("name"), 250), "total": _fen(amount + fee_tax)})
        other_tax += fee_tax
    gift = _gift_cards(r, data, attrs)
    amounts = {
        "goods_value": sum((Decimal(i["total"]) for i in items), Decimal(0)),
        "discount": sum((Decimal(i["discount"]) for i in items), Decimal(0)),
        "freight": r.number(data.get("shipping_total"), "shipping_total"),
        "tax_total": max(r.number(data.get("total_tax"), "total_tax") - other_tax - line_tax_back, Decimal(0)),
    }
    paid = (r.number(data.get("total"), "total", default=None) + gift - refunded
            - sum((Decimal(o["total"]) for o in others), Decimal(0)))  # fmt: skip
    if refunded > 0:
        residual = amounts["goods_value"] - amounts["discount"] + amounts["freight"] + amounts["tax_total"] - paid
        if residual > 0:
            _take_back(items, amounts, residual)
    ship_name = _join(ship.get("first_name"), ship.get("last_name"))
    phone = next((_text(p, 60) for p in (ship.get("phone"), billing.get("phone")) if _text(p)), "")
    status = _text(data.get("status"), 40)
    document: dict[str, Any] = {
        "order_no": _text(data.get("number") or data.get("id"), 80),
        **_codes(attrs, source),
        **{name: _fen(value) for name, value in amounts.items()},
        "actual_paid": _fen(max(paid, Decimal(0))),
        "currency": _text(data.get("currency"), 8),
        "buyer": _buyer(attrs, ship_name or _join(billing.get("first_name"), billing.get("last_name")), phone,
                        _text(data.get("customer_id"), 60) if data.get("customer_id") not in (None, 0, "0") else ""),
        "consignee": _consignee(ship_name, phone, province=ship.get("state"), city=ship.get("city"),
                                street1=ship.get("address_1"), street2=ship.get("address_2"),
                                postcode=ship.get("postcode"), country=ship.get("country")),
        "items": items,
        "utm_campaign": attrs.get("utm_campaign") or attrs.get("_wc_order_attribution_utm_campaign") or None,
    }  # fmt: skip
    if gift:
        document["gift_card"] = _fen(gift)
    if others:
        document["not_goods"] = others
    if status in WOO_UNPAID:
        document["payment_status"] = "pending"
        r.problems.append({"field": "status", "msg": f"{status}: not paid yet; declared once paid"})
    elif status in WOO_PAID:
        document["payment_status"] = "partially_refunded" if refunded > 0 else "paid"
    return Mapped(
        document=document,
        platform_id=_text(data.get("id"), 40) or None,
        version=utc_version(data.get("date_modified_gmt")) or utc_version(data.get("date_modified")),
        cancelled=status in WOO_ENDED or (refunded > 0 and paid <= 0),  # refunded in full
        refunded=status == "refunded",
        problems=list(r.problems),
        refunds=refunds,
        bundled=bundled,
    )
