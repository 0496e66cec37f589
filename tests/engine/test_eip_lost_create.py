"""A create whose answer was lost: sent again only once nothing more can land, never
while its own job may still be running, and said truthfully when sending again is
refused. Driven through BatchOperations against the emulator; the long waits run on a
clock that skips ahead (the HTTP calls and the emulator's jobs keep real time)."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.eip_operations import (
    NO_JOB_SETTLE_SECONDS,
    BatchOperations,
    EipBatchError,
    batch_tags,
)
from pulumi_batchip.emulator import (
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.huawei.eip import BandwidthSpec, BatchCreateRequest, EipClient

from ..conftest import Admin, fresh_admin
from .conftest import HW_AK, HW_SK


class SkippingClock:
    """Monotonic time plus whatever the code under test slept: its waits take no time,
    while deadlines stay ahead of the real clock the HTTP layer reads."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.skipped += seconds
        time.sleep(0.02)


def _request(count: int, batch_id: str) -> BatchCreateRequest:
    bandwidth = BandwidthSpec(size=5, share_type="PER", name="bw")
    return BatchCreateRequest(count, "5_bgp", 4, bandwidth, tags=batch_tags(batch_id, {}))


def _client(url: str) -> EipClient:
    settings = HuaweiSettings(Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, url)
    return EipClient.from_settings(settings)


def _held(admin: Admin) -> int:
    return sum(
        1 for e in admin.state()["eip"]["publicips"].values() if e["status"] != "PENDING_DELETE"
    )


@pytest.fixture
def said() -> list[str]:
    return []


@pytest.fixture
def skipping(emulator: RunningEmulator, said: list[str]) -> Iterator[BatchOperations]:
    clock = SkippingClock()
    client = _client(emulator.url)
    yield BatchOperations(client, timeout=600.0, say=said.append, clock=clock, sleep=clock.sleep)
    client.close()


def test_with_no_job_known_the_count_must_stay_put_a_minute(
    skipping: BatchOperations, admin: Admin, said: list[str]
) -> None:
    admin.faults({"operation": "BatchCreatePublicips", "action": "error", "status": 502})
    ids = skipping.create(_request(3, "b-nojob"), "b-nojob", base=0)
    assert len(ids) == 3 and _held(admin) == 3
    creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
    assert len(creates) == 2
    assert any(
        f"did not appear {NO_JOB_SETTLE_SECONDS:.0f} s after it: sending those 3 again" in line
        for line in said
    ), said
    skipping.delete(ids)


def test_a_refused_resend_is_said_as_refused(
    emulator: RunningEmulator, admin: Admin, said: list[str]
) -> None:
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": 502},
        {
            "operation": "BatchCreatePublicips",
            "action": "error",
            "status": 409,
            "code": "VPC.0521",
            "message": "Quota exceeded",
            "after": 1,
        },
    )
    clock = SkippingClock()
    client = _client(emulator.url)
    ops = BatchOperations(client, timeout=200.0, say=said.append, clock=clock, sleep=clock.sleep)
    try:
        with pytest.raises(EipBatchError) as info:
            ops.create(_request(3, "b-refused"), "b-refused", base=0)
        message = str(info.value)
        assert "found 0 of 3 EIPs of batch b-refused" in message
        assert "sending the 3 missing EIPs again was refused" in message
        assert "VPC.0521" in message
        assert "were sent again" not in message
        cleanup = ops.fail_with_cleanup("b-refused", info.value, operation="create")
        assert "deleted 0 EIP(s)" in str(cleanup)
    finally:
        client.close()
    assert _held(admin) == 0


@pytest.fixture(scope="module")
def seven_second_jobs() -> Iterator[RunningEmulator]:
    with start_emulator(config=EmulatorConfig(job_seconds=7.0)) as running:
        yield running


def test_a_lost_answer_is_not_sent_again_while_its_job_may_run(
    seven_second_jobs: RunningEmulator, said: list[str]
) -> None:
    """Every answer lost, the job takes 7 s (longer than the 5 s a known job's end
    would allow): the EIPs arrive and nothing is sent twice."""
    client = _client(seven_second_jobs.url)
    with fresh_admin(seven_second_jobs.url) as admin:
        admin.faults({"operation": "BatchCreatePublicips", "action": "lost_response"})
        try:
            ops = BatchOperations(client, timeout=60.0, say=said.append)
            ids = ops.create(_request(3, "b-slow"), "b-slow", base=0)
            assert len(ids) == 3
            operations = [r["operation"] for r in admin.requests()]
            assert operations.count("BatchCreatePublicips") == 1
            assert "BatchDeletePublicIp" not in operations
            ops.delete(ids)
        finally:
            client.close()


def test_no_resend_without_time_left_for_a_job(
    emulator: RunningEmulator, admin: Admin, said: list[str]
) -> None:
    """8 s deadline: when the count has settled (5 s after the other job ended) too
    little time is left for a job and its settling, so nothing is sent again and the
    error says the lost call's EIPs did not appear."""
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": 502, "after": 1}
    )
    client = _client(emulator.url)
    ops = BatchOperations(client, timeout=8.0, say=said.append)
    try:
        with pytest.raises(EipBatchError) as info:
            ops.create(_request(60, "b-late"), "b-late", base=0)
        assert re.search(r"found (10|50) of 60 EIPs of batch b-late after 8 s", str(info.value))
        assert "and their EIPs did not appear" in str(info.value)
        creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
        assert len(creates) == 2
        assert not any("again" in line for line in said), said
        ops.fail_with_cleanup("b-late", info.value, operation="create")
    finally:
        client.close()
    assert _held(admin) == 0


def test_sent_again_at_most_twice(skipping: BatchOperations, admin: Admin, said: list[str]) -> None:
    """Every create answered 502, none acting: the first call and two re-sends, then
    the deadline, with an error that says what was sent again."""
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": 502, "times": 0}
    )
    with pytest.raises(EipBatchError) as info:
        skipping.create(_request(3, "b-twice"), "b-twice", base=0)
    creates = [r for r in admin.requests() if r["operation"] == "BatchCreatePublicips"]
    assert len(creates) == 3
    assert sum("sending those 3 again" in line for line in said) == 2, said
    assert "the answer to 1 create call(s) was lost, 6 EIPs were sent again" in str(info.value)
    assert _held(admin) == 0
