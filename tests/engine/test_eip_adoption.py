"""Adoption: EIPs made outside Pulumi become members of a new batch; a missing one
changes nothing."""

from __future__ import annotations

import time

import pytest

from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.huawei.eip import BandwidthSpec, BatchCreateRequest

from ..conftest import Admin
from .eip_helpers import client_for
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs


def test_adopting_eips_made_outside_pulumi(
    provider_server: ProviderProcess, admin: Admin, emulator_session: RunningEmulator
) -> None:
    """Two EIPs made by hand (no tag of ours) become members of a new batch, which
    tops up to its count; destroy then releases all of them."""
    client = client_for(emulator_session.url)
    try:
        client.batch_create_publicips(
            BatchCreateRequest(
                count=2,
                publicip_type="5_bgp",
                ip_version=4,
                bandwidth=BandwidthSpec(size=5, share_type="PER", name="by-hand"),
            )
        )
        deadline = time.monotonic() + 10
        while len(held(admin)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.close()
    outside = sorted(held(admin))
    assert len(outside) == 2
    res = EngineResource(provider_server, TYPE, "adopter")
    res.up(inputs(count=3, adopt_eip_ids=outside))
    assert set(outside) <= set(res.outputs["eip_ids"]) and len(res.outputs["eip_ids"]) == 3
    creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
    assert [r["body"]["publicip_number"] for r in creates] == [2, 1]  # by hand, top-up
    for eip in held(admin).values():  # every member carries the batch's tags now
        assert f"pulumi-batchip-batch*{res.id}" in eip["tags"]
    assert_state_matches(res, admin)
    # Adoption acts on create only: changing the inputs later changes nothing.
    before = len(admin.requests())
    assert res.up(inputs(count=3)) == "same"
    assert [r for r in admin.requests()[before:] if r["operation"].startswith("Batch")] == []
    res.destroy()
    assert held(admin) == {}


def test_adopting_a_missing_eip_changes_nothing(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    res = EngineResource(provider_server, TYPE, "adopt-missing")
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=1, adopt_eip_ids=["no-such-eip"]))
    assert "adopt_eip_ids: no EIP no-such-eip; nothing was changed" in info.value.details
    assert held(admin) == {}
