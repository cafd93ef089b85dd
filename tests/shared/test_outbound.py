"""Which addresses webhooks may go to."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

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
