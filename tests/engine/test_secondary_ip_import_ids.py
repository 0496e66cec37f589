"""SecondaryIpSet.get with a bad id, through the server: a clear BatchIpError, brief,
before any API call."""

from __future__ import annotations

import pytest

from pulumi_batchip.secondary_ip_set import SecondaryIpSet

from ..conftest import Admin
from .harness import EngineResource, ProviderError, ProviderProcess, program_inputs
from .secondary_ip_support import (
    TYPE,
)


# -- bad import ids through the server --------------------------------------------------------
@pytest.mark.parametrize(
    "id_", ["i-a?b/192.168.0.1", "garbage", "i-1/fe80::1%eth0", "i-" + "x" * 10_000 + "/1.2.3.4"]
)
def test_get_with_a_bad_id_is_a_clear_batchip_error(
    provider_server: ProviderProcess, admin: Admin, id_: str
) -> None:
    captured = program_inputs(lambda: [SecondaryIpSet.get("seen", id_)])["seen"]
    reader = EngineResource(provider_server, TYPE, "seen")
    with pytest.raises(ProviderError) as info:
        reader.get(id_, captured)
    last = info.value.details.strip().splitlines()[-1]
    # The SDK's server formats it as a traceback (newer) or "Exception calling
    # application: ..." (older): either way our message, not a raw ValueError.
    assert "SecondaryIpSet id" in last, last
    assert "ValueError" not in info.value.details
    assert len(info.value.details) < 4000
    assert admin.requests() == []
