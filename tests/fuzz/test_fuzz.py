"""Schemathesis against each service in-process, with an admin token of a fresh organisation: the examples,
coverage, fuzzing and stateful phases, checking that nothing is a server error, responses match their
schemas, every status code is declared in the OpenAPI document, and invalid input is refused.

Three runs per service: ids made up by schemathesis (unknown objects, malformed ids: examples and fuzzing);
ids of a world of real objects the organisation owns (examples, coverage and fuzzing, so every boundary and
invalid value of a body or query reaches the domain code); and stateful scenarios chaining what one call
created into the next. `make test` runs a small budget (XBM_FUZZ_EXAMPLES, default 5 per operation);
`make fuzz` a larger one, with the coverage phase for made-up ids too (XBM_FUZZ_FULL=1)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.fuzz.harness import FULL, Findings, fuzz_operations, fuzz_stateful, load_schema, session_for
from tests.security.operations import PARAM
from tests.security.support import BUILDERS, WorldGap
from tests.support import make_tenant

SERVICES = ("plans", "campaigns", "compliance")


@pytest.mark.parametrize("run", ["made-up ids", "real ids", "stateful"])
@pytest.mark.parametrize("service", SERVICES)
async def test_fuzz(
    service: str, run: str, apps: dict[str, Any], clients: dict[str, httpx.AsyncClient], plans: httpx.AsyncClient
) -> None:
    tenant = await make_tenant(plans)
    ids = None
    if run == "real ids":
        world = await BUILDERS[service](clients, apps, tenant)

        def ids(path: str) -> dict[str, str]:
            known = {}
            for name in PARAM.findall(path):
                try:
                    known[name] = world.value(path, name)
                except WorldGap:
                    pass  # the isolation matrix reports it; here schemathesis makes one up
            return known

    base_url = f"http://{service}"
    schema = load_schema(apps[service], base_url)
    findings = Findings(service)
    transport = httpx.ASGITransport(app=apps[service], raise_app_exceptions=False)  # a bug is a 500, reported
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
        session = session_for(client, asyncio.get_running_loop(), tenant.tokens["admin"])
        if run == "stateful":
            await asyncio.to_thread(fuzz_stateful, schema, session, findings)
        else:
            coverage = ids is not None or FULL
            await asyncio.to_thread(fuzz_operations, schema, session, findings, ids=ids, coverage=coverage)
    assert findings.calls > 0
    assert not findings.failures, findings.report()
