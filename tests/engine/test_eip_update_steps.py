"""An update's steps: a count-down never releases a bound EIP, a reversible step
comes before the release, and a failed grow undoes the retag and resize before it."""

from __future__ import annotations

import pytest

from ..conftest import Admin
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs


def test_count_down_refuses_to_release_a_bound_eip(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    res = EngineResource(provider_server, TYPE, "bound")
    res.up(inputs(count=5))
    newest = res.outputs["eip_ids"][-1]
    admin.post("eip/bind", {"publicip_id": newest, "port_id": "port-9"})
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=2))
    assert "would release 1 bound EIP(s)" in info.value.details
    assert newest in info.value.details and "nothing was changed" in info.value.details
    assert len(held(admin)) == 5
    assert_state_matches(res, admin)
    admin.post("eip/unbind", {"publicip_id": newest})
    res.destroy()
    assert held(admin) == {}


def test_failing_retag_releases_nothing(provider_server: ProviderProcess, admin: Admin) -> None:
    """Count 3 -> 1 plus a tag change whose tag call fails: the reversible step comes
    first, so nothing was released and cloud and state still agree."""
    res = EngineResource(provider_server, TYPE, "retag")
    res.up(inputs(count=3, tags={"env": "a"}))
    admin.faults(
        {"operation": "BatchCreatePublicipTags", "action": "error", "status": 400, "times": 0}
    )
    with pytest.raises(ProviderError):
        res.up(inputs(count=1, tags={"env": "b"}))
    admin.clear_faults()
    assert len(held(admin)) == 3
    assert_state_matches(res, admin)
    res.destroy()


def test_a_failed_grow_restores_tags_and_sizes(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    """Retag and resize succeed, then the grow fails: both are undone, so the cloud
    matches the state the engine keeps (found by the soak: the next `up` with the old
    values diffed as "same" while the cloud kept the new ones)."""
    res = EngineResource(provider_server, TYPE, "undo")
    res.up(inputs(count=2, tags={"run": "1"}))
    admin.faults({"operation": "BatchCreatePublicips", "action": "job_fail", "created": 0})
    with pytest.raises(ProviderError) as info:
        res.up(
            inputs(
                count=4,
                tags={"run": "1", "phase": "up"},
                bandwidth={"size": 10, "share_type": "PER", "name": "edge-bw"},
            )
        )
    assert "Restored the tags and bandwidth sizes changed before it" in info.value.details
    for eip in held(admin).values():
        assert "phase*up" not in eip["tags"]
    sizes = {
        b["size"] for b in admin.state()["eip"]["bandwidths"].values() if b["share_type"] == "PER"
    }
    assert sizes == {5}
    assert_state_matches(res, admin)
    assert res.up(inputs(count=2, tags={"run": "1"})) == "same"
    res.destroy()
