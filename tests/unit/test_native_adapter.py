"""The native provider's calls, in process: the engine's values (camelCase, secrets,
unknowns) reach the dynamic providers' methods as they expect them and come back
marked as they went in. No cloud: only check, which makes no call."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from pulumi.output import UNKNOWN as UNKNOWN_VALUE
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import CheckRequest
from pulumi.runtime.rpc import UNKNOWN

import pulumi_batchip.native.serve as serve
from pulumi_batchip.native.provider import BatchIpNativeProvider
from pulumi_batchip.native.resources import stack_scope
from pulumi_batchip.native.values import plain, wire_map

URN = "urn:pulumi:dev::shop::batchip:index:{}::edge"
PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on a loop of its own: ``asyncio.run`` would leave this thread without a
    current loop, which the Pulumi SDK's mocks in later tests expect to find."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def check(token: str, news: dict[str, PropertyValue]) -> tuple[dict[str, PropertyValue], list[str]]:
    provider = BatchIpNativeProvider("0.0.1")
    request = CheckRequest(URN.format(token), {}, news, b"")
    response = run(provider.check(request))
    failures = [f"{f.property}: {f.reason}" for f in response.failures or []]
    return dict(response.inputs or {}), failures


def test_eip_batch_check_in_camel_case_with_its_stack_scope() -> None:
    news = wire_map(
        {"count": 2, "bandwidth": {"size": 5, "shareType": "PER"}, "tags": {"k": "v"}},
        secret=["tags"],
    )
    inputs, failures = check("EipBatch", news)
    assert failures == []
    assert plain(inputs["publicipType"]) == "5_bgp"
    assert plain(inputs["bandwidth"]) == {
        "size": 5.0,
        "shareType": "PER",
        "chargeMode": "bandwidth",
    }
    assert plain(inputs["stackScope"]) == "shop/dev"
    assert isinstance(plain(inputs["batchId"]), str)
    assert inputs["tags"].is_secret and not inputs["count"].is_secret


def test_failures_name_the_schema_property() -> None:
    news = wire_map({"count": 2, "bandwidth": {"size": 5, "shareType": "HALF"}})
    _inputs, failures = check("EipBatch", news)
    assert failures == ["bandwidth.shareType: must be one of PER, WHOLE, not 'HALF'"]


def test_unknowns_pass_check() -> None:
    news = {**wire_map({"bandwidth": {"size": 5}}), "count": PropertyValue.computed()}
    inputs, failures = check("EipBatch", news)
    assert failures == []
    assert plain(inputs["count"]) is UNKNOWN_VALUE


def test_unknowns_go_back_as_the_engine_sends_them() -> None:
    """Unknowns arrive as the engine's sentinel string, at any depth (a Pulumi YAML
    program's preview: tags built from another resource's outputs), and the inputs
    that Check returns must marshal (the SDK cannot marshal ``Computed``)."""
    news = PropertyValue.unmarshal_map(
        PropertyValue.marshal_map(
            wire_map({"count": 2, "bandwidth": {"size": 5}, "tags": {"ips": UNKNOWN_VALUE}})
        )
    )
    assert news["tags"].value["ips"].value == UNKNOWN
    inputs, failures = check("EipBatch", news)
    assert failures == []
    back = PropertyValue.unmarshal_map(PropertyValue.marshal_map(inputs))
    assert back["tags"].value["ips"].value == UNKNOWN
    assert plain(back["tags"]) == {"ips": UNKNOWN_VALUE}


def test_a_secret_private_ips_makes_a_secret_set() -> None:
    news = wire_map({"instanceId": "i-1", "privateIps": ["10.0.0.5"]}, secret=["privateIps"])
    inputs, failures = check("SecondaryIpSet", news)
    assert failures == []
    assert plain(inputs["secretAddresses"]) is True
    assert inputs["privateIps"].is_secret


def test_a_secret_flag_from_the_program_is_not_taken() -> None:
    news = wire_map({"instanceId": "i-1", "count": 1, "secretAddresses": True})
    inputs, _failures = check("SecondaryIpSet", news)
    assert "secretAddresses" not in inputs


def test_stack_scope_of_a_urn() -> None:
    assert stack_scope(URN.format("EipBatch")) == "shop/dev"
    assert stack_scope("nonsense") is None


def test_a_provider_setting_not_ours_fails_the_check() -> None:
    provider = BatchIpNativeProvider("0.0.1")
    config = wire_map({"eipEndpoint": "http://127.0.0.1:1", "eipEndpont": "x", "version": "1"})
    request = CheckRequest(
        "urn:pulumi:dev::shop::pulumi:providers:batchip::default", {}, config, b""
    )
    response = run(provider.check_config(request))
    assert [f.property for f in response.failures or []] == ["eipEndpont"]


def test_pip_install_puts_the_plugin_on_path() -> None:
    line = 'pulumi-resource-batchip = "pulumi_batchip.native.serve:console"'
    assert line in PYPROJECT.read_text()
    assert callable(serve.console)


def test_an_input_the_type_does_not_have_fails_the_check() -> None:
    # A misspelt input was dropped and its default used.
    news = wire_map({"count": 2, "bandwidth": {"size": 5}, "publicIpType": "5_sbgp"})
    _inputs, failures = check("EipBatch", news)
    [failure] = failures
    assert failure.startswith("publicIpType: publicIpType is not an input of EipBatch;")
    assert "publicipType" in failure and "stackScope" not in failure


def test_a_python_name_gets_the_schema_spelling() -> None:
    news = wire_map({"instance_id": "i-1", "count": 1})
    _inputs, failures = check("SecondaryIpSet", news)
    assert failures == [
        "instance_id: instance_id is not an input of SecondaryIpSet (the schema spells it "
        "instanceId); its inputs are instanceId, privateIps, count, ipv6, reboot, region, adopt"
    ]


def test_a_null_is_no_input_and_the_keys_set_for_an_input_pass() -> None:
    # A Python program names an output with None; an import's inputs carry the ids
    # the plugin and the provider set.
    news = wire_map({"count": 2, "bandwidth": {"size": 5}, "publicIps": None})
    assert check("EipBatch", news)[1] == []
    news = wire_map({"count": 2, "bandwidth": {"size": 5}, "batchId": "b", "stackScope": "x"})
    assert check("EipBatch", news)[1] == []
    news = wire_map({"instanceId": "i-1", "count": 1, "ownerKey": "k"})
    assert check("SecondaryIpSet", news)[1] == []


def test_the_rules_name_the_inputs_as_the_schema_does() -> None:
    news = wire_map({"instanceId": "i-1", "count": 1, "privateIps": ["10.0.0.9"]})
    _inputs, failures = check("SecondaryIpSet", news)
    assert "count: give exactly one of privateIps and count, not both" in failures, failures
    assert not [f for f in failures if "private_ips" in f]
