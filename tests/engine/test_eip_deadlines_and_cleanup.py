"""EipBatch keeps to its deadline and cleans up after a failed create: jobs still
running at the deadline, slow answers, refused credentials (nothing created), and a
delete that waits until the EIPs are gone."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from pulumi_batchip import config as cfg
from pulumi_batchip.emulator import EmulatorConfig, RunningEmulator, start_emulator

from ..conftest import Admin, fresh_admin
from .eip_helpers import failed_up, serving
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, held, inputs


@pytest.fixture(scope="module")
def slow_jobs() -> Iterator[RunningEmulator]:
    """Jobs take 3 s: longer than the short deadlines below."""
    with start_emulator(config=EmulatorConfig(job_seconds=3.0)) as running:
        yield running


@pytest.fixture
def slow_admin(slow_jobs: RunningEmulator) -> Iterator[Admin]:
    with fresh_admin(slow_jobs.url) as admin:
        yield admin


def test_deadline_with_jobs_still_running_leaves_nothing(
    slow_jobs: RunningEmulator, slow_admin: Admin
) -> None:
    """eipJobTimeout 1 s, jobs of 3 s, 120 EIPs: the create fails at the deadline, its
    cleanup waits for the three jobs, deletes their 120 EIPs, and says so truly."""
    details = failed_up(slow_jobs.url, "slow", 120, **{"batchip:eipJobTimeout": "1"}).details
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
    with serving(slow_jobs.url, **{"batchip:eipJobTimeout": "3"}) as server:
        started = time.monotonic()
        with pytest.raises(ProviderError):
            EngineResource(server, TYPE, "slow").up(inputs(count=60))
    elapsed = time.monotonic() - started
    assert elapsed < 3 + 10 + 5, elapsed  # deadline + cleanup bound + one slow answer
    slow_admin.clear_faults()
    time.sleep(3.5)
    assert held(slow_admin) == {}


def test_refused_credentials_say_nothing_was_created(
    emulator_session: RunningEmulator, admin: Admin
) -> None:
    refused = {"huaweicloud:secretKey": "wrong-key"}
    details = failed_up(emulator_session.url, "denied", 3, **refused).details
    assert "Nothing was created: every create call was refused" in details
    assert "may remain" not in details and "Cleanup" not in details
    assert held(admin) == {}


def test_default_job_deadline_is_ten_minutes() -> None:
    assert cfg.eip_job_timeout({}, {}) == 600.0


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
