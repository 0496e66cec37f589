"""Engine-protocol fixtures: one provider server per module, configured as a stack
pointing at the test session's emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    RunningEmulator,
)

from .harness import ProviderProcess

[(BCE_AK, BCE_SK)] = DEFAULT_BCE_CREDENTIALS.items()
[(HW_AK, HW_SK)] = DEFAULT_HW_CREDENTIALS.items()


def stack_config(emulator_url: str) -> dict[str, str]:
    """What `pulumi config set` would hold for a stack using the emulator."""
    return {
        "baiducloud:accessKey": BCE_AK,
        "baiducloud:secretKey": BCE_SK,
        "baiducloud:region": "bj",
        "batchip:bccEndpoint": emulator_url,
        "huaweicloud:accessKey": HW_AK,
        "huaweicloud:secretKey": HW_SK,
        "huaweicloud:region": "cn-north-4",
        "huaweicloud:projectId": DEFAULT_HW_PROJECT_ID,
        "batchip:eipEndpoint": emulator_url,
    }


@pytest.fixture(scope="module")
def provider_server(emulator_session: RunningEmulator) -> Iterator[ProviderProcess]:
    with ProviderProcess() as server:
        server.get_plugin_info()
        server.configure(stack_config(emulator_session.url))
        yield server
        # Credentials must never reach the provider's stderr.
        for secret in (BCE_AK, BCE_SK, HW_AK, HW_SK):
            assert secret not in server.stderr
