"""Lanes: an emulator plus a provider server configured as a stack pointing at it.

The fault matrix and the soak spread their scenarios over a few lanes that run at
once, each with its own emulator (so fault rules, request logs and state never mix),
its own ``python -m pulumi.dynamic`` process, and one scenario at a time.

Every lane's stack sets ``batchip:httpTimeout`` to 1 s (so the ``delay`` fault of 2 s
outlasts a call) and ``batchip:eipJobTimeout`` to 3 s (so ``job_hang`` and a lost
create give up quickly), and its emulator finishes EIP jobs in 0.05 s.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs

from pulumi_batchip import BandwidthArgs, EipBatch, SecondaryIpSet
from pulumi_batchip.emulator import EmulatorConfig, RunningEmulator, start_emulator

from ..conftest import Admin
from ..engine.conftest import stack_config
from ..engine.harness import EngineResource, ProviderProcess, program_inputs

HTTP_TIMEOUT_SECONDS = 1.0
EIP_JOB_TIMEOUT_SECONDS = 3.0
DELAY_SECONDS = 2.0  # longer than the HTTP timeout: the call times out, the server acts
JOB_SECONDS = 0.05
INSTANCE = "i-DhjUXmSA"
SIS_TYPE = "pulumi-python:dynamic/batchip:SecondaryIpSet"
EIP_TYPE = "pulumi-python:dynamic/batchip:EipBatch"

LANE_STACK = {
    "batchip:httpTimeout": f"{HTTP_TIMEOUT_SECONDS:g}",
    "batchip:eipJobTimeout": f"{EIP_JOB_TIMEOUT_SECONDS:g}",
}

# program_inputs runs a Pulumi program under global mocks: one at a time.
_INPUTS_LOCK = threading.Lock()
_INPUTS_CACHE: dict[str, dict[str, Any]] = {}


def _cached_inputs(key: str, program: Callable[[], Any], name: str) -> dict[str, Any]:
    with _INPUTS_LOCK:
        if key not in _INPUTS_CACHE:
            # set_mocks needs the main thread's event loop: warm the cache there first.
            assert threading.current_thread() is threading.main_thread(), f"not warmed: {key}"
            _INPUTS_CACHE[key] = program_inputs(program)[name]
        return json.loads(json.dumps(_INPUTS_CACHE[key]))  # type: ignore[no-any-return]


def sis_inputs(**kwargs: Any) -> dict[str, Any]:
    """What the engine gets from ``SecondaryIpSet("s", instance_id=INSTANCE, **kwargs)``."""
    kwargs.setdefault("instance_id", INSTANCE)
    key = "sis " + json.dumps(kwargs, sort_keys=True)
    return _cached_inputs(key, lambda: [SecondaryIpSet("s", **kwargs)], "s")


BANDWIDTH_SIZE = 5  # Mbit/s, unless a step asks for another ``bandwidth_size``


def eip_inputs(**kwargs: Any) -> dict[str, Any]:
    """What the engine gets from ``EipBatch("edge", bandwidth=PER 5 Mbit/s, **kwargs)``
    (``bandwidth_size`` sets another size)."""
    key = "eip " + json.dumps(kwargs, sort_keys=True)
    size = kwargs.pop("bandwidth_size", BANDWIDTH_SIZE)
    bandwidth = BandwidthArgs(size=size, share_type="PER", name="edge-bw")
    return _cached_inputs(key, lambda: [EipBatch("edge", bandwidth=bandwidth, **kwargs)], "edge")


@attrs.frozen
class Kind:
    """One resource type as the suite drives it."""

    name: str  # "SecondaryIpSet" | "EipBatch"
    type_token: str
    inputs: Callable[..., dict[str, Any]]
    owned_key: str  # the output listing what the resource owns

    def owned(self, res: EngineResource) -> list[str]:
        return list(res.outputs.get(self.owned_key) or ()) if res.exists else []


SIS = Kind("SecondaryIpSet", SIS_TYPE, sis_inputs, "private_ips")
EIP = Kind("EipBatch", EIP_TYPE, eip_inputs, "eip_ids")
KINDS = {k.name: k for k in (SIS, EIP)}


class Lane:
    """An emulator and a provider process configured as a stack using it."""

    def __init__(
        self,
        *,
        seed: int | None = None,
        config: EmulatorConfig | None = None,
        stack: dict[str, str] | None = None,
        provider_env: dict[str, str] | None = None,
    ) -> None:
        self.emulator: RunningEmulator = start_emulator(
            config=config or EmulatorConfig(job_seconds=JOB_SECONDS, seed=seed)
        )
        self.url = self.emulator.url
        self.admin = Admin(self.url)
        self.provider = ProviderProcess(env=provider_env)
        self.provider.get_plugin_info()
        self.stack = {**stack_config(self.url), **LANE_STACK, **(stack or {})}
        self.provider.configure(self.stack)
        self._delays_cleared = 0  # delays fired by rules since disarmed (clear_faults)

    def close(self) -> None:
        self.provider.close()
        self.admin.close()
        self.emulator.stop()

    def __enter__(self) -> Lane:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def resource(self, kind: Kind, name: str = "r") -> EngineResource:
        return EngineResource(self.provider, kind.type_token, name)

    # -- what the cloud holds ------------------------------------------------------------
    def held(self, kind: Kind) -> list[str]:
        """Every address (SecondaryIpSet: both families, every instance) or EIP id."""
        state = self.admin.state()
        if kind is SIS:
            return [
                address
                for instance in state["bcc"]["instances"].values()
                for family in ("ipv4", "ipv6")
                for address in instance["secondary"][family]
            ]
        return list(state["eip"]["publicips"])

    # -- faults --------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        """Reset the emulator (state, rules, request log); ``seed`` pins its faults."""
        self.admin.reset(seed)
        self._delays_cleared = 0

    def clear_faults(self) -> None:
        """Disarm every rule, remembering how many delays they set going (quiesce)."""
        self._delays_cleared += self._delays_armed()
        self.admin.clear_faults()

    def _delays_armed(self) -> int:
        return sum(
            r["fired"] for r in self.emulator.app.faults.snapshot() if r["action"] == "delay"
        )

    def fault_counts(self) -> Counter[str]:
        """Faults that fired since the last reset, by action (from the request log)."""
        return Counter(r["fault"] for r in self.admin.requests() if "fault" in r)

    def quiesce(self, timeout: float = 20.0) -> None:
        """Wait until every request held back by a ``delay`` fault has been answered
        (it acts late, and the next check or scenario must see its effect), and for
        EIP jobs still running to end. Reset and disarm through :meth:`reset` and
        :meth:`clear_faults`, which keep the count of delays this waits for."""
        time.sleep(2 * JOB_SECONDS)  # and let EIP jobs still running finish
        deadline = time.monotonic() + timeout
        while True:
            # Every delay since the last reset (the log starts there too), also those of
            # rules disarmed since: a delayed request still acts after its rule is gone.
            fired = self._delays_cleared + self._delays_armed()
            done = sum(1 for r in self.admin.requests() if r.get("fault") == "delay")
            if done >= fired:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{fired - done} delayed request(s) never finished")
            time.sleep(0.05)


def unowned(lane: Lane, kind: Kind, resources: list[EngineResource]) -> list[str]:
    """What the cloud holds that no resource's state owns: leaks."""
    owned = {item for res in resources for item in kind.owned(res)}
    return sorted(set(lane.held(kind)) - owned)


def assert_exact(lane: Lane, kind: Kind, resources: list[EngineResource]) -> None:
    """The invariant: the cloud holds exactly what the state says the stack owns, and
    no address or EIP is owned twice."""
    owned = [item for res in resources for item in kind.owned(res)]
    held = lane.held(kind)
    assert len(owned) == len(set(owned)), f"owned twice: {sorted(owned)}"
    assert len(held) == len(set(held)), f"held twice: {sorted(held)}"
    assert sorted(held) == sorted(owned), (
        f"{kind.name}: cloud holds {sorted(held)} but state owns {sorted(owned)}"
    )
