"""The API-call floor of an EipBatch create + destroy, measured as the benchmark
measures it (the provider server over gRPC, the benchmark's emulator latency and job
length), so a change that costs calls cannot pass unnoticed (issue "API calls at the
floor"). Per poll round, a delete is confirmed by one list call (an unfiltered page
above 50 ids), and create details above 50 ids come from that page too."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks import run as bench
from pulumi_batchip.emulator import EmulatorConfig, RunningEmulator, start_emulator

from ..conftest import Admin

# Most calls per operation for create + destroy: the creates and batch deletes are one
# per 50 EIPs; job reads and the delete's list calls are one per poll round (4 in the
# benchmark's timing, 1 s jobs and a 0.5 s PENDING_DELETE; one round of slack here).
CEILING = {
    200: {
        "BatchCreatePublicips": 4,
        "ShowResourcesJobDetail": 5,
        "ListPublicipsByTags": 2,
        "ListPublicips": 6,
        "BatchDeletePublicIp": 4,
    },
    1000: {
        "BatchCreatePublicips": 20,
        "ShowResourcesJobDetail": 5,
        "ListPublicipsByTags": 2,
        "ListPublicips": 6,
        "BatchDeletePublicIp": 20,
    },
}
TOTAL = {200: 20, 1000: 60}


@pytest.fixture(scope="module")
def bench_emulator() -> Iterator[RunningEmulator]:
    with start_emulator(config=EmulatorConfig(job_seconds=1.0, latency_seconds=0.02)) as emu:
        yield emu


@pytest.mark.parametrize("n", sorted(CEILING))
def test_create_and_destroy_stay_at_the_call_floor(bench_emulator: RunningEmulator, n: int) -> None:
    run, _ = bench.run_once(bench_emulator, "EipBatch", "batch", n)
    per_operation = {
        op: run.create_calls.get(op, 0) + run.delete_calls.get(op, 0)
        for op in {*run.create_calls, *run.delete_calls}
    }
    assert set(per_operation) <= set(CEILING[n]), per_operation
    over = {op: k for op, k in per_operation.items() if k > CEILING[n][op]}
    assert not over, (over, per_operation)
    assert run.calls <= TOTAL[n], per_operation
    # No id-filtered list: above 50 ids every look is one whole-project page.
    admin = Admin(bench_emulator.url)
    try:
        lists = [r for r in admin.requests() if r["operation"] == "ListPublicips"]
    finally:
        admin.close()
    assert lists and all("id" not in r["query"] for r in lists)
