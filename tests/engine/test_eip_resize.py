"""UpdateBandwidth as documented: without ``charge_mode`` the API makes a bandwidth
bandwidth-billed (API Reference, Table 4-62), so a resize always sends the charge
mode (and the bandwidth's name, as terraform does)."""

from __future__ import annotations

from ..conftest import Admin
from .harness import EngineResource, ProviderProcess
from .test_eip_batch_engine import TYPE, held, inputs


def test_a_resize_keeps_traffic_billing(provider_server: ProviderProcess, admin: Admin) -> None:
    traffic = {"size": 5, "share_type": "PER", "charge_mode": "traffic", "name": "edge-bw"}
    res = EngineResource(provider_server, TYPE, "traffic")
    res.up(inputs(count=2, bandwidth=traffic))
    assert res.up(inputs(count=2, bandwidth=dict(traffic, size=10))) == "update"
    bodies = [r["body"] for r in admin.requests() if r["operation"] == "UpdateBandwidth"]
    assert [b["bandwidth"] for b in bodies] == [
        {"size": 10, "charge_mode": "traffic", "name": "edge-bw"}
    ] * 2
    bandwidths = admin.state()["eip"]["bandwidths"]
    mine = [bandwidths[e["bandwidth_id"]] for e in held(admin).values()]
    assert [(b["size"], b["charge_mode"]) for b in mine] == [(10, "traffic")] * 2
    res.destroy()
    assert held(admin) == {}


def test_whole_bandwidth_size_is_never_resized(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    shared = next(
        b["id"] for b in admin.state()["eip"]["bandwidths"].values() if b["share_type"] == "WHOLE"
    )
    res = EngineResource(provider_server, TYPE, "whole")
    res.up(inputs(count=2, bandwidth={"share_type": "WHOLE", "id": shared, "size": 5}))
    before = len(admin.requests())
    res.up(inputs(count=2, bandwidth={"share_type": "WHOLE", "id": shared, "size": 50}))
    assert "UpdateBandwidth" not in [r["operation"] for r in admin.requests()[before:]]
    res.destroy()
