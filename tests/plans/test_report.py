"""The printable plan: the HTML carries the SWOT 2×2, the positioning, the target segments, the SBU grid and
one SVG bar per live SBU; rendered in headless Chromium it is a real, non-blank page."""

from __future__ import annotations

import itertools
import re
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
from markupsafe import escape

from services.plans.sbus.service import apply_sbu_performance
from shared.context import context_of
from tests.frontend.browser import CHROMIUM, HEADLESS, needs_chromium
from tests.plans.example_plan import CompanyA, amount, import_company_a
from tests.plans.support import money, post
from tests.support import Tenant, assert_problem


async def company_a_report(  # type: ignore[no-untyped-def]
    plans: httpx.AsyncClient, tenant: Tenant, plans_app
) -> tuple[str, CompanyA]:
    """The file's plan, a pseudo-demand SBU beside its SBUs (retired), and figures for its first SBU."""
    company = await import_company_a(plans, tenant)
    office = company.made["sbus"][0]
    golfers, need = company.pseudo_demand()
    pseudo = {**company.sent["sbus"][0], "customer_id": golfers["id"], "need": need, "demand": "pseudo"}
    pros = await post(plans, f"{company.base}/sbus", {**pseudo, "budget": money("5000")}, tenant, "supervisor")
    await plans.post(
        f"/v1/sbus/{pros['id']}/retire", json={"reason": "pseudo-demand"}, headers=tenant.auth("supervisor")
    )
    spring = company.period_start.replace(month=4)
    async with context_of(plans_app).sessionmaker() as session:
        await apply_sbu_performance(
            session,
            tenant.org_id,
            office["id"],
            Decimal("12000"),
            Decimal("54000"),
            "USD",
            datetime(spring.year, spring.month, spring.day, tzinfo=UTC),
        )
        await session.commit()
    response = await plans.get(f"{company.base}/report", headers=tenant.auth("analyst"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert_problem(await plans.get(f"{company.base}/report", headers=tenant.auth("integration")), 403)
    return response.text, company


async def test_report_html_has_the_plan(plans: httpx.AsyncClient, tenant: Tenant, plans_app) -> None:  # type: ignore[no-untyped-def]
    html, company = await company_a_report(plans, tenant, plans_app)
    live = company.made["sbus"]
    assert "<script" not in html.lower()
    swot = re.search(r'<table class="swot">(.*?)</table>', html, re.S)
    assert swot, "no SWOT table"
    cells = re.findall(r'<td class="(strength|weakness|opportunity|threat)">(.*?)</td>', swot.group(1), re.S)
    assert [c[0] for c in cells] == ["strength", "weakness", "opportunity", "threat"]
    for item in company.sent["swot_items"]:  # every item of the file in its quadrant
        assert escape(item["description"]) in dict(cells)[item["quadrant"]], item
    (positioning,) = company.sent["positioning"]
    assert escape(positioning["statement"]) in html
    (untargeted,) = company.untargeted_segments()
    targeted = [s for s in company.made["segments"] if s["id"] != untargeted["id"]]
    assert targeted and all(escape(s["name"]) in html for s in targeted)
    assert escape(untargeted["name"]) not in html.split("SBU grid")[0]
    svg = re.search(r"<svg[^>]*>(.*?)</svg>", html, re.S)
    assert svg, "no inline SVG chart"
    budget_bars = re.findall(r'<rect class="bar budget"[^>]*width="(\d+)"', svg.group(1))
    spend_bars = re.findall(r'<rect class="bar spend"[^>]*width="(\d+)"', svg.group(1))
    assert (
        len(budget_bars) == len(live) == len(company.bodies("sbus"))
    )  # the retired SBU is in the grid, not in the chart
    assert len(spend_bars) == 1 and "spend not yet known" in svg.group(1)
    # the bars follow the file's budgets (60,000 against 35,000, …), all longer than nothing
    budgets = [amount(body, "budget") for body in company.sent["sbus"]]
    widths = [int(w) for w in budget_bars]
    assert all(w > 0 for w in widths)
    for (b1, w1), (b2, w2) in itertools.combinations(zip(budgets, widths, strict=True), 2):
        assert (b1 > b2) == (w1 > w2) and (b1 < b2) == (w1 < w2), (budgets, widths)
    grid = html.split("SBU grid")[1]
    assert grid.count('<tr class="sbu ') == len(live) + 1 and "not yet known" in grid
    assert "4.50" in grid  # ROAS 54000/12000


def _non_white_pixels(png: bytes) -> int:
    """Count non-white pixels of an 8-bit RGB/RGBA PNG (what Chromium writes), decoding it with zlib."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos : pos + 8])
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", data[:10])
            assert depth == 8 and color in (2, 6), (depth, color)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    count = 0
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, upleft = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upleft
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upleft)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else upleft)
                line[i] = (line[i] + pred) & 0xFF
        count += sum(1 for x in range(0, stride, channels) if min(line[x : x + 3]) < 240)
        previous = line
    return count


def _screenshot(page: Path, png: Path) -> bytes:
    subprocess.run(
        [
            CHROMIUM,
            *HEADLESS,
            f"--screenshot={png}",
            "--window-size=1200,1600",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return png.read_bytes()


@needs_chromium
async def test_report_renders_in_chromium(plans: httpx.AsyncClient, tenant: Tenant, plans_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html, _ = await company_a_report(plans, tenant, plans_app)
    report, blank = tmp_path / "report.html", tmp_path / "blank.html"
    report.write_text(html, encoding="utf-8")
    blank.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
    rendered = _non_white_pixels(_screenshot(report, tmp_path / "report.png"))
    empty = _non_white_pixels(_screenshot(blank, tmp_path / "blank.png"))
    assert empty == 0  # the measure sees nothing on a blank page …
    assert rendered > 20_000, rendered  # … and text, table borders and bars on the report
