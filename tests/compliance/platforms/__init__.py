"""Bodies Shopify and WooCommerce wrote (SOURCES.md says where each comes from), delivered the way each platform
delivers them: its headers, its JSON encoding, its signature over the exact bytes — computed here with
``hmac`` alone, independently of XBM's verifier."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).parent
SHOPIFY = sorted((HERE / "shopify").glob("*.json"))
WOOCOMMERCE = sorted((HERE / "woocommerce").glob("*.json"))


def load(path: Path) -> Any:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data.get("data"), (dict, list)):
        data = data["data"]  # the WooCommerce mobile app's captures keep the Jetpack proxy's envelope
    if isinstance(data, list) or path.name.startswith("legacy_"):
        return copy.deepcopy(data)  # WooCommerce's legacy REST API delivers the order wrapped: {"order": {...}}
    # the REST resource wraps the object the webhook sends bare
    return copy.deepcopy(data.get("order") or data.get("refund") or data)


def shopify(name: str) -> dict[str, Any]:
    return load(HERE / "shopify" / f"{name}.json")


def woo(name: str) -> dict[str, Any]:
    return load(HERE / "woocommerce" / f"{name}.json")


def shopify_bytes(order: dict[str, Any]) -> bytes:
    """Shopify sends compact JSON, UTF-8, non-ASCII unescaped."""
    return json.dumps(order, separators=(",", ":"), ensure_ascii=False).encode()


def woo_bytes(order: dict[str, Any]) -> bytes:
    """WooCommerce signs what PHP's ``wp_json_encode`` wrote: compact, ``/`` escaped as ``\\/`` and every
    non-ASCII character as ``\\uXXXX``."""
    return json.dumps(order, separators=(",", ":"), ensure_ascii=True).replace("/", "\\/").encode()


def digest(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(secret: str, body: bytes, topic: str = "orders/create", *, test: bool = False,
                    webhook_id: str | None = None) -> dict[str, str]:  # fmt: skip
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Shopify-Captain-Hook",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": digest(secret, body),
        "X-Shopify-Shop-Domain": "xbm-test.myshopify.com",
        "X-Shopify-API-Version": "2025-01",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Event-Id": str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2025-01-24T04:10:16.123Z",
    }
    if test:
        headers["X-Shopify-Test"] = "true"
    return headers


def woo_headers(secret: str, body: bytes, topic: str = "order.created", resource_id: Any = 1) -> dict[str, str]:
    resource, event = topic.split(".")
    return {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
        "X-WC-Webhook-Source": "https://shop.example.com/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-Signature": digest(secret, body),
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": str(uuid.uuid4().int % 10**6),
    }


async def deliver_shopify(client: httpx.AsyncClient, source: dict[str, Any], order: dict[str, Any], **kw: Any
                          ) -> httpx.Response:  # fmt: skip
    body = shopify_bytes(order)
    return await client.post(
        source["webhook_path"], content=body, headers=shopify_headers(source["secret"], body, **kw)
    )


async def deliver_woo(client: httpx.AsyncClient, source: dict[str, Any], order: dict[str, Any],
                      topic: str = "order.created") -> httpx.Response:  # fmt: skip
    body = woo_bytes(order)
    headers = woo_headers(source["secret"], body, topic, order.get("id"))
    return await client.post(source["webhook_path"], content=body, headers=headers)


def presentment_paid(order: dict[str, Any]) -> tuple[Decimal, str]:
    """What the buyer paid after refunds, gift cards included, read straight from the platform's body (the
    reference the mapping must equal)."""
    if "total_price" in order:  # Shopify
        for name in ("current_total_price_set", "total_price_set"):
            money = (order.get(name) or {}).get("presentment_money")
            if money:
                return Decimal(money["amount"]), money["currency_code"]
        return Decimal(order.get("current_total_price") or order["total_price"]), order["currency"]
    order = order.get("order") or order  # WooCommerce's legacy body
    gift = sum((abs(Decimal(str(c["amount"]))) for name in ("gift_cards", "pw_gift_cards_redeemed")
                for c in order.get(name) or []), Decimal(0))  # fmt: skip
    refunded = sum((abs(Decimal(r["total"])) for r in order.get("refunds") or []), Decimal(0))
    # WooCommerce: ``total`` is what was left to pay after gift cards, and never changes on a refund
    return Decimal(order["total"]) + gift - refunded, order["currency"]


def with_buyer(order: dict[str, Any], id_number: str, name: str = "Jiao Hongyu") -> dict[str, Any]:
    """The buyer's identity as a seller's checkout adds it (Shopify note attributes)."""
    order = copy.deepcopy(order)
    given = [{"name": "buyer_id_number", "value": id_number}, {"name": "buyer_name", "value": name}]
    order["note_attributes"] = [*(order.get("note_attributes") or []), *given]
    return order
