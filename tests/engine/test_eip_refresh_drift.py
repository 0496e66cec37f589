"""Changes made behind Pulumi's back (a bandwidth size, a tag) show on refresh, and
the next up restores what the program asks."""

from __future__ import annotations

from pulumi_batchip.emulator import RunningEmulator

from ..conftest import Admin
from .eip_helpers import client_for
from .harness import EngineResource, ProviderProcess
from .test_eip_batch_engine import TYPE, held, inputs


def test_bandwidth_drift_shows_on_refresh_and_up_restores_it(
    provider_server: ProviderProcess, admin: Admin, emulator_session: RunningEmulator
) -> None:
    res = EngineResource(provider_server, TYPE, "drift")
    res.up(inputs(count=2))
    bandwidth = res.outputs["bandwidth_ids"][0]
    client = client_for(emulator_session.url)
    try:
        client.update_bandwidth_size(bandwidth, 50, "bandwidth", None)  # behind Pulumi's back
    finally:
        client.close()
    res.refresh()
    assert res.outputs["bandwidth"]["size"] == 50
    before = len(admin.requests())
    assert res.up(inputs(count=2)) == "update"
    resized = [r for r in admin.requests()[before:] if r["operation"] == "UpdateBandwidth"]
    assert len(resized) == 1
    sizes = {b["id"]: b["size"] for b in admin.state()["eip"]["bandwidths"].values()}
    assert sizes[bandwidth] == 5
    assert res.outputs["bandwidth"]["size"] == 5
    res.destroy()


def test_tags_changed_outside_show_on_refresh_and_up_restores_them(
    provider_server: ProviderProcess, admin: Admin, emulator_session: RunningEmulator
) -> None:
    res = EngineResource(provider_server, TYPE, "tag-drift")
    res.up(inputs(count=2, tags={"env": "prod"}))
    client = client_for(emulator_session.url)
    try:
        client.create_tags(res.outputs["eip_ids"][0], {"env": "dev"})  # behind Pulumi's back
    finally:
        client.close()
    res.refresh()
    assert res.outputs["tags"] == {"env": "dev"}
    assert res.up(inputs(count=2, tags={"env": "prod"})) == "update"
    for eip in held(admin).values():
        assert "env*prod" in eip["tags"]
    res.destroy()
