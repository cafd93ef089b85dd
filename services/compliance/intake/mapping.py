"""Shopify and WooCommerce orders as the canonical order (API.md). Buyer identity, which these platforms do
not model, comes from Shopify ``note_attributes`` and WooCommerce ``meta_data``. Pure functions."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs, urlsplit


def _dec(value: Any, default: str = "0") -> str:
    try:
        return str(Decimal(str(value if value not in (None, "") else default)))
    except InvalidOperation:
        return str(value)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "y")


def _join(*parts: Any) -> str:
    return " ".join(str(p).strip() for p in parts if p not in (None, "") and str(p).strip())


def _attributes(pairs: Any, key: str = "name") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(pairs, list):
        for pair in pairs[:200]:
            if isinstance(pair, dict) and isinstance(pair.get(key), str):
                out[pair[key]] = str(pair.get("value", ""))
    return out


def _utm(landing_site: Any) -> str | None:
    if not isinstance(landing_site, str) or "?" not in landing_site:
        return None
    values = parse_qs(urlsplit(landing_site).query).get("utm_campaign")
    return values[0] if values else None


def _buyer(attrs: dict[str, str], name: str, phone: str, reg_no: str) -> dict[str, Any]:
    return {
        "reg_no": attrs.get("buyer_reg_no") or reg_no or "unknown",
        "name": attrs.get("buyer_name") or name,
        "id_type": attrs.get("buyer_id_type", "1"),
        "id_number": attrs.get("buyer_id_number"),
        "telephone": attrs.get("buyer_telephone") or phone,
        "verified": _truthy(attrs.get("buyer_verified", "false")),
    }


def _codes(attrs: dict[str, str], source: dict[str, Any]) -> dict[str, Any]:
    return {
        "ebp_code": source.get("ebp_code"),
        "ebp_name": source.get("ebp_name"),
        "ebc_code": attrs.get("ebc_code") or source.get("ebc_code") or source.get("ebp_code"),
        "trade_direction": attrs.get("trade_direction", "import"),
        "pay_code": attrs.get("pay_code") or None,
        "pay_transaction_id": attrs.get("pay_transaction_id") or None,
    }


def shopify_order(data: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    attrs = _attributes(data.get("note_attributes"))
    ship = data.get("shipping_address") or {}
    customer = data.get("customer") or {}
    lines = [line for line in data.get("line_items") or [] if isinstance(line, dict)]
    items = [
        {
            "gnum": i,
            "item_no": line.get("sku") or str(line.get("variant_id") or line.get("id")),
            "name": line.get("title") or line.get("name"),
            "qty": _dec(line.get("quantity"), "1"),
            "price": _dec(line.get("price")),
            "total": str(Decimal(_dec(line.get("price"))) * Decimal(_dec(line.get("quantity"), "1"))),
        }
        for i, line in enumerate(lines, start=1)
    ]
    goods = sum((Decimal(str(item["total"])) for item in items), Decimal(0))
    freight = sum((Decimal(_dec(s.get("price"))) for s in data.get("shipping_lines") or [] if isinstance(s, dict)),
                  Decimal(0))  # fmt: skip
    name = str(data.get("name") or data.get("order_number") or "")
    ship_name = ship.get("name") or _join(ship.get("first_name"), ship.get("last_name"))
    return {
        "order_no": name.lstrip("#"),
        **_codes(attrs, source),
        "goods_value": str(goods),
        "freight": str(freight),
        "discount": _dec(data.get("total_discounts")),
        "tax_total": _dec(data.get("total_tax")),
        "actual_paid": _dec(data.get("total_price")),
        "currency": data.get("currency"),
        "buyer": _buyer(attrs, ship_name, ship.get("phone") or data.get("phone") or "", str(customer.get("id") or "")),
        "consignee": {
            "name": ship_name,
            "telephone": ship.get("phone") or data.get("phone"),
            "address": _join(ship.get("province"), ship.get("city"), ship.get("address1"), ship.get("address2")),
        },
        "items": items,
        "utm_campaign": attrs.get("utm_campaign") or _utm(data.get("landing_site")),
    }


def woocommerce_order(data: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    attrs = _attributes(data.get("meta_data"), key="key")
    ship = data.get("shipping") or {}
    billing = data.get("billing") or {}
    lines = [line for line in data.get("line_items") or [] if isinstance(line, dict)]
    items = [
        {
            "gnum": i,
            "item_no": line.get("sku") or str(line.get("product_id") or line.get("id")),
            "name": line.get("name"),
            "qty": _dec(line.get("quantity"), "1"),
            "price": _dec(line.get("price")),
            "total": _dec(line.get("subtotal")),
        }
        for i, line in enumerate(lines, start=1)
    ]
    goods = sum((Decimal(str(item["total"])) for item in items), Decimal(0))
    ship_name = _join(ship.get("first_name"), ship.get("last_name"))
    phone = ship.get("phone") or billing.get("phone")
    return {
        "order_no": str(data.get("number") or data.get("id") or ""),
        **_codes(attrs, source),
        "goods_value": str(goods),
        "freight": _dec(data.get("shipping_total")),
        "discount": _dec(data.get("discount_total")),
        "tax_total": _dec(data.get("total_tax")),
        "actual_paid": _dec(data.get("total")),
        "currency": data.get("currency"),
        "buyer": _buyer(attrs, ship_name, phone or "", str(data.get("customer_id") or "")),
        "consignee": {
            "name": ship_name,
            "telephone": phone,
            "address": _join(ship.get("state"), ship.get("city"), ship.get("address_1"), ship.get("address_2")),
        },
        "items": items,
        "utm_campaign": attrs.get("utm_campaign") or attrs.get("_wc_order_attribution_utm_campaign") or None,
    }
