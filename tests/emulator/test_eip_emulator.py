"""The Huawei EIP emulator: the state model with a fake clock, then the API over loopback.

Our own EipClient drives the well-formed calls; raw httpx (signed with our signer, or
not at all) sends what a client never would.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from pulumi_batchip.config import Credentials, HuaweiSettings
from pulumi_batchip.emulator import (
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.emulator.eip import (
    DEFAULT_SHARED_BANDWIDTH_ID,
    BandwidthSpec,
    CreateSpec,
    EipError,
    EipState,
    JobFault,
    TagFilter,
)
from pulumi_batchip.emulator.eip_api import bandwidth_size_ok
from pulumi_batchip.errors import (
    AuthError,
    ClientError,
    CloudApiError,
    NotFoundError,
    TransportError,
)
from pulumi_batchip.http import RetryPolicy
from pulumi_batchip.huawei.eip import BandwidthSpec as ClientBandwidth
from pulumi_batchip.huawei.eip import BatchCreateRequest, EipClient, Job
from pulumi_batchip.huawei.signer import HuaweiSigner

from ..conftest import Admin, fresh_admin

AK, SK = "emulator-hw-ak", "emulator-hw-sk"
PID = DEFAULT_HW_PROJECT_ID
OTHER_PID = "fedcba9876543210fedcba9876543210"


# --- helpers and fixtures ---------------------------------------------------------------


def make_client(url: str) -> EipClient:
    settings = HuaweiSettings(
        credentials=Credentials(AK, SK), region="cn-north-4", project_id=PID, endpoint=url
    )
    return EipClient.from_settings(settings, policy=RetryPolicy(sleep=lambda _s: None))


def request(count: int = 2, *, tags: dict[str, str] | None = None, **kw: Any) -> BatchCreateRequest:
    bandwidth = kw.pop("bandwidth", ClientBandwidth(size=5, share_type="PER", name="bw-test"))
    return BatchCreateRequest(
        count=count,
        publicip_type=kw.pop("publicip_type", "5_bgp"),
        ip_version=kw.pop("ip_version", 4),
        bandwidth=bandwidth,
        tags=tags or {"batch": "b1"},
        **kw,
    )


def wait_job(client: EipClient, job_id: str, timeout: float = 5.0) -> list[Job]:
    """Poll a job until it finishes; returns every state seen."""
    seen: list[Job] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.append(client.show_job(job_id))
        if seen[-1].finished:
            return seen
        time.sleep(0.03)
    raise AssertionError(f"job {job_id} did not finish: {seen[-1]}")


def create_done(client: EipClient, count: int = 2, **kw: Any) -> list[str]:
    """Create a batch, wait for its job, return the new EIP ids (found by tag)."""
    tags = kw.pop("tags", {"batch": f"b-{time.monotonic_ns()}"})
    job_id = client.batch_create_publicips(request(count, tags=tags, **kw))
    assert wait_job(client, job_id)[-1].status == "SUCCESS"
    key, value = next(iter(tags.items()))
    return [r.resource_id for r in client.list_publicips_by_tags({key: [value]})]


def wait_gone(client: EipClient, ids: list[str], timeout: float = 5.0) -> None:
    """Poll the list until none of ``ids`` is there (deletes are asynchronous)."""
    deadline = time.monotonic() + timeout
    while client.list_publicips(ids):
        assert time.monotonic() < deadline, f"{ids} still listed after {timeout} s"
        time.sleep(0.05)


def valid_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "bandwidth": {"share_type": "PER", "size": 5, "name": "bw", "charge_mode": "bandwidth"},
        "publicip": {"type": "5_bgp", "ip_version": "ipv4", "tags": ["env*prod"]},
        "publicip_number": 1,
        "enterprise_project_id": "0",
    }
    body.update(overrides)
    return body


@pytest.fixture
def eip(emulator: RunningEmulator) -> Iterator[EipClient]:
    client = make_client(emulator.url)
    yield client
    client.close()


@pytest.fixture
def raw(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    """Signed, but no retries and no error decoding."""
    auth = HuaweiSigner(AK, SK, project_id=PID)
    client = httpx.Client(base_url=emulator.url, auth=auth, timeout=10)
    yield client
    client.close()


@pytest.fixture(scope="module")
def instant() -> Iterator[RunningEmulator]:
    """Jobs and deletes finish at once and the quota is small: for quota and thread tests."""
    config = EmulatorConfig(job_seconds=0.0, eip_quota=60, delete_seconds=0.0)
    with start_emulator(config=config) as running:
        yield running


@pytest.fixture
def instant_admin(instant: RunningEmulator) -> Iterator[Admin]:
    with fresh_admin(instant.url) as admin:
        yield admin


def error_of(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    return response.status_code, body.get("code") or body.get("error_code")


# --- the state model, with a fake clock -----------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def spec(count: int = 2, **kw: Any) -> CreateSpec:
    return CreateSpec(
        count=count,
        publicip_type="5_bgp",
        ip_version=kw.pop("ip_version", 4),
        bandwidth=kw.pop("bandwidth", BandwidthSpec(share_type="PER", size=5, name="bw")),
        tags=kw.pop("tags", {"k": "v"}),
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> EipState:
    return EipState(project_id=PID, job_seconds=4.0, quota=10, clock=clock)


def test_job_walks_init_running_success_and_materialises_at_its_end(
    state: EipState, clock: FakeClock
) -> None:
    job_id = state.batch_create(spec(3))
    assert state.job(job_id)["status"] == "INIT"
    assert state.job(job_id)["end_time"] is None
    clock.now += 1.5
    assert state.job(job_id)["status"] == "RUNNING"
    assert state.snapshot()["publicips"] == {}
    clock.now += 2.5
    job = state.job(job_id)
    assert job["status"] == "SUCCESS"
    assert job["entities"] == {"sub_jobs": []}
    assert job["job_type"] == "createBatchPublicip"
    assert job["begin_time"].endswith("Z") and job["end_time"].endswith("Z")
    assert len(state.snapshot()["publicips"]) == 3


def test_eips_appear_on_any_access_once_the_job_time_is_up(
    state: EipState, clock: FakeClock
) -> None:
    state.batch_create(spec(2))
    clock.now += 10
    assert len(state.list_page(limit=100)) == 2  # no job poll needed


def test_job_fail_creates_exactly_the_given_number(state: EipState, clock: FakeClock) -> None:
    job_id = state.batch_create(spec(5), JobFault("job_fail", created=2))
    clock.now += 5
    job = state.job(job_id)
    assert job["status"] == "FAIL"
    assert job["error_code"] and job["fail_reason"]
    assert len(state.snapshot()["publicips"]) == 2


def test_job_fail_cannot_create_more_than_requested(state: EipState, clock: FakeClock) -> None:
    state.batch_create(spec(1), JobFault("job_fail", created=9, code="VPC.0532", message="x"))
    clock.now += 5
    [job] = state.snapshot()["jobs"].values()
    assert (job["status"], job["error_code"], job["fail_reason"]) == ("FAIL", "VPC.0532", "x")
    assert len(state.snapshot()["publicips"]) == 1


def test_job_hang_runs_for_ever_and_keeps_its_quota(state: EipState, clock: FakeClock) -> None:
    job_id = state.batch_create(spec(8), JobFault("job_hang"))
    clock.now += 10_000
    assert state.job(job_id)["status"] == "RUNNING"
    assert state.snapshot()["publicips"] == {}
    with pytest.raises(EipError) as info:
        state.batch_create(spec(3))
    assert (info.value.status, info.value.code) == (409, "VPC.0521")


def test_quota_counts_existing_and_pending(state: EipState, clock: FakeClock) -> None:
    state.batch_create(spec(6))
    clock.now += 5
    state.batch_create(spec(4))  # 6 existing + 4 pending = 10
    with pytest.raises(EipError, match=r"VPC\.0521"):
        state.batch_create(spec(1))


def test_finished_jobs_are_forgotten_after_a_day(state: EipState, clock: FakeClock) -> None:
    job_id = state.batch_create(spec(1))
    clock.now += 5
    assert state.job(job_id)["status"] == "SUCCESS"
    clock.now += 86_401
    with pytest.raises(EipError) as info:
        state.job(job_id)
    assert info.value.status == 404


def test_addresses_are_unique_and_ipv6_eips_get_both(state: EipState, clock: FakeClock) -> None:
    state.batch_create(spec(3, ip_version=6))
    state.batch_create(spec(3))
    clock.now += 5
    eips = list(state.snapshot()["publicips"].values())
    v4 = [e["public_ip_address"] for e in eips]
    assert len(set(v4)) == 6
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("100.64.0.0/10") for a in v4)
    v6 = [e for e in eips if e["ip_version"] == 6]
    assert len(v6) == 3
    assert all(ipaddress.ip_address(e["public_ipv6_address"]).version == 6 for e in v6)
    assert all("public_ipv6_address" not in e for e in eips if e["ip_version"] == 4)


def test_tag_filters_require_every_key(state: EipState, clock: FakeClock) -> None:
    state.batch_create(spec(1, tags={"a": "1", "b": "2"}))
    state.batch_create(spec(1, tags={"a": "1"}))
    state.batch_create(spec(1, tags={"a": "3"}))
    clock.now += 5
    assert len(state.by_tags([TagFilter("a")])) == 3
    assert len(state.by_tags([TagFilter("a", ("1",))])) == 2
    assert len(state.by_tags([TagFilter("a", ("1", "3"))])) == 3
    assert len(state.by_tags([TagFilter("a", ("1",)), TagFilter("b")])) == 1
    assert state.by_tags([TagFilter("c")]) == []


@pytest.mark.parametrize(
    ("size", "ok"),
    [(1, True), (300, True), (301, False), (350, True), (375, False), (1000, True),
     (1050, False), (1500, True), (1250, False), (2000, True), (0, False), (2500, False)],
)  # fmt: skip
def test_bandwidth_size_increments(size: int, ok: bool) -> None:
    assert bandwidth_size_ok(size) is ok


# --- over HTTP: the life of a batch -----------------------------------------------------


def test_batch_create_job_then_eips_with_their_bandwidth(eip: EipClient, admin: Admin) -> None:
    job_id = eip.batch_create_publicips(request(3, tags={"batch": "b1", "env": "prod"}))
    assert len(job_id) == 32
    states = [j.status for j in wait_job(eip, job_id)]
    assert states[-1] == "SUCCESS"
    assert states[0] in ("INIT", "RUNNING")
    order = ["INIT", "RUNNING", "SUCCESS"]
    assert [order.index(s) for s in states] == sorted(order.index(s) for s in states)

    ips = eip.list_publicips()
    assert len(ips) == 3
    for ip in ips:
        assert ip.status == "DOWN" and ip.type == "5_bgp" and ip.ip_version == 4
        assert ip.tags == {"batch": "b1", "env": "prod"}
        assert ip.bandwidth_share_type == "PER" and ip.bandwidth_size == 5
        assert ip.bandwidth_name == "bw-test" and ip.enterprise_project_id == "0"
        assert ip.port_id is None and ip.public_ipv6_address is None
        datetime.strptime(ip.create_time or "", "%Y-%m-%d %H:%M:%S")
        assert eip.show_publicip(ip.id) == ip
    state = admin.state()["eip"]
    assert len({ip.bandwidth_id for ip in ips}) == 3  # one PER bandwidth each
    assert all(state["bandwidths"][ip.bandwidth_id]["publicip_ids"] == [ip.id] for ip in ips)


def test_ipv6_batch_has_ipv6_and_matching_ipv4(eip: EipClient) -> None:
    [eip_id] = create_done(eip, 1, ip_version=6)
    ip = eip.show_publicip(eip_id)
    assert ip.ip_version == 6
    assert ipaddress.ip_address(ip.public_ipv6_address or "").version == 6
    assert ipaddress.ip_address(ip.public_ip_address or "").version == 4
    assert ip.address == ip.public_ipv6_address


def test_whole_bandwidth_joins_an_existing_shared_one(
    eip: EipClient, admin: Admin, raw: httpx.Client
) -> None:
    shared = admin.post("eip/bandwidths", {"name": "team", "size": 50})["bandwidth"]
    whole = ClientBandwidth(size=5, share_type="WHOLE", id=shared["id"])
    ids = create_done(eip, 2, bandwidth=whole)
    for eip_id in ids:
        ip = eip.show_publicip(eip_id)
        assert (ip.bandwidth_id, ip.bandwidth_size) == (shared["id"], 50)
        assert (ip.bandwidth_share_type, ip.bandwidth_name) == ("WHOLE", "team")
    default = ClientBandwidth(size=1, share_type="WHOLE", id=DEFAULT_SHARED_BANDWIDTH_ID)
    create_done(eip, 1, bandwidth=default)
    bandwidths = admin.state()["eip"]["bandwidths"]
    assert sorted(bandwidths[shared["id"]]["publicip_ids"]) == sorted(ids)
    eip.batch_delete_publicips(ids)
    wait_gone(eip, ids)
    assert admin.state()["eip"]["bandwidths"][shared["id"]]["publicip_ids"] == []

    unknown = valid_body(bandwidth={"share_type": "WHOLE", "id": "no-such-bandwidth"})
    assert error_of(raw.post(f"/v2/{PID}/batchpublicips", json=unknown)) == (400, "VPC.0501")


def test_delete_is_pending_then_releases_the_per_bandwidth_and_404s(
    eip: EipClient, admin: Admin
) -> None:
    [eip_id] = create_done(eip, 1)
    bandwidth_id = eip.show_publicip(eip_id).bandwidth_id
    eip.delete_publicip(eip_id)
    # Asynchronous (BatchDeletePublicIp reference): still there, PENDING_DELETE.
    assert eip.show_publicip(eip_id).status == "PENDING_DELETE"
    assert bandwidth_id in admin.state()["eip"]["bandwidths"]
    eip.delete_publicip(eip_id)  # again while PENDING_DELETE: accepted, nothing changes
    wait_gone(eip, [eip_id])
    assert bandwidth_id not in admin.state()["eip"]["bandwidths"]
    with pytest.raises(NotFoundError) as info:
        eip.show_publicip(eip_id)
    assert (info.value.status, info.value.code) == (404, "VPC.0504")
    with pytest.raises(NotFoundError):
        eip.delete_publicip(eip_id)


def test_unknown_job_is_404(eip: EipClient) -> None:
    with pytest.raises(NotFoundError):
        eip.show_job("0" * 32)


def test_batch_delete_returns_one_job_id_that_cannot_be_queried(eip: EipClient) -> None:
    ids = create_done(eip, 3)
    job_ids = eip.batch_delete_publicips(ids)
    assert len(job_ids) == 1  # one per call, as the documented example answers
    assert {p.status for p in eip.list_publicips()} == {"PENDING_DELETE"}
    wait_gone(eip, ids)
    assert eip.list_publicips() == []
    with pytest.raises(NotFoundError):
        eip.show_job(job_ids[0])


def test_batch_delete_with_an_unknown_id_deletes_nothing(eip: EipClient, raw: httpx.Client) -> None:
    ids = create_done(eip, 2)
    with pytest.raises(NotFoundError) as info:
        eip.batch_delete_publicips([*ids, "no-such-eip"])
    assert "no-such-eip" in info.value.message
    assert len(eip.list_publicips()) == 2
    bad_bodies: list[dict[str, Any]] = [{"publicip_ids": []}, {"publicip_ids": [1]}, {}]
    for body in bad_bodies:
        response = raw.request("DELETE", f"/v2/{PID}/batchpublicips", json=body)
        assert error_of(response) == (400, "VPC.0501")


# --- binding ------------------------------------------------------------------------------


def test_bound_eip_cannot_be_deleted_until_unbound(eip: EipClient, admin: Admin) -> None:
    ids = create_done(eip, 3)
    bound = admin.post("eip/bind", {"publicip_id": ids[0], "port_id": "port-1"})["publicip"]
    assert (bound["status"], bound["port_id"]) == ("ACTIVE", "port-1")
    assert eip.show_publicip(ids[0]).port_id == "port-1"
    assert [p.id for p in eip.list_publicips()] == sorted(ids)

    with pytest.raises(ClientError) as single:
        eip.delete_publicip(ids[0])
    assert (single.value.status, single.value.code) == (409, "VPC.0517")
    with pytest.raises(ClientError) as batch:
        eip.batch_delete_publicips(ids)
    assert (batch.value.status, batch.value.code) == (409, "VPC.0517")
    assert len(eip.list_publicips()) == 3  # all or nothing

    assert admin.post("eip/unbind", {"publicip_id": ids[0]})["publicip"]["status"] == "DOWN"
    eip.batch_delete_publicips(ids)
    wait_gone(eip, ids)


def test_admin_bind_of_unknown_eip_is_404(admin: Admin) -> None:
    response = httpx.post(
        f"{admin.url}/_emulator/eip/bind", json={"publicip_id": "nope", "port_id": "p"}
    )
    assert response.status_code == 404


# --- listing --------------------------------------------------------------------------------


def test_list_pages_by_marker_and_filters_by_id(
    eip: EipClient, admin: Admin, raw: httpx.Client
) -> None:
    ids = sorted(create_done(eip, 7))
    assert [p.id for p in eip.list_publicips(page_limit=3)] == ids
    pages = [r for r in admin.requests() if r["operation"] == "ListPublicips"]
    assert len(pages) == 3  # 3 + 3 + 1

    page = raw.get(f"/v1/{PID}/publicips", params={"limit": 2, "marker": ids[2]}).json()
    assert [p["id"] for p in page["publicips"]] == ids[3:5]
    chosen = [ids[5], ids[1]]
    assert sorted(p.id for p in eip.list_publicips(chosen)) == sorted(chosen)
    assert eip.list_publicips(["no-such-id"]) == []


@pytest.mark.parametrize("query", [{"limit": "-1"}, {"limit": "x"}, {"ip_version": "5"}])
def test_list_rejects_bad_query(raw: httpx.Client, query: dict[str, str]) -> None:
    assert error_of(raw.get(f"/v1/{PID}/publicips", params=query)) == (400, "VPC.0501")


def test_list_filters_by_ip_version(eip: EipClient, raw: httpx.Client) -> None:
    create_done(eip, 2)
    [v6] = create_done(eip, 1, ip_version=6)
    found = raw.get(f"/v1/{PID}/publicips", params={"ip_version": "6"}).json()["publicips"]
    assert [p["id"] for p in found] == [v6]


# --- tags ---------------------------------------------------------------------------------


def test_list_by_tags_filter_count_and_paging(eip: EipClient, raw: httpx.Client) -> None:
    a = create_done(eip, 3, tags={"team": "a"})
    b = create_done(eip, 2, tags={"team": "b"})
    assert sorted(r.resource_id for r in eip.list_publicips_by_tags({"team": []})) == sorted(a + b)
    found = eip.list_publicips_by_tags({"team": ["b"]})
    assert sorted(r.resource_id for r in found) == sorted(b)
    assert all(r.tags == {"team": "b"} and r.resource_name == "" for r in found)
    assert len(eip.list_publicips_by_tags({"team": ["a", "b"]}, page_limit=2)) == 5
    assert eip.list_publicips_by_tags({"other": []}) == []

    url = f"/v2.0/{PID}/publicips/resource_instances/action"
    count = raw.post(url, json={"action": "count", "tags": [{"key": "team", "values": []}]})
    assert count.json() == {"total_count": 5}
    page = raw.post(url, json={"action": "filter", "limit": 2, "offset": 4}).json()
    assert (len(page["resources"]), page["total_count"]) == (1, 5)
    assert page["resources"][0]["tags"][0].keys() == {"key", "value"}


@pytest.mark.parametrize(
    "body",
    [
        {"tags": []},
        {"action": "list"},
        {"action": "filter", "limit": 0},
        {"action": "filter", "limit": 1001},
        {"action": "filter", "offset": -1},
        {"action": "filter", "tags": [{"key": f"k{i}", "values": []} for i in range(11)]},
        {"action": "filter", "tags": [{"key": "k", "values": [str(i) for i in range(11)]}]},
        {"action": "filter", "tags": [{"key": "k", "values": ["a", "a"]}]},
        {"action": "filter", "tags": [{"key": "k", "values": []}, {"key": "k", "values": []}]},
        {"action": "filter", "tags": [{"key": "", "values": []}]},
        {"action": "filter", "tags": [{"key": "k"}]},
        {"action": "filter", "matches": [{"key": "id", "value": "x"}]},
    ],
)
def test_list_by_tags_rejects_bad_bodies(raw: httpx.Client, body: dict[str, Any]) -> None:
    url = f"/v2.0/{PID}/publicips/resource_instances/action"
    assert error_of(raw.post(url, json=body)) == (400, "VPC.0501")


def test_tag_actions_create_overwrite_and_delete(eip: EipClient, admin: Admin) -> None:
    [eip_id] = create_done(eip, 1, tags={"batch": "t"})
    eip.create_tags(eip_id, {"env": "dev", "owner": "me"})
    eip.create_tags(eip_id, {"env": "prod"})  # overwrites
    assert eip.show_publicip(eip_id).tags == {"batch": "t", "env": "prod", "owner": "me"}
    eip.delete_tags(eip_id, {"env": "dev"})  # another value: nothing to delete
    eip.delete_tags(eip_id, {"missing": "x", "owner": "me"})  # missing is fine
    assert eip.show_publicip(eip_id).tags == {"batch": "t", "env": "prod"}
    operations = admin.operations()
    assert operations.count("BatchCreatePublicipTags") == 2
    assert operations.count("BatchDeletePublicipTags") == 2
    with pytest.raises(NotFoundError):
        eip.create_tags("no-such-eip", {"a": "b"})


@pytest.mark.parametrize(
    "body",
    [
        {"action": "create", "tags": [{"key": "bad key", "value": "v"}]},
        {"action": "create", "tags": [{"key": "k", "value": "bad/value"}]},
        {"action": "create", "tags": [{"key": "k"}]},
        {"action": "create", "tags": [{"key": "k", "value": "1"}, {"key": "k", "value": "2"}]},
        {"action": "create", "tags": [{"key": f"k{i}", "value": "v"} for i in range(21)]},
        {"action": "create", "tags": []},
        {"action": "delete", "tags": [{"key": ""}]},
        {"action": "update", "tags": [{"key": "k", "value": "v"}]},
    ],
)
def test_tag_action_rejects_bad_bodies(raw: httpx.Client, body: dict[str, Any]) -> None:
    # The body is checked before the EIP is looked up: no EIP needed.
    response = raw.post(f"/v2.0/{PID}/publicips/any-id/tags/action", json=body)
    assert error_of(response) == (400, "VPC.0501")


def test_tag_limit_counts_existing_tags(eip: EipClient) -> None:
    [eip_id] = create_done(eip, 1, tags={"batch": "x"})
    eip.create_tags(eip_id, {f"k{i}": "v" for i in range(19)})
    with pytest.raises(ClientError):
        eip.create_tags(eip_id, {"one-too-many": "v"})


# --- body validation ------------------------------------------------------------------------


def _with(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation setting (or, with ..., deleting) a dotted path of the body."""

    def mutate(body: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        target = body
        for part in parents:
            target = target[part]
        if value is ...:
            del target[leaf]
        else:
            target[leaf] = value

    return mutate


BAD_CREATES = {
    "tag value with a dot": _with("publicip.tags", ["env*v1.2"]),  # Table 4-41: no "."
    "number missing": _with("publicip_number", ...),
    "number negative": _with("publicip_number", -1),
    "number 51": _with("publicip_number", 51),
    "number string": _with("publicip_number", "3"),
    "number bool": _with("publicip_number", True),
    "publicip missing": _with("publicip", ...),
    "type unknown": _with("publicip.type", "5_xbgp"),
    "type missing": _with("publicip.type", ...),
    "ip_version int": _with("publicip.ip_version", 4),
    "ip_version bad": _with("publicip.ip_version", "ipv5"),
    "bandwidth missing": _with("bandwidth", ...),
    "share_type bad": _with("bandwidth.share_type", "SHARED"),
    "size zero": _with("bandwidth.size", 0),
    "size 2001": _with("bandwidth.size", 2001),
    "size 301": _with("bandwidth.size", 301),
    "size 1250": _with("bandwidth.size", 1250),
    "size float": _with("bandwidth.size", 5.5),
    "size missing": _with("bandwidth.size", ...),
    "charge_mode bad": _with("bandwidth.charge_mode", "monthly"),
    "name missing": _with("bandwidth.name", ...),
    "name null": _with("bandwidth.name", None),
    "name too long": _with("bandwidth.name", "n" * 65),
    "name bad chars": _with("bandwidth.name", "my bandwidth"),
    "whole without id": _with("bandwidth", {"share_type": "WHOLE", "size": 5}),
    "tags not a list": _with("publicip.tags", "env*prod"),
    "tag without star": _with("publicip.tags", ["envprod"]),
    "tag key bad": _with("publicip.tags", ["e nv*prod"]),
    "tag key dot": _with("publicip.tags", ["e.nv*prod"]),
    "tag key empty": _with("publicip.tags", ["*prod"]),
    "tag key too long": _with("publicip.tags", ["k" * 129 + "*v"]),
    "tag value bad": _with("publicip.tags", ["env*a/b"]),
    "tag value too long": _with("publicip.tags", ["env*" + "v" * 256]),
    "tag repeated": _with("publicip.tags", ["env*a", "env*b"]),
    "too many tags": _with("publicip.tags", [f"k{i}*v" for i in range(21)]),
    "eps bad": _with("enterprise_project_id", "project-x"),
    "eps missing": _with("enterprise_project_id", ...),
    "eps null": _with("enterprise_project_id", None),
    "eps number 1": _with("enterprise_project_id", 1),
    "eps false": _with("enterprise_project_id", False),
    "eps all_granted_eps": _with("enterprise_project_id", "all_granted_eps"),
}


@pytest.mark.parametrize("mutate", BAD_CREATES.values(), ids=BAD_CREATES.keys())
def test_batch_create_rejects_invalid_bodies(
    raw: httpx.Client, admin: Admin, mutate: Callable[[dict[str, Any]], None]
) -> None:
    body = valid_body()
    mutate(body)
    response = raw.post(f"/v2/{PID}/batchpublicips", json=body)
    assert error_of(response) == (400, "VPC.0501"), response.text
    assert set(response.json()) == {"code", "message"}
    assert admin.state()["eip"]["jobs"] == {}


def test_batch_create_rejects_traffic_over_300_and_ipv6_whole(raw: httpx.Client) -> None:
    traffic = valid_body()
    traffic["bandwidth"].update(charge_mode="traffic", size=500)
    assert error_of(raw.post(f"/v2/{PID}/batchpublicips", json=traffic))[1] == "VPC.0501"
    whole6 = valid_body(bandwidth={"share_type": "WHOLE", "id": DEFAULT_SHARED_BANDWIDTH_ID})
    whole6["publicip"]["ip_version"] = "ipv6"
    assert error_of(raw.post(f"/v2/{PID}/batchpublicips", json=whole6))[1] == "VPC.0501"
    mismatch = valid_body(enterprise_project_id="0")
    mismatch["publicip"]["enterprise_project_id"] = "1a2b3c4d-0000-4000-8000-000000000000"
    assert error_of(raw.post(f"/v2/{PID}/batchpublicips", json=mismatch))[1] == "VPC.0501"


GOOD_CREATES = {
    "size 300": _with("bandwidth.size", 300),
    "size 350": _with("bandwidth.size", 350),
    "size 2000": _with("bandwidth.size", 2000),
    "traffic 300": _with("bandwidth", {"share_type": "PER", "size": 300, "name": "b",
                                       "charge_mode": "traffic"}),
    "no charge_mode": _with("bandwidth.charge_mode", ...),
    "no ip_version": _with("publicip.ip_version", ...),
    "no tags": _with("publicip.tags", ...),
    "empty value": _with("publicip.tags", ["env*"]),
    "unicode tag": _with("publicip.tags", ["环境*生产-v1"]),
    "long tag": _with("publicip.tags", ["k" * 128 + "*" + "v" * 255]),
    "whole ignores size": _with("bandwidth", {"share_type": "WHOLE", "size": 7,
                                              "id": DEFAULT_SHARED_BANDWIDTH_ID}),
    "eps uuid": _with("enterprise_project_id", "1a2b3c4d-0000-4000-8000-000000000000"),
    "extra fields": _with("publicip.profile", {"order_id": "x"}),
    "number 50": _with("publicip_number", 50),
    "number 0": _with("publicip_number", 0),  # the Chinese reference: 0~50
    "eps number 0": _with("enterprise_project_id", 0),  # the documented example
    "name empty with PER": _with("bandwidth.name", ""),  # the documented example
    "charge_mode empty": _with("bandwidth.charge_mode", ""),  # "empty: bandwidth"
}  # fmt: skip


@pytest.mark.parametrize("mutate", GOOD_CREATES.values(), ids=GOOD_CREATES.keys())
def test_batch_create_accepts_edge_values(
    raw: httpx.Client, mutate: Callable[[dict[str, Any]], None]
) -> None:
    body = valid_body()
    mutate(body)
    response = raw.post(f"/v2/{PID}/batchpublicips", json=body)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"job_id"}


@pytest.mark.parametrize("content", [b"{not json", b"", b"\xff\xfe", b"null"])
def test_non_json_body_is_eip_7901(raw: httpx.Client, content: bytes) -> None:
    response = raw.post(
        f"/v2/{PID}/batchpublicips",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response) == (400, "EIP.7901")


def test_json_that_is_not_an_object_is_vpc_0501(raw: httpx.Client) -> None:
    assert error_of(raw.post(f"/v2/{PID}/batchpublicips", json=[1])) == (400, "VPC.0501")


# --- quota --------------------------------------------------------------------------------


def test_quota_is_checked_at_create_time(instant: RunningEmulator, instant_admin: Admin) -> None:
    client = make_client(instant.url)
    client.batch_create_publicips(request(50))
    with pytest.raises(ClientError) as info:
        client.batch_create_publicips(request(11))
    assert (info.value.status, info.value.code) == (409, "VPC.0521")
    assert instant_admin.state()["eip"]["quota"] == 60
    client.batch_create_publicips(request(10))
    assert len(client.list_publicips()) == 60
    client.close()


# --- auth, projects, routing ------------------------------------------------------------------


def test_wrong_secret_key_is_a_gateway_401(emulator: RunningEmulator) -> None:
    with httpx.Client(base_url=emulator.url, auth=HuaweiSigner(AK, "wrong", project_id=PID)) as c:
        response = c.get(f"/v1/{PID}/publicips")
    assert response.status_code == 401
    body = response.json()
    assert body["error_code"] == "APIGW.0301"
    assert body["request_id"] == response.headers["X-Request-Id"]


def test_unsigned_and_stale_requests_are_refused(emulator: RunningEmulator) -> None:
    assert error_of(httpx.get(f"{emulator.url}/v1/{PID}/publicips")) == (401, "APIGW.0301")
    stale = HuaweiSigner(
        AK, SK, project_id=PID, clock=lambda: datetime.now(timezone.utc) - timedelta(hours=1)
    )
    with httpx.Client(base_url=emulator.url, auth=stale) as c:
        assert error_of(c.get(f"/v1/{PID}/publicips")) == (401, "APIGW.0303")


def test_client_maps_auth_failure_to_auth_error(emulator: RunningEmulator) -> None:
    settings = HuaweiSettings(
        credentials=Credentials(AK, "bad"), region="r", project_id=PID, endpoint=emulator.url
    )
    client = EipClient.from_settings(settings, policy=RetryPolicy(sleep=lambda _s: None))
    with pytest.raises(AuthError) as info:
        client.list_publicips()
    assert info.value.code == "APIGW.0301" and info.value.request_id
    client.close()


def test_another_project_in_the_path_is_vpc_0007(raw: httpx.Client) -> None:
    response = raw.get(f"/v1/{OTHER_PID}/publicips")
    assert error_of(response) == (400, "VPC.0007")
    assert set(response.json()) == {"code", "message"}


def test_credentials_for_another_project_are_refused(emulator: RunningEmulator) -> None:
    signer = HuaweiSigner(AK, SK, project_id=OTHER_PID)
    with httpx.Client(base_url=emulator.url, auth=signer) as c:
        assert error_of(c.get(f"/v1/{OTHER_PID}/publicips")) == (401, "APIGW.0301")


def test_unknown_api_is_apigw_0101(raw: httpx.Client) -> None:
    for method, path in [("GET", f"/v2/{PID}/nothing"), ("PUT", f"/v1/{PID}/publicips")]:
        response = raw.request(method, path)
        assert error_of(response) == (404, "APIGW.0101")
        assert response.json()["request_id"] == response.headers["X-Request-Id"]


def test_request_log_names_every_operation(eip: EipClient, admin: Admin) -> None:
    ids = create_done(eip, 2)
    eip.show_publicip(ids[0])
    eip.create_tags(ids[0], {"a": "b"})
    eip.delete_tags(ids[0], {"a": "b"})
    eip.delete_publicip(ids[0])
    eip.batch_delete_publicips(ids[1:])
    expected = {
        "BatchCreatePublicips", "ShowResourcesJobDetail", "ListPublicipsByTags",
        "ShowPublicip", "BatchCreatePublicipTags", "BatchDeletePublicipTags",
        "DeletePublicip", "BatchDeletePublicIp",
    }  # fmt: skip
    eip.list_publicips()
    assert set(admin.operations()) == expected | {"ListPublicips"}
    assert all(isinstance(r["status"], int) for r in admin.requests())


# --- faults -----------------------------------------------------------------------------------


def test_job_fail_fault_creates_exactly_two(eip: EipClient, admin: Admin) -> None:
    admin.faults({"operation": "BatchCreatePublicips", "action": "job_fail", "created": 2})
    job_id = eip.batch_create_publicips(request(5, tags={"batch": "f"}))
    job = wait_job(eip, job_id)[-1]
    assert job.status == "FAIL" and job.error_code and job.fail_reason
    assert len(eip.list_publicips_by_tags({"batch": ["f"]})) == 2
    assert admin.requests()[0]["fault"] == "job_fail"


def test_job_hang_fault_keeps_the_job_running(eip: EipClient, admin: Admin) -> None:
    admin.faults({"operation": "BatchCreatePublicips", "action": "job_hang"})
    job_id = eip.batch_create_publicips(request(2))
    time.sleep(0.45)  # past job_seconds (0.3)
    assert eip.show_job(job_id).status == "RUNNING"
    assert eip.list_publicips() == []


def test_throttle_is_a_gateway_429_that_the_client_retries(eip: EipClient, admin: Admin) -> None:
    admin.faults({"operation": "ListPublicips", "action": "throttle", "times": 2})
    assert eip.list_publicips() == []
    statuses = [r["status"] for r in admin.requests()]
    assert statuses == [429, 429, 200]


def test_throttle_body_and_headers(raw: httpx.Client, admin: Admin) -> None:
    admin.faults({"operation": "ShowPublicip", "action": "throttle"})
    response = raw.get(f"/v1/{PID}/publicips/x")
    assert error_of(response) == (429, "APIGW.0308")
    assert response.headers["Retry-After"] == "1"
    assert response.json()["request_id"] == response.headers["X-Request-Id"]


def test_error_fault_uses_the_service_shape(raw: httpx.Client, admin: Admin) -> None:
    admin.faults(
        {"operation": "DeletePublicip", "action": "error", "status": 409, "code": "VPC.0512",
         "message": "busy"}
    )  # fmt: skip
    response = raw.delete(f"/v1/{PID}/publicips/x")
    assert response.status_code == 409
    assert response.json() == {"code": "VPC.0512", "message": "busy"}


def test_lost_create_response_still_creates_the_batch(eip: EipClient, admin: Admin) -> None:
    admin.faults({"operation": "BatchCreatePublicips", "action": "lost_response"})
    with pytest.raises(TransportError) as info:
        eip.batch_create_publicips(request(2, tags={"batch": "lost"}))
    assert info.value.sent
    [job_id] = admin.state()["eip"]["jobs"]
    wait_job(eip, job_id)
    assert len(eip.list_publicips_by_tags({"batch": ["lost"]})) == 2


def test_busy_error_on_a_read_is_retried(eip: EipClient, admin: Admin) -> None:
    admin.faults({"operation": "ListPublicips", "action": "error", "status": 409,
                  "code": "VPC.0512"})  # fmt: skip
    assert eip.list_publicips() == []
    assert [r["status"] for r in admin.requests()] == [409, 200]


# --- state, reset, threads ----------------------------------------------------------------------


def test_snapshot_shape_and_reset(eip: EipClient, admin: Admin) -> None:
    create_done(eip, 2)
    state = admin.state()["eip"]
    assert set(state) == {"publicips", "jobs", "bandwidths", "quota"}
    assert len(state["publicips"]) == 2 and len(state["jobs"]) == 1
    admin.reset()
    state = admin.state()["eip"]
    assert state["publicips"] == {} and state["jobs"] == {}
    assert list(state["bandwidths"]) == [DEFAULT_SHARED_BANDWIDTH_ID]


def test_concurrent_creates_and_deletes_stay_consistent(
    instant: RunningEmulator, instant_admin: Admin
) -> None:
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        client = make_client(instant.url)
        try:
            for round_ in range(3):
                tag = f"w{n}-{round_}"
                client.batch_create_publicips(request(2, tags={"batch": tag}))
                ids = [r.resource_id for r in client.list_publicips_by_tags({"batch": [tag]})]
                assert len(ids) == 2
                client.delete_publicip(ids[0])
                client.create_tags(ids[1], {"seen": "yes"})
        except (AssertionError, CloudApiError, TransportError) as exc:
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert errors == []

    state = instant_admin.state()["eip"]
    eips = state["publicips"]
    assert len(eips) == 8 * 3
    assert all(e["tags"][0].startswith("batch*w") for e in eips.values())
    assert all(e["tags"][1:] == ["seen*yes"] for e in eips.values())
    addresses = [e["public_ip_address"] for e in eips.values()]
    assert len(set(addresses)) == len(addresses)
    per = {i: b for i, b in state["bandwidths"].items() if b["share_type"] == "PER"}
    assert sorted(per) == sorted(e["bandwidth_id"] for e in eips.values())
    assert all(b["publicip_ids"] == [eips[b["publicip_ids"][0]]["id"]] for b in per.values())


# --- UpdateBandwidth -----------------------------------------------------------------------


def test_bandwidth_resize_in_place(instant: RunningEmulator, instant_admin: Admin) -> None:
    client = make_client(instant.url)
    try:
        job_id = client.batch_create_publicips(
            BatchCreateRequest(
                count=2,
                publicip_type="5_bgp",
                ip_version=4,
                bandwidth=ClientBandwidth(size=5, share_type="PER", name="bw"),
            )
        )
        assert client.show_job(job_id).status == "SUCCESS"
        first, second = client.list_publicips()
        assert first.bandwidth_id and second.bandwidth_id
        client.update_bandwidth_size(first.bandwidth_id, 1500, "bandwidth", None)
        assert client.show_publicip(first.id).bandwidth_size == 1500
        assert client.show_publicip(second.id).bandwidth_size == 5  # its own bandwidth
        for bad in (0, 301, 1200, 2500):
            with pytest.raises(ClientError) as info:
                client.update_bandwidth_size(first.bandwidth_id, bad, "bandwidth", None)
            assert info.value.code == "VPC.0501"
        with pytest.raises(NotFoundError):
            client.update_bandwidth_size("missing-bandwidth", 10, "bandwidth", None)
        assert instant_admin.operations()[-1] == "UpdateBandwidth"
    finally:
        client.close()
