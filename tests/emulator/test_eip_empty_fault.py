"""The `empty` fault action: the list queries answer as Huawei answers a caller without
enough rights (EIP API Reference, "Precautions for API Permissions"): HTTP 200 with an
empty list, and a total of 0."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.emulator.faults import FaultRule, FaultRuleError
from pulumi_batchip.huawei.eip import EipClient

from ..conftest import Admin
from .test_eip_emulator import create_done, make_client


@pytest.fixture
def eip(emulator: RunningEmulator) -> Iterator[EipClient]:
    client = make_client(emulator.url)
    yield client
    client.close()


def test_empty_answers_both_list_queries_with_nothing(eip: EipClient, admin: Admin) -> None:
    ids = create_done(eip, 2, tags={"batch": "e"})
    admin.faults(
        {"operation": "ListPublicips", "action": "empty", "times": 2},
        {"operation": "ListPublicipsByTags", "action": "empty"},
    )
    assert eip.list_publicips() == []
    assert eip.list_publicips(ids) == []
    assert eip.list_publicips_by_tags({"batch": ["e"]}) == []
    # A read by id is not a list: it still finds them, and the faults are spent.
    assert eip.show_publicip(ids[0]).id == ids[0]
    assert sorted(e.id for e in eip.list_publicips(ids)) == sorted(ids)
    assert sorted(r.resource_id for r in eip.list_publicips_by_tags({"batch": ["e"]})) == sorted(
        ids
    )
    log = [r for r in admin.requests() if r.get("fault") == "empty"]
    assert [(r["operation"], r["status"]) for r in log] == [
        ("ListPublicips", 200),
        ("ListPublicips", 200),
        ("ListPublicipsByTags", 200),
    ]


def test_empty_body_shapes_and_count(
    emulator: RunningEmulator, admin: Admin, eip: EipClient
) -> None:
    """The raw answers: ``{"publicips": []}``; ``{"resources": [], "total_count": 0}``;
    the ``count`` action answers ``{"total_count": 0}``."""
    create_done(eip, 1, tags={"batch": "c"})
    admin.faults({"operation": "*", "action": "empty", "times": 3})
    caller = eip._caller  # the signed transport, to see the raw JSON
    listed = caller.call("ListPublicips", "GET", f"/v1/{_project(eip)}/publicips", idempotent=True)
    assert listed.json() == {"publicips": []}
    path = f"/v2.0/{_project(eip)}/publicips/resource_instances/action"
    body = {"action": "filter", "tags": [{"key": "batch", "values": ["c"]}]}
    tagged = caller.call("ListPublicipsByTags", "POST", path, json=body, idempotent=True)
    assert tagged.json() == {"resources": [], "total_count": 0}
    counted = caller.call(
        "ListPublicipsByTags", "POST", path, json={**body, "action": "count"}, idempotent=True
    )
    assert counted.json() == {"total_count": 0}


def test_empty_rule_never_fires_on_other_operations(eip: EipClient, admin: Admin) -> None:
    [eip_id] = create_done(eip, 1)
    admin.faults({"operation": "*", "action": "empty"})
    assert eip.show_publicip(eip_id).id == eip_id  # not a list: the rule waits
    eip.delete_publicip(eip_id)
    assert eip.list_publicips() == []  # the first list call takes it
    assert [r["operation"] for r in admin.requests() if r.get("fault")] == ["ListPublicips"]


@pytest.mark.parametrize("operation", ["ShowPublicip", "BatchCreatePublicips", "GetInstance"])
def test_empty_rule_on_a_non_list_operation_is_refused(
    emulator: RunningEmulator, operation: str
) -> None:
    rule = {"operation": operation, "action": "empty"}
    with pytest.raises(FaultRuleError, match="'empty' rule applies to ListPublicips"):
        FaultRule.from_json(rule)
    answer = httpx.post(f"{emulator.url}/_emulator/faults", json=[rule])
    assert answer.status_code == 400 and "ListPublicips" in answer.text


def _project(client: EipClient) -> str:
    return client._project
