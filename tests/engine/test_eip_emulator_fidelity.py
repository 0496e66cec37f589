"""EipBatch through the provider server against the emulator's vendor-faithful
behaviours: asynchronous deletes (PENDING_DELETE first, gone later), a retried batch
delete, a batch delete naming an EIP that is already gone, and failed jobs ending with
FAILED or ERROR rather than FAIL.

The deletes run on an emulator of this module whose deletes take DELETE_SECONDS, long
enough that "the provider returned before the EIPs were gone" cannot pass unseen: each
test reads the emulator's state the moment the provider answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.emulator import (
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.huawei.eip import EipClient

from ..conftest import Admin, fresh_admin
from .conftest import BCE_AK, BCE_SK, HW_AK, HW_SK, stack_config
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs

DELETE_SECONDS = 1.5
# The provider's job deadline by default (README, "EipBatch"): a failed job must be
# reported long before it.
DEFAULT_JOB_DEADLINE = 600.0


@pytest.fixture(scope="module")
def slow_deletes() -> Iterator[RunningEmulator]:
    """Released EIPs stay PENDING_DELETE for DELETE_SECONDS; failed jobs end ERROR."""
    config = EmulatorConfig(job_seconds=0.2, delete_seconds=DELETE_SECONDS, job_fail_word="ERROR")
    with start_emulator(config=config) as running:
        yield running


@pytest.fixture(scope="module")
def server(slow_deletes: RunningEmulator) -> Iterator[ProviderProcess]:
    with ProviderProcess() as process:
        process.get_plugin_info()
        process.configure(stack_config(slow_deletes.url))
        yield process
        for secret in (BCE_AK, BCE_SK, HW_AK, HW_SK):
            assert secret not in process.stderr


@pytest.fixture
def slow_admin(slow_deletes: RunningEmulator) -> Iterator[Admin]:
    with fresh_admin(slow_deletes.url) as admin:
        yield admin


@pytest.fixture
def res(server: ProviderProcess, slow_admin: Admin) -> EngineResource:
    return EngineResource(server, TYPE, "fidelity")


def statuses(admin: Admin) -> dict[str, str]:
    return {i: e["status"] for i, e in held(admin).items()}


def operations_since(admin: Admin, start: int) -> list[tuple[str, Any, Any]]:
    return [(r["operation"], r["status"], r.get("fault")) for r in admin.requests()[start:]]


# --- asynchronous deletes ---------------------------------------------------------------------


def test_destroy_returns_only_once_nothing_is_pending_delete(
    res: EngineResource, slow_admin: Admin
) -> None:
    res.up(inputs(count=3))
    assert set(statuses(slow_admin).values()) == {"DOWN"}
    started = time.monotonic()
    res.destroy()
    assert held(slow_admin) == {}  # read the moment Delete answered: nothing left
    assert time.monotonic() - started >= DELETE_SECONDS  # it did wait for the release
    ops = [op for op, _status, _fault in operations_since(slow_admin, 0)]
    deleted_at = ops.index("BatchDeletePublicIp")
    assert ops[deleted_at + 1 :].count("ListPublicips") >= 2  # saw them pending, then gone


def test_count_down_returns_only_once_the_released_eips_are_gone(
    res: EngineResource, slow_admin: Admin
) -> None:
    res.up(inputs(count=4))
    started = time.monotonic()
    assert res.up(inputs(count=2)) == "update"
    assert statuses(slow_admin) == dict.fromkeys(res.outputs["eip_ids"], "DOWN")
    assert time.monotonic() - started >= DELETE_SECONDS
    assert_state_matches(res, slow_admin)
    res.destroy()
    assert held(slow_admin) == {}


def test_a_retried_batch_delete_converges_with_nothing_left(
    res: EngineResource, slow_admin: Admin
) -> None:
    """The first batch delete acts but its answer is lost: the client sends it again,
    and it lands on EIPs already PENDING_DELETE, which the emulator accepts."""
    res.up(inputs(count=3))
    before = len(slow_admin.requests())
    slow_admin.faults({"operation": "BatchDeletePublicIp", "action": "lost_response"})
    res.destroy()
    assert held(slow_admin) == {}
    deletes = [e for e in operations_since(slow_admin, before) if e[0] == "BatchDeletePublicIp"]
    assert deletes == [
        ("BatchDeletePublicIp", 200, "lost_response"),
        ("BatchDeletePublicIp", 200, None),
    ]


def test_a_batch_delete_naming_an_eip_already_gone_converges(
    res: EngineResource, slow_admin: Admin, slow_deletes: RunningEmulator
) -> None:
    """Someone else releases one EIP just after the provider listed the batch (still
    DOWN then), and it is gone when the provider's batch delete acts: 404 for the
    whole call (nothing released), and the provider goes on one by one."""
    res.up(inputs(count=3))
    victim = res.outputs["eip_ids"][1]
    before = len(slow_admin.requests())
    # The batch delete acts only once the outsider's release (below) is over.
    slow_admin.faults(
        {"operation": "BatchDeletePublicIp", "action": "delay", "seconds": DELETE_SECONDS + 1.0}
    )
    released = threading.Event()

    def outsider() -> None:
        """Release the victim as soon as the provider has listed the batch."""
        watcher = Admin(slow_deletes.url)
        settings = HuaweiSettings(
            credentials=Credentials(HW_AK, HW_SK),
            region="cn-north-4",
            project_id=DEFAULT_HW_PROJECT_ID,
            endpoint=slow_deletes.url,
        )
        client = EipClient.from_settings(settings)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if "ListPublicips" in watcher.operations()[before:]:
                    client.delete_publicip(victim)
                    released.set()
                    return
                time.sleep(0.01)
        finally:
            client.close()
            watcher.close()

    thread = threading.Thread(target=outsider)
    thread.start()
    try:
        res.destroy()
    finally:
        thread.join(timeout=30)
    assert released.is_set()
    assert held(slow_admin) == {}
    seen = operations_since(slow_admin, before)
    assert ("BatchDeletePublicIp", 404, "delay") in seen
    singles = sorted(status for op, status, _f in seen if op == "DeletePublicip")
    assert singles == [204, 204, 204, 404]  # the outsider's, then the provider's three


# --- failed jobs ending FAILED / ERROR ------------------------------------------------------


@pytest.mark.parametrize("word", ["FAILED", "ERROR", None])
def test_a_job_ending_with_another_failure_word_fails_promptly_and_cleans_up(
    res: EngineResource, slow_admin: Admin, word: str | None
) -> None:
    """job_status FAILED / ERROR on the rule, or (None) the emulator's own word, ERROR."""
    rule: dict[str, Any] = {"operation": "BatchCreatePublicips", "action": "job_fail"}
    slow_admin.faults(rule | {"created": 2} | ({"job_status": word} if word else {}))
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=5))
    elapsed = time.monotonic() - started
    details = info.value.details
    assert f"ended {word or 'ERROR'}" in details
    assert "Cleaned up: deleted 2 EIP(s)" in details
    assert held(slow_admin) == {}  # the cleanup, too, waited until they were gone
    assert not res.exists
    assert elapsed < 30 < DEFAULT_JOB_DEADLINE
