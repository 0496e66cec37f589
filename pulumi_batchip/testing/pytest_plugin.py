"""pytest plugin (entry point ``pytest11``): the ``batchip_mocks`` and
``batchip_emulator`` fixtures.

``batchip_mocks`` sets offline :class:`BatchIpMocks` for the test (project ``test``,
stack ``test``): every test gets its own, so no other test module's mocks (one that
set emulator mocks, say) are in force, whatever the order.

``batchip_emulator`` starts an emulator for the test, points the provider at it through
the environment (endpoints, the emulator's credentials, regions, project id) for the
test's duration, and yields the running emulator (``.url``). It needs the ``emulator``
extra: ``pip install 'pulumi-batchip[emulator]'``.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest

from .. import config as cfg
from .mocks import BatchIpMocks


@pytest.fixture
def batchip_mocks() -> Iterator[BatchIpMocks]:
    mocks = BatchIpMocks()
    pulumi.runtime.set_mocks(mocks, project="test", stack="test", preview=False)
    yield mocks
    _collect_now()


@pytest.fixture
def batchip_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    try:
        from ..emulator import (
            DEFAULT_BCE_CREDENTIALS,
            DEFAULT_HW_CREDENTIALS,
            DEFAULT_HW_PROJECT_ID,
            EmulatorConfig,
            start_emulator,
        )
    except ImportError as exc:  # the emulator extra is not installed
        pytest.fail(
            f"batchip_emulator needs the emulator: pip install 'pulumi-batchip[emulator]' ({exc})"
        )
    [(bce_ak, bce_sk)] = DEFAULT_BCE_CREDENTIALS.items()
    [(hw_ak, hw_sk)] = DEFAULT_HW_CREDENTIALS.items()
    # Short EIP jobs keep users' tests fast; everything else as the emulator's defaults.
    with start_emulator(config=EmulatorConfig(job_seconds=0.2)) as emulator:
        for (_key, variable), value in (
            (cfg.BCC_ENDPOINT, emulator.url),
            (cfg.BAIDU_ACCESS_KEY, bce_ak),
            (cfg.BAIDU_SECRET_KEY, bce_sk),
            (cfg.BAIDU_REGION, "bj"),
            (cfg.EIP_ENDPOINT, emulator.url),
            (cfg.HUAWEI_ACCESS_KEY, hw_ak),
            (cfg.HUAWEI_SECRET_KEY, hw_sk),
            (cfg.HUAWEI_REGION, "cn-north-4"),
            (cfg.HUAWEI_PROJECT_ID, DEFAULT_HW_PROJECT_ID),
        ):
            monkeypatch.setenv(variable, value)
        yield emulator
    _collect_now()


def _collect_now() -> None:
    """Free what the test left (the SDK's event loops, clients) at the end of the test.
    Left to a later garbage collection, their finalizers can run during an import that
    pytest is rewriting, and CPython 3.11 before 3.11.8 can then fail that import with
    "AST constructor recursion depth mismatch" (python/cpython#106905): seen in about
    half of the runs of the README's two test blocks on 3.11.7, none after this."""
    gc.collect()
