"""``adopt=True`` on an update (issue 20, item 4): an interrupted count increase leaves
addresses on the NIC that no set owns; the set claims them by an update that names
them in ``private_ips`` with ``adopt=True``, never one another set of the process owns,
and without adopt the error says how to do exactly that."""

from __future__ import annotations

import pytest
from pulumi.runtime.proto import provider_pb2

from pulumi_batchip.emulator import RunningEmulator

from ..conftest import Admin
from .conftest import stack_config
from .harness import EngineResource, ProviderError, ProviderProcess
from .secondary_ip_support import outside_client
from .test_secondary_ip_set_engine import INSTANCE, TYPE, inputs, secondary, successful

LEFT = ["192.168.0.60", "192.168.0.61", "192.168.0.62"]  # left by the interrupted add


@pytest.fixture
def res(provider_server: ProviderProcess, emulator: RunningEmulator) -> EngineResource:
    return EngineResource(provider_server, TYPE, "s")


def leave_on_nic(emulator: RunningEmulator, addresses: list[str]) -> None:
    """What a batchAddIp of an update killed before it was saved leaves: addresses on
    the NIC in no state."""
    client = outside_client(emulator)
    try:
        client.batch_add_ip(INSTANCE, client_token="interrupted", private_ips=addresses)
    finally:
        client.close()


def test_adopt_on_update_claims_what_no_set_owns(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    assert res.up(inputs(count=3)) == "create"
    owned = list(res.outputs["private_ips"])
    leave_on_nic(emulator, LEFT)
    six = owned + LEFT

    # Without adopt: BCC refuses the add, and the hint says how to claim them.
    with pytest.raises(ProviderError) as info:
        res.up(inputs(private_ips=six))
    message = info.value.details
    assert "PrivateIpInUseException" in message
    assert "set adopt=True on this set, keeping these private_ips, and run `pulumi up`" in message
    assert "the update then claims the addresses already on the NIC" in message
    assert res.outputs["private_ips"] == owned  # the set is as it was
    assert secondary(admin) == six

    # With adopt: claimed as they are, nothing added.
    adds = successful(admin, "BatchAddIp")
    assert res.up(inputs(private_ips=six, adopt=True)) == "update"
    assert successful(admin, "BatchAddIp") == adds
    assert res.outputs["private_ips"] == six
    assert secondary(admin) == six
    assert "claimed 192.168.0.60, 192.168.0.61, 192.168.0.62" in res.provider.stderr

    # adopt is no change by itself; back to count=6 changes nothing in the cloud.
    diff = res.preview(inputs(private_ips=six))
    assert diff is not None and diff.changes == provider_pb2.DiffResponse.DIFF_NONE
    before = len(admin.requests())
    assert res.up(inputs(count=6)) == "update"
    assert res.outputs["private_ips"] == six and res.outputs["count"] == 6
    assert [r["operation"] for r in admin.requests()[before:]] == ["GetInstance"]

    res.destroy()
    assert secondary(admin) == []


def test_adopt_on_update_adds_what_is_missing(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    assert res.up(inputs(private_ips=["192.168.0.50"])) == "create"
    leave_on_nic(emulator, LEFT[:1])
    wanted = ["192.168.0.50", LEFT[0], "192.168.0.70"]
    before = len(admin.requests())
    assert res.up(inputs(private_ips=wanted, adopt=True)) == "update"
    [add] = [r for r in admin.requests()[before:] if r["operation"] == "BatchAddIp"]
    assert add["body"]["privateIps"] == ["192.168.0.70"]  # only the missing one
    assert res.outputs["private_ips"] == wanted
    res.destroy()
    assert secondary(admin) == []


def test_adopt_on_update_never_takes_another_sets_address(
    res: EngineResource, provider_server: ProviderProcess, admin: Admin
) -> None:
    other = EngineResource(provider_server, TYPE, "other")
    assert other.up(inputs(private_ips=["192.168.0.80"])) == "create"
    assert res.up(inputs(private_ips=["192.168.0.50"])) == "create"
    before = len(admin.requests())
    with pytest.raises(ProviderError) as info:
        res.up(inputs(private_ips=["192.168.0.50", "192.168.0.80"], adopt=True))
    message = info.value.details.strip().splitlines()[-1]
    assert (
        f"adopt=True cannot claim 192.168.0.80 on VM {INSTANCE}: another SecondaryIpSet of "
        "this deployment owns it, and adopt=True claims only addresses no other set owns. "
        "Nothing was changed"
    ) in message
    assert [r["operation"] for r in admin.requests()[before:]] == ["GetInstance"]
    assert res.outputs["private_ips"] == ["192.168.0.50"]
    # Nor on create.
    third = EngineResource(provider_server, TYPE, "third")
    with pytest.raises(ProviderError) as info:
        third.up(inputs(private_ips=["192.168.0.80", "192.168.0.90"], adopt=True))
    assert "adopt=True cannot claim 192.168.0.80" in info.value.details
    assert not third.exists
    res.destroy()
    other.destroy()
    assert secondary(admin) == []


def test_an_address_adopted_from_another_set_is_warned_of_then_let_go(
    admin: Admin, emulator: RunningEmulator
) -> None:
    """`a` (declared before `c`, so created before `c` is diffed) adopts `c`'s address:
    BCC marks no owner, so nothing can tell then. `c`'s diff in the same deployment
    sees two sets claim it and says so; the fix the warning names (drop it from `a`)
    lets it go without deleting it, because `c` claims it in that deployment."""
    config = stack_config(emulator.url)
    with ProviderProcess() as first:
        first.configure(config)
        c = EngineResource(first, TYPE, "c")
        c.up(inputs(private_ips=["192.168.0.70"]))
    leave_on_nic(emulator, ["192.168.0.71"])
    with ProviderProcess() as second:  # the next `pulumi up`: a is declared first
        second.configure(config)
        a = EngineResource(second, TYPE, "a")
        a.up(inputs(private_ips=["192.168.0.70", "192.168.0.71"], adopt=True))
        c.provider = second
        assert c.up(inputs(private_ips=["192.168.0.70"])) == "same"
        warning = second.stderr
    assert "192.168.0.70 on VM" in warning and "owned by another SecondaryIpSet" in warning
    with ProviderProcess() as third:  # c is declared first now, a keeps only .71
        third.configure(config)
        c.provider = a.provider = third
        assert c.up(inputs(private_ips=["192.168.0.70"])) == "same"
        assert a.up(inputs(private_ips=["192.168.0.71"], adopt=True)) == "update"
        assert "not deleting 192.168.0.70: another set of this stack owns it" in third.stderr
    assert a.outputs["private_ips"] == ["192.168.0.71"]
    assert secondary(admin) == ["192.168.0.70", "192.168.0.71"]
    with ProviderProcess() as last:
        last.configure(config)
        c.provider = a.provider = last
        a.destroy()
        c.destroy()
    assert secondary(admin) == []


def test_two_sets_of_the_same_addresses_are_told_apart(
    admin: Admin, emulator: RunningEmulator
) -> None:
    """`a` adopts exactly `c`'s addresses, so both get the id `<vm>/192.168.0.70`: the
    owner key chosen in check tells them apart. `c`'s diff warns; `a` moving to another
    address, then being destroyed, never deletes `c`'s."""
    config = stack_config(emulator.url)
    with ProviderProcess() as first:
        first.configure(config)
        c = EngineResource(first, TYPE, "c")
        c.up(inputs(private_ips=["192.168.0.70"]))
    with ProviderProcess() as second:
        second.configure(config)
        a = EngineResource(second, TYPE, "a")
        a.up(inputs(private_ips=["192.168.0.70"], adopt=True))
        assert a.id == c.id and a.inputs["owner_key"] != c.inputs["owner_key"]
        c.provider = second
        assert c.up(inputs(private_ips=["192.168.0.70"])) == "same"
        assert "owned by another SecondaryIpSet" in second.stderr
    with ProviderProcess() as third:
        third.configure(config)
        c.provider = a.provider = third
        assert c.up(inputs(private_ips=["192.168.0.70"])) == "same"
        assert a.up(inputs(private_ips=["192.168.0.72"])) == "update"
        assert secondary(admin) == ["192.168.0.70", "192.168.0.72"]
        a.destroy()
        assert secondary(admin) == ["192.168.0.70"]
        c.destroy()
    assert secondary(admin) == []
