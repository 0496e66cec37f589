"""A caller without enough read rights: Huawei answers its queries with HTTP 200 and an
empty list (EIP API Reference, "Precautions for API Permissions"), emulated by the
`empty` fault. The provider never forgets, releases nothing silently and never says
"none left" on such an answer: a read by id (ShowPublicip) or a job result decides, and
the error names the rights to grant. Also: `count` after a refresh says what exists."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_batchip.config import resolve_huawei
from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.huawei.eip import EipClient

from ..conftest import Admin
from .conftest import stack_config
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs

PERMISSION = "vpc:publicIps:list"
VENDOR_PAGE = "Precautions for API Permissions"
BOTH_LISTS = ("ListPublicips", "ListPublicipsByTags")


@pytest.fixture(scope="module")
def short_deadline(emulator_session: RunningEmulator) -> Iterator[ProviderProcess]:
    """A provider whose creates give up after 2 s (a tag query that stays empty)."""
    with ProviderProcess() as server:
        server.configure({**stack_config(emulator_session.url), "batchip:eipJobTimeout": "2"})
        yield server


@pytest.fixture
def res(provider_server: ProviderProcess, emulator: RunningEmulator) -> EngineResource:
    return EngineResource(provider_server, TYPE, "edge")


def blind(admin: Admin, *operations: str) -> None:
    """From now on these list queries answer empty, for ever."""
    admin.faults(*({"operation": o, "action": "empty", "times": 0} for o in operations))


def live(admin: Admin) -> set[str]:
    return {i for i, e in held(admin).items() if e.get("status") != "PENDING_DELETE"}


def shows(admin: Admin, since: int) -> list[str]:
    return [r["operation"] for r in admin.requests()[since:] if r["operation"] == "ShowPublicip"]


def test_refresh_keeps_a_batch_a_blind_list_hides(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=3))
    before = dict(res.outputs)
    blind(admin, *BOTH_LISTS)
    mark = len(admin.requests())
    with pytest.raises(ProviderError) as info:
        res.refresh()
    message = info.value.details
    assert PERMISSION in message and VENDOR_PAGE in message, message
    assert "3 EIP(s) the state says exist" in message, message
    assert "The batch stays in the state as it was." in message, message
    assert 1 <= len(shows(admin, mark)) <= 5  # a bounded sample, read by id
    assert res.exists and res.outputs == before
    admin.clear_faults()
    assert res.refresh() == "refreshed" and res.outputs["eip_ids"] == before["eip_ids"]
    res.destroy()
    assert live(admin) == set()


def test_destroy_releases_nothing_and_fails_while_the_list_is_blind(
    res: EngineResource, admin: Admin
) -> None:
    res.up(inputs(count=3))
    ids = set(res.outputs["eip_ids"])
    blind(admin, *BOTH_LISTS)
    mark = len(admin.requests())
    with pytest.raises(ProviderError) as info:
        res.destroy()
    message = info.value.details
    assert PERMISSION in message and "Nothing was released" in message, message
    calls = {r["operation"] for r in admin.requests()[mark:]}
    assert not calls & {"BatchDeletePublicIp", "DeletePublicip"}, calls
    assert res.exists and live(admin) == ids  # state and cloud still agree
    admin.clear_faults()
    res.destroy()
    assert live(admin) == set()


def test_grow_changes_nothing_while_the_list_is_blind(res: EngineResource, admin: Admin) -> None:
    """Counting no EIPs, a grow from 2 to 4 would create 4 and lose 2: it stops instead."""
    res.up(inputs(count=2))
    ids = set(res.outputs["eip_ids"])
    blind(admin, *BOTH_LISTS)
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=4))
    assert "Nothing was changed." in info.value.details
    assert PERMISSION in info.value.details
    assert live(admin) == ids
    admin.clear_faults()
    assert res.up(inputs(count=4)) == "update" and len(res.outputs["eip_ids"]) == 4
    assert_state_matches(res, admin)
    res.destroy()


def test_grow_with_a_blind_tag_query_counts_the_listed_batch(
    res: EngineResource, admin: Admin
) -> None:
    """Only the tag query answers empty: the members the list shows carrying the batch
    tag still count, so 2 -> 5 creates exactly 3."""
    res.up(inputs(count=2))
    blind(admin, "ListPublicipsByTags")
    mark = len(admin.requests())
    assert res.up(inputs(count=5)) == "update"
    creates = [r for r in admin.requests()[mark:] if r["operation"] == "BatchCreatePublicips"]
    assert sum(r["body"]["publicip_number"] for r in creates) == 3
    assert len(res.outputs["eip_ids"]) == 5
    assert_state_matches(res, admin)
    res.destroy()  # the tag query still answers empty: the state's ids are released
    assert live(admin) == set()


def test_create_whose_list_is_blind_fails_and_cleans_up(res: EngineResource, admin: Admin) -> None:
    blind(admin, "ListPublicips")
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=2))
    message = info.value.details
    assert "EipBatch create failed" in message and PERMISSION in message, message
    assert "Cleaned up: deleted 2 EIP(s)" in message, message
    assert not res.exists
    admin.clear_faults()
    _wait_gone(admin)


def test_create_whose_tag_query_is_blind_cleans_up_by_listing(
    short_deadline: ProviderProcess, admin: Admin
) -> None:
    """The job says 2 were made, the tag query says none: cleanup lists the EIPs and
    matches their tags instead of believing it, and deletes both."""
    res = EngineResource(short_deadline, TYPE, "blind-tags")
    blind(admin, "ListPublicipsByTags")
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=2))
    message = info.value.details
    assert "Cleaned up: deleted 2 EIP(s)" in message, message
    assert PERMISSION in message, message  # the timeout's cause names the rights
    admin.clear_faults()
    _wait_gone(admin)


def test_create_blind_to_both_never_says_none_remain(
    short_deadline: ProviderProcess, admin: Admin
) -> None:
    """Neither query shows the 2 EIPs the job made: the error says they may remain
    (they do) and what rights to grant; it never says none carries the tag."""
    res = EngineResource(short_deadline, TYPE, "blind")
    blind(admin, *BOTH_LISTS)
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=2))
    message = info.value.details
    assert "its jobs reported 2 created" in message and "may remain" in message, message
    assert "none carries the tag" not in message, message
    assert PERMISSION in message and "orphans" in message, message
    assert len(live(admin)) == 2  # true: they do remain
    admin.reset()


def test_refresh_after_out_of_band_deletes_still_drops_them(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    """A list that leaves out EIPs really gone (404 by id) is believed."""
    res.up(inputs(count=3))
    victims = res.outputs["eip_ids"][:2]
    _delete_outside(emulator, victims)
    _wait_gone(admin, keep=1)
    assert res.refresh() == "refreshed"
    assert (
        res.outputs["eip_ids"] == [i for i in res.inputs.get("eip_ids", [])]
        or len(res.outputs["eip_ids"]) == 1
    )
    res.destroy()


@pytest.mark.parametrize(("program", "verb"), [(3, "same"), (5, "update")])
def test_count_after_refresh_says_what_exists(
    res: EngineResource, admin: Admin, emulator: RunningEmulator, program: int, verb: str
) -> None:
    """5 EIPs, 2 deleted out of band, refresh: `count` is 3 with 3 `eip_ids`. An `up`
    whose program says 3 changes nothing; one that says 5 grows back to 5."""
    res.up(inputs(count=5))
    _delete_outside(emulator, res.outputs["eip_ids"][1:3])
    _wait_gone(admin, keep=3)
    assert res.refresh() == "refreshed"
    assert res.outputs["count"] == 3 and len(res.outputs["eip_ids"]) == 3
    assert res.preview(inputs(count=program)).changes == (
        _diff_some() if verb == "update" else _diff_none()
    )
    assert res.up(inputs(count=program)) == verb
    assert res.outputs["count"] == program == len(res.outputs["eip_ids"])
    assert_state_matches(res, admin)
    res.destroy()


def _diff_some() -> Any:
    from pulumi.runtime.proto import provider_pb2

    return provider_pb2.DiffResponse.DIFF_SOME


def _diff_none() -> Any:
    from pulumi.runtime.proto import provider_pb2

    return provider_pb2.DiffResponse.DIFF_NONE


def _delete_outside(emulator: RunningEmulator, ids: list[str]) -> None:
    outside = EipClient.from_settings(resolve_huawei(stack_config(emulator.url), {}))
    try:
        outside.batch_delete_publicips(ids)
    finally:
        outside.close()


def _wait_gone(admin: Admin, keep: int = 0, timeout: float = 10.0) -> None:
    """Until the emulator holds ``keep`` EIPs (deletes are asynchronous)."""
    deadline = time.monotonic() + timeout
    while len(held(admin)) != keep:
        assert time.monotonic() < deadline, held(admin)
        time.sleep(0.1)
