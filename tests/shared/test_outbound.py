"""Which addresses webhooks may go to."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.errors import Unprocessable
from shared.outbound import OutboundPolicy

PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")]


@given(st.sampled_from(PRIVATE), st.integers(min_value=0, max_value=2**16))
def test_private_addresses_are_refused_in_production(net: ipaddress.IPv4Network, offset: int) -> None:
    address = net.network_address + (offset % net.num_addresses)
    policy = OutboundPolicy.for_environment("production")
    assert not policy.address_allowed(str(address))
    assert not policy.address_allowed(f"::ffff:{address}")  # nor when written as IPv4-mapped IPv6


def test_loopback_only_in_development_and_allow_list_wins() -> None:
    assert OutboundPolicy.for_environment("development").address_allowed("127.0.0.1")
    assert not OutboundPolicy.for_environment("production").address_allowed("127.0.0.1")
    assert not OutboundPolicy.for_environment("production").address_allowed("::1")
    assert OutboundPolicy.for_environment("production", allow=["10.1.0.0/16"]).address_allowed("10.1.2.3")
    assert OutboundPolicy.for_environment("production").address_allowed("93.184.216.34")


async def test_production_webhooks_name_port_80_or_443_unless_allowed_and_refusals_name_no_address() -> None:
    async def public(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    async def internal(host: str, port: int) -> list[str]:
        return ["10.20.30.40"]

    production = OutboundPolicy.for_environment("production", resolver=public)
    await production.check_url("https://hooks.example.com/x")
    await production.check_url("http://hooks.example.com:80/x")
    with pytest.raises(Unprocessable, match="port 80, 443"):
        await production.check_url("https://hooks.example.com:6379/x")
    await OutboundPolicy.for_environment("production", resolver=public, ports=[8443]).check_url(
        "https://hooks.example.com:8443/x"
    )
    with pytest.raises(Unprocessable) as refused:
        await OutboundPolicy.for_environment("production", resolver=internal).check_url("https://hooks.example.com/")
    assert "10.20" not in refused.value.detail and "address XBM does not send to" in refused.value.detail
    # development keeps any port: local listeners use their own
    await OutboundPolicy.for_environment("development", resolver=public).check_url("http://hooks.example.com:9000/")
