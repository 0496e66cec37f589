"""The EipBatch operations layer on a fake clock, against a small fake EIP client: job
polls, deadlines, the lost-create progress line, confirming a delete, and cleanup's
settling. No wait here takes real time."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence

import attrs
import pytest

from pulumi_batchip.errors import (
    CloudApiError,
    NotFoundError,
    RefusedError,
    ServerError,
    TransportError,
)
from pulumi_batchip.huawei.eip import (
    BandwidthSpec,
    BatchCreateRequest,
    EipClient,
    Job,
    PublicIp,
    TaggedResource,
)
from pulumi_batchip.huawei.operations import BatchOperations
from pulumi_batchip.huawei.outcome import CleanupOutcome
from pulumi_batchip.huawei.session import EipBatchError
from pulumi_batchip.huawei.tags import BATCH_TAG_KEY, batch_tags
from pulumi_batchip.resilience import POLL_MAX, REPORT_EVERY

from .fakes import FakeClock


@attrs.define
class FakeJob:
    job_id: str
    request: BatchCreateRequest
    rounds: int  # polls answered RUNNING before the job ends
    status: str = "SUCCESS"
    polls: int = 0


class FakeEips:
    """The few EIP calls the operations make, on a fake clock. ``rounds``: polls a job
    stays RUNNING; ``create_fails``: what each create call raises in turn (None: it
    answers); ``lands_at``: when a lost create's EIPs appear (never: None);
    ``leaving``: EIPs that stay PENDING_DELETE after a delete, for ever."""

    def __init__(self, clock: FakeClock, *, rounds: int = 0) -> None:
        self.clock = clock
        self.rounds = rounds
        self.job_status = "SUCCESS"
        self.create_fails: list[Exception | None] = []
        self.lands_at: float | None = None
        self.leaving: set[str] = set()
        self.eips: dict[str, PublicIp] = {}
        self.jobs: dict[str, FakeJob] = {}
        self.landing: list[BatchCreateRequest] = []
        self.calls: list[str] = []
        self._ids = itertools.count(1)

    def _make(self, request: BatchCreateRequest, status: str = "DOWN") -> None:
        for _ in range(request.count):
            n = next(self._ids)
            eip_id = f"eip-{n:03d}"
            self.eips[eip_id] = PublicIp(
                eip_id,
                status,
                public_ip_address=f"100.64.0.{n}",
                create_time=f"t{n:03d}",
                tags=dict(request.tags),
            )

    def _land(self) -> None:
        if self.lands_at is not None and self.clock() >= self.lands_at:
            for request in self.landing:
                self._make(request)
            self.landing.clear()

    def batch_create_publicips(self, request: BatchCreateRequest) -> str:
        self.calls.append("create")
        failure = self.create_fails.pop(0) if self.create_fails else None
        if failure is not None:
            if not isinstance(failure, RefusedError):
                self.landing.append(request)  # it acted; the answer was lost
            raise failure
        job_id = f"job-{len(self.jobs) + 1}"
        self.jobs[job_id] = FakeJob(job_id, request, self.rounds, self.job_status)
        return job_id

    def show_job(self, job_id: str) -> Job:
        self.calls.append("show_job")
        job = self.jobs[job_id]
        job.polls += 1
        if job.polls <= job.rounds:
            return Job(job_id, "RUNNING")
        if job.polls == job.rounds + 1 and job.status == "SUCCESS":
            self._make(job.request)
        return Job(job_id, job.status)

    def list_publicips_by_tags(self, tags: Mapping[str, Sequence[str]]) -> list[TaggedResource]:
        self.calls.append("list_by_tags")
        self._land()
        (key, values), *_ = tags.items()
        return [
            TaggedResource(e.id, tags=dict(e.tags))
            for e in self.eips.values()
            if e.tags.get(key) in values
        ]

    def list_publicips(self, ids: Sequence[str] | None = None) -> list[PublicIp]:
        self.calls.append("list")
        self._land()
        return [e for e in self.eips.values() if ids is None or e.id in ids]

    def show_publicip(self, publicip_id: str) -> PublicIp:
        if publicip_id not in self.eips:
            raise _huawei_error(NotFoundError, "ShowPublicip", 404, "gone")
        return self.eips[publicip_id]

    def batch_delete_publicips(self, ids: Sequence[str]) -> list[str]:
        self.calls.append("delete")
        for eip_id in ids:
            if eip_id in self.leaving:
                self.eips[eip_id] = attrs.evolve(self.eips[eip_id], status="PENDING_DELETE")
            else:
                self.eips.pop(eip_id, None)
        return list(ids)


def _ops(
    cloud: FakeEips, clock: FakeClock, said: list[tuple[float, str]], timeout: float = 60.0
) -> BatchOperations:
    def say(line: str) -> None:
        said.append((clock(), line))

    client: EipClient = cloud  # type: ignore[assignment]  # the calls the operations make
    return BatchOperations(
        client, timeout=timeout, say=say, clock=clock, sleep=clock.sleep, cleanup_timeout=20.0
    )


def _request(count: int, batch_id: str = "b1") -> BatchCreateRequest:
    bandwidth = BandwidthSpec(size=5, share_type="PER", name="bw")
    return BatchCreateRequest(count, "5_bgp", 4, bandwidth, tags=batch_tags(batch_id, {}))


def _huawei_error(
    cls: type[CloudApiError], operation: str, status: int, message: str, code: str | None = None
) -> CloudApiError:
    return cls(
        cloud="huawei",
        operation=operation,
        status=status,
        code=code,
        message=message,
        request_id=None,
    )


def _lost() -> TransportError:
    return TransportError(
        cloud="huawei", operation="BatchCreatePublicips", sent=True, cause="reset"
    )


Setup = tuple[FakeClock, FakeEips, list[tuple[float, str]], Callable[..., BatchOperations]]


@pytest.fixture
def setup() -> Setup:
    clock = FakeClock()
    cloud = FakeEips(clock)
    said: list[tuple[float, str]] = []
    return clock, cloud, said, lambda **kw: _ops(cloud, clock, said, **kw)


def test_a_job_reaching_success_after_n_rounds(setup: Setup) -> None:
    clock, cloud, said, make = setup
    cloud.rounds = 4
    ops = make()
    ids = ops.create(_request(3), "b1", base=0)
    assert len(ids) == 3
    assert cloud.calls.count("show_job") == 5  # four RUNNING, then SUCCESS
    # The pauses grow by half each round: 0.25, 0.375, 0.5625, 0.84375.
    assert clock.slept == pytest.approx([0.25, 0.375, 0.5625, 0.84375])
    lines = [line for _t, line in said]
    assert lines[0].startswith("job 1/1 RUNNING, 0/3 EIPs")  # said once, not every round
    assert lines[1].startswith("job 1/1 SUCCESS, 3/3 EIPs")
    assert len(lines) == 2


def test_a_long_job_says_it_is_alive_every_ten_seconds(setup: Setup) -> None:
    clock, cloud, said, make = setup
    cloud.rounds = 12  # about 40 s of RUNNING at the 5 s longest pause
    ops = make()
    ops.create(_request(3), "b1", base=0)
    alive = [(t - 1000.0, line) for t, line in said if line.startswith("jobs: ")]
    assert alive, said
    assert all(line.startswith("jobs: 0/1 finished, 0/3 EIPs created") for _t, line in alive)
    times = [0.0] + [t for t, _line in alive]
    assert all(later - earlier >= 10 for earlier, later in itertools.pairwise(times))
    assert clock() - 1000.0 > 30 and len(alive) >= 2


def test_jobs_past_the_deadline_are_named(setup: Setup) -> None:
    clock, cloud, _said, make = setup
    cloud.rounds = 10_000
    ops = make(timeout=30.0)
    started = clock()
    with pytest.raises(EipBatchError, match=r"jobs job-1, job-2 did not finish within 30 s"):
        ops.create(_request(60), "b1", base=0)
    assert 30.0 <= clock() - started < 30.0 + POLL_MAX
    assert max(clock.slept) <= POLL_MAX


def test_the_lost_create_line_is_said_at_most_every_10_s(setup: Setup) -> None:
    """Every answer lost, no job known: the EIPs are awaited by tag (nothing is sent
    again within a minute), and the unchanged count line is said every 10 s, not every
    round; when they land, the create returns them."""
    clock, cloud, said, make = setup
    cloud.create_fails = [_lost()]
    cloud.lands_at = clock() + 45.0
    ops = make(timeout=120.0)
    ids = ops.create(_request(3), "b1", base=0)
    assert len(ids) == 3 and cloud.calls.count("create") == 1
    waiting = [t for t, line in said if line.endswith("answer was lost: 0/3")]
    rounds = cloud.calls.count("list_by_tags")
    assert rounds > 2 * len(waiting)  # many looks, few lines
    gaps = [b - a for a, b in itertools.pairwise(waiting)]
    assert gaps and all(REPORT_EVERY <= gap <= REPORT_EVERY + POLL_MAX for gap in gaps), gaps
    assert len(waiting) == 5  # at 0, ~10, ~20, ~30, ~40 s


def test_a_lost_create_that_never_lands_says_so_at_the_deadline(setup: Setup) -> None:
    _clock, cloud, said, make = setup
    cloud.create_fails = [_lost()]
    ops = make(timeout=50.0)
    with pytest.raises(EipBatchError) as info:
        ops.create(_request(3), "b1", base=0)
    assert "found 0 of 3 EIPs of batch b1 after 50 s" in str(info.value)
    assert "the answer to 1 create call(s) was lost" in str(info.value)
    assert not any("again" in line for _t, line in said)  # a minute had not passed


def test_a_5xx_is_awaited_and_sent_again_once_the_count_settles(setup: Setup) -> None:
    """One chunk answered 502 (it did not act), the other's job known: 5 s after the
    count settled, only the missing EIPs are sent again."""
    _clock, cloud, said, make = setup
    cloud.create_fails = [
        None,
        _huawei_error(ServerError, "BatchCreatePublicips", 502, "bad gateway"),
    ]
    ops = make(timeout=120.0)
    ids = ops.create(_request(60), "b1", base=0)
    assert len(ids) == 60 and cloud.calls.count("create") == 3
    assert any(
        "did not appear 5 s after its jobs: sending those 10 again" in line for _t, line in said
    )


def test_new_eips_still_being_created_are_awaited(setup: Setup) -> None:
    clock, cloud, said, make = setup
    ops = make()
    cloud._make(_request(2), status="PENDING_CREATE")
    ids = list(cloud.eips)
    looks = iter(range(100))

    def ready_on_the_third_look(
        original: Callable[..., list[PublicIp]],
    ) -> Callable[..., list[PublicIp]]:
        def look(ids: Sequence[str] | None = None) -> list[PublicIp]:
            if next(looks) == 2:
                for eip_id in ids or ():
                    cloud.eips[eip_id] = attrs.evolve(cloud.eips[eip_id], status="DOWN")
            return original(ids)

        return look

    cloud.list_publicips = ready_on_the_third_look(cloud.list_publicips)  # type: ignore[method-assign]
    eips = ops.created(ids, new=ids)
    assert [e.status for e in eips] == ["DOWN", "DOWN"]
    assert clock.slept == pytest.approx([0.25, 0.375])
    assert [line for _t, line in said] == ["2 new EIPs are still being created"]


def test_confirm_gone_times_out_naming_what_is_left(setup: Setup) -> None:
    clock, cloud, _said, make = setup
    ops = make(timeout=30.0)
    cloud._make(_request(2))
    ids = list(cloud.eips)
    cloud.leaving.update(ids)
    started = clock()
    with pytest.raises(
        EipBatchError, match=r"2 EIPs still exist 30 s after their delete: eip-001, eip-002"
    ):
        ops.delete(ids)
    assert 30.0 <= clock() - started < 30.0 + POLL_MAX


def test_confirm_gone_returns_once_gone(setup: Setup) -> None:
    clock, cloud, _said, make = setup
    ops = make()
    cloud._make(_request(2))
    ids = list(cloud.eips)
    ops.details(ids)  # the list has shown them: its saying they are gone is believed
    ops.delete(ids)
    assert cloud.eips == {} and clock.slept == []
    assert ops.released == set(ids)


def test_cleanup_waits_for_a_running_job_then_says_it_did_not_settle(setup: Setup) -> None:
    """A job that never ends: cleanup waits its own 20 s, deletes what carries the tag
    and says EIPs may still appear."""
    clock, cloud, _said, make = setup
    cloud.rounds = 10_000
    ops = make(timeout=5.0)
    with pytest.raises(EipBatchError) as info:
        ops.create(_request(3), "b1", base=0)
    before = clock()
    outcome = ops.cleanup("b1")
    assert 20.0 <= clock() - before < 20.0 + POLL_MAX
    assert outcome == CleanupOutcome("b1", started=True, settled=False, settle_seconds=20.0)
    text = outcome.describe("create", info.value)
    assert text.startswith("EipBatch create failed: jobs job-1 did not finish within 5 s. ")
    assert "not every job it started had finished within 20 s" in text
    assert f"EIPs tagged {BATCH_TAG_KEY}*b1 may still appear" in text


def test_cleanup_deletes_what_a_failed_job_made(setup: Setup) -> None:
    _clock, cloud, _said, make = setup
    cloud.job_status = "FAIL"
    ops = make()
    cloud._make(_request(2))  # what the failed job left carrying the tag
    with pytest.raises(EipBatchError, match="ended FAIL") as info:
        ops.create(_request(2), "b1", base=0)
    error = ops.fail_with_cleanup("b1", info.value, operation="update")
    assert str(error).startswith("EipBatch update failed: job job-1 (1/1) ended FAIL")
    assert "Cleaned up: deleted 2 EIP(s) tagged pulumi-batchip-batch*b1 that it had created" in str(
        error
    )
    assert str(error).endswith("none carries the tag now.")
    assert cloud.eips == {}


def test_nothing_started_says_nothing_was_created(setup: Setup) -> None:
    _clock, cloud, _said, make = setup
    refused = _huawei_error(RefusedError, "BatchCreatePublicips", 409, "quota", code="VPC.0521")
    cloud.create_fails = [refused]
    ops = make()
    with pytest.raises(RefusedError):
        ops.create(_request(2), "b1", base=0)
    error = ops.fail_with_cleanup("b1", refused, operation="create")
    assert "Nothing was created: every create call was refused" in str(error)
    assert cloud.calls == ["create"]  # no settling, no look


def test_read_and_delete_run_under_an_operation_deadline(setup: Setup) -> None:
    """Every call of read and delete sees a deadline: no retry of theirs waits for ever.
    The least it leaves is one call's retry budget (a short job timeout included)."""
    from pulumi_batchip.huawei import lifecycle
    from pulumi_batchip.resilience import remaining_time

    clock, cloud, _said, make = setup
    seen: list[float | None] = []
    listing = cloud.list_publicips

    def list_publicips(ids: Sequence[str] | None = None) -> list[PublicIp]:
        seen.append(remaining_time(clock))
        return listing(ids)

    cloud.list_publicips = list_publicips  # type: ignore[method-assign]
    cloud._make(_request(2))
    ops = make(timeout=5.0)
    assert len(lifecycle.read_batch(ops, "b1", [])) == 2
    budget = lifecycle.ONE_CALL_SECONDS + lifecycle.PURGE_SECONDS
    assert seen and all(left is not None and 0 < left <= budget for left in seen)
    seen.clear()
    lifecycle.delete_batch(ops, "b1", [])
    assert cloud.eips == {}
    assert seen and all(left is not None and 0 < left <= budget for left in seen)
    assert remaining_time(clock) is None  # the deadline ends with the operation
