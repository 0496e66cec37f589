"""EipBatch through the real provider server, against the emulator: after every step
the emulator holds exactly the EIPs the state says the stack owns."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_batchip import BandwidthArgs, EipBatch
from pulumi_batchip.emulator import RunningEmulator

from ..conftest import Admin
from .conftest import stack_config
from .harness import (
    PROVIDER_KEY,
    UNKNOWN,
    CheckFailed,
    EngineResource,
    ProviderError,
    ProviderProcess,
    program_inputs,
)

TYPE = "pulumi-python:dynamic/batchip:EipBatch"
DIFF_SOME = provider_pb2.DiffResponse.DIFF_SOME
BATCH_KEY = "pulumi-batchip-batch"


def inputs(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("count", 3)
    kwargs.setdefault("bandwidth", BandwidthArgs(size=5, share_type="PER", name="edge-bw"))
    return program_inputs(lambda: [EipBatch("edge", **kwargs)])["edge"]


def held(admin: Admin) -> dict[str, dict[str, Any]]:
    return dict(admin.state()["eip"]["publicips"])


def assert_state_matches(res: EngineResource, admin: Admin) -> None:
    """The invariant: the cloud holds exactly the EIPs the state says we own (an EIP
    being deleted, PENDING_DELETE, is gone for this; ``held`` still counts it)."""
    ids = {i for i, e in held(admin).items() if e.get("status") != "PENDING_DELETE"}
    owned = set(res.outputs.get("eip_ids") or ()) if res.exists else set()
    assert ids == owned


@pytest.fixture
def res(provider_server: ProviderProcess, emulator: RunningEmulator) -> EngineResource:
    return EngineResource(provider_server, TYPE, "edge")


@pytest.fixture(scope="module")
def short_deadline_server(emulator_session: RunningEmulator) -> Iterator[ProviderProcess]:
    """A provider whose stack config sets a short EIP job deadline (job_hang tests)."""
    with ProviderProcess() as server:
        server.configure({**stack_config(emulator_session.url), "batchip:eipJobTimeout": "2"})
        yield server


def test_lifecycle_3_7_2_with_tags(res: EngineResource, admin: Admin) -> None:
    assert res.up(inputs(count=3, tags={"env": "prod"})) == "create"
    assert_state_matches(res, admin)
    first = list(res.outputs["eip_ids"])
    assert len(first) == 3
    assert len(res.outputs["public_ips"]) == 3
    assert all(res.outputs["public_ips"])
    assert len(res.outputs["bandwidth_ids"]) == 3
    assert res.id == res.outputs["batch_id"]
    for eip in held(admin).values():
        tags = _tags(eip)
        assert tags["env"] == "prod"
        assert tags["managed-by"] == "pulumi-batchip"
        assert tags[BATCH_KEY] == res.id

    before = len(admin.requests())
    assert res.up(inputs(count=3, tags={"env": "prod"})) == "same"
    assert len(admin.requests()) == before

    assert res.up(inputs(count=7, tags={"env": "prod"})) == "update"
    assert_state_matches(res, admin)
    assert res.outputs["eip_ids"][:3] == first  # the old ones keep their place

    assert res.up(inputs(count=2, tags={"env": "prod"})) == "update"
    assert_state_matches(res, admin)
    assert res.outputs["eip_ids"] == first[:2]  # the newest went first

    assert res.up(inputs(count=2, tags={"env": "staging", "team": "net"})) == "update"
    for eip in held(admin).values():
        tags = _tags(eip)
        assert tags["env"] == "staging" and tags["team"] == "net"
        assert tags[BATCH_KEY] == res.id
    assert res.outputs["tags"] == {"env": "staging", "team": "net"}

    res.destroy()
    assert held(admin) == {}


def _tags(eip: dict[str, Any]) -> dict[str, str]:
    raw = eip.get("tags")
    if isinstance(raw, dict):
        return dict(raw)
    return dict(t.split("*", 1) for t in raw or ())


@pytest.mark.parametrize(("count", "creates"), [(1, 1), (50, 1), (51, 2), (200, 4)])
def test_chunking(res: EngineResource, admin: Admin, count: int, creates: int) -> None:
    res.up(inputs(count=count))
    assert len(held(admin)) == count
    assert_state_matches(res, admin)
    ops = [r["operation"] for r in admin.requests()]
    assert ops.count("BatchCreatePublicips") == creates
    assert ops.count("ListPublicipsByTags") == 1
    res.destroy()
    assert held(admin) == {}


def test_preview_with_unknowns(res: EngineResource, admin: Admin) -> None:
    news = inputs(count=2)
    news["count"] = UNKNOWN
    assert res.preview(news) is None
    res.up(inputs(count=2))
    diff = res.preview(news)
    assert diff is not None and diff.changes == DIFF_SOME and list(diff.replaces) == []
    news = inputs(count=2)
    news["publicip_type"] = UNKNOWN
    diff = res.preview(news)
    assert diff is not None and "publicip_type" in diff.replaces
    assert len(held(admin)) == 2
    res.destroy()


def test_replace_on_ip_version_and_bandwidth_name(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=2))
    old = set(res.outputs["eip_ids"])
    assert res.up(inputs(count=2, ip_version=6)) == "replace"
    assert not old & set(res.outputs["eip_ids"])
    assert_state_matches(res, admin)
    assert all(":" in a for a in res.outputs["public_ips"])
    v6 = set(res.outputs["eip_ids"])
    assert res.up(inputs(count=2, ip_version=6, bandwidth=BandwidthArgs(size=5, name="b2"))) == (
        "replace"
    )
    assert not v6 & set(res.outputs["eip_ids"])
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}


def test_bandwidth_size_changes_in_place(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=3))
    ids = list(res.outputs["eip_ids"])
    assert res.up(inputs(count=4, bandwidth=BandwidthArgs(size=350, name="edge-bw"))) == "update"
    assert res.outputs["eip_ids"][:3] == ids  # the same EIPs, resized
    sizes = {e["bandwidth_size"] for e in held(admin).values()}
    assert sizes == {350}
    assert res.outputs["bandwidth"]["size"] == 350
    updates = [r for r in admin.requests() if r["operation"] == "UpdateBandwidth"]
    assert len(updates) == 3  # one per dedicated bandwidth; the new EIP was born at 350
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}


def test_shared_bandwidth(res: EngineResource, admin: Admin) -> None:
    shared = admin.state()["eip"]["bandwidths"]
    whole = next(i for i, b in shared.items() if b.get("share_type") == "WHOLE")
    res.up(inputs(count=3, bandwidth={"share_type": "WHOLE", "id": whole}))
    assert set(res.outputs["bandwidth_ids"]) == {whole}
    res.destroy()
    assert held(admin) == {}


def test_refresh_drops_deleted_and_up_recreates(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    from pulumi_batchip.config import resolve_huawei
    from pulumi_batchip.huawei.eip import EipClient

    res.up(inputs(count=3))
    victim = res.outputs["eip_ids"][1]
    outside = EipClient.from_settings(resolve_huawei(stack_config(emulator.url), {}))
    outside.delete_publicip(victim)
    outside.close()
    assert res.refresh() == "refreshed"
    assert victim not in res.outputs["eip_ids"]
    assert len(res.outputs["eip_ids"]) == 2
    assert_state_matches(res, admin)
    assert res.up(inputs(count=3)) == "update"
    assert len(res.outputs["eip_ids"]) == 3
    assert_state_matches(res, admin)
    res.destroy()


def test_refresh_gone(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=1))
    admin.reset()
    assert res.refresh() == "gone"


def test_job_fail_with_partial_creation_leaves_nothing(res: EngineResource, admin: Admin) -> None:
    admin.faults({"operation": "BatchCreatePublicips", "action": "job_fail", "created": 2})
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=5))
    details = info.value.details
    assert "FAIL" in details and "Cleaned up: deleted 2 EIP(s)" in details
    assert held(admin) == {}
    assert not res.exists


def test_job_hang_hits_deadline_and_cleans_up(
    short_deadline_server: ProviderProcess, admin: Admin
) -> None:
    res = EngineResource(short_deadline_server, TYPE, "hang")
    admin.faults({"operation": "BatchCreatePublicips", "action": "job_hang", "after": 1})
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=60))  # two chunks sent at once: whichever comes second hangs
    details = info.value.details
    assert "did not finish within 2 s" in details
    assert re.search(r"Cleaned up: deleted (50|10) EIP\(s\)", details), details
    assert held(admin) == {}


def test_lost_response_on_create_no_duplicate_no_leak(res: EngineResource, admin: Admin) -> None:
    admin.faults({"operation": "BatchCreatePublicips", "action": "lost_response"})
    res.up(inputs(count=4))
    assert len(held(admin)) == 4  # resolved by the batch tag, not sent again
    assert_state_matches(res, admin)
    creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
    assert len(creates) == 1
    res.destroy()
    assert held(admin) == {}


def test_reset_on_create_fails_cleanly(
    short_deadline_server: ProviderProcess, admin: Admin
) -> None:
    res = EngineResource(short_deadline_server, TYPE, "reset")
    admin.faults({"operation": "BatchCreatePublicips", "action": "reset"})
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=2))
    assert "answer to 1 create call(s) was lost" in info.value.details
    assert held(admin) == {}


@pytest.mark.parametrize("seed", [1, 2])
def test_throttling_bursts_on_every_operation(res: EngineResource, admin: Admin, seed: int) -> None:
    admin.reset(seed=seed)  # which calls are throttled is repeatable
    admin.faults({"operation": "*", "action": "throttle", "times": 0, "probability": 0.3})
    res.up(inputs(count=3, tags={"a": "1"}))
    assert_state_matches(res, admin)
    res.up(inputs(count=5, tags={"a": "2"}))
    assert_state_matches(res, admin)
    res.refresh()
    res.up(inputs(count=1, tags={"a": "2"}))
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}
    throttled = [r for r in admin.requests() if r.get("fault") == "throttle"]
    assert throttled  # the bursts really happened


def test_quota_exceeded_is_clear_and_leaves_nothing(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    res.up(inputs(count=990))
    other = EngineResource(res.provider, TYPE, "other")
    with pytest.raises(ProviderError) as info:
        other.up(inputs(count=20))
    assert "VPC.0521" in info.value.details and "request id" in info.value.details
    assert len(held(admin)) == 990
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}


def test_delete_refused_while_bound(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=2))
    bound = res.outputs["eip_ids"][0]
    admin.post("eip/bind", {"publicip_id": bound, "port_id": "port-1"})
    with pytest.raises(ProviderError) as info:
        res.destroy()
    assert bound in info.value.details and "refusing to delete" in info.value.details
    assert len(held(admin)) == 2  # state intact
    admin.post("eip/unbind", {"publicip_id": bound})
    res.destroy()
    assert held(admin) == {}


def test_get_reads_without_owning(provider_server: ProviderProcess, admin: Admin) -> None:
    owner = EngineResource(provider_server, TYPE, "owner")
    owner.up(inputs(count=2, tags={"env": "prod"}))
    batch_id = owner.id
    assert batch_id is not None
    captured = program_inputs(lambda: [EipBatch.get("adopted", batch_id)])["adopted"]
    adopted = EngineResource(provider_server, TYPE, "adopted")
    assert adopted.get(batch_id, captured) == "read"
    assert sorted(adopted.outputs["eip_ids"]) == sorted(owner.outputs["eip_ids"])
    assert adopted.inputs["count"] == 2
    assert adopted.inputs["tags"] == {"env": "prod"}
    adopted.destroy()  # read-only: the engine drops it from state, deletes nothing
    assert len(held(admin)) == 2
    owner.destroy()
    assert held(admin) == {}


def test_provider_is_small_and_by_reference() -> None:
    provider = inputs()[PROVIDER_KEY]
    assert isinstance(provider, str) and len(provider) < 200


@pytest.mark.parametrize(
    ("kwargs", "prop"),
    [
        ({"count": 0}, "count"),
        ({"count": 1001}, "count"),
        ({"count": 2.5}, "count"),
        ({"publicip_type": "5_xyz"}, "publicip_type"),
        ({"ip_version": 5}, "ip_version"),
        ({"bandwidth": {"size": 0, "share_type": "PER"}}, "bandwidth.size"),
        ({"bandwidth": {"size": 301, "share_type": "PER"}}, "bandwidth.size"),
        ({"bandwidth": {"size": 1100, "share_type": "PER"}}, "bandwidth.size"),
        (
            {"bandwidth": {"size": 400, "share_type": "PER", "charge_mode": "traffic"}},
            "bandwidth.size",
        ),
        ({"bandwidth": {"size": 5, "share_type": "SHARED"}}, "bandwidth.share_type"),
        ({"bandwidth": {"share_type": "WHOLE"}}, "bandwidth.id"),
        (
            {"ip_version": 6, "bandwidth": {"share_type": "WHOLE", "id": "x"}},
            "bandwidth.share_type",
        ),
        ({"bandwidth": {"size": 5, "charge_mode": "flat"}}, "bandwidth.charge_mode"),
        ({"tags": {"bad key!": "v"}}, "tags"),
        ({"tags": {"k": "v" * 44}}, "tags"),
        ({"tags": {"pulumi-batchip-batch": "mine"}}, "tags"),
        ({"tags": {f"k{i}": "v" for i in range(9)}}, "tags"),
    ],
)
def test_bad_inputs_fail_check_before_any_call(
    res: EngineResource, admin: Admin, kwargs: dict[str, Any], prop: str
) -> None:
    with pytest.raises(CheckFailed) as info:
        res.up(inputs(**kwargs))
    assert prop in [p for p, _ in info.value.failures], info.value.failures
    assert admin.requests() == []


def test_eip_stripped_of_its_batch_tag_stays_tracked(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    from pulumi_batchip.config import resolve_huawei
    from pulumi_batchip.huawei.eip import EipClient

    res.up(inputs(count=2))
    stripped = res.outputs["eip_ids"][0]
    outside = EipClient.from_settings(resolve_huawei(stack_config(emulator.url), {}))
    outside.delete_tags(stripped, {BATCH_KEY: res.id or ""})
    outside.close()
    assert res.refresh() == "refreshed"
    assert stripped in res.outputs["eip_ids"]
    assert res.up(inputs(count=4)) == "update"  # growing counts only the tagged ones
    assert len(res.outputs["eip_ids"]) == 4
    assert res.outputs["eip_ids"][0] == stripped
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}
