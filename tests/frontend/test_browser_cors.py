"""A frontend on another origin, in headless Chromium, against the three services running as real processes:
the listed origin signs in and works with plans and campaigns; an origin not listed is refused by the browser."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import pytest

from tests.frontend.browser import chromium, needs_chromium, static_origin
from tests.support import BOOTSTRAP_TOKEN, make_tenant
from tests.system.procs import stack_on_new_databases

pytestmark = [pytest.mark.system, pytest.mark.db, needs_chromium]
PAGES = Path(__file__).parent / "pages"


async def test_a_listed_origin_works_and_another_is_refused(tmp_path: Path, databases) -> None:  # type: ignore[no-untyped-def]
    with static_origin(PAGES) as allowed, static_origin(PAGES) as stranger:
        stack = await stack_on_new_databases(
            databases,
            tmp_path / "data",
            "cors",
            extra_env={
                "XBM_BOOTSTRAP_TOKEN": BOOTSTRAP_TOKEN,
                "XBM_CORS_ORIGINS": f"https://elsewhere.example, {allowed}",
            },
        )
        try:
            stack.wait_up()
            async with stack.client("plans") as plans:
                tenant = await make_tenant(plans)
                with chromium(tmp_path / "profile") as browser:
                    page = browser.open(f"{allowed}/flow.html")
                    out = page.evaluate(f"xbmFlow({json.dumps(stack.urls)}, {json.dumps(tenant.admin_key)})")
                    assert out["token_status"] == 200
                    assert out["create_status"] == 201 and out["location"] == f"/v1/plans/{out['plan_id']}"
                    assert out["create_etag"] and out["request_id"]
                    assert (out["again_status"], out.get("again_id")) == (201, out["plan_id"]), (
                        out
                    )  # the same plan again
                    assert out["read_status"] == 200 and out["read_etag"] == out["create_etag"]
                    assert out["stale_status"] == 412
                    assert (out["patch_status"], out["patched_name"]) == (200, "Renamed in the browser")
                    assert out["campaigns_status"] == 200 and out["campaigns"] == {"items": [], "next_cursor": None}
                    # errors reach the page too, readable: 401 problem+json
                    assert out["unauthorised_status"] == 401
                    assert out["unauthorised_type"].startswith("application/problem+json")

                    other = browser.open(f"{stranger}/flow.html")
                    for service, path in (("plans", "/v1/plans"), ("campaigns", "/v1/campaigns")):
                        init = {"headers": {"Authorization": f"Bearer {tenant.tokens['admin']}"}}
                        result = other.evaluate(
                            f"tryFetch({json.dumps(stack.urls[service] + path)}, {json.dumps(init)})"
                        )
                        assert result["refused"] and "Failed to fetch" in result["error"], result
                    body = {"name": "Not from here", "period_start": "2027-01-01", "period_end": "2027-12-31",
                            "base_currency": "USD", "trade_direction": "export"}  # fmt: skip
                    init = {
                        "method": "POST",
                        "headers": {
                            "Authorization": f"Bearer {tenant.tokens['admin']}",
                            "Content-Type": "application/json",
                        },
                        "body": json.dumps(body),
                    }
                    result = other.evaluate(
                        f"tryFetch({json.dumps(stack.urls['plans'] + '/v1/plans')}, {json.dumps(init)})"
                    )
                    assert result["refused"], result

                # the refused POST never ran: the organisation has the one plan the listed origin made
                listed = await plans.get("/v1/plans", headers=tenant.auth("analyst"))
                assert [p["name"] for p in listed.json()["items"]] == ["Renamed in the browser"]
                # seen from outside a browser: a preflight from the stranger gets no CORS headers at all
                preflight = await plans.options(
                    "/v1/plans", headers={"Origin": stranger, "Access-Control-Request-Method": "POST"}
                )
                assert not any(h.lower().startswith("access-control-") for h in preflight.headers)
                assert "origin" in preflight.headers.get("vary", "").lower()
                ok = await plans.options(
                    "/v1/plans",
                    headers={
                        "Origin": allowed,
                        "Access-Control-Request-Method": "POST",
                        "Access-Control-Request-Headers": "authorization, content-type, idempotency-key, if-match",
                    },
                )
                assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == allowed
                assert int(ok.headers["access-control-max-age"]) > 0
                allowed_headers = {h.strip().lower() for h in ok.headers["access-control-allow-headers"].split(",")}
                assert {"authorization", "content-type", "idempotency-key", "if-match"} <= allowed_headers
        finally:
            code = stack.stop(signal.SIGTERM)
        assert code == 0, stack.output()


async def test_no_origin_is_allowed_unless_listed(tmp_path: Path) -> None:
    """Without XBM_CORS_ORIGINS nothing changes for a browser: every cross-origin answer is unreadable."""
    from services.plans.app import create_app
    from services.plans.settings import PlansSettings

    app = create_app(PlansSettings(environment="test", data_dir=tmp_path, bootstrap_token="t", service_secret="s"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans") as client:
        response = await client.get("/healthz", headers={"Origin": "https://app.example.com"})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
