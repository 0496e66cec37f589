"""SecondaryIpSet calls whose answer is lost, against the emulator: a batchAddIp that
never gets its answer (answered by its clientToken, or what may be its addresses named
and left: never removed on what the NIC shows), a lost
batchDelIp answer, a rollback that fails, and an add answered without addresses."""

from __future__ import annotations

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
from .harness import EngineResource
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
def test_an_add_whose_answers_are_lost_is_answered_by_its_token(
    emulator: RunningEmulator, admin: Admin, stderr: Callable[[], str]
) -> None:
    """All 8 attempts act (one clientToken: BCC adds once) and lose their answer; the
    same request again gets the first result: the create succeeds, with 3, not 6."""
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp"))
    created = provider.create(checked(count=3))
    assert secondary(admin) == created.outs["private_ips"]
    assert len(secondary(admin)) == 3
    assert calls(admin, "BatchAddIp") == 9 and calls(admin, "BatchDelIp") == 0
    assert "asking again with the same clientToken" in stderr()
    provider.delete(created.id, dict(created.outs))
    assert secondary(admin) == []


def test_an_add_never_answered_removes_nothing_and_says_how_to_claim(
    emulator: RunningEmulator, admin: Admin, stderr: Callable[[], str]
) -> None:
    """Nothing records what the call added, and another writer may add to the NIC
    meanwhile: what appeared is listed, not removed (it once was, exactly N of them,
    which could be another stack's: attack review)."""
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp", times=0))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=3))
    message = str(info.value)
    assert "BatchAddIp failed: no response" in message
    shown = re.search(r"shows 3 new addresses \((\S+), (\S+), (\S+)\): as many as", message)
    assert shown, message
    assert "none was removed and none is in any Pulumi state" in message
    assert "adopt=True" in message
    left = list(shown.groups())
    assert secondary(admin) == left and calls(admin, "BatchDelIp") == 0
    admin.clear_faults()
    # The advice, followed: the set claims them (they were its own here).
    adopted = provider.create(checked(private_ips=left, adopt=True))
    assert adopted.outs["private_ips"] == left
    provider.delete(adopted.id, dict(adopted.outs))
    assert secondary(admin) == []


def test_through_the_server_an_add_that_acted_then_was_throttled_is_answered_by_its_token(
    res: EngineResource, admin: Admin
) -> None:
    """The first attempt acts and loses its answer; the other seven are throttled
    (Retry-After 1 s), so the call ends on a throttle: not a definite refusal. The
    same request again is answered with the first result."""
    admin.faults(
        lost("BatchAddIp", times=1),
        {"operation": "BatchAddIp", "action": "throttle", "times": 7, "after": 1},
    )
    assert res.up(inputs(count=2)) == "create"
    assert len(secondary(admin)) == 2  # added once
    assert calls(admin, "BatchDelIp") == 0
    res.destroy()
    assert secondary(admin) == []


def test_unanswered_explicit_add_names_only_what_it_asked_for_and_removes_nothing(
    emulator: RunningEmulator, admin: Admin
) -> None:
    outsider = outside_client(emulator)
    first = []

    def someone_else_adds(request: httpx.Request) -> None:
        # Just before our batchAddIp reaches BCC, someone else adds an address.
        if request.url.path.endswith("batchAddIp") and not first:
            first.append(request)
            outsider.batch_add_ip(INSTANCE, client_token="outsider", private_ips=["192.168.0.77"])

    provider = in_process(emulator, Rewriting(before=someone_else_adds))
    admin.faults({**lost("BatchAddIp", times=0), "after": 1})  # the outsider's is answered
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(private_ips=["192.168.0.50", "192.168.0.51"]))
    message = str(info.value)
    assert "holds 2 of the addresses it asked for (192.168.0.50, 192.168.0.51)" in message
    assert "192.168.0.77" not in message and "none was removed" in message
    assert sorted(secondary(admin)) == ["192.168.0.50", "192.168.0.51", "192.168.0.77"]
    assert calls(admin, "BatchDelIp") == 0
    outsider.close()


def test_unanswered_add_in_update_keeps_the_set_as_it_was(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider, created, owned = created_in_process(emulator, count=2)
    admin.faults(lost("BatchAddIp", times=0))
    with pytest.raises(BatchIpError) as info:
        provider.update(created.id, dict(created.outs), checked(count=4))
    message = str(info.value)
    assert "none was removed" in message
    left = [a for a in secondary(admin) if a not in owned]
    assert len(left) == 2 and all(a in message for a in left)
    assert secondary(admin)[:2] == owned  # the set's own untouched
    admin.clear_faults()
    # The advice for an update: the set claims its own and those.
    claimed = provider.update(
        created.id, dict(created.outs), checked(private_ips=[*owned, *left], adopt=True)
    )
    assert sorted(claimed.outs["private_ips"]) == sorted([*owned, *left])
    provider.delete(created.id, dict(claimed.outs))
    assert secondary(admin) == []


def test_when_the_nic_cannot_be_read_back_nothing_is_claimed_to_be_gone(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider = in_process(emulator)
    outsider = outside_client(emulator)
    outsider.batch_add_ip(INSTANCE, client_token="before", private_ips=["192.168.0.9"])
    outsider.close()
    # The snapshot read passes; the read after the lost add is refused.
    admin.faults(lost("BatchAddIp", times=0), {**refused("GetInstance"), "after": 1})
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    message = str(info.value)
    assert "whether it added addresses is unknown" in message
    assert "the NIC held these secondary addresses: 192.168.0.9" in message
    assert "none of them is left" not in message
    assert len(secondary(admin)) == 3  # truly left: the error did not pretend otherwise


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
