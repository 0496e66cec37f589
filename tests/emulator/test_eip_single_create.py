"""The single-EIP create (``POST /v1/{project_id}/publicips``, ``CreatePublicip``) and
the emulator's per-call latency.

The EIP exists at once in ``PENDING_CREATE`` and turns ``DOWN`` after the job duration,
lazily; it goes through the same validation and quota as batch create. The official
SDK's ``EipClient.create_publicip`` must work against it unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkeip.v2 import (
    CreatePublicipBandwidthOption,
    CreatePublicipOption,
    CreatePublicipRequest,
    CreatePublicipRequestBody,
    CreatePublicipResponse,
    DeletePublicipRequest,
    PublicipCreateResp,
    ShowPublicipRequest,
)

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
)
from pulumi_batchip.huawei.signer import HuaweiSigner

from ..conftest import Admin
from .test_eip_sdk_conformance import sdk_client

AK, SK = "emulator-hw-ak", "emulator-hw-sk"
PID = DEFAULT_HW_PROJECT_ID
CREATE_PATH = f"/v1/{PID}/publicips"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def one(**kw: Any) -> CreateSpec:
    return CreateSpec(
        count=1,
        publicip_type="5_bgp",
        ip_version=kw.pop("ip_version", 4),
        bandwidth=kw.pop("bandwidth", BandwidthSpec(share_type="PER", size=10, name="bw")),
    )


def body(**overrides: Any) -> dict[str, Any]:
    """A valid CreatePublicip body, as the API reference's example."""
    value: dict[str, Any] = {
        "publicip": {"type": "5_bgp", "ip_version": 4},
        "bandwidth": {"name": "bandwidth123", "size": 10, "share_type": "PER"},
    }
    value.update(overrides)
    return value


def signed_client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, auth=HuaweiSigner(AK, SK, project_id=PID), timeout=10)


@pytest.fixture
def raw(emulator: RunningEmulator) -> Iterator[httpx.Client]:
    client = signed_client(emulator.url)
    yield client
    client.close()


def wait_status(client: httpx.Client, eip_id: str, want: str, timeout: float = 5.0) -> None:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(f"{CREATE_PATH}/{eip_id}")
        assert response.status_code == 200, response.text
        seen.append(response.json()["publicip"]["status"])
        if seen[-1] == want:
            return
        time.sleep(0.03)
    raise AssertionError(f"{eip_id} never became {want}: {seen}")


# --- the state model, with a fake clock -------------------------------------------------


def test_single_create_is_pending_until_the_job_time_then_down() -> None:
    clock = FakeClock()
    state = EipState(project_id=PID, job_seconds=2.0, quota=10, clock=clock)
    created = state.create_one(one(), alias="web")
    assert created["status"] == "PENDING_CREATE"
    assert created["ip_version"] == 4 and created["bandwidth_size"] == 10
    assert created["tenant_id"] == PID and created["alias"] == "web"
    assert created["public_ip_address"].startswith("100.")
    assert state.show(created["id"])["status"] == "PENDING_CREATE"
    [listed] = state.list_page(limit=10)
    assert listed["status"] == "PENDING_CREATE"
    clock.now += 1.99
    assert state.show(created["id"])["status"] == "PENDING_CREATE"
    clock.now += 0.01
    shown = state.show(created["id"])
    assert shown["status"] == "DOWN"
    assert shown["alias"] == "web"
    assert shown["create_time"] == created["create_time"]


def test_single_create_with_zero_job_time_is_down_at_once() -> None:
    state = EipState(project_id=PID, job_seconds=0.0, quota=10, clock=FakeClock())
    created = state.create_one(one())
    assert state.show(created["id"])["status"] == "DOWN"
    assert "alias" not in created


def test_single_create_shares_the_quota_with_batches_and_pending_eips() -> None:
    clock = FakeClock()
    state = EipState(project_id=PID, job_seconds=5.0, quota=3, clock=clock)
    state.batch_create(
        CreateSpec(count=2, publicip_type="5_bgp", ip_version=4, bandwidth=one().bandwidth)
    )
    state.create_one(one())  # 2 pending in the job + 1 pending single = 3
    with pytest.raises(EipError) as info:
        state.create_one(one())
    assert (info.value.status, info.value.code) == (409, "VPC.0521")
    clock.now += 10
    with pytest.raises(EipError):
        state.create_one(one())  # now 3 existing
    with pytest.raises(EipError):
        state.batch_create(
            CreateSpec(count=1, publicip_type="5_bgp", ip_version=4, bandwidth=one().bandwidth)
        )


def test_single_create_can_be_deleted_while_pending_and_frees_its_quota() -> None:
    state = EipState(project_id=PID, job_seconds=5.0, quota=1, clock=FakeClock())
    created = state.create_one(one())
    snapshot = state.snapshot()
    bandwidth_id = snapshot["publicips"][created["id"]]["bandwidth_id"]
    assert snapshot["bandwidths"][bandwidth_id]["share_type"] == "PER"
    state.delete(created["id"])
    assert state.snapshot()["publicips"] == {}
    assert bandwidth_id not in state.snapshot()["bandwidths"]
    state.create_one(one())


def test_single_create_ipv6_and_whole_bandwidth() -> None:
    state = EipState(project_id=PID, job_seconds=0.0, quota=10, clock=FakeClock())
    v6 = state.create_one(one(ip_version=6))
    assert v6["ip_version"] == 6 and v6["public_ipv6_address"].startswith("2001:db8:")
    shared = BandwidthSpec(share_type="WHOLE", id=DEFAULT_SHARED_BANDWIDTH_ID)
    whole = state.create_one(one(bandwidth=shared))
    assert state.show(whole["id"])["bandwidth_id"] == DEFAULT_SHARED_BANDWIDTH_ID
    with pytest.raises(EipError) as info:
        state.create_one(one(bandwidth=BandwidthSpec(share_type="WHOLE", id="nope")))
    assert (info.value.status, info.value.code) == (400, "VPC.0501")


# --- over HTTP ------------------------------------------------------------------------


def test_create_answers_200_pending_then_show_sees_down(raw: httpx.Client, admin: Admin) -> None:
    response = raw.post(CREATE_PATH, json=body(enterprise_project_id="0"))
    assert response.status_code == 200, response.text
    assert response.headers["X-Request-Id"]
    publicip = response.json()["publicip"]
    assert publicip["status"] == "PENDING_CREATE"
    assert (publicip["type"], publicip["ip_version"], publicip["bandwidth_size"]) == (
        "5_bgp",
        4,
        10,
    )
    assert publicip["enterprise_project_id"] == "0"
    wait_status(raw, publicip["id"], "DOWN")  # the session emulator's jobs take 0.3 s
    held = admin.state()["eip"]["publicips"]
    assert list(held) == [publicip["id"]]
    assert held[publicip["id"]]["bandwidth_name"] == "bandwidth123"
    assert admin.operations()[0] == "CreatePublicip"


def test_create_without_ip_version_is_ipv4_and_ipv6_works(raw: httpx.Client) -> None:
    plain = raw.post(CREATE_PATH, json=body(publicip={"type": "5_sbgp"}))
    assert plain.status_code == 200, plain.text
    assert plain.json()["publicip"]["ip_version"] == 4
    v6 = raw.post(CREATE_PATH, json=body(publicip={"type": "5_bgp", "ip_version": 6}))
    assert v6.status_code == 200, v6.text
    assert ":" in v6.json()["publicip"]["public_ipv6_address"]


@pytest.mark.parametrize(
    "bad",
    [
        {"publicip": {"type": "5_bgp", "ip_version": "ipv4"}},  # a string: the v2 batch style
        {"publicip": {"type": "5_bgp", "ip_version": 5}},
        {"publicip": {"type": "5_bgp", "ip_version": True}},
        {"publicip": {"type": "9_nope"}},
        {"publicip": {"type": "5_bgp", "alias": "x" * 65}},
        {"publicip": {"type": "5_bgp", "port_id": "port-1"}},
        {"publicip": {"type": "5_bgp", "ip_address": "100.64.0.9"}},
        {"publicip": "5_bgp"},
        {"bandwidth": {"size": 10, "share_type": "PER"}},  # PER needs a name
        {"bandwidth": {"name": "bw", "size": 301, "share_type": "PER"}},
        {"bandwidth": {"name": "bw", "size": 500, "share_type": "PER", "charge_mode": "traffic"}},
        {"bandwidth": {"share_type": "WHOLE"}},  # no id
        {"bandwidth": {"share_type": "WHOLE", "id": "no-such-bandwidth"}},
        {
            "publicip": {"type": "5_bgp", "ip_version": 6},
            "bandwidth": {"share_type": "WHOLE", "id": DEFAULT_SHARED_BANDWIDTH_ID},
        },
        {"enterprise_project_id": "not-a-uuid"},
    ],
)
def test_create_rejects_invalid_bodies(
    raw: httpx.Client, admin: Admin, bad: dict[str, Any]
) -> None:
    response = raw.post(CREATE_PATH, json=body(**bad))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "VPC.0501"
    assert admin.state()["eip"]["publicips"] == {}


def test_create_with_a_body_that_is_not_json_is_eip_7901(raw: httpx.Client) -> None:
    response = raw.post(CREATE_PATH, content=b"{nope", headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["code"]) == (400, "EIP.7901")


def test_create_quota_over_http() -> None:
    with (
        start_emulator(config=EmulatorConfig(job_seconds=0.0, eip_quota=1)) as running,
        signed_client(running.url) as client,
    ):
        assert client.post(CREATE_PATH, json=body()).status_code == 200
        refused = client.post(CREATE_PATH, json=body())
        assert (refused.status_code, refused.json()["code"]) == (409, "VPC.0521")


def test_fault_rules_apply_to_create_publicip(raw: httpx.Client, admin: Admin) -> None:
    admin.faults({"operation": "CreatePublicip", "action": "throttle"})
    throttled = raw.post(CREATE_PATH, json=body())
    assert (throttled.status_code, throttled.json()["error_code"]) == (429, "APIGW.0308")
    assert raw.post(CREATE_PATH, json=body()).status_code == 200
    assert [r["status"] for r in admin.requests()] == [429, 200]


# --- the official SDK -------------------------------------------------------------------


def test_official_sdk_create_publicip_works_against_the_emulator(
    emulator: RunningEmulator, admin: Admin
) -> None:
    sdk = sdk_client(emulator.url)
    try:
        request = CreatePublicipRequest(
            body=CreatePublicipRequestBody(
                publicip=CreatePublicipOption(type="5_bgp", ip_version=4, alias="sdk-eip"),
                bandwidth=CreatePublicipBandwidthOption(
                    name="sdk-bw", size=10, share_type="PER", charge_mode="traffic"
                ),
                enterprise_project_id="0",
            )
        )
        created = sdk.create_publicip(request)
        assert isinstance(created, CreatePublicipResponse)
        assert isinstance(created.publicip, PublicipCreateResp)
        assert created.publicip.status == "PENDING_CREATE"
        assert (created.publicip.type, created.publicip.ip_version) == ("5_bgp", 4)
        assert created.publicip.bandwidth_size == 10
        assert created.publicip.alias == "sdk-eip"
        assert created.publicip.tenant_id == PID
        eip_id = created.publicip.id

        deadline = time.monotonic() + 5
        status = created.publicip.status
        while status != "DOWN" and time.monotonic() < deadline:
            time.sleep(0.05)
            status = sdk.show_publicip(ShowPublicipRequest(publicip_id=eip_id)).publicip.status
        assert status == "DOWN"

        with pytest.raises(ClientRequestException) as info:
            sdk.create_publicip(
                CreatePublicipRequest(
                    body=CreatePublicipRequestBody(
                        publicip=CreatePublicipOption(type="5_bgp", ip_version=4),
                        bandwidth=CreatePublicipBandwidthOption(
                            name="sdk-bw", size=301, share_type="PER"
                        ),
                    )
                )
            )
        assert (info.value.status_code, info.value.error_code) == (400, "VPC.0501")

        sdk.delete_publicip(DeletePublicipRequest(publicip_id=eip_id))
        shown = sdk.show_publicip(ShowPublicipRequest(publicip_id=eip_id)).publicip
        assert shown.status == "PENDING_DELETE"  # deletes are asynchronous
        deadline = time.monotonic() + 5
        while admin.state()["eip"]["publicips"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert admin.state()["eip"]["publicips"] == {}
        assert admin.operations()[0] == "CreatePublicip"
    finally:
        sdk.get_http_client().close()


# --- latency ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow() -> Iterator[RunningEmulator]:
    with start_emulator(config=EmulatorConfig(job_seconds=0.0, latency_seconds=0.4)) as running:
        yield running


def test_latency_delays_every_api_call_but_not_the_admin_api(slow: RunningEmulator) -> None:
    with signed_client(slow.url) as client, httpx.Client(base_url=slow.url) as plain:
        started = time.monotonic()
        assert client.get(CREATE_PATH).status_code == 200
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        refused = plain.get(CREATE_PATH)  # unsigned: refused, still after the latency
        assert refused.status_code == 401
        assert time.monotonic() - started >= 0.4
        started = time.monotonic()
        assert plain.get("/_emulator/requests").status_code == 200
        admin_seconds = time.monotonic() - started
    assert admin_seconds < 0.4


def test_latency_is_per_call_so_concurrent_calls_overlap(slow: RunningEmulator) -> None:
    # Four calls at once take about one latency, not four (generous bound: 3 of 4).
    with signed_client(slow.url) as client, ThreadPoolExecutor(max_workers=4) as pool:
        started = time.monotonic()
        statuses = list(pool.map(lambda _n: client.get(CREATE_PATH).status_code, range(4)))
        elapsed = time.monotonic() - started
    assert statuses == [200] * 4
    assert 0.4 <= elapsed < 1.2
