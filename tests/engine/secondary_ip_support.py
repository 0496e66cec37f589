"""What the SecondaryIpSet engine tests share: inputs as a program gives them, the
emulator's view of a VM, fault specs, and the provider run in this process.

Most scenarios go through the real provider server over gRPC (EngineResource). The
ones that need every retry of a call to fail run the same provider class in this
process with a BCC client whose retry policy does not really sleep (the server's
would wait 25-50 s per call) or whose transport rewrites the emulator's answers:
the provider's own code runs unchanged against the real emulator."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_batchip import SecondaryIpSet
from pulumi_batchip import config as cfg
from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.http import RetryPolicy
from pulumi_batchip.secondary_ip_set import SecondaryIpSetProvider

from ..conftest import Admin
from .conftest import stack_config
from .harness import EngineResource, ProviderProcess, program_inputs

TYPE = "pulumi-python:dynamic/batchip:SecondaryIpSet"
INSTANCE = "i-DhjUXmSA"
V6_SUBNET = "2400:da00:e003:0:219::"


def inputs(**kwargs: Any) -> dict[str, Any]:
    """The inputs the engine would get from `SecondaryIpSet("s", **kwargs)`."""
    kwargs.setdefault("instance_id", INSTANCE)
    return program_inputs(lambda: [SecondaryIpSet("s", **kwargs)])["s"]


def resource_fixture(name: str) -> Any:
    """A fixture: the SecondaryIpSet ``name`` on the module's provider server, the
    emulator reset for each test. Bind it in a module: ``res = resource_fixture(...)``."""

    @pytest.fixture
    def res(provider_server: ProviderProcess, emulator: RunningEmulator) -> EngineResource:
        return EngineResource(provider_server, TYPE, name)

    return res


def secondary(admin: Admin, family: str = "ipv4", instance: str = INSTANCE) -> list[str]:
    return list(admin.state()["bcc"]["instances"][instance]["secondary"][family])


def calls(admin: Admin, operation: str) -> int:
    return sum(1 for r in admin.requests() if r["operation"] == operation)


def lost(operation: str, times: int = 8) -> dict[str, Any]:
    """Every attempt of one call (8: the retry budget) acts, then loses its answer."""
    return {"operation": operation, "action": "lost_response", "times": times}


def refused(operation: str, times: int = 0, code: str = "InvalidParameter") -> dict[str, Any]:
    return {
        "operation": operation,
        "action": "error",
        "status": 400,
        "code": code,
        "message": "injected",
        "times": times,
    }


class Rewriting(httpx.BaseTransport):
    """Forwards to the emulator; ``before`` runs ahead of each request, ``answer`` may
    rewrite each JSON answer. Records the JSON bodies sent, per operation path."""

    def __init__(
        self,
        before: Callable[[httpx.Request], None] | None = None,
        answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.before = before
        self.answer = answer
        self.sent: list[tuple[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.url.path, body))
        if self.before is not None:
            self.before(request)
        response = self.inner.handle_request(request)
        if self.answer is None:
            return response
        content = response.read()
        try:
            parsed = json.loads(content) if content else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not response.is_success:
            return httpx.Response(response.status_code, headers=response.headers, content=content)
        skip = {"content-length", "content-type", "content-encoding", "transfer-encoding"}
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in skip]
        return httpx.Response(response.status_code, headers=headers, json=self.answer(parsed))

    def close(self) -> None:
        self.inner.close()


def in_process(
    emulator: RunningEmulator, transport: httpx.BaseTransport | None = None
) -> SecondaryIpSetProvider:
    """The provider as the server would configure it, its BCC client on a retry policy
    that does not sleep (same 8 attempts) and, if given, a transport."""
    provider = SecondaryIpSetProvider()
    provider.configure(ConfigureRequest(Config(stack_config(emulator.url), "harness")))
    settings = cfg.resolve_baidu(provider.stack_config, {})
    policy = RetryPolicy(sleep=lambda _s: None)
    client = BccClient.from_settings(settings, transport=transport, policy=policy)
    key = ("bcc", settings.endpoint, settings.credentials)
    assert provider.cached_client(key, lambda: client) is client
    return provider


def outside_client(emulator: RunningEmulator) -> BccClient:
    """Someone else on the same account: the console, another tool."""
    return BccClient.from_settings(cfg.resolve_baidu(stack_config(emulator.url), {}))


def checked(**kwargs: Any) -> dict[str, Any]:
    news = {"instance_id": INSTANCE, **kwargs}
    result = SecondaryIpSetProvider().check({}, news)
    assert not result.failures, result.failures
    return dict(result.inputs)
