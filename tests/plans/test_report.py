"""The printable plan: the HTML carries the SWOT 2×2, the positioning, the target segments, the SBU grid and
one SVG bar per live SBU; rendered in headless Chromium it is a real, non-blank page."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from services.plans.sbus.service import apply_sbu_performance
from shared.context import context_of
from tests.plans.builders import post
from tests.plans.company_a import POSITIONING, build_strategy, build_tactics, sbu
from tests.support import Tenant, assert_problem

CHROMIUM = "/usr/bin/chromium"


async def company_a_report(plans: httpx.AsyncClient, tenant: Tenant, plans_app) -> tuple[str, list[dict]]:  # type: ignore[no-untyped-def]
    s = await build_strategy(plans, tenant)
    t = await build_tactics(plans, tenant, s)
    office = await post(
        plans,
        f"{s['base']}/sbus",
        sbu(t["executives"], t["alibaba"], t["kit"], "practise golf in the office", "strong", "40000"),
        tenant,
        "supervisor",
    )
    gift = await post(
        plans,
        f"{s['base']}/sbus",
        sbu(t["executives"], t["amazon"], t["kit"], "a gift for the boss", "weak", "15000"),
        tenant,
        "supervisor",
    )
    pros = await post(
        plans,
        f"{s['base']}/sbus",
        sbu(t["pros"], t["alibaba"], t["kit"], "practise golf in the office", "pseudo", "5000"),
        tenant,
        "supervisor",
    )
    await plans.post(
        f"/v1/sbus/{pros['id']}/retire", json={"reason": "pseudo-demand"}, headers=tenant.auth("supervisor")
    )
    async with context_of(plans_app).sessionmaker() as session:
        await apply_sbu_performance(
            session,
            tenant.org_id,
            office["id"],
            Decimal("12000"),
            Decimal("54000"),
            "USD",
            datetime(2027, 4, 1, tzinfo=UTC),
        )
        await session.commit()
    response = await plans.get(f"{s['base']}/report", headers=tenant.auth("analyst"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert_problem(await plans.get(f"{s['base']}/report", headers=tenant.auth("integration")), 403)
    return response.text, [office, gift]


async def test_report_html_has_the_plan(plans: httpx.AsyncClient, tenant: Tenant, plans_app) -> None:  # type: ignore[no-untyped-def]
    html, live = await company_a_report(plans, tenant, plans_app)
    assert "<script" not in html.lower()
    swot = re.search(r'<table class="swot">(.*?)</table>', html, re.S)
    assert swot, "no SWOT table"
    cells = re.findall(r'<td class="(strength|weakness|opportunity|threat)">(.*?)</td>', swot.group(1), re.S)
    assert [c[0] for c in cells] == ["strength", "weakness", "opportunity", "threat"]
    assert "patented swing sensor" in cells[0][1] and "kit fits a 3 m office" in cells[0][1]
    assert "unknown brand outside China" in cells[1][1] and "cheap copies" in cells[3][1]
    assert POSITIONING in html
    assert "High-end business people" in html and "Professional golfers" not in html.split("SBU grid")[0]
    svg = re.search(r"<svg[^>]*>(.*?)</svg>", html, re.S)
    assert svg, "no inline SVG chart"
    budget_bars = re.findall(r'<rect class="bar budget"[^>]*width="(\d+)"', svg.group(1))
    spend_bars = re.findall(r'<rect class="bar spend"[^>]*width="(\d+)"', svg.group(1))
    assert len(budget_bars) == len(live) == 2  # the retired SBU is in the grid, not in the chart
    assert len(spend_bars) == 1 and "spend not yet known" in svg.group(1)
    assert int(budget_bars[0]) > int(budget_bars[1]) > 0  # 40,000 against 15,000
    grid = html.split("SBU grid")[1]
    assert grid.count('<tr class="sbu ') == 3 and "not yet known" in grid and "4.50" in grid  # ROAS 54000/12000


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
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--screenshot={png}",
            "--window-size=1200,1600",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return png.read_bytes()


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Chromium is not installed (apt-get install chromium)")
async def test_report_renders_in_chromium(plans: httpx.AsyncClient, tenant: Tenant, plans_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    html, _ = await company_a_report(plans, tenant, plans_app)
    report, blank = tmp_path / "report.html", tmp_path / "blank.html"
    report.write_text(html, encoding="utf-8")
    blank.write_text("<!doctype html><html><body></body></html>", encoding="utf-8")
    rendered = _non_white_pixels(_screenshot(report, tmp_path / "report.png"))
    empty = _non_white_pixels(_screenshot(blank, tmp_path / "blank.png"))
    assert empty == 0  # the measure sees nothing on a blank page …
    assert rendered > 20_000, rendered  # … and text, table borders and bars on the report
