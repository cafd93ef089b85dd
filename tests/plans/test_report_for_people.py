"""The report read as a CMO reads it, in headless Chromium with the print styles applied: pacing verdicts that say
what to do (over budget, at risk, behind), figures larger than their notes, money and ROAS to two decimals, every
lift with its interval and sample, and an old exchange rate flagged beside each figure it converted."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.frontend.browser import Page, chromium, needs_chromium
from tests.plans.example_plan import import_company_a
from tests.plans.test_report_sections import arm, deliver
from tests.support import Tenant

pytestmark = [pytest.mark.browser, needs_chromium]

TODAY = date.today()


def campaign(campaign_id: str, name: str, budget: str, day: int, variants: list[dict[str, Any]]) -> dict[str, Any]:
    """A 30-day campaign whose figures are of its ``day``-th day (today)."""
    start = TODAY - timedelta(days=day - 1)
    return {"campaign_id": campaign_id, "name": name, "kind": "sem", "status": "running", "currency": "USD",
            "budget": budget, "starts_on": start.isoformat(), "ends_on": (start + timedelta(days=29)).isoformat(),
            "variants": variants}  # fmt: skip


async def season(plans: httpx.AsyncClient, tenant: Tenant, rate_age_days: int) -> str:
    """Company A's plan with four USD campaigns at four paces, an experiment decided on one, a CNY spend on a USD
    budget converted at a CNY rate ``rate_age_days`` old; the report's HTML."""
    company = await import_company_a(plans, tenant)
    rate = {"currency": "CNY", "rate": "0.1387", "as_of": (TODAY - timedelta(days=rate_age_days)).isoformat(),
            "source": "PBOC central parity"}  # fmt: skip
    patched = await plans.patch(company.base, json={"fx_rates": [rate]}, headers=tenant.auth("executive"))
    assert patched.status_code == 200, patched.text
    office, gift = company.made["sbus"][0], company.made["sbus"][-1]
    assert gift["budget"]["currency"] == "USD"
    at = datetime.combine(TODAY, datetime.min.time(), UTC)
    campaigns = [
        # 8,400 of 5,000 spent on day 14 of 30: the "168 % of its budget, 47 % through its dates"
        campaign("c-over", "Overspent search", "5000", 14, [arm("old_page", 20000, 400, 8, "4200", "3992"),
                                                          arm("video_page", 20000, 400, 14, "4200", "6986")]),
        campaign("c-risk", "Running hot display", "5000", 9, [arm("", 10000, 100, 3, "3000", "1234.5")]),
        campaign("c-behind", "Slow social", "5000", 15, [arm("", 10000, 100, 3, "500", "1500")]),
        campaign("c-pace", "Steady email", "5000", 15, [arm("", 10000, 100, 3, "2500", "7777")]),
    ]  # fmt: skip
    for sbu_id, currency, spend, revenue, listed in (
        (office["id"], "USD", "14600", "21489.5", campaigns),
        (gift["id"], "CNY", "3000", "14970", []),
    ):
        data = {"sbu_id": sbu_id, "currency": currency, "spend": spend, "revenue": revenue, "roas": None,
                "as_of": at.isoformat(), "campaigns": listed}  # fmt: skip
        response = await deliver(plans, "campaigns", tenant.org_id, "sbu.performance_changed", data, at)
        assert response.json() == {"status": "applied"}, response.text
    decided = {"experiment_id": "exp-1", "campaign_id": "c-over", "decision": "winner", "winner": "video_page"}
    assert (await deliver(plans, "campaigns", tenant.org_id, "experiment.decided", decided, at)).status_code == 200
    response = await plans.get(f"{company.base}/report", headers=tenant.auth("analyst"))
    assert response.status_code == 200
    return response.text


def in_print(html: str, tmp_path: Path, expression: str) -> Any:
    """``expression`` evaluated on the report in headless Chromium with the print styles applied."""
    page_file = tmp_path / "report.html"
    page_file.write_text(html, encoding="utf-8")
    with chromium(tmp_path / "profile") as browser:
        page: Page = browser.open(page_file.as_uri())
        browser.call("Emulation.setEmulatedMedia", {"media": "print"}, session_id=page.session_id)
        assert page.evaluate("matchMedia('print').matches")
        return page.evaluate(expression)


READ = """(() => {
  const px = (el) => parseFloat(getComputedStyle(el).fontSize);
  const text = (el) => el.textContent.replace(/\\s+/g, " ").trim();
  // every note against the figure it annotates: its parent's text (a table cell, a paragraph, a chart label),
  // or, for a chart note standing in place of a spend bar, the budget figure of the same bar
  const notes = [...document.querySelectorAll(".note")].map((note) => {
    const figure = note.matches("text") ? note.closest("g").querySelector("text.value") : note.parentElement;
    return {note: text(note).slice(0, 60), note_px: px(note), figure: text(figure).slice(0, 60),
            figure_px: px(figure)};
  });
  const campaigns = [...document.querySelectorAll("tr.campaign")].map((row) => ({
    name: text(row.cells[0]), verdict: text(row.querySelector(".pacing")), figures_px: px(row.cells[3]),
  }));
  const lifts = [...document.querySelectorAll("td.lift")].map(text);
  const stale = [...document.querySelectorAll(".stale-rate")].map((el) => ({
    text: text(el), where: (el.closest("tr.sbu, p.totals, section.fx, svg") || {className: "?"}).className,
    beside: text(el.closest("td, p, text") || el),
  }));
  const grid_px = px(document.querySelector("table.sbu-grid td.num"));
  return {notes, campaigns, lifts, stale, grid_px, body: document.body.innerText};
})()"""


def relative_lift_interval(xt: int, nt: int, xc: int, nc: int) -> tuple[float, float, float]:
    """The relative lift of T over C and its 95 % delta-method interval, as docs/experiments.md states it."""
    mt, mc = xt / nt, xc / nc
    variance = mt * (1 - mt) / (mc**2 * nt) + mc * (1 - mc) * mt**2 / (mc**4 * nc)
    half = 1.959963984540054 * math.sqrt(variance)
    return mt / mc - 1, mt / mc - 1 - half, mt / mc - 1 + half


async def test_the_report_says_what_a_cmo_would(plans: httpx.AsyncClient, tenant: Tenant, tmp_path: Path) -> None:
    html = await season(plans, tenant, rate_age_days=330)
    seen = in_print(html, tmp_path, READ)

    verdicts = {c["name"].split("sem,")[0].strip(): c["verdict"] for c in seen["campaigns"]}
    assert verdicts == {
        "Overspent search": "over budget",  # 168 % spent, 46.7 % of the days: not "ahead of plan"
        "Running hot display": "at risk",  # 60 % spent, 30 % of the days
        "Slow social": "behind",  # 10 % spent, 50 % of the days
        "Steady email": "on pace",  # 50 % and 50 %
    }, seen["campaigns"]
    assert "168.0 % spent, 46.7 % of time" in seen["body"]
    assert "more than 10 points ahead of time" in seen["body"]  # the margin is stated

    # printed, every figure is larger than its note, and the tables' figures stay readable
    assert seen["notes"], "no notes read"
    small = [n for n in seen["notes"] if not n["note_px"] < n["figure_px"]]
    assert not small, json.dumps(small, ensure_ascii=False, indent=1)
    assert seen["grid_px"] >= 9 and all(c["figures_px"] >= 9 for c in seen["campaigns"]), seen

    # money to two decimals (rates such as "1 CNY = 0.1387 USD" are not money), ROAS to two
    body = re.sub(r"\s+", " ", seen["body"])
    money = re.sub(r"\b1 [A-Z]{3} = [\d.]+ [A-Z]{3}", "(rate)", body)  # "1 CNY = 0.1387 USD" is a rate
    amounts = re.findall(r".{0,30}?(?<![\d.,])(\d[\d,]*(?:\.\d+)?) (?:USD|CNY)\b", money)
    assert len(amounts) > 20, amounts
    bad = [a for a in amounts if not re.fullmatch(r"\d{1,3}(,\d{3})*\.\d\d", a)]
    assert not bad, bad
    roas = [figure.rstrip(",") for figure in re.findall(r"ROAS (\d[\d.,]*)", body)]
    assert len(roas) >= 6 and all(re.fullmatch(r"\d+\.\d\d", r) for r in roas), roas
    assert "ROAS 0.41" in body  # 1,234.50 of 3,000.00: 0.4115 is written to two places

    # the lift with its interval and the sample it rests on
    (lift,) = seen["lifts"]
    estimate, low, high = relative_lift_interval(14, 20000, 8, 20000)
    assert lift.startswith(f"{estimate * 100:+.1f} %"), lift
    assert f"95 % interval {low * 100:+.1f} % to {high * 100:+.1f} %" in lift, lift
    assert "14 of 20,000 impressions against 8 of 20,000" in lift, lift

    # the 330-day-old rate: flagged where it is listed and beside every figure it converted
    flags = seen["stale"]
    old = f"the CNY rate of {(TODAY - timedelta(days=330)).isoformat()} is 330 days old"
    assert flags and all(old in f["text"] for f in flags), flags
    assert all("older than 30 days" in f["text"] for f in flags), flags
    for f in flags:
        f["where"] = f["where"].split()[0] if isinstance(f["where"], str) else "chart"
    where = {f["where"] for f in flags}
    assert where == {"fx", "sbu", "totals", "chart"}, flags
    # in the grid beside the converted spend ("= … USD") and the unit cost, in the chart beside the spend bar
    assert any("CNY= 416.10 USD stale" in f["beside"] for f in flags if f["where"] == "sbu"), flags
    assert any(re.search(r"cost [\d,.]+ USD stale", f["beside"]) for f in flags if f["where"] == "sbu"), flags
    assert all("at 1 CNY = 0.1387 USD" in f["beside"] for f in flags if f["where"] == "chart"), flags


async def test_a_recent_rate_is_not_flagged(plans: httpx.AsyncClient, tenant: Tenant, tmp_path: Path) -> None:
    html = await season(plans, tenant, rate_age_days=30)
    seen = in_print(html, tmp_path, READ)
    assert seen["stale"] == [] and "stale" not in seen["body"]
    assert "1 CNY = 0.1387 USD" in seen["body"]  # the rate is still named beside what it converted
