"""Large EipBatch creates stay a few calls past the jobs' end: once the newest job
succeeded, one look at the batch tag replaces reading every other job, and the
records come from one unfiltered page instead of one list call per 50 ids."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.eip_operations import IDS_PER_LIST_CALL, BatchOperations, batch_tags
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID, RunningEmulator
from pulumi_batchip.huawei.eip import BandwidthSpec, BatchCreateRequest, EipClient

from ..conftest import Admin
from .conftest import HW_AK, HW_SK
from .harness import EngineResource, ProviderError, ProviderProcess
from .test_eip_batch_engine import TYPE, assert_state_matches, held, inputs

COUNT = 260  # six jobs (5 x 50 + 10), more ids than one filtered list holds


def _between(log: list[dict[str, Any]], operation: str) -> list[dict[str, Any]]:
    return [r for r in log if r["operation"] == operation]


def test_large_create_polls_one_job_and_reads_one_page(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    res = EngineResource(provider_server, TYPE, "large")
    res.up(inputs(count=COUNT))
    assert len(res.outputs["eip_ids"]) == COUNT
    assert_state_matches(res, admin)
    log = admin.requests()
    assert len(_between(log, "BatchCreatePublicips")) == 6
    # Every job starts at once and takes as long: when the newest is done, the tag
    # count shows the others' EIPs, so no other job is read.
    assert len({r["path"] for r in _between(log, "ShowResourcesJobDetail")}) == 1
    assert len(_between(log, "ListPublicipsByTags")) == 1
    lists = _between(log, "ListPublicips")
    assert len(lists) == 1 and "id" not in lists[0]["query"]
    before = len(log)
    res.destroy()
    assert held(admin) == {}
    deleting = admin.requests()[before:]
    assert all("id" not in r["query"] for r in _between(deleting, "ListPublicips"))


def test_a_failed_older_job_is_still_found(provider_server: ProviderProcess, admin: Admin) -> None:
    """Whichever chunk's job fails (the newest or an older one), the create reports
    it and cleans up: a short tag count sends it back to reading every job."""
    admin.faults({"operation": "BatchCreatePublicips", "action": "job_fail", "created": 3})
    res = EngineResource(provider_server, TYPE, "large-fail")
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=COUNT))
    assert "ended FAIL" in info.value.details
    assert "Cleaned up: deleted" in info.value.details
    assert held(admin) == {}
    assert not res.exists


def _request(count: int, batch_id: str) -> BatchCreateRequest:
    bandwidth = BandwidthSpec(size=5, share_type="PER", name="bw")
    return BatchCreateRequest(count, "5_bgp", 4, bandwidth, tags=batch_tags(batch_id, {}))


@pytest.fixture
def ops(emulator: RunningEmulator) -> Iterator[BatchOperations]:
    settings = HuaweiSettings(
        Credentials(HW_AK, HW_SK), "cn-north-4", DEFAULT_HW_PROJECT_ID, emulator.url
    )
    client = EipClient.from_settings(settings)
    # A page of 100: the project (260 EIPs) does not fit on one.
    yield BatchOperations(client, timeout=30.0, say=lambda _: None, page_limit=100)
    client.close()


def test_a_full_page_leaves_the_rest_to_filtered_lists(ops: BatchOperations, admin: Admin) -> None:
    ids = ops.create(_request(COUNT, "b-page"), "b-page", base=0)
    assert len(ids) == COUNT
    before = len(admin.requests())
    records = ops.details(ids)
    assert [r.id for r in records] == ids
    lists = _between(admin.requests()[before:], "ListPublicips")
    unfiltered = [r for r in lists if "id" not in r["query"]]
    filtered = [r for r in lists if "id" in r["query"]]
    assert len(unfiltered) == 1 and unfiltered[0]["query"]["limit"] == ["100"]
    # The 160 ids the page did not hold, 50 per call.
    assert sum(len(r["query"]["id"]) for r in filtered) == COUNT - 100
    assert len(filtered) == -(-(COUNT - 100) // IDS_PER_LIST_CALL)
    ops.delete(ids)
    assert held(admin) == {}


def test_a_short_page_is_the_whole_project(ops: BatchOperations, admin: Admin) -> None:
    """Ids the whole-project page does not hold are gone: no call looks for them."""
    ids = ops.create(_request(90, "b-short"), "b-short", base=0)
    asked = ids + [f"gone-{n}" for n in range(200)]
    before = len(admin.requests())
    assert [r.id for r in ops.details(asked)] == ids
    lists = _between(admin.requests()[before:], "ListPublicips")
    assert len(lists) == 1 and "id" not in lists[0]["query"]
    ops.delete(ids)
    assert held(admin) == {}
