"""Helpers the EipBatch engine tests share: a provider server with its own config, a
client of the emulator, waiting for what the emulator holds."""

from __future__ import annotations

import time

from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID
from pulumi_batchip.huawei.eip import EipClient

from ..conftest import Admin
from .conftest import HW_AK, HW_SK, stack_config
from .harness import ProviderProcess
from .test_eip_batch_engine import held


def server_with(url: str, **config: str) -> ProviderProcess:
    server = ProviderProcess()
    server.__enter__()
    server.configure({**stack_config(url), **config})
    return server


def client_for(url: str) -> EipClient:
    """An EIP client of the emulator at ``url``, with the test credentials."""
    settings = HuaweiSettings(Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, url)
    return EipClient.from_settings(settings)


def wait_held(admin: Admin, count: int, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while len(held(admin)) != count:
        assert time.monotonic() < deadline, f"{len(held(admin))} EIPs, waited for {count}"
        time.sleep(0.1)
