"""EipBatch under hostile faults (each scenario was reproduced as a leak, a lie or a
stale state before): deadlines with jobs still running, slow answers, refused
credentials, ambiguous 5xx, bound EIPs on a count-down, a failing step after another,
bandwidth drift, state written by older code, and pins for surviving mutants."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_batchip import config as cfg
from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.eip_batch import EipBatchProvider
from pulumi_batchip.emulator import (
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.huawei.eip import BandwidthSpec, BatchCreateRequest, EipClient

from ..conftest import Admin, fresh_admin
from .conftest import HW_AK, HW_SK, stack_config
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs


@pytest.fixture(scope="module")
def slow_jobs() -> Iterator[RunningEmulator]:
    """Jobs take 3 s: longer than the short deadlines below."""
    with start_emulator(config=EmulatorConfig(job_seconds=3.0)) as running:
        yield running


@pytest.fixture
def slow_admin(slow_jobs: RunningEmulator) -> Iterator[Admin]:
    with fresh_admin(slow_jobs.url) as admin:
        yield admin


def server_with(url: str, **config: str) -> ProviderProcess:
    server = ProviderProcess()
    server.__enter__()
    server.configure({**stack_config(url), **config})
    return server


def test_deadline_with_jobs_still_running_leaves_nothing(
    slow_jobs: RunningEmulator, slow_admin: Admin
) -> None:
    """eipJobTimeout 1 s, jobs of 3 s, 120 EIPs: the create fails at the deadline, its
    cleanup waits for the three jobs, deletes their 120 EIPs, and says so truly."""
    server = server_with(slow_jobs.url, **{"batchip:eipJobTimeout": "1"})
    try:
        res = EngineResource(server, TYPE, "slow")
        with pytest.raises(ProviderError) as info:
            res.up(inputs(count=120))
    finally:
        server.__exit__(None, None, None)
    details = info.value.details
    assert "did not finish within 1 s" in details
    assert "Cleaned up: deleted 120 EIP(s)" in details and "none carries the tag now" in details
    time.sleep(4)  # longer than any job: nothing may appear later
    assert held(slow_admin) == {}


@pytest.mark.parametrize("operation", ["ShowResourcesJobDetail", "ListPublicips"])
def test_slow_answers_keep_to_the_deadline(
    slow_jobs: RunningEmulator, slow_admin: Admin, operation: str
) -> None:
    """Every answer of one operation takes 2.5 s and the deadline is 3 s: the create
    fails within the deadline plus the cleanup's own bound, and leaves nothing."""
    slow_admin.faults({"operation": operation, "action": "delay", "seconds": 2.5, "times": 0})
    server = server_with(slow_jobs.url, **{"batchip:eipJobTimeout": "3"})
    started = time.monotonic()
    try:
        res = EngineResource(server, TYPE, "slow")
        with pytest.raises(ProviderError):
            res.up(inputs(count=60))
    finally:
        server.__exit__(None, None, None)
    elapsed = time.monotonic() - started
    assert elapsed < 3 + 10 + 5, elapsed  # deadline + cleanup bound + one slow answer
    slow_admin.clear_faults()
    time.sleep(3.5)
    assert held(slow_admin) == {}


def test_refused_credentials_say_nothing_was_created(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    server = server_with(emulator_session.url, **{"huaweicloud:secretKey": "wrong-key"})
    try:
        res = EngineResource(server, TYPE, "denied")
        with pytest.raises(ProviderError) as info:
            res.up(inputs(count=3))
    finally:
        server.__exit__(None, None, None)
    details = info.value.details
    assert "Nothing was created: every create call was refused" in details
    assert "may remain" not in details and "Cleanup" not in details
    assert held(admin) == {}


def test_ambiguous_502_is_awaited_by_tag_then_cleaned(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    """A 502 on the create may come after the backend acted: never a plain failure.
    Here nothing landed: the EIPs are awaited by tag until the deadline, then the
    cleanup checks the tag is still empty, and says so."""
    admin.faults({"operation": "BatchCreatePublicips", "action": "error", "status": 502})
    server = server_with(emulator_session.url, **{"batchip:eipJobTimeout": "2"})
    try:
        res = EngineResource(server, TYPE, "bad-gateway")
        with pytest.raises(ProviderError) as info:
            res.up(inputs(count=3))
    finally:
        server.__exit__(None, None, None)
    details = info.value.details
    assert "the answer to 1 create call(s) was lost" in details
    assert "Cleaned up: deleted 0 EIP(s)" in details and "none carries the tag now" in details
    creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
    assert len(creates) == 1  # never sent again blindly
    assert held(admin) == {}


def test_a_502_that_did_not_act_is_sent_again_once_the_count_settles(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    """With time left, the EIPs of a create answered 502 that never appear (the tag
    count stays put 5 s after the create's other job finished) are sent again."""
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": 502, "after": 1}
    )
    server = server_with(emulator_session.url, **{"batchip:eipJobTimeout": "60"})
    try:
        res = EngineResource(server, TYPE, "resent")
        started = time.monotonic()
        res.up(inputs(count=60))  # chunks of 50 and 10: the second to arrive gets a 502
        took = time.monotonic() - started
        assert len(res.outputs["eip_ids"]) == 60
        assert_state_matches(res, admin)
        creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
        # The log is in answer order: the 502 may come before or after the other.
        refused = [c for c in creates if c["status"] == 502]
        assert len(creates) == 3 and len(refused) == 1
        assert sorted(c["body"]["publicip_number"] for c in creates[:2]) == [10, 50]
        # Exactly the refused chunk's EIPs, sent again (last: after the count settled).
        assert creates[2]["status"] == 200
        assert creates[2]["body"]["publicip_number"] == refused[0]["body"]["publicip_number"]
        assert 5.0 <= took < 30.0
        res.destroy()
    finally:
        server.__exit__(None, None, None)
    assert held(admin) == {}


def _wait_held(admin: Admin, count: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while len(held(admin)) != count:
        assert time.monotonic() < deadline, f"{len(held(admin))} EIPs, waited for {count}"
        time.sleep(0.1)


def test_a_lost_create_landing_after_the_resend_is_trimmed_at_once(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    """One create times out on the client (4 s) and lands at 10 s; the other's job is
    known, so the missing EIPs are sent again at 9 s or later, answered 3 s later: 60 +
    the surplus carry the tag, and the newest surplus is released before the up
    returns."""
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "delay", "seconds": 10},
        {"operation": "BatchCreatePublicips", "action": "delay", "seconds": 3, "after": 2},
    )
    server = server_with(
        emulator_session.url, **{"batchip:eipJobTimeout": "60", "batchip:httpTimeout": "4"}
    )
    try:
        res = EngineResource(server, TYPE, "late")
        res.up(inputs(count=60))
        assert len(res.outputs["eip_ids"]) == 60
        assert_state_matches(res, admin)
        ops = [r["operation"] for r in admin.requests()]
        assert ops.count("BatchCreatePublicips") == 3 and ops.count("BatchDeletePublicIp") == 1
        res.destroy()
    finally:
        server.__exit__(None, None, None)
    _wait_held(admin, 0)


def test_a_lost_create_landing_after_the_up_is_released_after_a_refresh(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    """Landing later still (14 s), its EIPs carry the batch tag: refresh shows them and
    the next up releases the surplus, so the cloud again holds what the state says."""
    admin.faults({"operation": "BatchCreatePublicips", "action": "delay", "seconds": 14})
    server = server_with(
        emulator_session.url, **{"batchip:eipJobTimeout": "60", "batchip:httpTimeout": "2"}
    )
    try:
        res = EngineResource(server, TYPE, "later")
        res.up(inputs(count=60))
        assert_state_matches(res, admin)
        creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
        # The delayed call is logged once answered (at 14 s): here, the other and the
        # re-send, as large as the lost one.
        assert len(creates) == 2
        surplus = creates[1]["body"]["publicip_number"]
        _wait_held(admin, 60 + surplus)
        res.refresh()
        assert len(res.outputs["eip_ids"]) == 60 + surplus
        assert res.up(inputs(count=60)) == "update"
        assert len(res.outputs["eip_ids"]) == 60
        assert_state_matches(res, admin)
        res.destroy()
    finally:
        server.__exit__(None, None, None)
    _wait_held(admin, 0)


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


def test_bandwidth_drift_shows_on_refresh_and_up_restores_it(
    provider_server: ProviderProcess, admin: Admin, emulator_session: RunningEmulator
) -> None:
    res = EngineResource(provider_server, TYPE, "drift")
    res.up(inputs(count=2))
    bandwidth = res.outputs["bandwidth_ids"][0]
    settings = HuaweiSettings(
        Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, emulator_session.url
    )
    client = EipClient.from_settings(settings)
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


OLD_STATE: dict[str, Any] = {
    # What a `.get` (and older code) stored: no charge_mode, no ip_version, no tags.
    "batch_id": "b1",
    "count": 2,
    "bandwidth": {"size": 5, "share_type": "PER"},
    "region": "cn-north-4",
    "project_id": DEFAULT_HW_PROJECT_ID,
    "eip_ids": ["e1", "e2"],
}


def test_state_from_older_code_is_migrated_not_replaced() -> None:
    provider = EipBatchProvider()
    news = {
        "count": 2,
        "publicip_type": "5_bgp",
        "ip_version": 4,
        "bandwidth": {"size": 5, "share_type": "PER", "charge_mode": "bandwidth"},
        "tags": {},
        "region": "cn-north-4",
        "project_id": DEFAULT_HW_PROJECT_ID,
    }
    diff = provider.diff("b1", dict(OLD_STATE), news)
    assert diff.changes is False and not diff.replaces


def test_default_job_deadline_is_ten_minutes() -> None:
    assert cfg.eip_job_timeout({}, {}) == 600.0


def test_adopting_eips_made_outside_pulumi(
    provider_server: ProviderProcess, admin: Admin, emulator_session: RunningEmulator
) -> None:
    """Two EIPs made by hand (no tag of ours) become members of a new batch, which
    tops up to its count; destroy then releases all of them."""
    settings = HuaweiSettings(
        Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, emulator_session.url
    )
    client = EipClient.from_settings(settings)
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


def test_delete_confirms_the_eips_are_gone(provider_server: ProviderProcess, admin: Admin) -> None:
    """A delete is done only when a list shows the EIPs gone (pins the wait)."""
    res = EngineResource(provider_server, TYPE, "confirm")
    res.up(inputs(count=2))
    before = len(admin.requests())
    res.destroy()
    after = [r["operation"] for r in admin.requests()[before:]]
    deleted_at = after.index("BatchDeletePublicIp")
    assert "ListPublicips" in after[deleted_at + 1 :]
    assert held(admin) == {}


def test_requests_as_the_vendor_documents_them(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    """What the provider sends by default, read from the emulator's request log:
    enterprise_project_id "0" on the create, all_granted_eps on every list, and a
    size for a shared (WHOLE) bandwidth too."""
    shared = next(
        b["id"] for b in admin.state()["eip"]["bandwidths"].values() if b["share_type"] == "WHOLE"
    )
    res = EngineResource(provider_server, TYPE, "fidelity")
    res.up(inputs(count=1))
    res.destroy()
    whole = EngineResource(provider_server, TYPE, "fidelity-whole")
    whole.up(inputs(count=1, bandwidth={"share_type": "WHOLE", "id": shared}))
    whole.destroy()
    log = admin.requests()
    creates = [r["body"] for r in log if r["operation"] == "BatchCreatePublicips"]
    assert [c["enterprise_project_id"] for c in creates] == ["0", "0"]
    assert [c["publicip"]["enterprise_project_id"] for c in creates] == ["0", "0"]
    # size always goes (the Go SDK never omits it); a shared one's is the minimum.
    assert creates[0]["bandwidth"]["size"] == 5 and creates[1]["bandwidth"]["size"] == 5
    lists = [r["query"] for r in log if r["operation"] == "ListPublicips"]
    assert lists and all(q["enterprise_project_id"] == ["all_granted_eps"] for q in lists)


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (403, "VPC.0008", "Forbidden: no permission for enterprise project"),
        (404, "APIGW.0101", "The API does not exist or has not been published"),
    ],
)
def test_tag_api_forbidden_falls_back_to_listing(
    provider_server: ProviderProcess, admin: Admin, status: int, code: str, message: str
) -> None:
    """Rights granted only through an enterprise project do not cover the tag APIs
    (403), and older references offer tag management only in some regions (404): the
    batch's EIPs are then found by listing them and matching their tags."""
    admin.faults(
        {
            "operation": "ListPublicipsByTags",
            "action": "error",
            "status": status,
            "code": code,
            "message": message,
            "times": 0,
        }
    )
    res = EngineResource(provider_server, TYPE, "ep-only")
    res.up(inputs(count=3))
    assert_state_matches(res, admin)
    assert f"the tag API answered {status}" in provider_server.stderr
    res.refresh()
    assert len(res.outputs["eip_ids"]) == 3
    res.destroy()
    assert held(admin) == {}
    listed = [r for r in admin.requests() if r["operation"] == "ListPublicips"]
    assert listed and all(r["status"] == 200 for r in listed)


def test_nothing_works_says_what_to_grant(provider_server: ProviderProcess, admin: Admin) -> None:
    res = EngineResource(provider_server, TYPE, "no-rights")
    res.up(inputs(count=1))
    for operation in ("ListPublicipsByTags", "ListPublicips"):
        admin.faults(
            {"operation": operation, "action": "error", "status": 403, "code": "APIGW.0302"}
            | {"times": 0}
        )
    with pytest.raises(ProviderError) as info:
        res.refresh()
    details = info.value.details
    assert "the tag API refused" in details and "listing the EIPs failed too" in details
    assert "Grant the EIP permissions on the project" in details
    admin.clear_faults()
    res.destroy()
    assert held(admin) == {}


def test_tag_change_refused_by_permissions_says_what_to_grant() -> None:
    """With the tag APIs forbidden (rights only through an enterprise project), the
    batch is still created, read and destroyed; a tag change fails with a clear
    message, not a raw 403."""
    with start_emulator(config=EmulatorConfig(job_seconds=0.2, tags_forbidden=True)) as emu:
        server = server_with(emu.url)
        admin = Admin(emu.url)
        try:
            res = EngineResource(server, TYPE, "ep-tags")
            res.up(inputs(count=2, tags={"env": "a"}))
            with pytest.raises(ProviderError) as info:
                res.up(inputs(count=2, tags={"env": "b"}))
            details = info.value.details
            assert "changing the tags was refused" in details
            assert "grant the EIP tag permissions on the project" in details
            res.destroy()
            assert not [e for e in held(admin).values() if e["status"] != "PENDING_DELETE"]
        finally:
            admin.close()
            server.__exit__(None, None, None)


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


def test_tags_changed_outside_show_on_refresh_and_up_restores_them(
    provider_server: ProviderProcess, admin: Admin, emulator_session: RunningEmulator
) -> None:
    res = EngineResource(provider_server, TYPE, "tag-drift")
    res.up(inputs(count=2, tags={"env": "prod"}))
    settings = HuaweiSettings(
        Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, emulator_session.url
    )
    client = EipClient.from_settings(settings)
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
