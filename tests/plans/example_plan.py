"""Company A's plan for the plans tests, from the one file `make demo` and `xbm plan import` use:
examples/company-a/plan.yaml, read by the CLI's own parser (xbm.cli.plan_file, which checks the file and
turns names into ids) and sent through the plans API over the in-process client, layer by layer, so that a
test can make its own probes between the layers (a too-dear product before the products, a pseudo-demand SBU
beside the file's SBUs, …). Every figure a test asserts about the plan is read from the file, not written again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import Tenant
from xbm.cli import plan_file

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "company-a" / "plan.yaml"
STRATEGY = ("environment_factors", "swot_items", "segments", "targeting", "positioning", "innovations")
# the clock the strategy lock reads (planning's today()); tests play the season on a day of the file's period
LOCK_CLOCK = "services.plans.planning.strategy_lock.today"


@dataclass
class CompanyA:
    """The imported plan: what was sent (bodies with ids resolved) and what plans answered, per layer."""

    parsed: plan_file.PlanFile
    plan: dict[str, Any]
    ids: dict[str, dict[str, str]] = field(default_factory=lambda: {k: {} for k, _, _ in plan_file.LISTS})
    sent: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    made: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    done: set[int] = field(default_factory=set)

    @property
    def base(self) -> str:
        return f"/v1/plans/{self.plan['id']}"

    @property
    def period_start(self) -> date:
        return date.fromisoformat(self.parsed.plan["period_start"])

    @property
    def period_end(self) -> str:
        return str(self.parsed.plan["period_end"])

    def named(self, kind: str, name: str) -> dict[str, Any]:
        """The object plans made for the file's ``name`` (a name, sku or ref) under ``kind``."""
        wanted = self.ids[kind][name]
        return next(made for made in self.made[kind] if made["id"] == wanted)

    def bodies(self, layer: str) -> list[dict[str, Any]]:
        """The bodies the file's steps of ``layer`` would send now (before they are sent)."""
        return [step.build(self.ids) for step in self.parsed.steps if (step.kind or step.label) == layer]

    def items(self, kind: str, **match: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(sent body, plans' answer) of the file's objects of ``kind`` whose body has the given values."""
        pairs = zip(self.sent.get(kind, []), self.made.get(kind, []), strict=True)
        return [(body, made) for body, made in pairs if all(body.get(k) == v for k, v in match.items())]

    def pseudo_demand(self) -> tuple[dict[str, Any], str]:
        """The file's customer whose need is a pseudo-demand, and that need."""
        for body, made in self.items("customers"):
            for need in body.get("needs") or []:
                if need["demand"] == "pseudo":
                    return made, str(need["statement"])
        raise AssertionError("the plan file has no pseudo-demand need")

    def untargeted_segments(self) -> list[dict[str, Any]]:
        (targeting,) = self.sent["targeting"]
        return [s for s in self.made["segments"] if s["id"] not in targeting["segment_ids"]]

    async def send(self, plans: httpx.AsyncClient, tenant: Tenant, *layers: str, role: str = "admin") -> None:
        """Send the file's steps of ``layers`` (file keys, or ``targeting``/``positioning``; all the steps not
        sent yet when none is given) in the file's order, remembering ids by name as ``xbm plan import`` does (and
        as ``make demo`` runs it, with an admin's key)."""
        for index, step in enumerate(self.parsed.steps):
            layer = step.kind or step.label
            if (layers and layer not in layers) or index in self.done:
                continue
            body = step.build(self.ids)
            path = step.path.format(plan_id=self.plan["id"])
            response = await plans.request(step.method, path, json=body, headers=tenant.auth(role))
            assert response.is_success, f"{step.label}: {response.status_code} {response.text}"
            answer = response.json()
            self.done.add(index)
            self.sent.setdefault(layer, []).append(body)
            self.made.setdefault(layer, []).append(answer)
            if step.kind and step.names:
                for name in step.names:
                    self.ids[step.kind][name] = str(answer["id"])


async def import_company_a(plans: httpx.AsyncClient, tenant: Tenant, *layers: str) -> CompanyA:
    """Create the file's plan, then send the given layers (the whole file when none is given)."""
    parsed = plan_file.parse(EXAMPLE.read_text(encoding="utf-8"))
    created = await plans.post("/v1/plans", json=parsed.plan, headers=tenant.auth("admin"))
    assert created.status_code == 201, created.text
    company = CompanyA(parsed=parsed, plan=created.json())
    await company.send(plans, tenant, *layers)
    return company


def play_on(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    """The strategy lock judges writes as of ``day`` (the file's period, whatever today's date is)."""
    monkeypatch.setattr(LOCK_CLOCK, lambda: day)


def amount(body: dict[str, Any], key: str) -> Decimal:
    return Decimal(str(body[key]["amount"]))
