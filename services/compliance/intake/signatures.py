"""Verifying deliveries in each sender's own scheme, over the exact raw bytes, in constant time.
Each verifier takes the source's secrets (the current one, and the previous one for 24 h after a rotation)
and returns the delivery's de-duplication key or raises :class:`BadSignature`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class BadSignature(Exception):
    pass


def _hmac_b64(secret: str, body: bytes) -> bytes:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())


def _same(expected: bytes, given: str | None) -> bool:
    try:
        given_bytes = given.strip().encode("ascii") if given is not None else None
    except UnicodeEncodeError:
        return False
    return given_bytes is not None and hmac.compare_digest(expected, given_bytes)


def _any_hmac(secrets: Sequence[str], body: bytes, given: str | None) -> bool:
    # every secret is tried (no early exit), so timing does not tell which one matched
    results = [_same(_hmac_b64(secret, body), given) for secret in secrets]
    return any(results)


def verify_standard_webhooks(secrets: Sequence[str], body: bytes, headers: Mapping[str, str]) -> str:
    """``webhook-id``/``webhook-timestamp``/``webhook-signature``; ±5 minutes; any ``v1,`` entry may match."""
    wanted = {k: headers.get(k, "") for k in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    error: Exception | None = None
    for secret in secrets:
        try:
            Webhook(secret).verify(body, wanted, json_parse=False)
            return "swh:" + wanted["webhook-id"]
        except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError) as exc:
            error = exc
    raise BadSignature(str(error) or "signature does not match") from error


def verify_shopify(secrets: Sequence[str], body: bytes, headers: Mapping[str, str]) -> str:
    if not _any_hmac(secrets, body, headers.get("x-shopify-hmac-sha256")):
        raise BadSignature("X-Shopify-Hmac-Sha256 does not match the body")
    webhook_id = headers.get("x-shopify-webhook-id") or hashlib.sha256(body).hexdigest()
    return "shopify:" + webhook_id[:150]


def verify_woocommerce(secrets: Sequence[str], body: bytes, headers: Mapping[str, str]) -> str:
    """WooCommerce's delivery id changes per delivery: the key is the order id + ``date_modified``."""
    if not _any_hmac(secrets, body, headers.get("x-wc-webhook-signature")):
        raise BadSignature("X-WC-Webhook-Signature does not match the body")
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("order"), dict) and "line_items" not in data:
        data = data["order"]  # the legacy REST API (v3) wraps the order
        data = {**data, "date_modified_gmt": data.get("updated_at")}
    if isinstance(data, dict):
        modified = data.get("date_modified_gmt") or data.get("date_modified") or ""
        return f"woo:{str(data.get('id'))[:40]}:{str(modified)[:40]}:{data.get('status', '')!s:.20}"
    return "woo:" + hashlib.sha256(body).hexdigest()


VERIFIERS = {
    "standard_webhooks": verify_standard_webhooks,
    "shopify": verify_shopify,
    "woocommerce": verify_woocommerce,
}
