"""Helpers the EipBatch engine tests share: a provider server with its own config (and
an up on it that must fail), a client of the emulator, waiting for what the emulator
holds."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pytest

from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID
from pulumi_batchip.huawei.eip import EipClient

from ..conftest import Admin
from .conftest import HW_AK, HW_SK, stack_config
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, held, inputs


@contextlib.contextmanager
def serving(url: str, **config: str) -> Iterator[ProviderProcess]:
    """A provider server of its own, configured as a stack on the emulator at ``url``
    with ``config`` on top; stopped after."""
    with ProviderProcess() as server:
        server.configure({**stack_config(url), **config})
        yield server


def failed_up(url: str, name: str, count: int, **config: str) -> ProviderError:
    """The error of an up of ``count`` EIPs, on a server of its own (``serving``), that
    must fail."""
    with serving(url, **config) as server, pytest.raises(ProviderError) as info:
        EngineResource(server, TYPE, name).up(inputs(count=count))
    return info.value


def client_for(url: str) -> EipClient:
    """An EIP client of the emulator at ``url``, with the test credentials."""
    settings = HuaweiSettings(Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, url)
    return EipClient.from_settings(settings)


def wait_held(admin: Admin, count: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while len(held(admin)) != count:
        assert time.monotonic() < deadline, f"{len(held(admin))} EIPs, waited for {count}"
        time.sleep(0.1)
