"""A stopped emulator (or a wrong local endpoint): the provider says so within a few
seconds instead of retrying for minutes (issue 23, item 4)."""

from __future__ import annotations

import socket
import time

import pytest

from .conftest import stack_config
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE as EIP_BATCH
from .test_eip_batch_engine import inputs as eip_inputs
from .test_secondary_ip_set_engine import TYPE as SECONDARY_IP_SET
from .test_secondary_ip_set_engine import inputs as set_inputs


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("type_token", "news"),
    [(EIP_BATCH, lambda: eip_inputs(count=2)), (SECONDARY_IP_SET, lambda: set_inputs(count=1))],
    ids=["EipBatch", "SecondaryIpSet"],
)
def test_nothing_listening_at_a_local_endpoint_fails_soon(type_token: str, news) -> None:  # type: ignore[no-untyped-def]
    endpoint = f"http://127.0.0.1:{closed_port()}"
    with ProviderProcess() as server:
        server.configure(stack_config(endpoint))
        res = EngineResource(server, type_token, "nobody-home")
        started = time.monotonic()
        with pytest.raises(ProviderError) as info:
            res.up(news())
        took = time.monotonic() - started
    assert took < 15, took
    assert f"nothing is listening at {endpoint}" in info.value.details
    assert "is the emulator running?" in info.value.details
