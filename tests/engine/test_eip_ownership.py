"""EipBatch ownership rests on what is recorded: the batch id ``check`` chooses (kept
by the engine in the inputs), the tags a batch writes, the inputs and outputs the
engine hands the provider. Adoption never takes another stack's EIP or a live batch's,
never acts twice (a replacement, a leftover input), and a release never touches an
EIP another batch has adopted since."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.eip_operations import batch_tags
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID, RunningEmulator
from pulumi_batchip.huawei.eip import BandwidthSpec, BatchCreateRequest, EipClient
from pulumi_batchip.orphans import run as run_orphans
from pulumi_batchip.stack_export import DYNAMIC_PROVIDER, EIP_BATCH

from ..conftest import Admin
from .conftest import HW_AK, HW_SK, stack_config
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs


@pytest.fixture
def deployment(emulator_session: RunningEmulator) -> Iterator[Any]:
    """``deployment()`` is a new provider process, as each `pulumi up` starts one."""
    started: list[ProviderProcess] = []

    def start() -> ProviderProcess:
        server = ProviderProcess()
        server.__enter__()
        server.configure(stack_config(emulator_session.url))
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


def made_outside(
    url: str, admin: Admin, count: int, tags: dict[str, str] | None = None
) -> list[str]:
    """EIPs created straight through the API (by hand, or by an interrupted create
    when ``tags`` are a batch's); returns their ids."""
    before = set(held(admin))
    client = EipClient.from_settings(
        HuaweiSettings(Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, url)
    )
    try:
        client.batch_create_publicips(
            BatchCreateRequest(
                count=count,
                publicip_type="5_bgp",
                ip_version=4,
                bandwidth=BandwidthSpec(size=5, share_type="PER", name="outside"),
                tags=tags or {},
            )
        )
        deadline = time.monotonic() + 10
        while len(set(held(admin)) - before) < count and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.close()
    made = sorted(set(held(admin)) - before)
    assert len(made) == count
    return made


def test_check_chooses_the_batch_id_a_create_uses(deployment: Any, admin: Admin) -> None:
    """Fresh for a create (so the engine records it before the create runs), kept on
    an update, fresh again for a replacement: two batches never share one id."""
    res = EngineResource(deployment(), TYPE, "edge")
    checked = res.check(inputs(count=1))
    res.up(inputs(count=1))
    assert res.id == res.inputs["batch_id"] != checked["batch_id"]  # preview's differs
    first = res.id
    assert res.up(inputs(count=2)) == "update"
    assert res.inputs["batch_id"] == res.id == first
    assert res.up(inputs(count=2, publicip_type="5_sbgp")) == "replace"
    assert res.id == res.inputs["batch_id"] != first
    assert_state_matches(res, admin)
    assert res.up(inputs(count=2, publicip_type="5_sbgp"), replace=True) == "replace"
    assert res.id not in (first, None) and res.id == res.inputs["batch_id"]
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}


def test_another_stacks_eips_are_never_adopted(deployment: Any, admin: Admin) -> None:
    """Stack g names an EIP of stack f's batch: refused before anything changes, so
    g's destroy can never release what f owns."""
    server = deployment()
    theirs = EngineResource(server, TYPE, "edge")
    theirs.up(dict(inputs(count=2), stack_scope="batchip/f"))
    taken = theirs.outputs["eip_ids"][0]
    mine = EngineResource(server, "pulumi-python:dynamic/batchip:EipBatch", "mine")
    with pytest.raises(ProviderError) as info:
        mine.up(dict(inputs(count=1, adopt_eip_ids=[taken]), stack_scope="batchip/g"))
    assert f"{taken} belongs to another stack" in info.value.details
    assert "nothing was changed" in info.value.details
    assert set(held(admin)) == set(theirs.outputs["eip_ids"])
    theirs.destroy()
    assert held(admin) == {}


def test_a_live_batch_of_this_stack_is_never_adopted(deployment: Any, admin: Admin) -> None:
    """Next deployment: `first` is checked and diffed (its recorded inputs and outputs
    reach the provider), then `second` names one of its EIPs: refused."""
    first = EngineResource(deployment(), TYPE, "first")
    first.up(inputs(count=2))
    server = deployment()
    first.provider = server
    assert first.up(inputs(count=2)) == "same"
    second = EngineResource(server, TYPE, "second")
    wanted = first.outputs["eip_ids"][1]
    with pytest.raises(ProviderError) as info:
        second.up(inputs(count=1, adopt_eip_ids=[wanted]))
    assert f"{wanted} is in batch {first.id}, which a resource of this stack owns" in (
        info.value.details
    )
    assert_state_matches(first, admin)
    first.destroy()


def test_an_eip_of_another_publicip_type_is_refused(
    deployment: Any, admin: Admin, emulator_session: RunningEmulator
) -> None:
    [outside] = made_outside(emulator_session.url, admin, 1)
    res = EngineResource(deployment(), TYPE, "typed")
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=1, publicip_type="5_sbgp", adopt_eip_ids=[outside]))
    assert f"{outside} is of publicip_type 5_bgp, not 5_sbgp" in info.value.details
    assert list(held(admin)) == [outside]
    admin.reset()


def test_leftover_adoption_inputs_never_act_on_a_replacement(
    deployment: Any, admin: Admin, emulator_session: RunningEmulator
) -> None:
    """A batch adopted an interrupted create's batch and an EIP made by hand; the
    program keeps both inputs; a publicip_type change replaces the batch: the new one
    is created whole, the old one (adopted EIPs included) released, and the state
    lists only EIPs that exist."""
    scope = inputs()["stack_scope"]
    lost = "3f1c2a9e-0000-4000-8000-00000000abcd"
    interrupted = made_outside(emulator_session.url, admin, 2, batch_tags(lost, {}, scope))
    [by_hand] = made_outside(emulator_session.url, admin, 1)
    adoption = {"adopt_batch_id": lost, "adopt_eip_ids": [by_hand]}
    res = EngineResource(deployment(), TYPE, "edge")
    res.up(inputs(count=4, **adoption))
    assert {*interrupted, by_hand} < set(res.outputs["eip_ids"])
    old = set(res.outputs["eip_ids"])
    res.provider = deployment()  # the next `pulumi up`
    assert res.up(inputs(count=4, publicip_type="5_sbgp", **adoption)) == "replace"
    assert not old & set(res.outputs["eip_ids"]) and len(res.outputs["eip_ids"]) == 4
    assert "not adopting" in res.provider.stderr and "again" in res.provider.stderr
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}


def test_a_targeted_replace_that_adopts_again_leaves_the_eip_to_the_new_batch(
    deployment: Any, admin: Admin, emulator_session: RunningEmulator
) -> None:
    """`pulumi up --replace` checks without the old inputs and calls no Diff, so the
    provider cannot tell it from a first create: the new batch adopts the EIP again.
    The old batch's delete then leaves it alone (another batch's tag is on it), and
    both states stay true."""
    [by_hand] = made_outside(emulator_session.url, admin, 1)
    res = EngineResource(deployment(), TYPE, "edge")
    res.up(inputs(count=2, adopt_eip_ids=[by_hand]))
    res.provider = deployment()
    assert res.up(inputs(count=2, adopt_eip_ids=[by_hand]), replace=True) == "replace"
    assert by_hand in res.outputs["eip_ids"]
    assert "now carry another batch's pulumi-batchip-batch tag" in res.provider.stderr
    assert_state_matches(res, admin)
    res.destroy()
    assert held(admin) == {}


def tag_of(admin: Admin, eip_id: str) -> str | None:
    tags = held(admin)[eip_id]["tags"]
    return next((t.split("*", 1)[1] for t in tags if t.startswith("pulumi-batchip-batch*")), None)


def test_adoption_never_releases_an_eip_of_a_batch_in_the_same_step(
    deployment: Any, admin: Admin
) -> None:
    """`second` is declared before `first`, so it runs before `first` is diffed, and
    names `first`'s batch with count 1: releasing two of them could destroy addresses
    `first` owns. Refused before anything changes."""
    first = EngineResource(deployment(), TYPE, "first")
    first.up(inputs(count=3))
    second = EngineResource(deployment(), TYPE, "second")
    with pytest.raises(ProviderError) as info:
        second.up(inputs(count=1, adopt_batch_id=first.id))
    assert "adoption never releases those in the same step" in info.value.details
    assert "Set count to 3" in info.value.details
    assert {tag_of(admin, i) for i in first.outputs["eip_ids"]} == {first.id}
    assert_state_matches(first, admin)
    first.destroy()


def test_a_failed_top_up_gives_the_adopted_eips_their_tags_back(
    deployment: Any, admin: Admin, emulator_session: RunningEmulator
) -> None:
    scope = inputs()["stack_scope"]
    lost = "3f1c2a9e-0000-4000-8000-00000000beef"
    left = made_outside(emulator_session.url, admin, 2, batch_tags(lost, {}, scope))
    admin.faults(
        {"operation": "BatchCreatePublicips", "action": "error", "status": 400,
         "code": "VPC.0501", "message": "Bandwidth share_type is invalid."}
    )  # fmt: skip
    res = EngineResource(deployment(), TYPE, "edge")
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=4, adopt_batch_id=lost))
    details = info.value.details
    assert "EipBatch create failed" in details and "update" not in details
    assert "the 2 adopted EIPs have their own tags back" in details
    assert {tag_of(admin, i) for i in left} == {lost}
    admin.clear_faults()
    res.up(inputs(count=4, adopt_batch_id=lost))  # the same program works now
    assert set(left) < set(res.outputs["eip_ids"])
    assert res.outputs["adopted_batch_id"] == lost
    res.destroy()
    assert held(admin) == {}


def test_adopting_then_trimming_a_bound_eip_is_refused_first(
    deployment: Any, admin: Admin, emulator_session: RunningEmulator
) -> None:
    outside = made_outside(emulator_session.url, admin, 2)
    for eip_id in outside:
        admin.post("eip/bind", {"publicip_id": eip_id, "port_id": f"port-{eip_id[:4]}"})
    res = EngineResource(deployment(), TYPE, "edge")
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=1, adopt_eip_ids=outside))
    assert "are bound: unbind them or raise count; nothing was changed" in info.value.details
    assert all(held(admin)[i]["tags"] == [] for i in outside)
    for eip_id in outside:
        admin.post("eip/unbind", {"publicip_id": eip_id})
    admin.reset()


def test_adoption_inputs_that_never_acted_are_not_spent(
    deployment: Any, admin: Admin, emulator_session: RunningEmulator
) -> None:
    """Adoption inputs added to an existing batch do nothing (they act on create): the
    next deployment must not take them for spent when another batch names them."""
    [by_hand] = made_outside(emulator_session.url, admin, 1)
    a = EngineResource(deployment(), TYPE, "a")
    a.up(inputs(count=1))
    assert a.up(inputs(count=1, adopt_eip_ids=[by_hand])) == "same"
    server = deployment()
    a.provider = server
    assert a.up(inputs(count=1, adopt_eip_ids=[by_hand])) == "same"
    b = EngineResource(server, TYPE, "b")
    b.up(inputs(count=1, adopt_eip_ids=[by_hand]))
    assert b.outputs["eip_ids"] == [by_hand]
    a.destroy()
    b.destroy()
    assert held(admin) == {}


def test_a_get_view_owns_nothing_so_its_batch_can_be_adopted(
    deployment: Any, admin: Admin, emulator_session: RunningEmulator
) -> None:
    scope = inputs()["stack_scope"]
    lost = "3f1c2a9e-0000-4000-8000-00000000cafe"
    left = made_outside(emulator_session.url, admin, 2, batch_tags(lost, {}, scope))
    server = deployment()
    view = EngineResource(server, TYPE, "view")
    assert view.get(lost, {"__provider": inputs()["__provider"]}) == "read"
    res = EngineResource(server, TYPE, "edge")
    res.up(inputs(count=2, adopt_batch_id=lost))
    assert sorted(res.outputs["eip_ids"]) == sorted(left)
    res.destroy()
    assert held(admin) == {}


def test_orphans_never_releases_what_an_interrupted_create_was_adopting(
    admin: Admin, emulator_session: RunningEmulator
) -> None:
    """An interrupted create had tagged an EIP made by hand (its adopt_eip_ids) and
    made one of its own: both are listed, only its own is released."""
    batch = "3f1c2a9e-0000-4000-8000-00000000f00d"
    tags = batch_tags(batch, {}, "proj/dev")
    [made] = made_outside(emulator_session.url, admin, 1, tags)
    [by_hand] = made_outside(emulator_session.url, admin, 1, tags)
    config = {k: v for k, v in stack_config(emulator_session.url).items() if "Key" not in k}
    export = {
        "deployment": {
            "resources": [
                {
                    "urn": "urn:pulumi:dev::proj::pulumi:providers:pulumi-python::default",
                    "type": DYNAMIC_PROVIDER,
                    "inputs": config,
                }
            ],
            "pending_operations": [
                {
                    "type": "creating",
                    "resource": {
                        "urn": "urn:pulumi:dev::proj::pulumi-python:dynamic/batchip:EipBatch::e",
                        "type": EIP_BATCH,
                        "inputs": {"count": 2, "batch_id": batch, "adopt_eip_ids": [by_hand]},
                    },
                }
            ],
        }
    }
    env = {"HW_ACCESS_KEY": HW_AK, "HW_SECRET_KEY": HW_SK}
    out = io.StringIO()
    code = run_orphans(
        "-", do_release=True, yes=True, stdin=io.StringIO(json.dumps(export)), out=out, env=env
    )
    printed = out.getvalue()
    assert code == 0, printed
    assert f"EIP {made} " in printed and f"EIP {by_hand} " in printed
    assert f"EIP {by_hand} " in printed and "was being adopted: never released from here" in printed
    assert "maybe not made by pulumi-batchip" in printed
    # One short line per EIP; what to do is said once per batch.
    assert all(len(line) < 160 for line in printed.splitlines() if line.startswith("EIP "))
    assert printed.count(f"batch {batch}: ") == 2  # its own EIP, the adopted one
    assert "released 1 EIP(s); 0 skipped" in printed
    assert [i for i, e in held(admin).items() if e["status"] != "PENDING_DELETE"] == [by_hand]
    admin.reset()
