"""The native provider's answers the engine acts on: diffs (what changes, what
replaces, what stays), the provider's own configure and diff, and the plugin process
answering a failure with our message alone. No cloud: diff makes no call."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from pulumi.provider.experimental.provider import (
    ConfigureRequest,
    DiffRequest,
    PropertyDiffKind,
)
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_batchip import config as cfg
from pulumi_batchip.native.provider import BatchIpNativeProvider
from pulumi_batchip.native.values import plain, wire_map

from .test_native_adapter import URN, check, run

REPO = Path(__file__).resolve().parents[2]
EIP = {"count": 2, "bandwidth": {"size": 5, "shareType": "PER"}}


def diff(news: dict[str, Any]) -> Any:
    """The diff of the EipBatch ``EIP`` (as checked, its state) against ``news``."""
    olds, failures = check("EipBatch", wire_map(EIP))
    assert failures == []
    new_inputs, failures = check("EipBatch", wire_map(news))
    assert failures == []
    # A check with the old inputs keeps their batch id: the same here.
    new_inputs["batchId"] = olds["batchId"]
    # What create made: the inputs as applied and the EIPs; stackScope is no output.
    state = {k: v for k, v in olds.items() if k != "stackScope"}
    state.update(wire_map({"eipIds": ["eip-1", "eip-2"]}))
    request = DiffRequest(URN.format("EipBatch"), "batch-1", state, new_inputs, [])
    return run(BatchIpNativeProvider("0.0.1").diff(request))


def test_a_count_change_is_an_update_in_place_of_count_alone() -> None:
    result = diff({**EIP, "count": 3})
    assert result.changes is True and result.replaces == []
    assert result.diffs == ["count"]
    assert result.detailed_diff["count"].kind == PropertyDiffKind.UPDATE
    assert "batchId" in result.stables  # the engine may rely on it in a preview
    assert result.delete_before_replace is False


def test_a_replacing_change_says_so_in_the_schema_names() -> None:
    result = diff({**EIP, "publicipType": "5_sbgp"})
    assert result.changes is True and result.replaces == ["publicipType"]
    assert result.detailed_diff["publicipType"].kind == PropertyDiffKind.UPDATE_REPLACE


def test_no_change_is_no_diff() -> None:
    result = diff(EIP)
    assert result.changes is False and result.detailed_diff == {} and result.diffs == []


def test_the_provider_is_never_replaced_and_takes_secrets() -> None:
    provider = BatchIpNativeProvider("0.0.1")
    urn = "urn:pulumi:dev::shop::pulumi:providers:batchip::default"
    request = DiffRequest(urn, "", {}, {}, [])
    assert run(provider.diff_config(request)).changes is False
    answer = run(provider.configure(ConfigureRequest({}, {}, True, True)))
    assert answer.accept_secrets is True and answer.supports_preview is False


def test_configure_from_the_variables_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # An engine that sends only "batchip:config:<key>" variables.
    monkeypatch.delenv("BATCHIP_EIP_JOB_TIMEOUT", raising=False)
    provider = BatchIpNativeProvider("0.0.1")
    run(
        provider.configure(ConfigureRequest({"batchip:config:eipJobTimeout": "77"}, {}, True, True))
    )
    eip = provider._kinds["batchip:index:EipBatch"].provider
    assert cfg.eip_job_timeout(eip.stack_config) == 77


def test_typed_settings_reach_the_providers_as_the_stack_config_spells_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # YAML config gives a bool and a float; the providers read text.
    monkeypatch.delenv("BATCHIP_ALLOW_INSECURE_HTTP", raising=False)
    provider = BatchIpNativeProvider("0.0.1")
    args = wire_map({"allowInsecureHttp": True, "eipJobTimeout": 900.0})
    run(provider.configure(ConfigureRequest({}, args, True, True)))
    eip = provider._kinds["batchip:index:EipBatch"].provider
    assert cfg.allows_insecure_http(eip.stack_config, {}) is True
    assert eip.stack_config[cfg.EIP_JOB_TIMEOUT[0]] == "900"


def test_check_config_takes_http_allowed_by_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from .test_native_config import check_config

    monkeypatch.setenv("BATCHIP_ALLOW_INSECURE_HTTP", "true")
    assert check_config(wire_map({"eipEndpoint": "http://eip.internal:8700"}))[1] == []
    monkeypatch.setenv("BATCHIP_ALLOW_INSECURE_HTTP", "false")
    [failure] = check_config(wire_map({"eipEndpoint": "http://eip.internal:8700"}))[1]
    assert "plain http is only accepted for loopback" in failure
    assert plain(wire_map({"x": True})["x"]) is True


@pytest.fixture
def plugin() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The plugin as the engine starts it: its own process, its port on stdout."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pulumi_batchip.native", "127.0.0.1:9"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = int(process.stdout.readline())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        process.kill()
        process.wait()


def test_the_plugin_answers_our_failure_with_its_message_alone(
    plugin: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    urn = "urn:pulumi:dev::shop::batchip:index:Nothing::x"
    with pytest.raises(grpc.RpcError) as failed:
        plugin.Create(provider_pb2.CreateRequest(urn=urn), timeout=30)
    assert failed.value.details() == "batchip has no resource type 'batchip:index:Nothing'"
    assert failed.value.code() == grpc.StatusCode.UNKNOWN


def test_the_detailed_diff_lists_no_input_the_plugin_sets() -> None:
    # stackScope is set from the URN and is no output: against the old outputs it
    # would always look changed.
    result = diff({**EIP, "count": 3})
    assert "stackScope" not in result.detailed_diff and "batchId" not in result.detailed_diff
