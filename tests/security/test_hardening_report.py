"""The plan report is served with a strict Content-Security-Policy its own markup satisfies."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from tests.plans.support import new_plan, post, ready_strategy, sbu_body, tactics


async def test_the_report_carries_strict_security_headers_and_needs_nothing_else(plans, tenant):
    plan = await new_plan(plans, tenant)
    segment = await ready_strategy(plans, tenant, plan["id"])
    parts = await tactics(plans, tenant, plan["id"], segment["id"])
    await post(plans, f"/v1/plans/{plan['id']}/sbus", sbu_body(*parts), tenant, "supervisor")
    response = await plans.get(f"/v1/plans/{plan['id']}/report", headers=tenant.auth("analyst"))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")

    directives = [d.split() for d in response.headers["content-security-policy"].split(";") if d.strip()]
    csp = {d[0]: d[1:] for d in directives}
    assert csp["default-src"] == ["'none'"] and csp["style-src"] == ["'unsafe-inline'"]
    assert csp["frame-ancestors"] == ["'none'"] and "script-src" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"

    # what the policy allows is all the page uses: inline styles and inline SVG; no script, nothing fetched
    doc = lxml_html.fromstring(response.text)
    assert not doc.xpath("//script | //link | //iframe | //object | //embed | //img | //form | //base")
    assert doc.xpath("//style") and doc.xpath("//*[local-name()='svg']")
    assert not [a for a in doc.xpath("//@*") if a.attrname.lower().startswith("on")]
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", response.text, re.I)
    assert "url(" not in response.text
