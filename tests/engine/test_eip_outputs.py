"""What a user reads from a new batch: addresses in numeric order (issue 23, item 5)."""

from __future__ import annotations

import ipaddress

from ..conftest import Admin
from .harness import EngineResource, ProviderProcess
from .test_eip_batch_engine import TYPE, held, inputs


def test_a_new_batch_lists_its_addresses_in_numeric_order(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    res = EngineResource(provider_server, TYPE, "ordered")
    res.up(inputs(count=12))
    addresses = res.outputs["public_ips"]
    assert addresses == sorted(addresses, key=ipaddress.ip_address)
    assert addresses != sorted(addresses)  # 100.64.0.10 comes after 100.64.0.9
    assert [e["id"] for e in res.outputs["eips"]] == res.outputs["eip_ids"]
    # Growing keeps the old order and appends the new ones.
    first = list(res.outputs["eip_ids"])
    res.up(inputs(count=14))
    assert res.outputs["eip_ids"][:12] == first
    # A decrease says what it released: the newest, by address and id.
    newest = list(zip(res.outputs["public_ips"][12:], res.outputs["eip_ids"][12:], strict=True))
    res.up(inputs(count=12))
    listed = ", ".join(f"{address} ({eip_id})" for address, eip_id in newest)
    assert f"releasing the 2 newest EIPs: {listed}" in provider_server.stderr
    res.destroy()
    assert held(admin) == {}


def test_progress_lines_read_as_words(provider_server: ProviderProcess, admin: Admin) -> None:
    """No Python lists or floats in what the user reads."""
    res = EngineResource(provider_server, TYPE, "worded")
    res.up(inputs(count=2, tags={"env": "dev"}))
    res.up(
        inputs(
            count=2,
            tags={"team": "edge"},
            bandwidth={"size": 10.0, "share_type": "PER", "name": "edge-bw"},
        )
    )
    err = provider_server.stderr
    assert "retagging 2 EIPs: team=edge, removing env" in err
    assert "to 10 Mbit/s" in err and "10.0" not in err
    res.destroy()
    assert held(admin) == {}
