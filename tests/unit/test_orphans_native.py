"""`orphans` on stacks of the native plugin (``batchip:index:*`` types, camelCase
properties, the ``batchip`` provider's settings), with hand-built exports as
`pulumi stack export` writes them; the cloud is the emulator."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.config import BaiduSettings, Credentials
from pulumi_batchip.eip_operations import batch_tags
from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    RunningEmulator,
)
from pulumi_batchip.errors import ConfigError
from pulumi_batchip.native.resources import kinds
from pulumi_batchip.orphans import _owned_twice, find
from pulumi_batchip.orphans import run as run_orphans
from pulumi_batchip.stack_export import NATIVE, NATIVE_PROVIDER, load_state

from ..conftest import Admin
from ..engine.test_eip_ownership import made_outside

[(HW_AK, HW_SK)] = DEFAULT_HW_CREDENTIALS.items()
[(BCE_AK, BCE_SK)] = DEFAULT_BCE_CREDENTIALS.items()
EIP_BATCH = "batchip:index:EipBatch"
SECONDARY_IP_SET = "batchip:index:SecondaryIpSet"
PREFIX = "urn:pulumi:dev::proj::"
SEALED = {
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    "ciphertext": "v1:AAAA",
}
ENV = {"HW_ACCESS_KEY": HW_AK, "HW_SECRET_KEY": HW_SK}
BATCH = "3f1c2a9e-0000-4000-8000-00000000beef"


def provider(inputs: dict[str, Any]) -> dict[str, Any]:
    return {
        "urn": f"{PREFIX}pulumi:providers:batchip::default",
        "type": NATIVE_PROVIDER,
        "inputs": inputs,
    }


def export(resources: list[dict[str, Any]], pending: list[dict[str, Any]]) -> str:
    return json.dumps(
        {
            "deployment": {
                "resources": resources,
                "pending_operations": [
                    {"type": "creating", "resource": resource} for resource in pending
                ],
            }
        }
    )


def test_the_tokens_are_the_plugins() -> None:
    assert set(NATIVE.values()) == set(kinds()) == {EIP_BATCH, SECONDARY_IP_SET}


def test_native_resources_are_read_in_snake_case() -> None:
    state = load_state(
        export(
            [
                {
                    "urn": f"{PREFIX}{EIP_BATCH}::edge",
                    "type": EIP_BATCH,
                    "outputs": {
                        "batchId": "b1",
                        "eipIds": ["e1"],
                        "projectId": "p",
                        "tags": {"myTag": "x"},
                    },
                }
            ],
            [
                {
                    "urn": f"{PREFIX}{EIP_BATCH}::lost",
                    "type": EIP_BATCH,
                    "inputs": {"batchId": "b2", "adoptEipIds": ["e9"]},
                }
            ],
        )
    )
    [owned] = state.of_type("pulumi-python:dynamic/batchip:EipBatch")
    assert owned["outputs"] == {
        "batch_id": "b1",
        "eip_ids": ["e1"],
        "project_id": "p",
        "tags": {"myTag": "x"},
    }
    [lost] = state.pending_of_type("pulumi-python:dynamic/batchip:EipBatch")
    assert lost["inputs"] == {"batch_id": "b2", "adopt_eip_ids": ["e9"]}
    assert state.native("pulumi-python:dynamic/batchip:EipBatch")
    assert not state.native("pulumi-python:dynamic/batchip:SecondaryIpSet")  # none


def test_the_plugin_providers_settings_are_the_stack_config() -> None:
    """Its inputs are the ``batchip:`` settings: read under the contract's keys, typed
    values as the config spells them, secrets remembered by the name the user sets."""
    state = load_state(
        export(
            [
                provider(
                    {
                        "eipEndpoint": "http://127.0.0.1:1",
                        "huaweiRegion": "cn-north-4",
                        "huaweiProjectId": DEFAULT_HW_PROJECT_ID,
                        "huaweiSecretKey": SEALED,
                        "huaweiAccessKey": {
                            "4dabf18193072939515e22adb298388d": "x",
                            "plaintext": '"AK"',
                        },
                        "allowInsecureHttp": True,
                        "eipJobTimeout": 120,
                        "version": "0.1.0",
                    }
                )
            ],
            [{"urn": f"{PREFIX}{EIP_BATCH}::lost", "type": EIP_BATCH, "inputs": {}}],
        )
    )
    assert state.config == {
        "batchip:eipEndpoint": "http://127.0.0.1:1",
        "huaweicloud:region": "cn-north-4",
        "huaweicloud:projectId": DEFAULT_HW_PROJECT_ID,
        "huaweicloud:accessKey": "AK",
        "batchip:allowInsecureHttp": "true",
        "batchip:eipJobTimeout": "120",
    }
    assert state.encrypted == frozenset({"batchip:huaweiSecretKey"})
    with pytest.raises(ConfigError) as raised:
        find(state, env={})
    message = str(raised.value)
    # Named as the user sets it, with its variable and how to get it readable.
    assert "batchip:huaweiSecretKey" in message and "HW_SECRET_KEY" in message
    assert "huaweicloud:" not in message and "--show-secrets" in message


def made_for_batch(url: str, admin: Admin, count: int, batch: str) -> list[str]:
    """EIPs as an interrupted create of ``batch`` in stack proj/dev leaves them."""
    return made_outside(url, admin, count, batch_tags(batch, {}, "proj/dev"))


def settings(url: str) -> dict[str, Any]:
    return {
        "eipEndpoint": url,
        "huaweiRegion": "cn-north-4",
        "huaweiProjectId": DEFAULT_HW_PROJECT_ID,
    }


def orphans(text: str, *, release: bool = False, env: dict[str, str] = ENV) -> tuple[int, str]:
    out = io.StringIO()
    code = run_orphans("-", do_release=release, yes=True, stdin=io.StringIO(text), out=out, env=env)
    return code, out.getvalue()


def test_an_interrupted_native_create_is_found_and_released(
    admin: Admin, emulator: RunningEmulator
) -> None:
    """The batch recorded in camelCase (``batchId``), the endpoint and region from the
    plugin provider's inputs; the advice in the plugin's spelling."""
    left = made_for_batch(emulator.url, admin, 3, BATCH)
    owned = made_for_batch(emulator.url, admin, 1, "b-owned")
    adopting = made_for_batch(emulator.url, admin, 1, BATCH)[0]
    text = export(
        [
            provider(settings(emulator.url)),
            {
                "urn": f"{PREFIX}{EIP_BATCH}::kept",
                "type": EIP_BATCH,
                "outputs": {"batchId": "b-owned", "eipIds": owned},
            },
        ],
        [
            {
                "urn": f"{PREFIX}{EIP_BATCH}::edge",
                "type": EIP_BATCH,
                "inputs": {
                    "count": 3,
                    "batchId": BATCH,
                    "stackScope": "proj/dev",
                    "adoptEipIds": [adopting],
                },
            }
        ],
    )
    code, printed = orphans(text)
    assert code == 0, printed
    listed = {line.split()[1] for line in printed.splitlines() if line.startswith("EIP ")}
    assert listed == {*left, adopting}
    assert f"interrupted: {PREFIX}{EIP_BATCH}::edge" in printed
    assert "orphans of stack proj/dev: 4 EIP(s) in 1 batch(es)" in printed
    assert f'Adopt: give the {EIP_BATCH} the input adoptBatchId: "{BATCH}"' in printed
    assert (
        f"(adoptEipIds), maybe not made by pulumi-batchip: adopt them again (give the "
        f'{EIP_BATCH} the input adoptEipIds: ["{adopting}"]), or release them by hand'
    ) in printed
    assert "adopt_batch_id" not in printed and "adopt_eip_ids" not in printed
    assert "EipBatch(" not in printed

    code, printed = orphans(text, release=True)
    assert code == 0 and "released 3 EIP(s); 0 skipped" in printed, printed
    alive = {
        i for i, e in admin.state()["eip"]["publicips"].items() if e["status"] != "PENDING_DELETE"
    }
    assert alive == {*owned, adopting}


def test_an_unrecorded_batch_of_a_native_stack_is_counted_with_native_advice(
    admin: Admin, emulator: RunningEmulator
) -> None:
    made_for_batch(emulator.url, admin, 2, "b-elsewhere")
    text = export(
        [
            provider(settings(emulator.url)),
            {
                "urn": f"{PREFIX}{EIP_BATCH}::kept",
                "type": EIP_BATCH,
                "outputs": {"batchId": "b1", "eipIds": []},
            },
        ],
        [],
    )
    code, printed = orphans(text)
    assert code == 0, printed
    assert "not listed: 2 EIP(s) in 1 batch(es) (b-elsewhere)" in printed
    assert f'adopt them: give the {EIP_BATCH} the input adoptBatchId: "<batch>"' in printed
    assert "0 EIP(s) in 0 batch(es)" in printed


def test_secondary_ips_of_a_native_stack_with_native_advice(
    admin: Admin, emulator: RunningEmulator
) -> None:
    """A native set owns one address and was interrupted growing (``count``): the other
    addresses on its VM are listed, with the set's inputs in camelCase."""
    client = BccClient.from_settings(BaiduSettings(Credentials(BCE_AK, BCE_SK), "bj", emulator.url))
    try:
        client.batch_add_ip(
            "i-DhjUXmSA", client_token="t1", private_ips=["192.168.0.50", "192.168.0.51"]
        )
    finally:
        client.close()
    urn = f"{PREFIX}{SECONDARY_IP_SET}::app"
    set_state = {
        "urn": urn,
        "type": SECONDARY_IP_SET,
        "outputs": {
            "instanceId": "i-DhjUXmSA",
            "privateIps": ["192.168.0.50"],
            "ipv6": False,
            "count": 1,
        },
    }
    text = json.loads(
        export([provider({"bccEndpoint": emulator.url, "baiduRegion": "bj"}), set_state], [])
    )
    text["deployment"]["pending_operations"] = [
        {
            "type": "updating",
            "resource": {**set_state, "inputs": {"instanceId": "i-DhjUXmSA", "count": 2}},
        }
    ]
    env = {"BAIDUCLOUD_ACCESS_KEY": BCE_AK, "BAIDUCLOUD_SECRET_KEY": BCE_SK}
    code, printed = orphans(json.dumps(text), env=env)
    assert code == 0, printed
    assert "secondary IP 192.168.0.51 on i-DhjUXmSA" in printed
    assert "192.168.0.50 on" not in printed
    assert (
        f'Adopt: give the {SECONDARY_IP_SET} "app" the inputs privateIps: '
        '["192.168.0.50", "192.168.0.51"], adopt: true in place of count, then `pulumi up`'
    ) in printed
    assert "private_ips" not in printed and "SecondaryIpSet(" not in printed


def test_an_address_two_native_sets_own_is_said_in_camel_case() -> None:
    def owner(name: str) -> dict[str, Any]:
        return {
            "urn": f"{PREFIX}{SECONDARY_IP_SET}::{name}",
            "type": SECONDARY_IP_SET,
            "outputs": {"instanceId": "i-1", "privateIps": ["10.0.0.1"]},
        }

    [line] = _owned_twice(load_state(export([owner("a"), owner("b")], [])))
    assert "secondary IP 10.0.0.1 on i-1 is owned by 2 SecondaryIpSets" in line
    assert "remove it from the privateIps of those" in line
