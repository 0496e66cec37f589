"""The emulator closer to the vendors: asynchronous EIP deletes, failed-job words, the
enterprise_project_id rules of BatchCreatePublicips, 403 from the EIP tag APIs, and
batchAddIp as the BCC docs and SDKs have it.

Each behaviour cites its vendor source in ``pulumi_batchip/emulator`` (``eip.py``,
``eip_api.py``, ``bcc_api.py``); these tests pin them at the state model (fake clock)
and over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pulumi_batchip.baidu.signer import BceSigner
from pulumi_batchip.emulator import (
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.emulator.eip import (
    BandwidthSpec,
    CreateSpec,
    EipError,
    EipState,
    JobFault,
    TagFilter,
)
from pulumi_batchip.errors import CloudApiError
from pulumi_batchip.huawei.eip import EipClient, Job
from pulumi_batchip.huawei.signer import HuaweiSigner

from ..conftest import Admin, fresh_admin
from .test_eip_emulator import (
    AK,
    SK,
    FakeClock,
    create_done,
    error_of,
    make_client,
    request,
    valid_body,
    wait_gone,
    wait_job,
)

PID = DEFAULT_HW_PROJECT_ID
BATCH = f"/v2/{PID}/batchpublicips"
BY_TAGS = f"/v2.0/{PID}/publicips/resource_instances/action"
VM = "i-DhjUXmSA"


def spec(count: int = 2, tags: dict[str, str] | None = None) -> CreateSpec:
    return CreateSpec(
        count=count,
        publicip_type="5_bgp",
        ip_version=4,
        bandwidth=BandwidthSpec(share_type="PER", size=5, name="bw"),
        tags=tags or {"k": "v"},
    )


def made(state: EipState, clock: FakeClock, count: int = 2) -> list[str]:
    state.batch_create(spec(count))
    clock.now += 5  # past job_seconds
    return sorted(state.snapshot()["publicips"])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> EipState:
    return EipState(project_id=PID, job_seconds=4.0, quota=4, clock=clock, delete_seconds=2.0)


@pytest.fixture
def raw(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    client = httpx.Client(
        base_url=emulator.url, auth=HuaweiSigner(AK, SK, project_id=PID), timeout=10
    )
    yield client
    client.close()


@pytest.fixture
def eip(emulator: RunningEmulator) -> Iterator[EipClient]:
    client = make_client(emulator.url)
    yield client
    client.close()


# --- asynchronous deletes: the state model ----------------------------------------------


def test_a_deleted_eip_is_pending_delete_listed_counted_and_tagged_until_gone(
    state: EipState, clock: FakeClock
) -> None:
    ids = made(state, clock, 4)  # the whole quota
    bandwidth = state.show(ids[0])["bandwidth_id"]
    state.delete(ids[0])
    assert state.show(ids[0])["status"] == "PENDING_DELETE"
    assert [e["id"] for e in state.list_page(limit=10)] == ids
    assert [r["resource_id"] for r in state.by_tags([TagFilter("k")])] == ids
    with pytest.raises(EipError) as info:
        state.batch_create(spec(1))  # still counted against the quota
    assert (info.value.status, info.value.code) == (409, "VPC.0521")
    assert bandwidth in state.snapshot()["bandwidths"]

    clock.now += 1.9
    assert state.show(ids[0])["status"] == "PENDING_DELETE"
    clock.now += 0.1  # delete_seconds (2.0) have passed
    with pytest.raises(EipError) as gone:
        state.show(ids[0])
    assert (gone.value.status, gone.value.code) == (404, "VPC.0504")
    assert bandwidth not in state.snapshot()["bandwidths"]
    assert [e["id"] for e in state.list_page(limit=10)] == ids[1:]
    state.batch_create(spec(1))  # its quota is free again


def test_a_batch_delete_answers_one_job_id_and_takes_pending_ones_again_unchanged(
    state: EipState, clock: FakeClock
) -> None:
    ids = made(state, clock, 3)
    assert len(state.batch_delete(ids[:2])) == 1
    clock.now += 1.5
    # A retry naming them again (and one more): accepted; the first two keep their time.
    assert len(state.batch_delete(ids)) == 1
    state.delete(ids[0])  # a single delete of a PENDING_DELETE EIP: accepted too
    clock.now += 0.5
    left = {e["id"]: e["status"] for e in state.list_page(limit=10)}
    assert left == {ids[2]: "PENDING_DELETE"}
    clock.now += 1.5
    assert state.list_page(limit=10) == []


def test_a_batch_delete_naming_a_gone_eip_is_404_and_releases_nothing(
    state: EipState, clock: FakeClock
) -> None:
    ids = made(state, clock, 2)
    state.delete(ids[0])
    clock.now += 2
    with pytest.raises(EipError) as info:
        state.batch_delete(ids)
    assert (info.value.status, info.value.code) == (404, "VPC.0504")
    assert ids[0] in info.value.message
    assert state.show(ids[1])["status"] == "DOWN"


def test_a_bound_eip_refuses_the_whole_batch_even_beside_pending_ones(
    state: EipState, clock: FakeClock
) -> None:
    ids = made(state, clock, 3)
    state.delete(ids[0])
    state.bind(ids[1], "port-1", None)
    with pytest.raises(EipError) as info:
        state.batch_delete(ids)
    assert (info.value.status, info.value.code) == (409, "VPC.0517")
    assert state.show(ids[2])["status"] == "DOWN"


def test_a_single_create_still_pending_can_be_deleted(state: EipState, clock: FakeClock) -> None:
    created = state.create_one(spec(1))
    assert created["status"] == "PENDING_CREATE"
    state.delete(created["id"])
    assert state.show(created["id"])["status"] == "PENDING_DELETE"
    clock.now += 2
    assert state.snapshot()["publicips"] == {}


def test_no_delete_seconds_means_gone_at_once(clock: FakeClock) -> None:
    state = EipState(project_id=PID, job_seconds=0.0, quota=4, clock=clock)
    [eip_id] = made(state, clock, 1)
    state.batch_delete([eip_id])
    assert state.snapshot()["publicips"] == {}


# --- asynchronous deletes over HTTP --------------------------------------------------------


def test_http_batch_delete_is_one_job_then_pending_delete_then_404(
    eip: EipClient, raw: httpx.Client
) -> None:
    ids = create_done(eip, 2, tags={"batch": "async"})
    response = raw.request("DELETE", BATCH, json={"publicip_ids": ids})
    assert response.status_code == 200
    [job_id] = response.json()["job_ids"]
    assert set(response.json()) == {"job_ids"}
    shown = raw.get(f"/v1/{PID}/publicips/{ids[0]}").json()["publicip"]
    assert shown["status"] == "PENDING_DELETE"
    assert sorted(r.resource_id for r in eip.list_publicips_by_tags({"batch": ["async"]})) == (
        sorted(ids)
    )
    # Again, while PENDING_DELETE: the single delete and the batch are both accepted.
    assert raw.delete(f"/v1/{PID}/publicips/{ids[0]}").status_code == 204
    again = raw.request("DELETE", BATCH, json={"publicip_ids": ids})
    assert again.status_code == 200 and len(again.json()["job_ids"]) == 1
    wait_gone(eip, ids)
    assert error_of(raw.get(f"/v1/{PID}/publicips/{ids[0]}")) == (404, "VPC.0504")
    assert error_of(raw.get(f"/v1/{PID}/jobs/{job_id}")) == (404, "VPC.0504")
    assert error_of(raw.request("DELETE", BATCH, json={"publicip_ids": ids})) == (404, "VPC.0504")


def test_a_retried_batch_delete_after_a_lost_answer_is_accepted(
    eip: EipClient, admin: Admin
) -> None:
    ids = create_done(eip, 3)
    admin.faults({"operation": "BatchDeletePublicIp", "action": "lost_response"})
    assert len(eip.batch_delete_publicips(ids)) == 1  # our client retried once
    deletes = [r for r in admin.requests() if r["operation"] == "BatchDeletePublicIp"]
    assert [(r.get("fault"), r["status"]) for r in deletes] == [("lost_response", 200), (None, 200)]
    wait_gone(eip, ids)


# --- failed-job words ------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["FAILED", "ERROR"])
def test_the_state_ends_failed_jobs_with_the_configured_word(clock: FakeClock, word: str) -> None:
    state = EipState(project_id=PID, job_seconds=1.0, quota=9, clock=clock, job_fail_word=word)
    job_id = state.batch_create(spec(2), JobFault("job_fail", created=1))
    clock.now += 2
    assert state.job(job_id)["status"] == word
    other = state.batch_create(spec(1), JobFault("job_fail", status="FAIL"))
    clock.now += 2
    assert state.job(other)["status"] == "FAIL"  # the rule's word wins


@pytest.mark.parametrize("word", ["FAILED", "ERROR"])
def test_a_job_fail_rule_names_the_word(eip: EipClient, admin: Admin, word: str) -> None:
    rule = {"operation": "BatchCreatePublicips", "action": "job_fail", "created": 1}
    admin.faults({**rule, "job_status": word})
    job_id = eip.batch_create_publicips(request(3, tags={"batch": "w"}))
    job: Job = wait_job(eip, job_id)[-1]
    assert (job.status, job.finished) == (word, True)
    assert job.error_code and job.fail_reason
    assert len(eip.list_publicips_by_tags({"batch": ["w"]})) == 1


@pytest.mark.parametrize(
    "rule",
    [
        {"operation": "BatchCreatePublicips", "action": "job_fail", "job_status": "BROKEN"},
        {"operation": "BatchCreatePublicips", "action": "job_fail", "job_status": 3},
        {"operation": "BatchCreatePublicips", "action": "job_hang", "job_status": "FAILED"},
        {"operation": "ListPublicips", "action": "error", "status": 500, "job_status": "ERROR"},
    ],
)
def test_job_status_is_checked_when_armed(admin: Admin, rule: dict[str, Any]) -> None:
    response = httpx.post(f"{admin.url}/_emulator/faults", json=[rule])
    assert response.status_code == 400
    assert "job_status" in response.json()["message"]


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="job_fail_word must be one of FAIL, FAILED, ERROR"):
        EmulatorConfig(job_fail_word="failed")
    with pytest.raises(ValueError, match="delete_seconds"):
        EmulatorConfig(delete_seconds=-0.1)
    with pytest.raises(ValueError, match="delete_seconds"):
        EmulatorConfig(delete_seconds=float("inf"))
    with pytest.raises(TypeError):
        EmulatorConfig(tags_forbidden="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        EmulatorConfig(bcc_add_ip_no_body=1)  # type: ignore[arg-type]
    assert EmulatorConfig().delete_seconds == 0.5


# --- enterprise_project_id and the documented request example -------------------------------


@pytest.mark.parametrize("eps", [..., None])
def test_a_create_without_enterprise_project_id_is_refused_naming_it(
    raw: httpx.Client, admin: Admin, eps: object
) -> None:
    body = valid_body()
    if eps is ...:
        del body["enterprise_project_id"]
    else:
        body["enterprise_project_id"] = eps
    body["publicip"]["enterprise_project_id"] = "0"  # only the top level is mandatory
    response = raw.post(BATCH, json=body)
    assert error_of(response) == (400, "VPC.0501")
    assert "enterprise_project_id is required" in response.json()["message"]
    assert admin.state()["eip"]["jobs"] == {}


def test_the_documented_request_example_is_accepted(eip: EipClient, raw: httpx.Client) -> None:
    """The BatchCreatePublicips example, verbatim: a bandwidth named "" with PER, and
    enterprise_project_id as the number 0."""
    example = {
        "bandwidth": {"name": "", "size": 5, "charge_mode": "bandwidth", "share_type": "PER"},
        "publicip": {"type": "5_bgp", "tags": ["name*tom", "type*kkkk"]},
        "publicip_number": 2,
        "enterprise_project_id": 0,
    }
    response = raw.post(BATCH, json=example)
    assert response.status_code == 200, response.text
    assert wait_job(eip, response.json()["job_id"])[-1].status == "SUCCESS"
    found = eip.list_publicips_by_tags({"name": ["tom"]})
    assert len(found) == 2
    for ip in eip.list_publicips([r.resource_id for r in found]):
        assert ip.enterprise_project_id == "0"
        assert ip.bandwidth_name  # a generated name, never ""
        assert ip.tags == {"name": "tom", "type": "kkkk"}


def test_both_levels_may_spell_the_default_project_differently(raw: httpx.Client) -> None:
    body = valid_body(enterprise_project_id=0)
    body["publicip"]["enterprise_project_id"] = "0"
    assert raw.post(BATCH, json=body).status_code == 200


def test_a_job_for_zero_eips_succeeds_having_created_none(
    eip: EipClient, raw: httpx.Client, admin: Admin
) -> None:
    response = raw.post(BATCH, json=valid_body(publicip_number=0))
    assert response.status_code == 200, response.text
    assert wait_job(eip, response.json()["job_id"])[-1].status == "SUCCESS"
    assert admin.state()["eip"]["publicips"] == {}


def test_the_single_create_keeps_its_documented_default_project(raw: httpx.Client) -> None:
    body = {
        "publicip": {"type": "5_bgp", "ip_version": 4},
        "bandwidth": {"share_type": "PER", "size": 5, "name": "one"},
    }
    response = raw.post(f"/v1/{PID}/publicips", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["publicip"]["enterprise_project_id"] == "0"


# --- a vendor with every switch on -----------------------------------------------------------


@pytest.fixture(scope="module")
def strict() -> Iterator[RunningEmulator]:
    """Tag APIs refused, failed jobs end ERROR, batchAddIp answers no body, deletes at once."""
    config = EmulatorConfig(
        job_seconds=0.0,
        delete_seconds=0.0,
        job_fail_word="ERROR",
        tags_forbidden=True,
        bcc_add_ip_no_body=True,
    )
    with start_emulator(config=config) as running:
        yield running


@pytest.fixture
def strict_admin(strict: RunningEmulator) -> Iterator[Admin]:
    with fresh_admin(strict.url) as admin:
        yield admin


@pytest.fixture
def strict_raw(strict: RunningEmulator, strict_admin: Admin) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=strict.url, auth=HuaweiSigner(AK, SK, project_id=PID))
    yield client
    client.close()


def test_tag_apis_answer_403_when_forbidden(
    strict: RunningEmulator, strict_admin: Admin, strict_raw: httpx.Client
) -> None:
    client = make_client(strict.url)
    try:
        job_id = client.batch_create_publicips(request(1, tags={"batch": "t"}))
        assert client.show_job(job_id).status == "SUCCESS"  # creating with tags still works
        [ip] = client.list_publicips()
        queries: list[tuple[str, dict[str, Any], str]] = [
            (BY_TAGS, {"action": "filter", "tags": [{"key": "batch", "values": ["t"]}]}, "get"),
            (BY_TAGS, {"action": "count"}, "get"),
            (BY_TAGS, {"not": "even valid"}, "get"),  # refused before the body is read
            (
                f"/v2.0/{PID}/publicips/{ip.id}/tags/action",
                {"action": "create", "tags": [{"key": "env", "value": "prod"}]},
                "create",
            ),
            (
                f"/v2.0/{PID}/publicips/{ip.id}/tags/action",
                {"action": "delete", "tags": [{"key": "batch", "value": "t"}]},
                "delete",
            ),
        ]
        for path, body, verb in queries:
            response = strict_raw.post(path, json=body)
            assert response.status_code == 403, response.text
            assert response.json() == {
                "code": "VPC.2201",
                "message": f"Policy doesn't allow vpc:publicipTags:{verb} to be performed.",
            }
            assert response.headers["X-Request-Id"]
        assert client.show_publicip(ip.id).tags == {"batch": "t"}  # nothing changed
        with pytest.raises(CloudApiError) as info:
            client.list_publicips_by_tags({"batch": ["t"]})
        assert (info.value.status, info.value.code) == (403, "VPC.2201")
        operations = [r["operation"] for r in strict_admin.requests() if r["status"] == 403]
        assert set(operations) == {
            "ListPublicipsByTags",
            "BatchCreatePublicipTags",
            "BatchDeletePublicipTags",
        }
    finally:
        client.close()


def test_the_configured_word_ends_failed_jobs(strict: RunningEmulator, strict_admin: Admin) -> None:
    strict_admin.faults({"operation": "BatchCreatePublicips", "action": "job_fail"})
    client = make_client(strict.url)
    try:
        job = client.show_job(client.batch_create_publicips(request(2)))
        assert (job.status, job.finished) == ("ERROR", True)
    finally:
        client.close()


# --- batchAddIp ------------------------------------------------------------------------------


def bce(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, auth=BceSigner("emulator-bce-ak", "emulator-bce-sk"))


def nic_secondaries(admin: Admin) -> list[str]:
    return list(admin.state()["bcc"]["instances"][VM]["secondary"]["ipv4"])


def test_batch_add_ip_can_answer_no_body_as_documented(
    strict: RunningEmulator, strict_admin: Admin
) -> None:
    with bce(strict.url) as client:
        body = {"instanceId": VM, "privateIps": ["192.168.0.9"]}
        token = {"clientToken": "no-body-1"}
        for _attempt in range(2):  # a replay of the token answers the same: no body
            response = client.put("/v2/instance/batchAddIp", json=body, params=token)
            assert response.status_code == 200, response.text
            assert response.content == b""
            assert response.headers["x-bce-request-id"]
        counted = {"instanceId": VM, "secondaryPrivateIpAddressCount": 2}
        response = client.put("/v2/instance/batchAddIp", json=counted)
        assert (response.status_code, response.content) == (200, b"")
    assert nic_secondaries(strict_admin) == ["192.168.0.9", "192.168.0.5", "192.168.0.6"]


SDK_BODIES = {
    # baidubce/bce-sdk-go BatchAddIpArgs: no omitempty, so the count goes as 0.
    "go": {
        "instanceId": VM,
        "privateIps": ["192.168.0.9", "192.168.0.10"],
        "secondaryPrivateIpAddressCount": 0,
        "allocateMultiIpv6Addr": False,
    },
    # bce-java-sdk BatchAddIpRequest: a primitive long, so 0 as well (fields in name order).
    "java": {
        "allocateMultiIpv6Addr": False,
        "instanceId": VM,
        "privateIps": ["192.168.0.9", "192.168.0.10"],
        "secondaryPrivateIpAddressCount": 0,
    },
}


@pytest.mark.parametrize("sdk", SDK_BODIES)
def test_batch_add_ip_takes_addresses_beside_a_zero_count(
    emulator: RunningEmulator, admin: Admin, sdk: str
) -> None:
    with bce(emulator.url) as client:
        response = client.put("/v2/instance/batchAddIp", json=SDK_BODIES[sdk])
    assert response.status_code == 200, response.text
    assert response.json() == {"privateIps": ["192.168.0.9", "192.168.0.10"], "eniPrivateIps": None}
    assert nic_secondaries(admin) == ["192.168.0.9", "192.168.0.10"]


@pytest.mark.parametrize(
    "body",
    [
        {"instanceId": VM, "privateIps": [], "secondaryPrivateIpAddressCount": 0},
        {"instanceId": VM, "privateIps": None, "secondaryPrivateIpAddressCount": 0},
        {"instanceId": VM, "privateIps": ["192.168.0.9"], "secondaryPrivateIpAddressCount": 2},
    ],
)
def test_batch_add_ip_still_wants_exactly_one_of_them(
    emulator: RunningEmulator, admin: Admin, body: dict[str, Any]
) -> None:
    with bce(emulator.url) as client:
        response = client.put("/v2/instance/batchAddIp", json=body)
    assert response.status_code == 400
    assert response.json()["code"] == "InvalidParameter"
    assert nic_secondaries(admin) == []


# --- the flags ---------------------------------------------------------------------------


def test_the_flags_reach_the_emulator() -> None:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulumi_batchip.emulator",
            "--port",
            "0",
            "--job-seconds",
            "0",
            "--delete-seconds",
            "0",
            "--job-fail-word",
            "failed",
            "--tags-forbidden",
            "--bcc-add-ip-no-body",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        admin = Admin(url)
        admin.faults({"operation": "BatchCreatePublicips", "action": "job_fail", "created": 1})
        client = make_client(url)
        try:
            assert client.show_job(client.batch_create_publicips(request(2))).status == "FAILED"
            [ip] = client.list_publicips()
            client.delete_publicip(ip.id)
            assert client.list_publicips() == []  # --delete-seconds 0: gone at once
            with pytest.raises(CloudApiError) as info:
                client.list_publicips_by_tags({"batch": ["b1"]})
            assert info.value.status == 403
        finally:
            client.close()
        with bce(url) as bcc:
            body = {"instanceId": VM, "secondaryPrivateIpAddressCount": 1}
            response = bcc.put("/v2/instance/batchAddIp", json=body)
            assert (response.status_code, response.content) == (200, b"")
        admin.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_deletes_take_their_time_in_a_live_emulator(eip: EipClient) -> None:
    """The session emulator keeps the default 0.5 s: a delete is seen pending first."""
    ids = create_done(eip, 1)
    started = time.monotonic()
    eip.delete_publicip(ids[0])
    assert eip.show_publicip(ids[0]).status == "PENDING_DELETE"
    wait_gone(eip, ids)
    assert time.monotonic() - started >= 0.4
