"""SecondaryIpSet calls whose answer is lost, against the emulator: a batchAddIp that
never gets its answer (what it added is removed again, or named exactly), a lost
batchDelIp answer, a rollback that fails, and an add answered without addresses."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pulumi.dynamic import CreateResult

from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.secondary_ip_set import SecondaryIpSetProvider

from ..conftest import Admin
from .harness import EngineResource, ProviderError
from .secondary_ip_support import (
    INSTANCE,
    Rewriting,
    calls,
    checked,
    in_process,
    inputs,
    lost,
    outside_client,
    refused,
    resource_fixture,
    secondary,
)

res = resource_fixture("hardened")


def created_in_process(
    emulator: RunningEmulator, count: int
) -> tuple[SecondaryIpSetProvider, CreateResult, list[str]]:
    """The provider in this process, a set of ``count`` it created, and its addresses."""
    provider = in_process(emulator)
    created = provider.create(checked(count=count))
    return provider, created, list(created.outs["private_ips"])


# -- a batchAddIp that never gets its answer ------------------------------------------------
def test_create_whose_every_add_answer_is_lost_rolls_back_then_converges(
    emulator: RunningEmulator, admin: Admin, stderr: Callable[[], str]
) -> None:
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp"))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=3))
    message = str(info.value)
    assert "BatchAddIp failed: no response" in message
    added = re.search(r"shows it added (\S+), (\S+), (\S+); removed again", message)
    assert added, message
    assert "none of them is left on the VM" in message
    assert "pulumi refresh" not in message
    assert secondary(admin) == []  # nothing leaked
    assert calls(admin, "BatchAddIp") == 8  # the whole retry budget, one clientToken
    assert calls(admin, "BatchDelIp") == 1
    assert f"added {', '.join(added.groups())}; removing them again" in stderr()
    admin.clear_faults()
    created = provider.create(checked(count=3))  # the rerun: 3 addresses, not 6
    assert secondary(admin) == created.outs["private_ips"]
    assert len(secondary(admin)) == 3
    provider.delete(created.id, dict(created.outs))
    assert secondary(admin) == []


def test_through_the_server_an_add_that_acted_then_was_throttled_is_undone(
    res: EngineResource, admin: Admin
) -> None:
    """The first attempt acts and loses its answer; the other seven are throttled
    (Retry-After 1 s), so the call ends on a throttle: not a definite refusal."""
    admin.faults(
        lost("BatchAddIp", times=1),
        {"operation": "BatchAddIp", "action": "throttle", "times": 7, "after": 1},
    )
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=2))
    message = info.value.details.strip().splitlines()[-1]
    assert "BatchAddIp failed: HTTP 429 RateLimit" in message
    added = re.search(r"shows it added (\S+), (\S+); removed again", message)
    assert added, message
    subnet = ipaddress.ip_network("192.168.0.0/24")
    assert all(ipaddress.ip_address(a) in subnet for a in added.groups())
    assert "none of them is left on the VM" in message
    assert secondary(admin) == []
    assert not res.exists
    admin.clear_faults()
    assert res.up(inputs(count=2)) == "create"
    assert len(secondary(admin)) == 2
    res.destroy()
    assert secondary(admin) == []


def test_unanswered_explicit_add_removes_only_what_it_asked_for(
    emulator: RunningEmulator, admin: Admin, stderr: Callable[[], str]
) -> None:
    outsider = outside_client(emulator)
    first = []

    def someone_else_adds(request: httpx.Request) -> None:
        # Just before our batchAddIp reaches BCC, someone else adds an address.
        if request.url.path.endswith("batchAddIp") and not first:
            first.append(request)
            outsider.batch_add_ip(INSTANCE, client_token="outsider", private_ips=["192.168.0.77"])

    provider = in_process(emulator, Rewriting(before=someone_else_adds))
    admin.faults({**lost("BatchAddIp"), "after": 1})  # the outsider's call is answered
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(private_ips=["192.168.0.50", "192.168.0.51"]))
    message = str(info.value)
    assert "shows it added 192.168.0.50, 192.168.0.51" in message
    assert "192.168.0.77" not in message
    assert secondary(admin) == ["192.168.0.77"]  # the outsider's address stays
    assert "added 192.168.0.50, 192.168.0.51; removing them again" in stderr()
    outsider.close()


def test_unanswered_add_in_update_keeps_the_set_as_it_was(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider, created, owned = created_in_process(emulator, count=2)
    admin.faults(lost("BatchAddIp"))
    with pytest.raises(BatchIpError) as info:
        provider.update(created.id, dict(created.outs), checked(count=4))
    assert "none of them is left on the VM" in str(info.value)
    assert secondary(admin) == owned
    admin.clear_faults()
    updated = provider.update(created.id, dict(created.outs), checked(count=4))
    assert secondary(admin) == updated.outs["private_ips"]
    assert len(secondary(admin)) == 4
    provider.delete(created.id, dict(updated.outs))
    assert secondary(admin) == []


def test_when_the_rollback_fails_the_error_names_what_is_left_where(
    emulator: RunningEmulator, admin: Admin, stderr: Callable[[], str]
) -> None:
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp"), refused("BatchDelIp"))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    message = str(info.value)
    left = secondary(admin)
    assert len(left) == 2
    assert f"still on VM {INSTANCE} (read back from its NIC): {', '.join(left)}" in message
    assert "adopt=True" in message
    assert "none of them is left" not in message
    assert "pulumi refresh" not in message.replace("`pulumi refresh` cannot find them", "")
    assert f"LEFT ON THE VM, in no state: {', '.join(left)}" in stderr()
    # What the error names can be claimed as it says.
    admin.clear_faults()
    adopted = provider.create(checked(private_ips=left, adopt=True))
    assert adopted.outs["private_ips"] == left
    provider.delete(adopted.id, dict(adopted.outs))
    assert secondary(admin) == []


def test_when_the_nic_cannot_be_read_back_nothing_is_claimed_to_be_gone(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider = in_process(emulator)
    outsider = outside_client(emulator)
    outsider.batch_add_ip(INSTANCE, client_token="before", private_ips=["192.168.0.9"])
    outsider.close()
    # The snapshot read passes; the read after the lost add is refused.
    admin.faults(lost("BatchAddIp"), {**refused("GetInstance"), "after": 1})
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    message = str(info.value)
    assert "whether it added addresses is unknown" in message
    assert "the NIC held these secondary addresses: 192.168.0.9" in message
    assert "none of them is left" not in message
    assert len(secondary(admin)) == 3  # truly left: the error did not pretend otherwise


def test_rollback_whose_answer_is_lost_too_is_verified_by_reading(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp"), lost("BatchDelIp", times=16))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    assert "none of them is left on the VM" in str(info.value)
    assert secondary(admin) == []


def test_a_definite_refusal_is_not_second_guessed(emulator: RunningEmulator, admin: Admin) -> None:
    provider = in_process(emulator)
    outsider = outside_client(emulator)
    outsider.batch_add_ip(INSTANCE, client_token="taken", private_ips=["192.168.0.20"])
    outsider.close()
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(private_ips=["192.168.0.20"]))
    assert "PrivateIpInUseException" in str(info.value)
    assert "adopt=True" in str(info.value)
    assert calls(admin, "GetInstance") == 1  # the snapshot only: a refusal did nothing
    assert calls(admin, "BatchDelIp") == 0


def test_update_whose_delete_answer_is_lost_but_went_through_succeeds(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider, created, owned = created_in_process(emulator, count=3)
    admin.faults(lost("BatchDelIp"))
    updated = provider.update(created.id, dict(created.outs), checked(count=1))
    assert updated.outs["private_ips"] == owned[:1]
    assert secondary(admin) == owned[:1]
    admin.clear_faults()
    provider.delete(created.id, dict(updated.outs))


def test_an_add_answered_without_addresses_is_read_from_the_nic(
    emulator: RunningEmulator, admin: Admin
) -> None:
    """The BCC docs promise no body for batchAddIp: with ``count``, an answer without
    ``privateIps`` is resolved by comparing the NIC before and after (under the VM's
    lock), never by recording nothing."""

    def without_addresses(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "privateIps"}

    transport = Rewriting(answer=without_addresses)
    provider = in_process(emulator, transport)
    created = provider.create(inputs(count=3))
    on_vm = secondary(admin)
    assert sorted(created.outs["private_ips"]) == sorted(on_vm) and len(on_vm) == 3
    provider.delete(str(created.id), created.outs)
    assert secondary(admin) == []
