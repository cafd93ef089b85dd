"""``make demo``: with ``make run`` going, play one season of Company A through all three services.

Loads Company A's plan from examples/company-a/plan.yaml with the ``xbm`` CLI, runs campaigns with metrics and
an A/B experiment, sends Company A's USD exports to buyers abroad (orders, receipts of payment and waybills)
through signed webhooks exactly as the senders sign them, feeds customs' receipts through to closed, and prints
the plan report's path and a summary. It talks to the services over HTTP only.

It needs no settings beside the ones ``make run`` was given: the same XBM_DATA_DIR (default ./var), XBM_HOST and
XBM_<SVC>_PORT (or XBM_<SVC>_URL). Each run plays the season in an organisation of its own, so it is safe to run
again; the organisation's admin API key is printed and kept in the data dir's demo/api_key.

Over 400 lines on purpose: one season told in order, step by step; split, the story would be read across files.
"""

# One module of about 450 lines on purpose: it is one script, read top to bottom as the season it plays (plan,
# campaigns, orders, customs, report); each step is a short function and nothing here is reused elsewhere.

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from lxml import etree
from standardwebhooks.webhooks import Webhook

ROOT = Path(__file__).resolve().parents[2]
PLAN_FILE = ROOT / "examples" / "company-a" / "plan.yaml"
ROLES = ("executive", "supervisor", "specialist", "analyst", "integration")
CEB = "http://www.chinaport.gov.cn/ceb"
EBP, PAY, LOGISTICS = "3301960ABC", "CARD000088", "LOG0000088"
ALIBABA = "3301961ALI"
EXPORT_DIR = ROOT / "examples" / "company-a" / "export"
UTM = "gsk-us-launch"


def service_urls() -> dict[str, str]:
    """Where ``make run`` listens, worked out from the same settings it reads."""
    host = os.environ.get("XBM_HOST", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return {
        name: os.environ.get(f"XBM_{name.upper()}_URL")
        or f"http://{host}:{os.environ.get(f'XBM_{name.upper()}_PORT', port)}"
        for name, port in (("plans", 8001), ("campaigns", 8002), ("compliance", 8003))
    }


#: customs' calendar (the exchange rate and the declaration are of a China day)
CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Sale:
    """One export order of the season: who bought what, at the plan's price."""

    name: str
    email: str
    phone: str
    country: str
    address: str
    b2b: bool
    sku: str
    product: str
    qty: str
    price: str
    freight: str

    @property
    def goods(self) -> str:
        return f"{Decimal(self.price) * Decimal(self.qty):.2f}"

    @property
    def paid(self) -> str:
        return f"{Decimal(self.goods) + Decimal(self.freight):.2f}"


#: the season's buyers: three people buying one kit each on Company A's own site (9610) and two golf retailers
#: buying five kits each on its Alibaba.com store (B2B, 9710). Each is a customer of their own: their own email
#: and phone (555-01xx numbers, reserved for fiction), so the customer register counts five.
BUYERS = (
    ("Michael Carter", "michael.carter@example.com", "+1 415 555 0142", "US",
     "2150 Fairway Drive, Palo Alto CA 94303", False),
    ("Emily Brooks", "emily.brooks@example.com", "+1 312 555 0187", "US",
     "40 West Monroe Street, Chicago IL 60603", False),
    ("Liam Walsh", "liam.walsh@example.ca", "+1 604 555 0119", "CA",
     "1055 West Georgia Street, Vancouver BC V6E 3P3", False),
    ("Fairway Pro Shops LLC", "orders@fairwayproshops.example", "+1 512 555 0166", "US",
     "901 Congress Avenue, Austin TX 78701", True),
    ("Northern Links Ltd", "purchasing@northernlinks.example", "+1 416 555 0173", "CA",
     "100 King Street West, Toronto ON M5X 1A9", True),
)  # fmt: skip
#: the kit the US search campaign (the orders' utm_campaign) sells: the plan's first product
SEASON_SKU = "GSK-OFFICE-01"


def season_orders(products: dict[str, dict[str, Any]]) -> list[Sale]:
    """The season's orders, each at the price the plan gives its product (in the product's currency)."""
    (kit,) = [p for p in products.values() if p["sku"] == SEASON_SKU]
    return [
        Sale(name=name, email=email, phone=phone, country=country, address=address, b2b=b2b, sku=kit["sku"],
             product=kit["name"], qty="5" if b2b else "1", price=kit["price"]["amount"],
             freight="160.00" if b2b else "45.00")
        for name, email, phone, country, address, b2b in BUYERS
    ]  # fmt: skip


def unit_price(product: dict[str, Any], currency: str, rates: dict[str, Decimal]) -> Decimal:
    """The product's price in ``currency``: as the plan gives it, or converted with the plan's own rates
    (``rate`` = units of the base currency per unit of the currency)."""
    price, given = Decimal(product["price"]["amount"]), product["price"]["currency"]
    if currency == given:
        return price
    return (price * rates.get(given, Decimal(1)) / rates[currency]).quantize(Decimal("0.01"))


class Demo:
    def __init__(self) -> None:
        self.urls = service_urls()
        self.data_dir = Path(os.environ.get("XBM_DATA_DIR", "var")).resolve()
        self.out = self.data_dir / "demo"
        self.http = {name: httpx.Client(base_url=url, timeout=30) for name, url in self.urls.items()}
        self.keys: dict[str, str] = {}
        self.tokens: dict[str, str] = {}

    # --- plumbing ---------------------------------------------------------------------------------------------
    def call(self, service: str, method: str, path: str, role: str = "admin", **kw: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}", **kw.pop("headers", {})}
        response = self.http[service].request(method, path, headers=headers, **kw)
        if response.status_code >= 400:
            raise SystemExit(f"{service} refused {method} {path}: {response.status_code} {response.text}")
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else None

    def xbm(self, *args: str) -> str:
        env = {
            **os.environ,
            "XBM_API_KEY": self.keys["admin"],
            "XBM_CONFIG_DIR": self.config_dir,
            **{f"XBM_{n.upper()}_URL": u for n, u in self.urls.items()},
        }
        done = subprocess.run(
            [sys.executable, "-m", "xbm.cli.main", *args], env=env, capture_output=True, text=True, cwd=ROOT
        )
        if done.returncode != 0:
            raise SystemExit(f"xbm {' '.join(args)} failed ({done.returncode}): {done.stderr}")
        return done.stdout.strip()

    def wait(self, what: str, check: Any, seconds: float = 30) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.5)
        raise SystemExit(f"timed out waiting for {what}")

    # --- the season ---------------------------------------------------------------------------------------------
    def _bootstrap_token(self) -> str:
        token = os.environ.get("XBM_BOOTSTRAP_TOKEN", "").strip()
        if token:
            return token
        path = self.data_dir / "bootstrap_token"
        try:
            return path.read_text().strip()
        except OSError:
            raise SystemExit(
                f"no bootstrap token at {path}: run `make demo` from the directory `make run` was started in, "
                "or give it the same XBM_DATA_DIR (or XBM_BOOTSTRAP_TOKEN)"
            ) from None

    def organisation(self) -> None:
        for name, url in self.urls.items():
            try:
                httpx.get(f"{url}/readyz", timeout=3).raise_for_status()
            except httpx.HTTPError as exc:
                raise SystemExit(f"{name} is not ready at {url} ({exc}); start the services with `make run`") from exc
        token = self._bootstrap_token()
        self.out.mkdir(parents=True, exist_ok=True)
        # an organisation per run, so a second run plays a fresh season beside the first instead of colliding
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        created = self.http["plans"].post(
            "/v1/orgs", json={"name": f"Company A (demo {stamp})"}, headers={"X-Bootstrap-Token": token}
        )
        if created.status_code != 201:
            raise SystemExit(f"cannot create the organisation: {created.status_code} {created.text}")
        self.keys["admin"] = created.json()["admin_api_key"]
        self.org_id = str(created.json()["org"]["id"])
        self.key_file = self.out / "api_key"
        # kept for exploring afterwards (`xbm login`); 0600 from the start, as the CLI keeps its token
        fd = os.open(self.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.keys["admin"] + "\n")
        self.tokens["admin"] = self._token(self.keys["admin"])
        for role in ROLES:
            key = self.call("plans", "POST", "/v1/api-keys", json={"name": f"demo {role}", "role": role})["key"]
            self.keys[role], self.tokens[role] = key, self._token(key)

    def _token(self, key: str) -> str:
        return str(self.http["plans"].post("/v1/auth/token", json={"api_key": key}).json()["access_token"])

    def plan(self) -> tuple[str, list[dict[str, Any]], dict[str, dict[str, Any]]]:
        plan_id = self.xbm("plan", "import", str(PLAN_FILE))
        # the season runs on an active plan: its strategy locks and its SBUs go live
        health = self.call("plans", "GET", f"/v1/plans/{plan_id}/health", role="analyst")
        if not health["ready"]:
            raise SystemExit(f"Company A's plan is not ready: {health['findings']}")
        self.call("plans", "POST", f"/v1/plans/{plan_id}/activate", role="executive", json={})
        sbus = self.call("plans", "GET", f"/v1/plans/{plan_id}/sbus?limit=200", role="analyst")["items"]
        # the season sells what the plan prices: every order and every conversion below at its product's price
        listed = self.call("plans", "GET", f"/v1/plans/{plan_id}/products?limit=200", role="analyst")["items"]
        fx = self.call("plans", "GET", f"/v1/plans/{plan_id}", role="analyst")["fx_rates"]
        self.rates = {r["currency"]: Decimal(r["rate"]) for r in fx}
        return plan_id, sbus, {p["id"]: p for p in listed}

    def campaigns(
        self, sbus: list[dict[str, Any]], products: dict[str, dict[str, Any]]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        # kind, name, settings and budget (USD, over 30 days); `daily` below gives a day's cost and conversions: each
        # campaign spends about its share of days (on pace) and returns four to five times its cost at the plan's
        # prices
        kinds = [
            ("sem", "Search", {"keywords": [{"text": "office golf simulator", "match_type": "phrase",
                                             "max_cpc": "2.50"}]}, "30000.00"),
            ("live_broadcast", "Live setup demos", {"platform": "alibaba_live", "host": "Coach Lin"}, "10000.00"),
            ("social", "LinkedIn", {"platform": "linkedin", "handles": ["@company-a"]}, "5000.00"),
        ]  # fmt: skip
        start = date.today() - timedelta(days=13)
        made = []
        for index, sbu in enumerate(sbus[:3]):
            kind, label, settings, budget = kinds[index]
            body = {
                "sbu_id": sbu["id"],
                "kind": kind,
                "name": f"{label} — {sbu['need']}",  # the need in full: names are never cut mid-word
                "budget": {"amount": budget, "currency": "USD"},
                "starts_on": str(start),
                "ends_on": str(start + timedelta(days=29)),
                "settings": settings,
            }
            if index == 0:  # the US search campaign the exports' utm_campaign names
                body["utm_campaign"] = UTM
            made.append(self.call("campaigns", "POST", "/v1/campaigns", role="specialist", json=body))
        cn = {
            "sbu_id": sbus[3]["id"],
            "kind": "service",
            "name": "WhatsApp service desk for site buyers, run from Hangzhou",
            "budget": {"amount": "20000.00", "currency": "CNY"},
            "starts_on": str(start),
            "ends_on": str(start + timedelta(days=29)),
            "utm_campaign": "gsk-cn-launch",
            "settings": {"channel": "whatsapp"},
        }
        made.append(self.call("campaigns", "POST", "/v1/campaigns", role="specialist", json=cn))
        for campaign in made:
            for to in ("scheduled", "running"):
                self.call(
                    "campaigns",
                    "POST",
                    f"/v1/campaigns/{campaign['id']}/transitions",
                    role="specialist",
                    json={"to": to},
                )

        experiment = self.call(
            "campaigns",
            "POST",
            f"/v1/campaigns/{made[0]['id']}/experiments",
            role="specialist",
            json={
                "name": "Landing page: old vs office-setup video",
                "metric": "conversion_rate",
                "variants": [{"key": "old_page", "weight": 0.5}, {"key": "video_page", "weight": 0.5}],
                "alpha": 0.05,
                "method": "frequentist",
                "min_sample": 150,
            },
        )
        # the search campaign's two arms are written below; the CNY desk spends 700 CNY (about 97 USD) a day for
        # a kit sold
        daily: list[tuple[str, int]] = [("1000.00", 11), ("330.00", 3), ("200.00", 2), ("700.00", 1)]
        for index, campaign in enumerate(made):
            currency = "CNY" if campaign is made[-1] else "USD"
            # a conversion is one kit sold at the price the plan gives the SBU's product (in the campaign's
            # currency: the CNY campaign's at the plan's own rate)
            price = unit_price(products[sbus[index]["product_id"]], currency, self.rates)
            lines = ["date,variant,impressions,clicks,cost,conversions,revenue,currency"]
            cost, conversions = daily[index]
            for day in range(14):
                d = start + timedelta(days=day)
                if index == 0:  # the experiment's arms: 1.00 % against 1.75 % of 400 clicks a day convert
                    lines.append(f"{d},old_page,10000,400,500.00,4,{4 * price:.2f},{currency}")
                    lines.append(f"{d},video_page,10000,400,500.00,7,{7 * price:.2f},{currency}")
                else:
                    lines.append(
                        f"{d},,{8000 + 500 * index},{160 + 20 * index},{cost},"
                        f"{conversions},{conversions * price:.2f},{currency}"
                    )
            csv = self.out / f"metrics-{campaign['id']}.csv"
            csv.write_text("\n".join(lines) + "\n")
            self.xbm("metrics", "push", campaign["id"], str(csv))
        self.call("campaigns", "GET", f"/v1/experiments/{experiment['id']}/analysis", role="analyst")  # reads only
        # the specialist records the decision: campaigns publishes experiment.decided, plans' report shows it
        analysis = self.call("campaigns", "POST", f"/v1/experiments/{experiment['id']}/decision", role="specialist")
        return made, analysis

    def compliance(self, products: dict[str, dict[str, Any]]) -> tuple[list[str], list[str]]:
        """Company A as the exporter it is: USD orders of buyers abroad from its own site (9610) and its
        Alibaba.com store (B2B, 9710), the receipts of their payments, the waybills, and customs' receipts
        through to closed. A B2B order above ¥5,000 (five kits) is not listed: XBM holds it for a customs
        declaration (报关单), and the demo records the one its broker made. Returns the orders released (closed)
        and those the broker declared."""
        profile = {
            "ebc_code": EBP,
            "ebc_name": "Company A Trading (Hangzhou)",
            "agent_code": "3301980ABC",
            "agent_name": "Hangzhou Customs Broker",
            "assure_code": "3301960ABC",
            "customs_code": "2991",
            "port_code": "2991",
            "trade_mode": "9610",
            "statistics_flag": "A",
            "cop_code": EBP,
            "cop_name": "Company A Trading",
            # a DxpMsg id is one organisation's (unique across them): each season's organisation has its own
            "dxp_id": "DXPENT" + hashlib.sha256(self.org_id.encode()).hexdigest()[:10].upper(),
        }
        self.call("compliance", "PUT", "/v1/compliance/customs-profile", json=profile)
        for product in products.values():  # the item record customs declares each SKU of the plan with
            self.call(
                "compliance",
                "PUT",
                f"/v1/compliance/items/{product['sku']}",
                json={
                    "gname": product["name"],
                    "gmodel": product["sku"],
                    "hs_code": product["hs_code"],
                    "unit": "001",
                    "unit1": "001",
                    "qty1_per_unit": "1",
                    "net_weight_kg": "16.0",  # a kit without its packing (the waybill's 18.5 kg is gross)
                    "origin_country": "142",
                    "vat_rate": "0.13",
                    "consumption_tax_rate": "0",
                },
            )
        sources = {
            key: self.call("compliance", "POST", "/v1/compliance/sources", json=body)
            for key, body in {
                "site": {"name": "Company A site", "kind": "standard_webhooks", "role": "platform",
                         "ebp_code": EBP, "ebp_name": "Company A Golf"},
                "alibaba": {"name": "Alibaba.com store", "kind": "standard_webhooks", "role": "platform",
                            "ebp_code": ALIBABA, "ebp_name": "Alibaba.com"},
                "pay": {"name": "Card acquirer", "kind": "standard_webhooks", "role": "payment", "pay_code": PAY},
                "ship": {"name": "Cainiao Global", "kind": "standard_webhooks", "role": "logistics",
                         "logistics_code": LOGISTICS},
            }.items()
        }  # fmt: skip
        order, pay, ship = (
            json.loads((EXPORT_DIR / f"{kind}.json").read_text()) for kind in ("order", "payment", "waybill")
        )
        # the day's USD rate: B2B exports above ¥5,000 at it go to a customs declaration instead of the list
        today = datetime.now(CHINA).date().isoformat()
        rate = {"rate": "7.1307", "source": "PBOC central parity (demo figure)"}
        self.call("compliance", "PUT", f"/v1/compliance/exchange-rates/USD/{today}", json=rate)
        released: list[str] = []
        brokered: list[str] = []
        for sale in season_orders(products):
            source, ebp = (sources["alibaba"], ALIBABA) if sale.b2b else (sources["site"], EBP)
            order_no = f"GSK{uuid.uuid4().hex[:10].upper()}"
            buyer = {"name": sale.name, "telephone": sale.phone, "email": sale.email, "country": sale.country}
            party = {**order["consignee"], "name": sale.name, "telephone": sale.phone, "address": sale.address,
                     "country": sale.country}  # fmt: skip
            self._swh(source, "order", {
                **order, "order_no": order_no, "ebp_code": ebp, "trade_mode": "9710" if sale.b2b else "9610",
                "goods_value": sale.goods, "freight": sale.freight, "actual_paid": sale.paid, "utm_campaign": UTM,
                "destination_country": sale.country, "buyer": buyer, "consignee": party,
                "items": [{**order["items"][0], "item_no": sale.sku, "name": sale.product, "qty": sale.qty,
                           "price": sale.price, "total": sale.goods}],
            })  # fmt: skip
            self._swh(sources["pay"], "payment", {
                **pay, "pay_code": PAY, "pay_transaction_id": f"ch_{order_no}", "order_no": order_no, "ebp_code": ebp,
                "payer": {"name": sale.name}, "amount_paid": sale.paid, "paid_at": datetime.now(UTC).isoformat(),
            })  # fmt: skip
            self._swh(sources["ship"], "waybill", {
                **ship, "logistics_code": LOGISTICS, "logistics_no": f"CN{order_no}", "order_no": order_no,
                "ebp_code": ebp, "freight": sale.freight, "destination_country": sale.country,
                "consignee": {k: party[k] for k in ("name", "telephone", "address")},
            })  # fmt: skip
            view = self.call("compliance", "GET", f"/v1/compliance/orders/{ebp}/{order_no}", role="analyst")
            if view["state"] == "needs_customs_declaration":
                path = f"/v1/compliance/orders/{ebp}/{order_no}/customs-declaration"
                self.call("compliance", "GET", path, role="integration")  # what the broker declares from
                entry = {"entry_id": f"2992{today.replace('-', '')}{len(brokered) + 1:06d}", "declared_on": today,
                         "note": "declared by Hangzhou Customs Broker"}  # fmt: skip
                self.call("compliance", "POST", f"{path}/declared", role="integration", json=entry)
                brokered.append(order_no)
                continue
            if view["state"] != "declared":
                raise SystemExit(f"order {order_no} is {view['state']}: {view['checks']}")
            xml = self.http["compliance"].get(
                f"/v1/compliance/declarations/{view['declaration_id']}/xml",
                headers={"Authorization": f"Bearer {self.tokens['integration']}"},
            )
            if xml.status_code != 200:
                raise SystemExit(f"order {order_no}'s inventory list cannot be built: {xml.text}")
            cop_no = etree.fromstring(xml.content).findtext(f".//{{{CEB}}}copNo") or ""
            receipts = [_order_receipt(ebp, order_no)] + [
                _inventory_receipt(ebp, order_no, cop_no, status) for status in (120, 399, 800, 899)
            ]  # accepted, cleared, released, closed
            for body in receipts:
                self.call("compliance", "POST", "/v1/compliance/messages", role="integration", content=body,
                          headers={"Content-Type": "application/xml"})  # fmt: skip
            view = self.call("compliance", "GET", f"/v1/compliance/orders/{ebp}/{order_no}", role="analyst")
            if view["state"] != "closed":
                raise SystemExit(f"order {order_no} is {view['state']} after customs' receipts")
            released.append(order_no)
        return released, brokered

    def _report_ready(self, plan_id: str, released: int) -> Any:
        """Plans learns of experiments and customs orders from events: wait until the report shows them."""

        def check() -> bool:
            html = (
                self.http["plans"]
                .get(f"/v1/plans/{plan_id}/report", headers={"Authorization": f"Bearer {self.tokens['analyst']}"})
                .text
            )
            return 'class="experiment"' in html and f'<tr><td>released</td><td class="num">{released}</td></tr>' in html

        return check

    def _shopify(self, source: dict[str, Any], order: dict[str, Any]) -> None:
        body = json.dumps(order).encode()
        digest = base64.b64encode(hmac.new(source["secret"].encode(), body, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Hmac-Sha256": digest,
            "X-Shopify-Topic": "orders/create",
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        }
        self._deliver(source, body, headers)

    def _swh(self, source: dict[str, Any], kind: str, data: dict[str, Any]) -> None:
        body = json.dumps({"type": kind, "data": data}).encode()
        msg_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(source["secret"]).sign(msg_id, now, body.decode()),
        }
        self._deliver(source, body, headers)

    def _deliver(self, source: dict[str, Any], body: bytes, headers: dict[str, str]) -> None:
        response = self.http["compliance"].post(source["webhook_path"], content=body, headers=headers)
        if response.status_code >= 300:
            raise SystemExit(f"webhook refused: {response.status_code} {response.text}")

    def run(self) -> None:
        with tempfile.TemporaryDirectory() as config_dir:
            self.config_dir = config_dir
            self.organisation()
            plan_id, sbus, products = self.plan()
            made, analysis = self.campaigns(sbus, products)
            released, brokered = self.compliance(products)

            def grid_known() -> Any:
                grid = self.call("plans", "GET", f"/v1/plans/{plan_id}/sbu-grid", role="analyst")
                known = [c for c in grid["cells"] if c["performance_known"]]
                return grid if len(known) >= len(made) else None

            grid = self.wait("campaigns' figures in plans' SBU grid", grid_known)

            def attributed() -> Any:
                perf = self.call("campaigns", "GET", f"/v1/campaigns/{made[0]['id']}/performance", role="analyst")
                return perf if perf["totals"]["attributed_orders"] >= len(released) else None

            cn_perf = self.wait("released orders to reach their campaign", attributed)
            self.wait(
                "the experiment's decision and the customs orders in plans' report",
                self._report_ready(plan_id, len(released)),
            )
            report = self.out / "plan-report.html"
            self.xbm("plan", "report", plan_id, "-o", str(report))
            customers = self.call("compliance", "GET", "/v1/compliance/customers/summary", role="analyst")

        print(f"\nCompany A — organisation {self.org_id}, plan {plan_id}")
        print(f"  plan report: {report}")
        print(f"  SBUs: {len(grid['cells'])}")
        for cell in grid["cells"]:
            if cell["performance_known"]:
                print(
                    f"    {cell['customer']['name']} × {cell['channel']['name']} × {cell['product']['name']}: "
                    f"spend {cell['spend']['amount']} {cell['spend']['currency']}, ROAS {Decimal(cell['roas']):.2f}"
                )
        winner = analysis.get("winner")
        print(f"  experiment: {analysis['decision']}" + (f" ({winner})" if winner else ""))
        totals = cn_perf["totals"]
        print(f"  B2B orders above ¥5,000 declared by the broker (报关单): {len(brokered)}")
        print(
            f"  export orders through customs to closed: {len(released)}; attributed to '{UTM}': "
            f"{totals['attributed_orders']} orders, {totals['attributed_revenue']['amount']} "
            f"{totals['attributed_revenue']['currency']}"
        )
        revenue = ", ".join(f"{m['amount']} {m['currency']}" for m in customers["revenue"])
        print(
            f"  customers (released orders): {customers['customers']} buyers, {customers['orders']} orders, {revenue}"
        )
        plans, campaigns, compliance = self.urls["plans"], self.urls["campaigns"], self.urls["compliance"]
        print(f"\nThe organisation's admin API key (kept in {self.key_file}):\n  {self.keys['admin']}")
        print("\nWhere to look (log in first: `xbm login` and paste the key, or set XBM_API_KEY):")
        print(f"  the report        xbm plan report {plan_id} -o plan.html   (or open {report})")
        print(f"  the SBU grid      GET {plans}/v1/plans/{plan_id}/sbu-grid")
        print(f"  the experiment    GET {campaigns}/v1/campaigns/{made[0]['id']}/experiments")
        print(f"  its analysis      GET {campaigns}/v1/experiments/{analysis['experiment_id']}/analysis")
        print(f"  customs orders    GET {compliance}/v1/compliance/orders")
        print("  who you are       xbm whoami")


def _stamp() -> str:
    time.sleep(0.002)  # customs orders its receipts by returnTime (to the millisecond)
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S%f")[:17]


def _order_receipt(ebp: str, order_no: str) -> bytes:
    guid = str(uuid.uuid4()).upper()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<CEB304Message xmlns="{CEB}" guid="{guid}" version="1.0"><OrderReturn><guid>{guid}</guid><ebpCode>{ebp}</ebpCode>
<ebcCode>{EBP}</ebcCode><orderNo>{order_no}</orderNo><returnStatus>120</returnStatus><returnTime>{_stamp()}</returnTime>
<returnInfo>order accepted</returnInfo></OrderReturn></CEB304Message>""".encode()


def _inventory_receipt(ebp: str, order_no: str, cop_no: str, status: int) -> bytes:
    guid = str(uuid.uuid4()).upper()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<CEB604Message xmlns="{CEB}" guid="{guid}" version="1.0"><InventoryReturn><guid>{guid}</guid>
<agentCode>3301980ABC</agentCode><copNo>{cop_no}</copNo><preNo>E2026{cop_no[-13:]}</preNo>
<invtNo>2991{cop_no[-14:]}</invtNo><ebcCode>{EBP}</ebcCode><ebpCode>{ebp}</ebpCode><orderNo>{order_no}</orderNo>
<statisticsFlag>A</statisticsFlag><returnStatus>{status}</returnStatus><returnTime>{_stamp()}</returnTime>
<returnInfo>demo receipt {status}</returnInfo></InventoryReturn></CEB604Message>""".encode()


if __name__ == "__main__":
    Demo().run()
