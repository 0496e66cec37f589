"""Huawei's documented business errors answered with HTTP 500 or 409 ("Error Codes",
EIP API Reference): a refusal fails fast with the vendor's words and is never taken
for a lost answer; "busy" is sent again, even a create, because it did not act."""

from __future__ import annotations

import time

import pytest

from ..conftest import Admin
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs


def creates(admin: Admin) -> list[dict[str, object]]:
    return [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]


@pytest.mark.parametrize(
    ("status", "code", "message"),
    [
        (500, "VPC.0504", "FloatIp is null."),
        (500, "VPC.0503", "Creating publicIp failed."),
        (500, "VPC.0304", "createBandwidth error. NO QUOTAS for shareBandwidthIP!"),
        (409, "VPC.0304", "createBandwidth error. NO QUOTAS for shareBandwidthIP!"),
    ],
)
def test_a_refused_create_fails_at_once_and_says_nothing_was_created(
    provider_server: ProviderProcess, admin: Admin, status: int, code: str, message: str
) -> None:
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": status,
         "code": code, "message": message}
    )  # fmt: skip
    res = EngineResource(provider_server, TYPE, "refused")
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=3))
    assert time.monotonic() - started < 10  # not the job deadline (600 s)
    details = info.value.details
    assert f"HTTP {status} {code}" in details and message in details
    assert "Nothing was created: every create call was refused" in details
    assert len(creates(admin)) == 1  # not sent again
    assert held(admin) == {}


def test_a_refused_chunk_fails_the_create_and_the_other_chunks_are_cleaned_up(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    """120 EIPs are three calls (50, 50, 20, sent at once); the second to arrive is
    refused with VPC.0504 (no address left): the create fails without waiting for its
    deadline, and what the other two made (70 or 100 EIPs) is released."""
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": 500,
         "code": "VPC.0504", "message": "FloatIp is null.", "after": 1}
    )  # fmt: skip
    res = EngineResource(provider_server, TYPE, "partly")
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=120))
    assert time.monotonic() - started < 60
    details = info.value.details
    assert "VPC.0504" in details and "FloatIp is null." in details
    made = sum(int(r["body"]["publicip_number"]) for r in creates(admin)) - int(
        next(r["body"]["publicip_number"] for r in creates(admin) if r["status"] == 500)
    )
    assert made in (70, 100) and f"Cleaned up: deleted {made} EIP(s)" in details
    assert "lost" not in details and "unknown" not in details
    assert {e["status"] for e in held(admin).values()} <= {"PENDING_DELETE"}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("VPC.0516", "The EIP is being used by a load balancer."),
        ("VPC.0518", "The EIP has firewall rules."),
    ],
)
def test_a_refused_release_fails_at_once_and_the_batch_stays(
    provider_server: ProviderProcess, admin: Admin, code: str, message: str
) -> None:
    res = EngineResource(provider_server, TYPE, "kept")
    res.up(inputs(count=2))
    admin.faults(
        {"operation": "BatchDeletePublicIp", "action": "error", "status": 500,
         "code": code, "message": message}
    )  # fmt: skip
    with pytest.raises(ProviderError) as info:
        res.destroy()
    assert f"HTTP 500 {code}" in info.value.details and message in info.value.details
    deletes = [r for r in admin.requests() if r["operation"] == "BatchDeletePublicIp"]
    assert len(deletes) == 1  # a refusal is not retried
    assert res.exists
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}


def test_a_busy_create_is_sent_again_and_makes_no_duplicate(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": 409,
         "code": "VPC.0512", "message": "The system is busy.", "times": 2}
    )  # fmt: skip
    res = EngineResource(provider_server, TYPE, "busy")
    res.up(inputs(count=3))
    assert len(creates(admin)) == 3
    assert len(res.outputs["eip_ids"]) == 3
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}


def test_a_shared_bandwidth_past_20_eips_is_refused_by_the_cloud(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    """Check refuses count > 20 for WHOLE; two batches on one shared bandwidth can
    still pass 20 together: the cloud refuses with VPC.0304 (500), at once."""
    shared = next(
        b["id"] for b in admin.state()["eip"]["bandwidths"].values() if b["share_type"] == "WHOLE"
    )
    whole = {"share_type": "WHOLE", "id": shared}
    first = EngineResource(provider_server, TYPE, "first")
    first.up(inputs(count=15, bandwidth=whole))
    second = EngineResource(provider_server, TYPE, "second")
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        second.up(inputs(count=10, bandwidth=whole))
    assert time.monotonic() - started < 10
    assert "HTTP 500 VPC.0304" in info.value.details
    assert "NO QUOTAS for shareBandwidthIP" in info.value.details
    assert "Nothing was created" in info.value.details
    assert_state_matches(first, admin)
    first.destroy()
    assert held(admin) == {}


def test_eips_a_create_left_in_error_fail_it_and_are_cleaned_up(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    """The job succeeds, yet two of its EIPs end in ERROR (a status the API Reference
    lists): the create fails, says which, and releases all five."""
    admin.faults({"operation": "BatchCreatePublicips", "action": "eip_error", "count": 2})
    res = EngineResource(provider_server, TYPE, "broken")
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=5))
    details = info.value.details
    assert "2 of the 5 new EIPs ended broken" in details and "(ERROR)" in details
    assert "Cleaned up: deleted 5 EIP(s)" in details
    assert {e["status"] for e in held(admin).values()} <= {"PENDING_DELETE"}
