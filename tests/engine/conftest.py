"""Engine-protocol fixtures: one provider server per module, configured as a stack
pointing at the test session's emulator."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from pulumi_batchip.emulator import RunningEmulator

# Kept in the harness, which imports no pytest (the benchmarks use it with the `bench`
# extra alone); named here too, where the tests look for them.
from .harness import BCE_AK as BCE_AK
from .harness import BCE_SK as BCE_SK
from .harness import HW_AK as HW_AK
from .harness import HW_SK as HW_SK
from .harness import ProviderProcess
from .harness import stack_config as stack_config


@pytest.fixture(scope="module")
def provider_server(emulator_session: RunningEmulator) -> Iterator[ProviderProcess]:
    with ProviderProcess() as server:
        server.get_plugin_info()
        server.configure(stack_config(emulator_session.url))
        yield server
        # Credentials must never reach the provider's stderr.
        for secret in (BCE_AK, BCE_SK, HW_AK, HW_SK):
            assert secret not in server.stderr


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """What this process wrote to stderr since the last call (the provider run in
    process says its progress there)."""
    yield lambda: capsys.readouterr().err
