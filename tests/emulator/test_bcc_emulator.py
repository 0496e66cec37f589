"""The BCC emulator over real loopback HTTP: rules, idempotence, reboots, faults, threads.

Our own BccClient drives the well-formed calls; raw httpx (signed with our signer, or
not at all) sends what a client never would.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.baidu.signer import BceSigner
from pulumi_batchip.config import BaiduSettings, Credentials
from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.emulator.app import ApiError
from pulumi_batchip.emulator.bcc import TOKEN_TTL_SECONDS, BccState, ip_limit
from pulumi_batchip.errors import CloudApiError, NotFoundError, TransportError
from pulumi_batchip.http import RetryPolicy

from ..conftest import Admin

AK, SK = "emulator-bce-ak", "emulator-bce-sk"
VM = "i-DhjUXmSA"
V6 = "2400:da00:e003:0:219::"


def token() -> str:
    return str(uuid.uuid4())


def make_client(url: str, timeout: httpx.Timeout | None = None) -> BccClient:
    settings = BaiduSettings(credentials=Credentials(AK, SK), region="bj", endpoint=url)
    return BccClient.from_settings(
        settings, policy=RetryPolicy(sleep=lambda _s: None), timeout=timeout
    )


@pytest.fixture(scope="module")
def shared_bcc(emulator_session: RunningEmulator) -> Iterator[BccClient]:
    # One client per module: building an httpx client costs tens of milliseconds.
    client = make_client(emulator_session.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def shared_raw(emulator_session: RunningEmulator) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=emulator_session.url, auth=BceSigner(AK, SK), timeout=10)
    yield client
    client.close()


@pytest.fixture
def bcc(emulator: RunningEmulator, shared_bcc: BccClient) -> BccClient:
    """Our client, retrying without real sleeps, on a freshly reset emulator."""
    return shared_bcc


@pytest.fixture
def raw(emulator: RunningEmulator, shared_raw: httpx.Client) -> httpx.Client:
    """Signed, but no retries and no error decoding."""
    return shared_raw


def secondary(admin: Admin, family: str = "ipv4", vm: str = VM) -> list[str]:
    return list(admin.state()["bcc"]["instances"][vm]["secondary"][family])


def fails(code: str, status: int, call: Any, *args: Any, **kwargs: Any) -> CloudApiError:
    with pytest.raises(CloudApiError) as info:
        call(*args, **kwargs)
    assert (info.value.code, info.value.status) == (code, status), info.value
    return info.value


def add_v4(bcc: BccClient, **kwargs: Any) -> list[str]:
    return bcc.batch_add_ip(VM, client_token=token(), **kwargs)


def put(raw: httpx.Client, name: str, body: Any, **params: str) -> httpx.Response:
    return raw.put(f"/v2/instance/{name}", json=body, params=params)


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code
    assert set(body) == {"requestId", "code", "message"}
    assert body["requestId"] == response.headers["x-bce-request-id"]


# --- the default instance and the detail shape ---------------------------------------


def test_default_instance(bcc: BccClient, admin: Admin) -> None:
    instance = bcc.get_instance(VM)
    assert (instance.id, instance.status) == (VM, "Running")
    assert instance.addresses(ipv6=False) == ("192.168.0.4",)
    assert instance.addresses(ipv6=True) == (V6 + "4",)
    assert instance.secondary_addresses(ipv6=False) == ()
    state = admin.state()["bcc"]["instances"][VM]
    assert state["subnets"] == ["192.168.0.0/24", "2400:da00:e003:0:219::/80"]
    assert state["limit"] >= 40


def test_detail_shape(raw: httpx.Client, bcc: BccClient) -> None:
    add_v4(bcc, count=1)
    response = raw.get(f"/v2/instance/{VM}")
    assert response.status_code == 200
    assert response.headers["x-bce-request-id"]
    instance = response.json()["instance"]
    assert instance["internalIp"] == "192.168.0.4"
    assert instance["ipv6"] == V6 + "4"
    assert instance["memoryCapacityInGB"] == 128
    nic = instance["nicInfo"]
    assert {"eniId", "subnetId", "vpcId", "macAddress", "status"} <= set(nic)
    assert [(e["privateIp"], e["primary"]) for e in nic["ips"]] == [
        ("192.168.0.4", "true"),
        ("192.168.0.5", "false"),
    ]
    assert nic["ipv6s"][0] == {**nic["ipv6s"][0], "privateIp": V6 + "4", "primary": "true"}
    assert "eip" in nic["ips"][0]


# --- batchAddIp -------------------------------------------------------------------------


def test_add_count_allocates_lowest_free(raw: httpx.Client, admin: Admin) -> None:
    body = {"instanceId": VM, "secondaryPrivateIpAddressCount": 2, "allocateMultiIpv6Addr": False}
    response = put(raw, "batchAddIp", body, clientToken=token())
    assert response.status_code == 200
    assert response.json() == {"privateIps": ["192.168.0.5", "192.168.0.6"], "eniPrivateIps": None}
    response = put(raw, "batchAddIp", {**body, "allocateMultiIpv6Addr": True})
    assert response.json()["privateIps"] == [V6 + "5", V6 + "6"]
    assert secondary(admin) == ["192.168.0.5", "192.168.0.6"]
    assert secondary(admin, "ipv6") == [V6 + "5", V6 + "6"]


def test_add_count_fills_holes_first(bcc: BccClient) -> None:
    add_v4(bcc, private_ips=["192.168.0.6"])
    assert add_v4(bcc, count=2) == ["192.168.0.5", "192.168.0.7"]


def test_add_explicit_keeps_request_order(bcc: BccClient, admin: Admin) -> None:
    assert add_v4(bcc, private_ips=["192.168.0.99", "192.168.0.10"]) == [
        "192.168.0.99",
        "192.168.0.10",
    ]
    got = bcc.batch_add_ip(VM, client_token=token(), private_ips=[V6 + "2f"], ipv6=True)
    assert got == [V6 + "2f"]
    assert secondary(admin) == ["192.168.0.99", "192.168.0.10"]
    assert bcc.get_instance(VM).secondary_addresses(ipv6=True) == (V6 + "2f",)


@pytest.mark.parametrize("address", ["192.168.0.4", "192.168.0.20"], ids=["primary", "secondary"])
def test_add_in_use(bcc: BccClient, admin: Admin, address: str) -> None:
    add_v4(bcc, private_ips=["192.168.0.20"])
    fails("PrivateIpInUseException", 409, add_v4, bcc, private_ips=["192.168.0.30", address])
    assert secondary(admin) == ["192.168.0.20"]


def test_address_used_by_another_instance_of_the_subnet(bcc: BccClient, admin: Admin) -> None:
    other = admin.post("bcc/instances", {"id": "i-other001"})
    assert other["primary"]["ipv4"] == "192.168.0.5"  # the subnet is shared
    fails("PrivateIpInUseException", 409, add_v4, bcc, private_ips=["192.168.0.5"])
    assert add_v4(bcc, count=1) == ["192.168.0.6"]


@pytest.mark.parametrize(
    "address",
    ["10.0.0.5", "192.168.1.5", "192.168.0.0", "192.168.0.1", "192.168.0.255", "not-an-ip"],
)
def test_add_outside_subnet_or_reserved(bcc: BccClient, admin: Admin, address: str) -> None:
    fails("InvalidParameter", 400, add_v4, bcc, private_ips=["192.168.0.50", address])
    assert secondary(admin) == []


def test_add_wrong_family(bcc: BccClient, admin: Admin) -> None:
    fails("InvalidParameter", 400, add_v4, bcc, private_ips=[V6 + "10"])
    fails("InvalidParameter", 400, add_v4, bcc, private_ips=["192.168.0.10"], ipv6=True)
    outside = "2400:da00:e003:0:218::10"
    fails("InvalidParameter", 400, add_v4, bcc, private_ips=[outside], ipv6=True)
    assert secondary(admin) == [] and secondary(admin, "ipv6") == []


def test_add_duplicate_in_request(bcc: BccClient) -> None:
    fails("InvalidParameter", 400, add_v4, bcc, private_ips=["192.168.0.9", "192.168.0.9"])


def test_default_instance_holds_40_per_family(bcc: BccClient, admin: Admin) -> None:
    assert len(add_v4(bcc, count=40)) == 40
    assert len(add_v4(bcc, count=40, ipv6=True)) == 40
    fails("VmMemoryCanNotAttachMoreIpException", 400, add_v4, bcc, count=1)
    fails(
        "VmMemoryCanNotAttachMoreIpException", 400, add_v4, bcc, private_ips=[V6 + "ff"], ipv6=True
    )
    assert len(secondary(admin)) == 40


def test_limit_depends_on_memory(bcc: BccClient, admin: Admin) -> None:
    admin.post("bcc/instances", {"id": "i-small001", "memory": 4})
    assert len(bcc.batch_add_ip("i-small001", client_token=token(), count=6)) == 6
    err = fails(
        "VmMemoryCanNotAttachMoreIpException",
        400,
        bcc.batch_add_ip,
        "i-small001",
        client_token=token(),
        count=3,
    )
    assert "at most 8" in err.message
    assert len(secondary(admin, vm="i-small001")) == 6  # all or nothing
    assert len(bcc.batch_add_ip("i-small001", client_token=token(), count=2)) == 2


@pytest.mark.parametrize(
    ("memory", "limit"),
    [(1, 2), (1.5, 2), (2, 8), (8, 8), (16, 16), (32, 16), (48, 30), (64, 30), (65, 40)],
)
def test_limit_table(memory: float, limit: int) -> None:
    assert ip_limit(memory) == limit


def test_subnet_full(bcc: BccClient, admin: Admin) -> None:
    # /29: 8 addresses, .0-.3 and .7 reserved, .4 the primary: .5 and .6 are free.
    admin.post("bcc/instances", {"id": "i-tiny0001", "subnets": ["10.9.0.0/29"]})
    add = bcc.batch_add_ip
    fails("SubnetHasNoMoreIpException", 400, add, "i-tiny0001", client_token=token(), count=3)
    assert add("i-tiny0001", client_token=token(), count=2) == ["10.9.0.5", "10.9.0.6"]
    fails("SubnetHasNoMoreIpException", 400, add, "i-tiny0001", client_token=token(), count=1)
    # No IPv6 prefix on this one.
    fails("InvalidParameter", 400, add, "i-tiny0001", client_token=token(), count=1, ipv6=True)


def test_unknown_instance(bcc: BccClient) -> None:
    with pytest.raises(NotFoundError) as info:
        bcc.get_instance("i-missing1")
    assert (info.value.status, info.value.code) == (404, "NoSuchObject")
    fails("NoSuchObject", 404, bcc.batch_add_ip, "i-missing1", client_token=token(), count=1)
    fails(
        "NoSuchObject", 404, bcc.batch_del_ip, "i-missing1", ["192.168.0.5"], client_token=token()
    )
    fails("NoSuchObject", 404, bcc.reboot, "i-missing1")


# --- batchDelIp -------------------------------------------------------------------------


def test_delete(raw: httpx.Client, bcc: BccClient, admin: Admin) -> None:
    add_v4(bcc, count=3)
    body = {"instanceId": VM, "privateIps": ["192.168.0.6"]}
    response = put(raw, "batchDelIp", body, clientToken=token())
    assert response.status_code == 200
    assert response.json() == {"success": True, "status": 200}
    assert secondary(admin) == ["192.168.0.5", "192.168.0.7"]
    assert add_v4(bcc, count=1) == ["192.168.0.6"]  # freed for reuse


def test_delete_is_all_or_nothing(bcc: BccClient, admin: Admin) -> None:
    add_v4(bcc, count=2)
    delete = bcc.batch_del_ip
    fails(
        "PrivateIPNotExistException",
        400,
        delete,
        VM,
        ["192.168.0.5", "192.168.0.9"],
        client_token=token(),
    )
    fails("InvalidParameter", 400, delete, VM, ["192.168.0.5", "192.168.0.4"], client_token=token())
    fails("InvalidParameter", 400, delete, VM, ["192.168.0.5", "bogus"], client_token=token())
    assert secondary(admin) == ["192.168.0.5", "192.168.0.6"]


def test_delete_other_instances_address(bcc: BccClient, admin: Admin) -> None:
    admin.post("bcc/instances", {"id": "i-other001"})
    bcc.batch_add_ip("i-other001", client_token=token(), private_ips=["192.168.0.77"])
    delete = bcc.batch_del_ip
    fails("PrivateIPNotExistException", 400, delete, VM, ["192.168.0.77"], client_token=token())
    assert secondary(admin, vm="i-other001") == ["192.168.0.77"]


def test_delete_mixed_families(bcc: BccClient, admin: Admin) -> None:
    add_v4(bcc, count=1)
    add_v4(bcc, count=1, ipv6=True)
    bcc.batch_del_ip(VM, ["192.168.0.5", V6 + "5"], client_token=token())
    assert secondary(admin) == [] and secondary(admin, "ipv6") == []


# --- idempotence ------------------------------------------------------------------------


def test_same_token_same_body_replays(raw: httpx.Client, admin: Admin) -> None:
    body = {"instanceId": VM, "secondaryPrivateIpAddressCount": 2, "allocateMultiIpv6Addr": False}
    tok = token()
    first = put(raw, "batchAddIp", body, clientToken=tok)
    # Same body, keys in another order: the same request.
    again = put(raw, "batchAddIp", dict(reversed(body.items())), clientToken=tok)
    assert (first.status_code, first.json()) == (again.status_code, again.json())
    assert secondary(admin) == ["192.168.0.5", "192.168.0.6"]
    assert admin.operations().count("BatchAddIp") == 2


def test_same_token_other_body(raw: httpx.Client, admin: Admin) -> None:
    tok = token()
    body = {"instanceId": VM, "secondaryPrivateIpAddressCount": 1}
    assert put(raw, "batchAddIp", body, clientToken=tok).status_code == 200
    other = {**body, "secondaryPrivateIpAddressCount": 2}
    assert_error(put(raw, "batchAddIp", other, clientToken=tok), 409, "IdempotentParameterMismatch")
    delete = {"instanceId": VM, "privateIps": ["192.168.0.5"]}
    assert_error(
        put(raw, "batchDelIp", delete, clientToken=tok), 409, "IdempotentParameterMismatch"
    )
    assert secondary(admin) == ["192.168.0.5"]


def test_no_token_no_idempotence(raw: httpx.Client, admin: Admin) -> None:
    body = {"instanceId": VM, "secondaryPrivateIpAddressCount": 1}
    assert put(raw, "batchAddIp", body).json()["privateIps"] == ["192.168.0.5"]
    assert put(raw, "batchAddIp", body).json()["privateIps"] == ["192.168.0.6"]


def test_delete_replay_succeeds(raw: httpx.Client, bcc: BccClient, admin: Admin) -> None:
    add_v4(bcc, count=1)
    tok = token()
    body = {"instanceId": VM, "privateIps": ["192.168.0.5"]}
    assert put(raw, "batchDelIp", body, clientToken=tok).status_code == 200
    assert put(raw, "batchDelIp", body, clientToken=tok).json() == {"success": True, "status": 200}
    assert_error(
        put(raw, "batchDelIp", body, clientToken=token()), 400, "PrivateIPNotExistException"
    )


def test_failed_call_is_not_remembered(bcc: BccClient, admin: Admin) -> None:
    # A refusal changed nothing, so the same token may succeed once the cause is gone.
    tok = token()
    add_v4(bcc, private_ips=["192.168.0.50"])
    fails(
        "PrivateIpInUseException",
        409,
        bcc.batch_add_ip,
        VM,
        client_token=tok,
        private_ips=["192.168.0.50"],
    )
    bcc.batch_del_ip(VM, ["192.168.0.50"], client_token=token())
    assert bcc.batch_add_ip(VM, client_token=tok, private_ips=["192.168.0.50"]) == ["192.168.0.50"]


def test_bad_client_token(raw: httpx.Client) -> None:
    body = {"instanceId": VM, "secondaryPrivateIpAddressCount": 1}
    assert_error(put(raw, "batchAddIp", body, clientToken="x" * 65), 400, "InvalidParameter")


def test_tokens_expire_after_24_hours() -> None:
    now = [0.0]
    state = BccState(clock=lambda: now[0])
    add = lambda: state.batch_add_ip(VM, count=1)  # noqa: E731
    assert state.once("t", "f", add) == ["192.168.0.5"]
    now[0] += TOKEN_TTL_SECONDS - 1
    assert state.once("t", "f", add) == ["192.168.0.5"]  # seen again: the 24 h restart
    now[0] += TOKEN_TTL_SECONDS - 1
    assert state.once("t", "f", add) == ["192.168.0.5"]
    now[0] += TOKEN_TTL_SECONDS + 1
    assert state.once("t", "f", add) == ["192.168.0.6"]  # forgotten: acts again
    with pytest.raises(ApiError) as info:
        state.once("t", "other", add)
    assert info.value.code == "IdempotentParameterMismatch"


# --- reboot -----------------------------------------------------------------------------


def wait_status(bcc: BccClient, vm: str, status: str, deadline: float = 5.0) -> None:
    end = time.monotonic() + deadline
    while bcc.get_instance(vm).status != status:
        assert time.monotonic() < end, f"{vm} never became {status}"
        time.sleep(0.02)


def test_reboot_state_machine(bcc: BccClient, admin: Admin) -> None:
    admin.post("bcc/instances", {"id": "i-reboot01", "reboot_seconds": 0.3})
    bcc.reboot("i-reboot01")
    assert bcc.get_instance("i-reboot01").status == "Starting"
    assert admin.state()["bcc"]["instances"]["i-reboot01"]["status"] == "Starting"
    fails("Instance.RebootInstanceOperationForbidden", 409, bcc.reboot, "i-reboot01")
    wait_status(bcc, "i-reboot01", "Running")
    bcc.reboot("i-reboot01")  # Running again: allowed again
    assert bcc.get_instance("i-reboot01").status == "Starting"


def test_default_reboot_takes_half_a_second(bcc: BccClient) -> None:
    started = time.monotonic()
    bcc.reboot(VM)
    wait_status(bcc, VM, "Running")
    assert 0.4 <= time.monotonic() - started < 3


@pytest.mark.parametrize("status", ["Stopped", "Starting", "Error"])
def test_reboot_refused_unless_running(bcc: BccClient, admin: Admin, status: str) -> None:
    admin.post("bcc/instances", {"id": "i-state001", "status": status, "reboot_seconds": 60})
    fails("Instance.RebootInstanceOperationForbidden", 409, bcc.reboot, "i-state001")


@pytest.mark.parametrize("query", ["reboot", "reboot="])
def test_reboot_query_forms(raw: httpx.Client, admin: Admin, query: str) -> None:
    response = raw.put(f"/v2/instance/{VM}?{query}", json={"forceStop": False})
    assert response.status_code == 200, response.text
    assert admin.requests()[-1]["operation"] == "RebootInstance"
    assert admin.state()["bcc"]["instances"][VM]["status"] == "Starting"


def test_reboot_without_body(raw: httpx.Client) -> None:
    assert raw.put(f"/v2/instance/{VM}?reboot").status_code == 200


# --- request validation -----------------------------------------------------------------


_VM_BODY = {"instanceId": VM}


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "MalformedJSON"),
        (b"{not json", "MalformedJSON"),
        (b"\xff\xfe", "MalformedJSON"),
        ([1, 2], "InappropriateJSON"),
        ({"secondaryPrivateIpAddressCount": 1}, "InappropriateJSON"),
        ({"instanceId": 5, "secondaryPrivateIpAddressCount": 1}, "InappropriateJSON"),
        ({**_VM_BODY, "privateIps": "192.168.0.9"}, "InappropriateJSON"),
        ({**_VM_BODY, "privateIps": [9]}, "InappropriateJSON"),
        ({**_VM_BODY, "secondaryPrivateIpAddressCount": "2"}, "InappropriateJSON"),
        ({**_VM_BODY, "secondaryPrivateIpAddressCount": 1.5}, "InappropriateJSON"),
        ({**_VM_BODY, "secondaryPrivateIpAddressCount": True}, "InappropriateJSON"),
        (
            {**_VM_BODY, "secondaryPrivateIpAddressCount": 1, "allocateMultiIpv6Addr": "yes"},
            "InappropriateJSON",
        ),
        (_VM_BODY, "InvalidParameter"),
        ({**_VM_BODY, "privateIps": []}, "InvalidParameter"),
        ({**_VM_BODY, "secondaryPrivateIpAddressCount": 0}, "InvalidParameter"),
        ({**_VM_BODY, "secondaryPrivateIpAddressCount": -1}, "InvalidParameter"),
        (
            {**_VM_BODY, "privateIps": ["192.168.0.9"], "secondaryPrivateIpAddressCount": 1},
            "InvalidParameter",
        ),
    ],
)
def test_add_body_validation(raw: httpx.Client, admin: Admin, content: Any, code: str) -> None:
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    headers = {"Content-Type": "application/json"}
    response = raw.put("/v2/instance/batchAddIp", content=data, headers=headers)
    assert_error(response, 400, code)
    assert secondary(admin) == []


def test_add_accepts_count_with_empty_list_and_integral_float(raw: httpx.Client) -> None:
    # The CCE driver sends "privateIps": [] with a count; JSON numbers may come as 2.0.
    body = {"instanceId": VM, "privateIps": [], "secondaryPrivateIpAddressCount": 2.0}
    assert put(raw, "batchAddIp", body).json()["privateIps"] == ["192.168.0.5", "192.168.0.6"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"privateIps": ["192.168.0.5"]}, "InappropriateJSON"),
        ({"instanceId": VM}, "InappropriateJSON"),
        ({"instanceId": VM, "privateIps": "192.168.0.5"}, "InappropriateJSON"),
        ({"instanceId": VM, "privateIps": []}, "InvalidParameter"),
        ({"instanceId": VM, "privateIps": ["192.168.0.5", "192.168.0.5"]}, "InvalidParameter"),
    ],
)
def test_delete_body_validation(raw: httpx.Client, body: dict[str, Any], code: str) -> None:
    assert_error(put(raw, "batchDelIp", body), 400, code)


def test_reboot_body_validation(raw: httpx.Client) -> None:
    assert_error(raw.put(f"/v2/instance/{VM}?reboot", content=b"nope"), 400, "MalformedJSON")
    bad = raw.put(f"/v2/instance/{VM}?reboot", json={"forceStop": "no"})
    assert_error(bad, 400, "InappropriateJSON")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", f"/v2/instance/{VM}"),
        ("PUT", f"/v2/instance/{VM}?start"),
        ("DELETE", f"/v2/instance/{VM}"),
        ("GET", f"/v2/instance/{VM}/extra"),
        ("GET", "/v2/instance"),
        ("POST", "/v2/instance/batchAddIp"),
    ],
)
def test_unknown_route(raw: httpx.Client, admin: Admin, method: str, path: str) -> None:
    assert_error(raw.request(method, path, json={}), 400, "InvalidURI")
    assert admin.state()["bcc"]["instances"][VM]["status"] == "Running"


# --- authentication ---------------------------------------------------------------------


def test_wrong_secret_key(emulator: RunningEmulator) -> None:
    with httpx.Client(base_url=emulator.url, auth=BceSigner(AK, "wrong")) as client:
        assert_error(client.get(f"/v2/instance/{VM}"), 400, "SignatureDoesNotMatch")


def test_unknown_access_key(emulator: RunningEmulator) -> None:
    with httpx.Client(base_url=emulator.url, auth=BceSigner("nobody", SK)) as client:
        assert_error(client.get(f"/v2/instance/{VM}"), 403, "InvalidAccessKeyId")


def test_unsigned_request(emulator: RunningEmulator, admin: Admin) -> None:
    response = httpx.put(
        f"{emulator.url}/v2/instance/batchAddIp",
        json={"instanceId": VM, "secondaryPrivateIpAddressCount": 1},
    )
    assert_error(response, 400, "InvalidHTTPAuthHeader")
    assert secondary(admin) == []


def test_expired_signature(emulator: RunningEmulator) -> None:
    old = lambda: datetime.now(timezone.utc) - timedelta(hours=2)  # noqa: E731
    signer = BceSigner(AK, SK, clock=old)
    with httpx.Client(base_url=emulator.url, auth=signer) as client:
        assert_error(client.get(f"/v2/instance/{VM}"), 400, "RequestExpired")


def test_tampered_query_fails_signature(emulator: RunningEmulator, admin: Admin) -> None:
    signer = BceSigner(AK, SK)
    request = httpx.Request(
        "PUT",
        f"{emulator.url}/v2/instance/batchAddIp?clientToken=a",
        json={"instanceId": VM, "secondaryPrivateIpAddressCount": 1},
    )
    signer.sign(request)
    request.url = request.url.copy_with(query=b"clientToken=b")
    with httpx.Client() as client:
        assert_error(client.send(request), 400, "SignatureDoesNotMatch")
    assert secondary(admin) == []


# --- faults -----------------------------------------------------------------------------


def add_fault(admin: Admin, action: str, **extra: Any) -> None:
    admin.faults({"operation": "BatchAddIp", "action": action, **extra})


def test_throttle_then_retry(bcc: BccClient, admin: Admin, raw: httpx.Client) -> None:
    add_fault(admin, "throttle", times=2)
    assert add_v4(bcc, count=2) == ["192.168.0.5", "192.168.0.6"]
    statuses = [r["status"] for r in admin.requests() if r["operation"] == "BatchAddIp"]
    assert statuses == [429, 429, 200]
    add_fault(admin, "throttle")
    response = put(raw, "batchAddIp", {"instanceId": VM, "secondaryPrivateIpAddressCount": 1})
    assert_error(response, 429, "RateLimit")
    assert response.headers["Retry-After"] == "1"


def test_error_then_retry(bcc: BccClient, admin: Admin) -> None:
    add_fault(admin, "error", status=500, code="InternalError")
    assert add_v4(bcc, count=1) == ["192.168.0.5"]
    assert secondary(admin) == ["192.168.0.5"]


def test_reset_then_retry(bcc: BccClient, admin: Admin) -> None:
    add_fault(admin, "reset")
    assert add_v4(bcc, count=2) == ["192.168.0.5", "192.168.0.6"]
    assert secondary(admin) == ["192.168.0.5", "192.168.0.6"]


def test_lost_response_retry_replays(bcc: BccClient, admin: Admin) -> None:
    add_fault(admin, "lost_response")
    got = add_v4(bcc, count=2)
    assert got == ["192.168.0.5", "192.168.0.6"]
    assert secondary(admin) == got  # acted once, though the client sent it twice
    assert [r.get("fault") for r in admin.requests() if r["operation"] == "BatchAddIp"] == [
        "lost_response",
        None,
    ]


def test_lost_response_on_delete(bcc: BccClient, admin: Admin) -> None:
    add_v4(bcc, count=2)
    admin.faults({"operation": "BatchDelIp", "action": "lost_response"})
    bcc.batch_del_ip(VM, ["192.168.0.5", "192.168.0.6"], client_token=token())
    assert secondary(admin) == []


def test_lost_response_without_token_doubles(raw: httpx.Client, admin: Admin) -> None:
    # Why tokens matter: the SDK's blind resend of a lost call acts twice.
    add_fault(admin, "lost_response")
    body = {"instanceId": VM, "secondaryPrivateIpAddressCount": 1}
    with pytest.raises(httpx.TransportError):
        put(raw, "batchAddIp", body)
    put(raw, "batchAddIp", body)
    assert secondary(admin) == ["192.168.0.5", "192.168.0.6"]


def test_delay_past_client_timeout(emulator: RunningEmulator, admin: Admin) -> None:
    add_fault(admin, "delay", seconds=0.6)
    client = make_client(emulator.url, timeout=httpx.Timeout(0.2))
    try:
        got = add_v4(client, count=2)
    finally:
        client.close()
    # The slow first attempt finishes after the retry: let it, then compare.
    end = time.monotonic() + 5
    while sum(r["operation"] == "BatchAddIp" for r in admin.requests()) < 2:
        assert time.monotonic() < end
        time.sleep(0.05)
    assert got == ["192.168.0.5", "192.168.0.6"]
    assert secondary(admin) == got


def test_no_retry_without_answer_when_not_idempotent(
    emulator: RunningEmulator, admin: Admin, bcc: BccClient
) -> None:
    admin.faults({"operation": "RebootInstance", "action": "lost_response"})
    with pytest.raises(TransportError):
        bcc.reboot(VM)
    assert admin.operations().count("RebootInstance") == 1


# --- admin ------------------------------------------------------------------------------


def test_admin_add_instance(admin: Admin) -> None:
    snap = admin.post(
        "bcc/instances",
        {
            "id": "i-admin001",
            "status": "Stopped",
            "memory": 16,
            "subnets": ["10.1.0.0/24", "fd00:1::/64"],
        },
    )
    assert snap == {
        "id": "i-admin001",
        "status": "Stopped",
        "memory": 16,
        "limit": 16,
        "subnets": ["10.1.0.0/24", "fd00:1::/64"],
        "primary": {"ipv4": "10.1.0.4", "ipv6": "fd00:1::4"},
        "secondary": {"ipv4": [], "ipv6": []},
    }
    assert admin.state()["bcc"]["instances"]["i-admin001"] == {
        k: v for k, v in snap.items() if k != "id"
    }


def test_admin_defaults(admin: Admin) -> None:
    snap = admin.post("bcc/instances", {})
    assert snap["id"].startswith("i-")
    assert snap["status"] == "Running"
    assert snap["subnets"] == ["192.168.0.0/24", "2400:da00:e003:0:219::/80"]
    assert snap["limit"] == 40


@pytest.mark.parametrize(
    "body",
    [
        {"id": VM},
        {"subnets": ["10.0.0.0/33"]},
        {"subnets": ["10.0.0.1/24"]},
        {"subnets": ["fd00::/64"]},
        {"subnets": ["10.0.0.0/24", "10.1.0.0/24"]},
        {"subnets": ["10.0.0.0/30"]},
        {"subnets": ["192.168.0.0/16"]},
        {"subnets": "10.0.0.0/24"},
        {"status": "Dancing"},
        {"memory": 0},
        {"memory": "big"},
        [1],
    ],
)
def test_admin_rejects(emulator: RunningEmulator, admin: Admin, body: Any) -> None:
    response = httpx.post(f"{emulator.url}/_emulator/bcc/instances", json=body)
    assert response.status_code in (400, 409), response.text
    assert set(response.json()) == {"code", "message"}
    assert list(admin.state()["bcc"]["instances"]) == [VM]


def test_reset_restores_default(bcc: BccClient, admin: Admin) -> None:
    admin.post("bcc/instances", {"id": "i-gone0001"})
    add_v4(bcc, count=3)
    bcc.reboot(VM)
    admin.reset()
    state = admin.state()["bcc"]
    assert list(state["instances"]) == [VM]
    assert state["instances"][VM]["status"] == "Running"
    assert state["instances"][VM]["secondary"] == {"ipv4": [], "ipv6": []}


def test_requests_log(bcc: BccClient, admin: Admin) -> None:
    add_v4(bcc, count=1)
    bcc.get_instance(VM)
    bcc.batch_del_ip(VM, ["192.168.0.5"], client_token=token())
    bcc.reboot(VM)
    assert [(r["operation"], r["method"], r["status"]) for r in admin.requests()] == [
        ("BatchAddIp", "PUT", 200),
        ("GetInstance", "GET", 200),
        ("BatchDelIp", "PUT", 200),
        ("RebootInstance", "PUT", 200),
    ]


# --- concurrency ------------------------------------------------------------------------


def test_concurrent_adds_and_deletes(emulator: RunningEmulator, admin: Admin) -> None:
    client = make_client(emulator.url)
    held: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def work(n: int) -> None:
        mine: list[str] = []
        try:
            for _ in range(6):
                mine += client.batch_add_ip(VM, client_token=token(), count=2, ipv6=n % 2 == 1)
                client.batch_del_ip(VM, [mine.pop(0)], client_token=token())
        except BaseException as exc:
            errors.append(exc)
        held[n] = mine

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert not errors
    owned = [ip for mine in held.values() for ip in mine]
    assert len(owned) == len(set(owned)) == 8 * 6
    state = admin.state()["bcc"]["instances"][VM]["secondary"]
    assert sorted(state["ipv4"] + state["ipv6"]) == sorted(owned)
    for family in ("ipv4", "ipv6"):
        assert len(state[family]) == len(set(state[family]))


def test_concurrent_claims_of_one_address(emulator: RunningEmulator, admin: Admin) -> None:
    client = make_client(emulator.url)
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        try:
            client.batch_add_ip(VM, client_token=token(), private_ips=["192.168.0.200"])
            outcomes.append("ok")
        except CloudApiError as exc:
            outcomes.append(exc.code or "")

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    client.close()
    assert sorted(outcomes) == ["PrivateIpInUseException"] * 7 + ["ok"]
    assert secondary(admin) == ["192.168.0.200"]


def test_model_consistency_under_threads() -> None:
    state = BccState()
    barrier = threading.Barrier(16)

    def churn(n: int) -> None:
        barrier.wait()
        for i in range(50):
            try:
                added = state.batch_add_ip(VM, count=1 + i % 3, ipv6=n % 2 == 0)
            except ApiError:
                continue  # at the limit: someone else holds the room
            if i % 2:
                state.batch_del_ip(VM, added)

    threads = [threading.Thread(target=churn, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    view = state.get_instance(VM)
    for family, subnet in (("ipv4", "192.168.0.0/24"), ("ipv6", V6 + "/80")):
        addresses = view.secondary[family]
        assert len(addresses) == len(set(addresses)) <= view.limit
        assert all(ipaddress.ip_address(a) in ipaddress.ip_network(subnet) for a in addresses)
        assert view.primary[family] not in addresses
