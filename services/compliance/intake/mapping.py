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
``incomplete`` until it is completed."""

# One module, over 400 lines: the Shopify and WooCommerce mappings share one reader (``_Reader``, its problems)
# and the helpers above the Shopify section, and are read side by side against the same rules; apart, each
# platform would import the other's private helpers.

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit

#: the largest amount or quantity taken from a platform body (the canonical schema's bound)
MAX_AMOUNT = Decimal("1e14")
MAX_QUANTITY = Decimal("1e9")
MAX_LINES = 500
#: WooCommerce statuses that end an order
WOO_ENDED = frozenset({"cancelled", "refunded", "failed"})
CENT = Decimal("0.01")


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


def _item_no(*candidates: Any) -> str:
    for value in candidates:
        text = _text(value, 60)
        if text:
            return text
    return ""


def _buyer(attrs: dict[str, str], name: str, phone: str, reg_no: str) -> dict[str, Any]:
    buyer: dict[str, Any] = {
        "reg_no": attrs.get("buyer_reg_no") or reg_no or "unknown",
        "name": attrs.get("buyer_name") or name,
        "id_type": attrs.get("buyer_id_type", "1"),
        "telephone": attrs.get("buyer_telephone") or phone,
        "verified": _truthy(attrs.get("buyer_verified", "false")),
    }
    if attrs.get("buyer_id_number"):
        buyer["id_number"] = attrs["buyer_id_number"]
    return buyer


def _codes(attrs: dict[str, str], source: dict[str, Any]) -> dict[str, Any]:
    return {
        "ebp_code": source.get("ebp_code"),
        "ebp_name": source.get("ebp_name"),
        "ebc_code": attrs.get("ebc_code") or source.get("ebc_code") or source.get("ebp_code"),
        "trade_direction": attrs.get("trade_direction") or source.get("trade_direction") or "import",
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
    consignee: dict[str, Any] = {
        "name": ship_name,
        "telephone": phone,
        "address": _address(ship.get("province"), ship.get("city"), ship.get("address1"), ship.get("address2"),
                            ship.get("zip"), ship.get("country_code") or ship.get("country")),
        **_country(ship.get("country_code")),
    }  # fmt: skip
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
    return Mapped(
        document=document,
        platform_id=_text(data.get("id"), 40) or None,
        version=utc_version(data.get("updated_at")),
        test=data.get("test") is True or test_header,
        cancelled=bool(data.get("cancelled_at")),
        problems=list(r.problems),
    )


# --- WooCommerce --------------------------------------------------------------------------------------------


def woocommerce_order(data: dict[str, Any], source: dict[str, Any]) -> Mapped:
    """WooCommerce's REST order: line ``subtotal`` is before the line's discounts and ``total`` after, both
    without tax (also when ``prices_include_tax``), with the tax in ``total_tax``."""
    r = _Reader()
    attrs = _attributes(data.get("meta_data"), key="key")
    ship, billing = _dict(data.get("shipping")), _dict(data.get("billing"))
    items: list[dict[str, Any]] = []
    for i, line in enumerate(_list(data.get("line_items"))):
        where = f"line_items[{i}]."
        qty = r.quantity(line.get("quantity"), f"{where}quantity")
        if qty <= 0:
            continue
        subtotal = r.number(line.get("subtotal"), f"{where}subtotal", default=None)
        total = r.number(line.get("total"), f"{where}total", default=str(subtotal))
        items.append(
            {
                "gnum": len(items) + 1,
                "item_no": _item_no(line.get("sku"), line.get("variation_id") or None, line.get("product_id"),
                                    line.get("id")),
                "name": _text(line.get("name"), 250),
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
    goods = sum((Decimal(i["total"]) for i in items), Decimal(0))
    discount = sum((Decimal(i["discount"]) for i in items), Decimal(0))
    paid = r.number(data.get("total"), "total", default=None) - sum((Decimal(o["total"]) for o in others), Decimal(0))
    ship_name = _join(ship.get("first_name"), ship.get("last_name"))
    phone = next((_text(p, 60) for p in (ship.get("phone"), billing.get("phone")) if _text(p)), "")
    status = _text(data.get("status"), 40)
    document: dict[str, Any] = {
        "order_no": _text(data.get("number") or data.get("id"), 80),
        **_codes(attrs, source),
        "goods_value": _fen(goods),
        "freight": _fen(r.number(data.get("shipping_total"), "shipping_total")),
        "discount": _fen(discount),
        "tax_total": _fen(r.number(data.get("total_tax"), "total_tax") - other_tax),
        "actual_paid": _fen(paid),
        "currency": _text(data.get("currency"), 8),
        "buyer": _buyer(attrs, ship_name or _join(billing.get("first_name"), billing.get("last_name")), phone,
                        _text(data.get("customer_id"), 60) if data.get("customer_id") not in (None, 0, "0") else ""),
        "consignee": {
            "name": ship_name,
            "telephone": phone,
            "address": _address(ship.get("state"), ship.get("city"), ship.get("address_1"), ship.get("address_2"),
                                ship.get("postcode"), ship.get("country")),
            **_country(ship.get("country")),
        },
        "items": items,
        "utm_campaign": attrs.get("utm_campaign") or attrs.get("_wc_order_attribution_utm_campaign") or None,
    }  # fmt: skip
    if others:
        document["not_goods"] = others
    return Mapped(
        document=document,
        platform_id=_text(data.get("id"), 40) or None,
        version=utc_version(data.get("date_modified_gmt")) or utc_version(data.get("date_modified")),
        cancelled=status in WOO_ENDED,
        refunded=status == "refunded",
        problems=list(r.problems),
    )
