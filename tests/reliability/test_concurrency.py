"""Four RPCs at once on one provider object (the provider server runs at most four):
on different resources, and on the same VM. The invariant holds after every phase and
no address or EIP is ever owned twice.

The engine sends concurrent RPCs only for different resources, so every thread here
drives its own EngineResource; they share the provider process and, because
``__provider`` is the same string, the same provider object inside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ..engine.harness import EngineResource
from .lanes import EIP, SIS, Kind, Lane, assert_exact
from .results import RECORDER

SERVER_MAX = 4  # pulumi.dynamic serves on ThreadPoolExecutor(max_workers=4)
THROTTLED = 0.12  # the share of calls throttled in test_concurrent_sets_while_throttled


# Not a test of deadlines: EIP creates get the time retries under throttling need.
STACK = {"batchip:eipJobTimeout": "60"}


@pytest.fixture(scope="module")
def lane() -> Iterator[Lane]:
    with Lane(seed=20240601, stack=STACK) as running:
        yield running


@pytest.fixture
def fresh(lane: Lane) -> Lane:
    lane.reset()
    return lane


def concurrently(
    resources: list[EngineResource], action: Callable[[int, EngineResource], Any]
) -> list[tuple[float, float]]:
    """Run ``action`` on every resource at once; returns each one's (start, end)."""

    def one(index: int) -> tuple[float, float]:
        start = time.monotonic()
        action(index, resources[index])
        return start, time.monotonic()

    with ThreadPoolExecutor(len(resources)) as pool:
        spans = list(pool.map(one, range(len(resources))))
    RECORDER.count("concurrency", "concurrent_rpcs", len(resources))
    return spans


def scenario_done(what: str) -> None:
    RECORDER.count("concurrency", "scenarios")
    RECORDER.append("concurrency", "scenario_names", what)
    RECORDER.put("concurrency", "rpcs_at_once", SERVER_MAX)


def overlapped(spans: list[tuple[float, float]]) -> bool:
    return max(s for s, _ in spans) < min(e for _, e in spans)


def phases(
    lane: Lane,
    kind: Kind,
    resources: list[EngineResource],
    creates: list[dict[str, Any]],
    updates: list[dict[str, Any]],
    what: str,
) -> list[tuple[float, float]]:
    creates_in = [kind.inputs(**kw) for kw in creates]  # programs run in the main thread
    updates_in = [kind.inputs(**kw) for kw in updates]
    spans = concurrently(resources, lambda i, r: r.up(creates_in[i]))
    assert all(r.log[-1] == "create" for r in resources)
    assert_exact(lane, kind, resources)
    concurrently(resources, lambda i, r: r.up(updates_in[i]))
    assert all(r.log[-1] == "update" for r in resources)
    assert_exact(lane, kind, resources)
    concurrently(resources, lambda _i, r: r.refresh())
    assert_exact(lane, kind, resources)
    concurrently(resources, lambda _i, r: r.destroy())
    assert lane.held(kind) == []
    scenario_done(what)
    return spans


def test_four_secondary_ip_sets_on_one_vm(fresh: Lane) -> None:
    sets = [fresh.resource(SIS, f"vm-set-{i}") for i in range(SERVER_MAX)]
    phases(
        fresh,
        SIS,
        sets,
        creates=[
            {"count": 2},
            {"count": 3},
            {"private_ips": ["192.168.0.200", "192.168.0.201"]},
            {"count": 2, "ipv6": True},
        ],
        updates=[
            {"count": 5},
            {"count": 1},
            {"private_ips": ["192.168.0.201", "192.168.0.202", "192.168.0.203"]},
            {"count": 4, "ipv6": True},
        ],
        what=f"{SERVER_MAX} SecondaryIpSets on one VM: create, update, refresh, destroy",
    )


def test_four_eip_batches(fresh: Lane) -> None:
    batches = [fresh.resource(EIP, f"batch-{i}") for i in range(SERVER_MAX)]
    spans = phases(
        fresh,
        EIP,
        batches,
        creates=[{"count": 3}, {"count": 5, "tags": {"t": "a"}}, {"count": 52}, {"count": 1}],
        updates=[
            {"count": 6},
            {"count": 2, "tags": {"t": "b"}},
            {"count": 50},
            {"count": 4, "tags": {"new": "x"}},
        ],
        what=f"{SERVER_MAX} EipBatches (one of 52 EIPs): create, update, refresh, destroy",
    )
    assert overlapped(spans), spans  # the four creates really ran at the same time


def test_two_of_each_at_once(fresh: Lane) -> None:
    sets = [fresh.resource(SIS, f"mixed-set-{i}") for i in range(2)]
    batches = [fresh.resource(EIP, f"mixed-batch-{i}") for i in range(2)]
    inputs = [SIS.inputs(count=2), SIS.inputs(count=3), EIP.inputs(count=2), EIP.inputs(count=4)]
    concurrently([*sets, *batches], lambda i, r: r.up(inputs[i]))
    assert_exact(fresh, SIS, sets)
    assert_exact(fresh, EIP, batches)
    concurrently([*sets, *batches], lambda _i, r: r.destroy())
    assert fresh.held(SIS) == [] and fresh.held(EIP) == []
    scenario_done("2 SecondaryIpSets and 2 EipBatches at once: create, destroy")


def test_concurrent_sets_while_throttled(fresh: Lane) -> None:
    """Retries of four threads interleave: still nothing doubled, nothing lost."""
    fresh.admin.faults(
        {"operation": "*", "action": "throttle", "times": 0, "probability": THROTTLED}
    )
    sets = [fresh.resource(SIS, f"throttled-set-{i}") for i in range(2)]
    batches = [fresh.resource(EIP, f"throttled-batch-{i}") for i in range(2)]
    ups = [SIS.inputs(count=2), SIS.inputs(count=2), EIP.inputs(count=3), EIP.inputs(count=2)]
    concurrently([*sets, *batches], lambda i, r: r.up(ups[i]))
    downs = [SIS.inputs(count=1), SIS.inputs(count=3), EIP.inputs(count=1), EIP.inputs(count=4)]
    concurrently([*sets, *batches], lambda i, r: r.up(downs[i]))
    assert_exact(fresh, SIS, sets)
    assert_exact(fresh, EIP, batches)
    concurrently([*sets, *batches], lambda _i, r: r.destroy())
    assert fresh.held(SIS) == [] and fresh.held(EIP) == []
    assert fresh.fault_counts()["throttle"] > 0
    scenario_done(
        f"2 SecondaryIpSets and 2 EipBatches grown and shrunk at once while {THROTTLED:.0%} "
        "of calls are throttled"
    )


def test_four_rebooting_sets_on_one_vm_take_turns(fresh: Lane) -> None:
    """Each change reboots the VM and waits for Running; the per-instance lock makes
    the four take turns, so no reboot is refused for the VM being mid-reboot."""
    fresh.admin.post("bcc/instances", {"id": "i-reboot4", "reboot_seconds": 0.2})
    sets = [fresh.resource(SIS, f"reboot-set-{i}") for i in range(SERVER_MAX)]
    inputs = [SIS.inputs(instance_id="i-reboot4", count=1, reboot=True) for _ in sets]
    before = len(fresh.provider.stderr_lines)
    concurrently(sets, lambda i, r: r.up(inputs[i]))
    assert_exact(fresh, SIS, sets)
    concurrently(sets, lambda _i, r: r.destroy())
    assert fresh.held(SIS) == []
    lines = fresh.provider.stderr_lines[before:]
    assert not [line for line in lines if "WARNING" in line], lines
    reboots = [r for r in fresh.admin.requests() if r["operation"] == "RebootInstance"]
    assert len(reboots) == 2 * SERVER_MAX and all(r["status"] == 200 for r in reboots)
    scenario_done(f"{SERVER_MAX} SecondaryIpSets with reboot=True on one VM take turns")
