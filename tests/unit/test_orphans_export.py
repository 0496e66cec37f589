"""What `orphans` makes of an export made without --show-secrets, before any call."""

from __future__ import annotations

import json

import pytest

from pulumi_batchip.orphans import _owned_twice, find
from pulumi_batchip.stack_export import SECONDARY_IP_SET, StateError, load_state

URN = "urn:pulumi:dev::proj::pulumi-python:dynamic/batchip:SecondaryIpSet::hidden"
SEALED = {
    "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
    "ciphertext": "v1:AAAA",
}


def export(outputs_ips: object, pending_ips: object) -> str:
    return json.dumps(
        {
            "deployment": {
                "resources": [
                    {
                        "urn": URN,
                        "type": SECONDARY_IP_SET,
                        "outputs": {
                            "instance_id": "i-1",
                            "ipv6": False,
                            "private_ips": outputs_ips,
                        },
                    }
                ],
                "pending_operations": [
                    {
                        "type": "creating",
                        "resource": {
                            "urn": URN.replace("::hidden", "::other"),
                            "type": SECONDARY_IP_SET,
                            "inputs": {"instance_id": "i-1", "private_ips": pending_ips},
                        },
                    }
                ],
            }
        }
    )


def test_a_set_with_encrypted_addresses_stops_the_scan_of_its_vm() -> None:
    """Without the owned list every address of the VM would look unowned."""
    state = load_state(export(SEALED, SEALED))
    with pytest.raises(StateError) as raised:
        find(state, env={})
    message = str(raised.value)
    assert URN in message and "VM i-1" in message
    assert "pulumi stack export --show-secrets" in message


def test_encrypted_config_keys_are_remembered() -> None:
    text = json.loads(export(["10.0.0.1"], ["10.0.0.2"]))
    text["deployment"]["resources"].append(
        {
            "urn": "urn:pulumi:dev::proj::pulumi:providers:pulumi-python::default",
            "type": "pulumi:providers:pulumi-python",
            "inputs": {"huaweicloud:secretKey": SEALED, "huaweicloud:region": "cn-north-4"},
        }
    )
    state = load_state(json.dumps(text))
    assert state.encrypted == frozenset({"huaweicloud:secretKey"})
    assert state.config == {"huaweicloud:region": "cn-north-4"}


def test_a_sealed_set_without_interrupted_operation_is_skipped_and_said() -> None:
    """VMs are scanned for every set of the export, but one whose owned list is
    encrypted is not scanned (every address would look unowned): the output says so."""
    text = json.loads(export(SEALED, SEALED))
    text["deployment"]["pending_operations"] = []
    found = find(load_state(json.dumps(text)), env={})  # no call: no credentials needed
    assert found.addresses == []
    [note] = found.skipped
    assert URN in note and "VM i-1" in note and "was not scanned" in note
    assert "pulumi stack export --show-secrets" in note


def test_an_address_two_sets_own_is_named_with_both() -> None:
    """Only the state can show it (BCC marks no owner): said with what to do."""
    text = json.loads(export(["10.0.0.1", "10.0.0.2"], ["10.0.0.9"]))
    second = dict(text["deployment"]["resources"][0], urn=URN.replace("::hidden", "::taker"))
    second["outputs"] = {"instance_id": "i-1", "ipv6": False, "private_ips": ["10.0.0.1"]}
    text["deployment"]["resources"].append(second)
    [line] = _owned_twice(load_state(json.dumps(text)))
    assert line.startswith("secondary IP 10.0.0.1 on i-1 is owned by 2 SecondaryIpSets")
    assert "(hidden, taker)" in line and "remove it from the private_ips" in line
    text["deployment"]["resources"].pop()
    assert _owned_twice(load_state(json.dumps(text))) == []
