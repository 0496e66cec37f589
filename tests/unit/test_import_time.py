"""A Pulumi program's ``from pulumi_batchip import ...`` stays cheap beside ``import pulumi``.

A program only builds resources: it needs the resource classes and the provider
*classes* (pickled by reference into state), never the clients, signers, retries or
operations layers, which the provider process imports on a provider method's first
call (``ProviderHalf`` in ``_provider.py``).

The measure: ``python -X importtime`` in a fresh interpreter that imports ``pulumi``,
writes a mark, then does the program's import. Our cost is the sum of the *cumulative*
times of the top-level imports after the mark: everything that import costs on top of
``import pulumi``, our modules and what they are first to pull in (attrs, a few stdlib
modules) alike; ``import pulumi``'s cost is its own cumulative line before the mark, in
the same run. Bytecode is cached (a warm-up run first, into a temporary
``PYTHONPYCACHEPREFIX``, for pulumi and us alike), as for an installed package. The best
of several runs is kept: other work on the machine only ever adds time.

The module check is deterministic and the real guard; the timing bounds have margin
(measured: about 16 ms, under a tenth of ``import pulumi``; 71 ms before the provider
half was deferred).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import pulumi_batchip.config
from pulumi_batchip import eip_batch, secondary_ip_set

REPO = Path(__file__).resolve().parents[2]
PROGRAM_IMPORT = "from pulumi_batchip import BandwidthArgs, EipBatch, SecondaryIpSet"
# What only a provider method (in the provider process) or the CLI/emulator needs.
PROVIDER_ONLY = (
    "httpx",
    "tenacity",
    "pulumi_batchip.http",
    "pulumi_batchip.huawei.signer",
    "pulumi_batchip.baidu.signer",
    "pulumi_batchip.huawei.eip",
    "pulumi_batchip.baidu.bcc",
    "pulumi_batchip.huawei.lifecycle",
    "pulumi_batchip.baidu.set_operations",
    "pulumi_batchip.baidu.nic_operations",
)
SCRIPT = (
    "import pulumi, sys, json; sys.stderr.write('@@mark\\n'); "
    f"{PROGRAM_IMPORT}; "
    f"print(json.dumps([m for m in {PROVIDER_ONLY!r} if m in sys.modules]))"
)
MAX_OURS_MS = 30.0  # the goal
MAX_SHARE_OF_PULUMI = 0.25  # of `import pulumi`'s own time in the same run
MIN_RUNS, MAX_RUNS = 3, 7  # more runs only while the bounds are not met (a busy machine)


def measure(env: dict[str, str]) -> tuple[float, float, list[str]]:
    """(our ms, `import pulumi` ms, provider-only modules loaded) of one fresh run."""
    done = subprocess.run(  # our own interpreter, fixed arguments
        [sys.executable, "-X", "importtime", "-c", SCRIPT],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        env=env,
    )
    before, after = done.stderr.split("@@mark\n", 1)
    pulumi_us = ours_us = 0
    for text, top_level in ((before, "pulumi"), (after, None)):
        for line in text.splitlines():
            if not line.startswith("import time:"):
                continue
            _self, cumulative, name = line[len("import time:") :].split("|")
            if not cumulative.strip().isdigit() or name.startswith("  "):
                continue  # the header, or not a top-level import
            if top_level is None:
                ours_us += int(cumulative)
            elif name.strip() == top_level:
                pulumi_us = int(cumulative)
    assert pulumi_us > 0, done.stderr[-2000:]
    return ours_us / 1000, pulumi_us / 1000, json.loads(done.stdout)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[float, float, list[str]]]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME")
    }
    env["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.mktemp("pycache"))
    measure(env)  # warm-up: fills the bytecode cache
    results: list[tuple[float, float, list[str]]] = []
    while len(results) < MAX_RUNS:
        results.append(measure(env))
        best = min(results)
        if len(results) >= MIN_RUNS and within_bounds(best[0], best[1]):
            break
    return results


def within_bounds(ours_ms: float, pulumi_ms: float) -> bool:
    return ours_ms < MAX_OURS_MS and ours_ms < MAX_SHARE_OF_PULUMI * pulumi_ms


def test_the_program_imports_no_client_signer_retry_or_operations_layer(
    runs: list[tuple[float, float, list[str]]],
) -> None:
    for _ours, _pulumi, loaded in runs:
        assert loaded == []


def test_the_program_import_costs_little_beside_import_pulumi(
    runs: list[tuple[float, float, list[str]]],
) -> None:
    ours_ms, pulumi_ms = min(runs)[:2]
    shown = [f"{o:.1f} ms / pulumi {p:.1f} ms" for o, p, _ in runs]
    assert ours_ms < MAX_OURS_MS, shown
    assert ours_ms < MAX_SHARE_OF_PULUMI * pulumi_ms, shown


def test_the_provider_classes_stay_where_state_pickles_them() -> None:
    assert eip_batch.EipBatchProvider.__module__ == "pulumi_batchip.eip_batch"
    assert secondary_ip_set.SecondaryIpSetProvider.__module__ == "pulumi_batchip.secondary_ip_set"


CREDENTIAL_VARIABLES = (
    "BAIDUCLOUD_ACCESS_KEY",
    "BAIDUCLOUD_SECRET_KEY",
    "HW_ACCESS_KEY",
    "HW_SECRET_KEY",
)
OLDS = {"instance_id": "i-1", "private_ips": ["10.0.0.9"], "batch_id": "b", "eip_ids": []}
CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("check", lambda p: p.check({}, {})),
    ("diff", lambda p: p.diff("i-1/10.0.0.9", dict(OLDS), {})),
    ("create", lambda p: p.create({"instance_id": "i-1", "count": 1})),
    ("read", lambda p: p.read("i-1/10.0.0.9", dict(OLDS))),
    ("update", lambda p: p.update("i-1/10.0.0.9", dict(OLDS), dict(OLDS))),
    ("delete", lambda p: p.delete("i-1/10.0.0.9", dict(OLDS))),
]


def _unloaded(module: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``module`` as a provider process has it before any call: its half not loaded,
    and no credentials (what fails for want of them is beside the point)."""
    for variable in CREDENTIAL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setattr(module._HALF, "_loaded", False)
    for name in module._HALF.names:
        monkeypatch.delitem(vars(module), name, raising=False)


@pytest.mark.parametrize(
    ("module", "provider_class"),
    [
        (eip_batch, eip_batch.EipBatchProvider),
        (secondary_ip_set, secondary_ip_set.SecondaryIpSetProvider),
    ],
    ids=["EipBatchProvider", "SecondaryIpSetProvider"],
)
@pytest.mark.parametrize(("method", "call"), CALLS, ids=[c[0] for c in CALLS])
def test_each_provider_method_loads_the_provider_half_first(
    module: Any,
    provider_class: type[Any],
    method: str,
    call: Callable[[Any], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Any method can be a provider process's first call (a refresh starts with read, a
    destroy with delete): each must load what it uses. Other failures are fine here
    (no credentials, made-up state): only a NameError is not."""
    _unloaded(module, monkeypatch)
    try:
        call(provider_class())
    except Exception as exc:  # no credentials, made-up state: beside the point here
        assert not isinstance(exc, NameError), exc
    assert module._HALF.names <= set(vars(module)), method


@pytest.mark.parametrize(
    ("module", "builder"),
    [
        (eip_batch, lambda: eip_batch.EipBatchProvider()._ops({})),
        (secondary_ip_set, lambda: secondary_ip_set.SecondaryIpSetProvider()._operations(None)),
    ],
    ids=["EipBatchProvider._ops", "SecondaryIpSetProvider._operations"],
)
def test_the_client_builders_load_the_provider_half_first(
    module: Any, builder: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reliability layer builds a client before any public method (test_secrets)."""
    _unloaded(module, monkeypatch)
    try:
        builder()
    except Exception as exc:  # no credentials: beside the point here
        assert not isinstance(exc, NameError), exc
    assert module._HALF.names <= set(vars(module))


def test_eip_outputs_loads_the_provider_half_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The testing kit's mocks call ``outputs`` without any provider method before it."""
    monkeypatch.setattr(eip_batch._HALF, "_loaded", False)
    for name in eip_batch._HALF.names:
        monkeypatch.delitem(vars(eip_batch), name, raising=False)
    settings = pulumi_batchip.config.HuaweiSettings(
        credentials=pulumi_batchip.config.Credentials("ak", "sk"),
        region="cn-north-4",
        project_id="0" * 32,
        endpoint="https://vpc.cn-north-4.myhuaweicloud.com",
    )
    outs = eip_batch.outputs({"count": 0}, settings, "b", [])
    assert outs["batch_id"] == "b" and outs["eip_ids"] == []
