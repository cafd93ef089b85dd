"""Building and signing documents the way the real senders do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from lxml import etree
from standardwebhooks.webhooks import Webhook

from services.compliance.customs.xsd import BUNDLED as XSD_DIR
from tests.support import Tenant

#: the official sample messages (customs/SOURCE.md); the schemas ship with the service
CUSTOMS = Path(__file__).resolve().parent / "customs"
EBP = "1105910159"
PAY = "PAY0000001"
LOGISTICS = "LOG0000001"

PROFILE = {
    "ebc_code": EBP,
    "ebc_name": "XBM Test Seller Ltd",
    "agent_code": "1105980159",
    "agent_name": "XBM Test Broker",
    "assure_code": "ASSURE0001",
    "customs_code": "4604",
    "port_code": "4604",
    "trade_mode": "9610",
    "cop_code": "1105910159",
    "cop_name": "XBM Test Seller Ltd",
    "dxp_id": "DXPENT0000000001",
}


def profile_of(tenant: Tenant, **changes: Any) -> dict[str, Any]:
    """PROFILE under the tenant's own e-port id: a DxpMsg id is one organisation's (unique across them)."""
    return {**PROFILE, "dxp_id": dxp_id_of(tenant.org_id), **changes}


def dxp_id_of(org_id: str) -> str:
    return "DXP" + hashlib.sha256(org_id.encode()).hexdigest()[:13].upper()


ITEM = {
    "gname": "Wool scarf",
    "gmodel": "100% wool, 180x30cm",
    "hs_code": "6214200000",
    "unit": "011",
    "unit1": "011",
    "qty1_per_unit": "1",
    "origin_country": "303",
    "vat_rate": "0.13",
    "consumption_tax_rate": "0",
    "net_weight_kg": "0.15",
}


def buyer_id(n: int = 0) -> str:
    return f"11010119900101{n:04d}"


def new_order_no() -> str:
    return "ORD" + uuid.uuid4().hex[:12].upper()


# --- the three documents -------------------------------------------------------------------------------------


def shopify_order(order_no: str, *, buyer: str, price: str = "100.00", qty: int = 2, freight: str = "20.00",
                  tax: str = "20.02", total: str | None = None, consignee_phone: str = "+86 135-2265-2231",
                  verified: bool = False, sku: str = "SCARF-1", discount: str = "0.00") -> dict[str, Any]:  # fmt: skip
    goods = float(price) * qty
    total = total or f"{goods + float(freight) + float(tax) - float(discount):.2f}"
    return {
        "id": 450789469,
        "name": f"#{order_no}",
        "currency": "CNY",
        "total_price": total,
        "total_tax": tax,
        "total_discounts": discount,
        "landing_site": "/products/scarf?utm_source=wechat&utm_campaign=winter-sale",
        "line_items": [{"id": 1, "sku": sku, "title": "Wool scarf", "quantity": qty, "price": price}],
        "shipping_lines": [{"title": "Express", "price": freight}],
        "shipping_address": {
            "first_name": "Hongyu",
            "last_name": "Jiao",
            "name": "Jiao  Hongyu",
            "phone": consignee_phone,
            "province": "Beijing",
            "city": "Haidian",
            "address1": "1 Zhongguancun   Street",
        },
        "customer": {"id": 207119551},
        "note_attributes": [
            {"name": "buyer_id_number", "value": buyer},
            {"name": "buyer_name", "value": "Jiao Hongyu"},
            {"name": "buyer_verified", "value": "true" if verified else "false"},
            {"name": "pay_code", "value": PAY},
        ],
    }


def payment(order_no: str, *, buyer: str, amount: str = "240.02", payer_name: str = "Jiao Hongyu",
            pay_code: str = PAY, currency: str = "CNY") -> dict[str, Any]:  # fmt: skip
    return {
        "pay_code": pay_code,
        "pay_transaction_id": "T" + order_no,
        "order_no": order_no,
        "ebp_code": EBP,
        "payer": {"name": payer_name, "id_number": buyer, "telephone": "13522652231"},
        "amount_paid": amount,
        "currency": currency,
        "paid_at": datetime.now(UTC).isoformat(),
    }


def canonical_order(order_no: str, buyer: str) -> dict[str, Any]:
    """The canonical order an integration posts to ``/v1/compliance/orders``; ``payment`` and ``waybill`` agree."""
    return {
        "order_no": order_no, "ebp_code": EBP, "ebc_code": EBP, "trade_direction": "import",
        "goods_value": "200.00", "freight": "20.00", "discount": "0", "tax_total": "20.02", "actual_paid": "240.02",
        "currency": "CNY", "buyer": {"reg_no": "u1", "name": "Jiao Hongyu", "id_number": buyer,
                                     "telephone": "13522652231"},
        "consignee": {"name": "Jiao Hongyu", "telephone": "13522652231",
                      "address": "Beijing Haidian 1 Zhongguancun Street"},
        "items": [{"gnum": 1, "item_no": "SCARF-1", "name": "Wool scarf", "qty": "2", "unit": "011", "price": "100",
                   "total": "200"}],
        "utm_campaign": "spring",
    }  # fmt: skip


def waybill(order_no: str, *, name: str = "Jiao Hongyu", phone: str = "135 2265 2231",
            address: str = "Beijing Haidian 1 Zhongguancun Street", insured: str = "0") -> dict[str, Any]:  # fmt: skip
    return {
        "logistics_code": LOGISTICS,
        "logistics_name": "XBM Express",
        "logistics_no": "L" + order_no,
        "order_no": order_no,
        "freight": "20.00",
        "insured_fee": insured,
        "weight_kg": "0.4",
        "consignee": {"name": name, "telephone": phone, "address": address},
        # a direct import (9610) declares the flight and master air waybill it arrives on
        "traf_no": "CA1234",
        "voyage_no": "CA1234",
        "bill_no": "999-12345675",
    }


# --- signing ------------------------------------------------------------------------------------------------


def shopify_headers(secret: str, body: bytes, webhook_id: str | None = None) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Hmac-Sha256": digest,
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Topic": "orders/create",
    }


def woo_headers(secret: str, body: bytes) -> dict[str, str]:
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "Content-Type": "application/json",
        "X-WC-Webhook-Signature": digest,
        "X-WC-Webhook-Delivery-ID": str(uuid.uuid4()),
        "X-WC-Webhook-Topic": "order.created",
    }


def swh_headers(secret: str, body: bytes, msg_id: str | None = None, at: datetime | None = None) -> dict[str, str]:
    msg_id = msg_id or "msg_" + uuid.uuid4().hex
    at = at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id, at, body.decode())
    return {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def stale() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=6)


def encode(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode()


# --- an organisation set up for the comparison --------------------------------------------------------------


class Seller:
    def __init__(self, client: httpx.AsyncClient, tenant: Tenant):
        self.client = client
        self.tenant = tenant
        self.sources: dict[str, dict[str, Any]] = {}

    async def setup(self, profile: bool = True) -> Seller:
        c, admin = self.client, self.tenant.auth()
        if profile:
            r = await c.put("/v1/compliance/customs-profile", json=profile_of(self.tenant), headers=admin)
            assert r.status_code in (200, 201), r.text
        r = await c.post("/v1/compliance/payment-institutions", headers=admin, json={
            "pay_code": PAY, "name": "XBM Pay", "licence_no": "Z2000000000001",
            "scopes": ["internet_payment"], "status": "active"})  # fmt: skip
        assert r.status_code == 201, r.text
        r = await c.put("/v1/compliance/items/SCARF-1", json=ITEM, headers=admin)
        assert r.status_code == 201, r.text
        for key, body in {
            "shop": {"name": "Shop", "kind": "shopify", "role": "platform", "ebp_code": EBP, "ebp_name": "XBM Shop"},
            "pay": {"name": "Pay", "kind": "standard_webhooks", "role": "payment", "pay_code": PAY},
            "ship": {"name": "Ship", "kind": "standard_webhooks", "role": "logistics", "logistics_code": LOGISTICS},
        }.items():
            r = await c.post("/v1/compliance/sources", json=body, headers=admin)
            assert r.status_code == 201, r.text
            self.sources[key] = r.json()
        return self

    async def send_order(self, order: dict[str, Any], webhook_id: str | None = None) -> httpx.Response:
        source = self.sources["shop"]
        body = encode(order)
        return await self.client.post(
            source["webhook_path"], content=body, headers=shopify_headers(source["secret"], body, webhook_id)
        )

    async def send_swh(self, key: str, kind: str, data: dict[str, Any], **kw: Any) -> httpx.Response:
        source = self.sources[key]
        body = encode({"type": kind, "data": data})
        return await self.client.post(
            source["webhook_path"], content=body, headers=swh_headers(source["secret"], body, **kw)
        )

    async def send_payment(self, data: dict[str, Any], **kw: Any) -> httpx.Response:
        return await self.send_swh("pay", "payment", data, **kw)

    async def send_waybill(self, data: dict[str, Any], **kw: Any) -> httpx.Response:
        return await self.send_swh("ship", "waybill", data, **kw)

    async def order(self, order_no: str) -> dict[str, Any]:
        r = await self.client.get(f"/v1/compliance/orders/{EBP}/{order_no}", headers=self.tenant.auth("analyst"))
        assert r.status_code == 200, r.text
        return r.json()

    async def deliver_all(
        self,
        order_no: str,
        *,
        buyer: str,
        order: dict[str, Any] | None = None,
        pay: dict[str, Any] | None = None,
        ship: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        for r in (
            await self.send_order(order or shopify_order(order_no, buyer=buyer)),
            await self.send_payment(pay or payment(order_no, buyer=buyer)),
            await self.send_waybill(ship or waybill(order_no)),
        ):
            assert r.status_code in (200, 201), r.text
        return await self.order(order_no)


def schema(direction: str = "import") -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / f"{direction}-202205.xsd")))


def valid_unsigned(doc: etree._Element, direction: str = "import") -> tuple[bool, Any]:
    """An unsigned message carries no Signature element; with the e-port client's signature in its place (after
    BaseTransfer) it must satisfy the official schema."""
    from services.compliance.customs.signing import DS, SIGNATURE_SLOT

    assert doc.find(f"{{{DS}}}Signature") is None, "an unsigned message carries no (empty) Signature"
    copy = etree.fromstring(etree.tostring(doc))
    copy.append(etree.fromstring(SIGNATURE_SLOT))
    validator = schema(direction)
    return validator.validate(copy), validator.error_log


CEB_NS = "http://www.chinaport.gov.cn/ceb"


def recent(days_ago: float = 1.0) -> str:
    """A receipt's returnTime (China time, 17 digits) ``days_ago`` days before now: the return windows count
    from customs' release time, so a release a test returns from must be recent."""
    at = datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(days=days_ago)
    return at.strftime("%Y%m%d%H%M%S") + "000"


def inventory_receipt(
    cop_no: str, status: int, time: str = "20260101120000000", *, export: bool = False,
    invt_no: str = "46042026I000000001", order_no: str = "X",
) -> bytes:  # fmt: skip
    """CEB622 (import) or CEB604 (export) as customs sends it, for the list with ``cop_no``."""
    if export:
        body = (f"<guid>4CDE1CFD-EDED-46B1-946C-B8022E42FC94</guid><agentCode>1105980159</agentCode>"
                f"<copNo>{cop_no}</copNo><preNo>E20260101000000001</preNo><invtNo>{invt_no}</invtNo>"
                f"<ebcCode>{EBP}</ebcCode><ebpCode>{EBP}</ebpCode><orderNo>{order_no}</orderNo>"
                f"<statisticsFlag>A</statisticsFlag>")  # fmt: skip
        name = "CEB604Message"
    else:
        body = (f"<guid>4CDE1CFD-EDED-46B1-946C-B8022E42FC94</guid><customsCode>4604</customsCode>"
                f"<ebpCode>{EBP}</ebpCode><ebcCode>{EBP}</ebcCode><agentCode>1105980159</agentCode>"
                f"<copNo>{cop_no}</copNo><preNo>B20160512000001882</preNo><invtNo>{invt_no}</invtNo>")  # fmt: skip
        name = "CEB622Message"
    return (f'<?xml version="1.0" encoding="UTF-8"?><{name} xmlns="{CEB_NS}" '
            f'guid="4CDE1CFD-EDED-46B1-946C-B8022E42FC94" version="1.0"><InventoryReturn>{body}'
            f"<returnStatus>{status}</returnStatus><returnTime>{time}</returnTime>"
            f"<returnInfo>status {status}</returnInfo></InventoryReturn></{name}>").encode()  # fmt: skip


def answer(message: str, node: str, cop_no: str, status: int, time: str = "20260102120000000",
           invt_no: str = "46042026I000000001") -> bytes:  # fmt: skip
    """A withdrawal or return receipt (CEB606/CEB624 InvtCancelReturn, CEB626 InvtRefundReturn)."""
    head = ("<agentCode>1105980159</agentCode>" if message == "CEB606Message"
            else "<customsCode>4604</customsCode><agentCode>1105980159</agentCode>")  # fmt: skip
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{message} xmlns="{CEB_NS}" '
        f'guid="5CDE1CFD-EDED-46B1-946C-B8022E42FC94" version="1.0"><{node}>'
        f"<guid>5CDE1CFD-EDED-46B1-946C-B8022E42FC94</guid>{head}<copNo>{cop_no}</copNo>"
        f"<preNo>B20160512000001882</preNo><invtNo>{invt_no}</invtNo><returnStatus>{status}</returnStatus>"
        f"<returnTime>{time}</returnTime><returnInfo>status {status}</returnInfo></{node}></{message}>"
    ).encode()


#: the customs profile of a tenant (tests name it ``profile``)
profile = profile_of
