"""SecondaryIpSet hardening against the emulator: a batchAddIp that never gets its
answer (the addresses it added are removed again, or named exactly), the cloud
spelling IPv6 addresses its own way, state written by older code, bad import ids
through the server, and reboots (warned, not raised; after every change).

Most scenarios go through the real provider server over gRPC (EngineResource). The
ones that need every retry of a call to fail run the same provider class in this
process with a BCC client whose retry policy does not really sleep (the server's
would wait 25-50 s per call) or whose transport rewrites the emulator's answers:
the provider's own code runs unchanged against the real emulator."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_batchip import SecondaryIpSet, secondary_ip_set
from pulumi_batchip import config as cfg
from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.http import RetryPolicy
from pulumi_batchip.secondary_ip_set import SCHEMA_KEY, SCHEMA_VERSION, SecondaryIpSetProvider

from ..conftest import Admin
from .conftest import stack_config
from .harness import EngineResource, ProviderError, ProviderProcess, program_inputs

TYPE = "pulumi-python:dynamic/batchip:SecondaryIpSet"
INSTANCE = "i-DhjUXmSA"
V6_SUBNET = "2400:da00:e003:0:219::"


def inputs(**kwargs: Any) -> dict[str, Any]:
    kwargs.setdefault("instance_id", INSTANCE)
    return program_inputs(lambda: [SecondaryIpSet("s", **kwargs)])["s"]


def secondary(admin: Admin, family: str = "ipv4", instance: str = INSTANCE) -> list[str]:
    return list(admin.state()["bcc"]["instances"][instance]["secondary"][family])


def calls(admin: Admin, operation: str) -> int:
    return sum(1 for r in admin.requests() if r["operation"] == operation)


def lost(operation: str, times: int = 8) -> dict[str, Any]:
    """Every attempt of one call (8: the retry budget) acts, then loses its answer."""
    return {"operation": operation, "action": "lost_response", "times": times}


def refused(operation: str, times: int = 0, code: str = "InvalidParameter") -> dict[str, Any]:
    return {
        "operation": operation,
        "action": "error",
        "status": 400,
        "code": code,
        "message": "injected",
        "times": times,
    }


@pytest.fixture
def res(provider_server: ProviderProcess, emulator: RunningEmulator) -> EngineResource:
    return EngineResource(provider_server, TYPE, "hardened")


# -- the provider in this process ------------------------------------------------------------
class Rewriting(httpx.BaseTransport):
    """Forwards to the emulator; ``before`` runs ahead of each request, ``answer`` may
    rewrite each JSON answer. Records the JSON bodies sent, per operation path."""

    def __init__(
        self,
        before: Callable[[httpx.Request], None] | None = None,
        answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.inner = httpx.HTTPTransport()
        self.before = before
        self.answer = answer
        self.sent: list[tuple[str, Any]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        self.sent.append((request.url.path, body))
        if self.before is not None:
            self.before(request)
        response = self.inner.handle_request(request)
        if self.answer is None:
            return response
        content = response.read()
        try:
            parsed = json.loads(content) if content else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not response.is_success:
            return httpx.Response(response.status_code, headers=response.headers, content=content)
        skip = {"content-length", "content-type", "content-encoding", "transfer-encoding"}
        headers = [(k, v) for k, v in response.headers.items() if k.lower() not in skip]
        return httpx.Response(response.status_code, headers=headers, json=self.answer(parsed))

    def close(self) -> None:
        self.inner.close()


def in_process(
    emulator: RunningEmulator, transport: httpx.BaseTransport | None = None
) -> SecondaryIpSetProvider:
    """The provider as the server would configure it, its BCC client on a retry policy
    that does not sleep (same 8 attempts) and, if given, a transport."""
    provider = SecondaryIpSetProvider()
    provider.configure(ConfigureRequest(Config(stack_config(emulator.url), "harness")))
    settings = cfg.resolve_baidu(provider.stack_config, {})
    policy = RetryPolicy(sleep=lambda _s: None)
    client = BccClient.from_settings(settings, transport=transport, policy=policy)
    key = ("bcc", settings.endpoint, settings.credentials)
    assert provider.cached_client(key, lambda: client) is client
    return provider


def outside_client(emulator: RunningEmulator) -> BccClient:
    """Someone else on the same account: the console, another tool."""
    return BccClient.from_settings(cfg.resolve_baidu(stack_config(emulator.url), {}))


def checked(**kwargs: Any) -> dict[str, Any]:
    news = {"instance_id": INSTANCE, **kwargs}
    result = SecondaryIpSetProvider().check({}, news)
    assert not result.failures, result.failures
    return dict(result.inputs)


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    yield lambda: capsys.readouterr().err


# -- 1. a batchAddIp that never gets its answer ------------------------------------------------
def test_create_whose_every_add_answer_is_lost_rolls_back_then_converges(
    emulator: RunningEmulator, admin: Admin, stderr: Callable[[], str]
) -> None:
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp"))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=3))
    message = str(info.value)
    assert "BatchAddIp failed: no response" in message
    added = re.search(r"shows it added (\S+), (\S+), (\S+); removed again", message)
    assert added, message
    assert "none of them is left on the VM" in message
    assert "pulumi refresh" not in message
    assert secondary(admin) == []  # nothing leaked
    assert calls(admin, "BatchAddIp") == 8  # the whole retry budget, one clientToken
    assert calls(admin, "BatchDelIp") == 1
    assert f"added {', '.join(added.groups())}; removing them again" in stderr()
    admin.clear_faults()
    created = provider.create(checked(count=3))  # the rerun: 3 addresses, not 6
    assert secondary(admin) == created.outs["private_ips"]
    assert len(secondary(admin)) == 3
    provider.delete(created.id, dict(created.outs))
    assert secondary(admin) == []


def test_through_the_server_an_add_that_acted_then_was_throttled_is_undone(
    res: EngineResource, admin: Admin
) -> None:
    """The first attempt acts and loses its answer; the other seven are throttled
    (Retry-After 1 s), so the call ends on a throttle: not a definite refusal."""
    admin.faults(
        lost("BatchAddIp", times=1),
        {"operation": "BatchAddIp", "action": "throttle", "times": 7, "after": 1},
    )
    with pytest.raises(ProviderError) as info:
        res.up(inputs(count=2))
    message = info.value.details.strip().splitlines()[-1]
    assert "BatchAddIp failed: HTTP 429 RateLimit" in message
    added = re.search(r"shows it added (\S+), (\S+); removed again", message)
    assert added, message
    subnet = ipaddress.ip_network("192.168.0.0/24")
    assert all(ipaddress.ip_address(a) in subnet for a in added.groups())
    assert "none of them is left on the VM" in message
    assert secondary(admin) == []
    assert not res.exists
    admin.clear_faults()
    assert res.up(inputs(count=2)) == "create"
    assert len(secondary(admin)) == 2
    res.destroy()
    assert secondary(admin) == []


def test_unanswered_explicit_add_removes_only_what_it_asked_for(
    emulator: RunningEmulator, admin: Admin, stderr: Callable[[], str]
) -> None:
    outsider = outside_client(emulator)
    first = []

    def someone_else_adds(request: httpx.Request) -> None:
        # Just before our batchAddIp reaches BCC, someone else adds an address.
        if request.url.path.endswith("batchAddIp") and not first:
            first.append(request)
            outsider.batch_add_ip(INSTANCE, client_token="outsider", private_ips=["192.168.0.77"])

    provider = in_process(emulator, Rewriting(before=someone_else_adds))
    admin.faults({**lost("BatchAddIp"), "after": 1})  # the outsider's call is answered
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(private_ips=["192.168.0.50", "192.168.0.51"]))
    message = str(info.value)
    assert "shows it added 192.168.0.50, 192.168.0.51" in message
    assert "192.168.0.77" not in message
    assert secondary(admin) == ["192.168.0.77"]  # the outsider's address stays
    assert "added 192.168.0.50, 192.168.0.51; removing them again" in stderr()
    outsider.close()


def test_unanswered_add_in_update_keeps_the_set_as_it_was(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider = in_process(emulator)
    created = provider.create(checked(count=2))
    owned = list(created.outs["private_ips"])
    admin.faults(lost("BatchAddIp"))
    with pytest.raises(BatchIpError) as info:
        provider.update(created.id, dict(created.outs), checked(count=4))
    assert "none of them is left on the VM" in str(info.value)
    assert secondary(admin) == owned
    admin.clear_faults()
    updated = provider.update(created.id, dict(created.outs), checked(count=4))
    assert secondary(admin) == updated.outs["private_ips"]
    assert len(secondary(admin)) == 4
    provider.delete(created.id, dict(updated.outs))
    assert secondary(admin) == []


def test_when_the_rollback_fails_the_error_names_what_is_left_where(
    emulator: RunningEmulator, admin: Admin, stderr: Callable[[], str]
) -> None:
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp"), refused("BatchDelIp"))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    message = str(info.value)
    left = secondary(admin)
    assert len(left) == 2
    assert f"still on VM {INSTANCE} (read back from its NIC): {', '.join(left)}" in message
    assert "adopt=True" in message
    assert "none of them is left" not in message
    assert "pulumi refresh" not in message.replace("`pulumi refresh` cannot find them", "")
    assert f"LEFT ON THE VM, in no state: {', '.join(left)}" in stderr()
    # What the error names can be claimed as it says.
    admin.clear_faults()
    adopted = provider.create(checked(private_ips=left, adopt=True))
    assert adopted.outs["private_ips"] == left
    provider.delete(adopted.id, dict(adopted.outs))
    assert secondary(admin) == []


def test_when_the_nic_cannot_be_read_back_nothing_is_claimed_to_be_gone(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider = in_process(emulator)
    outsider = outside_client(emulator)
    outsider.batch_add_ip(INSTANCE, client_token="before", private_ips=["192.168.0.9"])
    outsider.close()
    # The snapshot read passes; the read after the lost add is refused.
    admin.faults(lost("BatchAddIp"), {**refused("GetInstance"), "after": 1})
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    message = str(info.value)
    assert "whether it added addresses is unknown" in message
    assert "the NIC held these secondary addresses: 192.168.0.9" in message
    assert "none of them is left" not in message
    assert len(secondary(admin)) == 3  # truly left: the error did not pretend otherwise


def test_rollback_whose_answer_is_lost_too_is_verified_by_reading(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp"), lost("BatchDelIp", times=16))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    assert "none of them is left on the VM" in str(info.value)
    assert secondary(admin) == []


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
    provider = in_process(emulator)
    created = provider.create(checked(count=3))
    owned = list(created.outs["private_ips"])
    admin.faults(lost("BatchDelIp"))
    updated = provider.update(created.id, dict(created.outs), checked(count=1))
    assert updated.outs["private_ips"] == owned[:1]
    assert secondary(admin) == owned[:1]
    admin.clear_faults()
    provider.delete(created.id, dict(updated.outs))


# -- 2. the cloud's spelling of IPv6 addresses ----------------------------------------------
def spelled_out(address: str) -> str:
    return ipaddress.ip_address(address).exploded.upper()


def loud_ipv6(body: dict[str, Any]) -> dict[str, Any]:
    """GetInstance and batchAddIp answers with IPv6 spelled out in upper case."""
    nic = body.get("instance", {}).get("nicInfo")
    if nic is not None:
        for entry in nic.get("ipv6s", []):
            entry["privateIp"] = spelled_out(entry["privateIp"])
    if isinstance(body.get("privateIps"), list):
        body["privateIps"] = [spelled_out(a) if ":" in a else a for a in body["privateIps"]]
    return body


def test_ipv6_spelled_out_by_the_cloud_is_read_updated_and_deleted(
    emulator: RunningEmulator, admin: Admin
) -> None:
    transport = Rewriting(answer=loud_ipv6)
    provider = in_process(emulator, transport)
    created = provider.create(checked(count=3, ipv6=True))
    owned = created.outs["private_ips"]
    assert owned == secondary(admin, "ipv6")
    assert all(a == ipaddress.ip_address(a).compressed for a in owned)

    read = provider.read(created.id, dict(created.outs))
    assert read.id == created.id  # not dropped as gone
    assert read.outs["private_ips"] == owned

    updated = provider.update(created.id, dict(created.outs), checked(count=1, ipv6=True))
    assert updated.outs["private_ips"] == owned[:1]
    assert secondary(admin, "ipv6") == owned[:1]

    provider.delete(created.id, dict(updated.outs))
    assert secondary(admin, "ipv6") == []
    deletes = [body for path, body in transport.sent if path.endswith("batchDelIp")]
    # Sent back as the cloud spells them.
    assert deletes[-1]["privateIps"] == [spelled_out(owned[0])]


def test_ipv6_adoption_matches_the_clouds_spelling(emulator: RunningEmulator, admin: Admin) -> None:
    wanted = [f"{V6_SUBNET}2f", f"{V6_SUBNET}30"]
    outsider = outside_client(emulator)
    outsider.batch_add_ip(INSTANCE, client_token="left", private_ips=wanted[:1], ipv6=True)
    outsider.close()
    provider = in_process(emulator, Rewriting(answer=loud_ipv6))
    created = provider.create(checked(private_ips=wanted, ipv6=True, adopt=True))
    assert created.outs["private_ips"] == wanted
    assert secondary(admin, "ipv6") == wanted
    provider.delete(created.id, dict(created.outs))
    assert secondary(admin, "ipv6") == []


def test_old_state_spelled_out_is_still_owned(emulator: RunningEmulator, admin: Admin) -> None:
    provider = in_process(emulator)
    created = provider.create(checked(count=2, ipv6=True))
    old = {
        "instance_id": INSTANCE,
        "private_ips": [spelled_out(a) for a in created.outs["private_ips"]],
        "count": 2,
    }
    read = provider.read(created.id, dict(old))
    assert read.outs["private_ips"] == created.outs["private_ips"]
    assert read.outs["ipv6"] is True
    provider.delete(created.id, old)
    assert secondary(admin, "ipv6") == []


# -- 3. state written by older code, through the server ------------------------------------------
@pytest.mark.parametrize(
    "missing", [("ipv6",), ("reboot",), ("region",), ("ipv6", "reboot", "region")]
)
def test_old_state_needs_no_replacement_and_migrates(
    res: EngineResource, admin: Admin, missing: tuple[str, ...]
) -> None:
    res.up(inputs(count=2))
    owned = list(res.outputs["private_ips"])
    assert res.outputs[SCHEMA_KEY] == SCHEMA_VERSION
    # As older code left it in state.
    res.outputs = {k: v for k, v in res.outputs.items() if k not in (*missing, SCHEMA_KEY)}
    assert res.up(inputs(count=2)) == "same"
    assert res.up(inputs(count=3)) == "update"
    assert res.outputs[SCHEMA_KEY] == SCHEMA_VERSION
    assert res.outputs["region"] == "bj" and res.outputs["ipv6"] is False
    assert res.outputs["private_ips"][:2] == owned
    res.outputs = {k: v for k, v in res.outputs.items() if k not in (*missing, SCHEMA_KEY)}
    assert res.refresh() == "refreshed"
    assert res.outputs[SCHEMA_KEY] == SCHEMA_VERSION
    res.outputs = {k: v for k, v in res.outputs.items() if k not in (*missing, SCHEMA_KEY)}
    res.destroy()
    assert secondary(admin) == []


def test_state_from_a_newer_release_is_refused(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=1))
    res.outputs = {**res.outputs, SCHEMA_KEY: SCHEMA_VERSION + 1}
    with pytest.raises(ProviderError, match="upgrade pulumi-batchip"):
        res.up(inputs(count=2))
    assert len(secondary(admin)) == 1
    res.outputs = {**res.outputs, SCHEMA_KEY: SCHEMA_VERSION}
    res.destroy()


# -- 4. bad import ids through the server --------------------------------------------------------
@pytest.mark.parametrize(
    "id_", ["i-a?b/192.168.0.1", "garbage", "i-1/fe80::1%eth0", "i-" + "x" * 10_000 + "/1.2.3.4"]
)
def test_get_with_a_bad_id_is_a_clear_batchip_error(
    provider_server: ProviderProcess, admin: Admin, id_: str
) -> None:
    captured = program_inputs(lambda: [SecondaryIpSet.get("seen", id_)])["seen"]
    reader = EngineResource(provider_server, TYPE, "seen")
    with pytest.raises(ProviderError) as info:
        reader.get(id_, captured)
    last = info.value.details.strip().splitlines()[-1]
    # The SDK's server formats it as a traceback (newer) or "Exception calling
    # application: ..." (older): either way our message, not a raw ValueError.
    assert "SecondaryIpSet id" in last, last
    assert "ValueError" not in info.value.details
    assert len(info.value.details) < 4000
    assert admin.requests() == []


# -- 6. reboots: after every change, and a failed one is a warning ---------------------------------
def reboots(admin: Admin) -> int:
    return sum(
        1 for r in admin.requests() if r["operation"] == "RebootInstance" and r["status"] == 200
    )


def test_every_change_reboots_when_reboot_is_true(res: EngineResource, admin: Admin) -> None:
    res.up(inputs(count=1, reboot=True))
    assert reboots(admin) == 1
    assert res.up(inputs(count=3, reboot=True)) == "update"  # adds
    assert reboots(admin) == 2
    assert res.up(inputs(count=2, reboot=True)) == "update"  # removes
    assert reboots(admin) == 3
    kept = res.outputs["private_ips"]
    assert res.up(inputs(private_ips=[kept[0], "192.168.0.99"], reboot=True)) == "update"
    assert reboots(admin) == 4  # adds and removes
    res.destroy()
    assert reboots(admin) == 5
    assert secondary(admin) == []


def test_a_failed_reboot_warns_and_keeps_the_change(
    res: EngineResource, admin: Admin, provider_server: ProviderProcess
) -> None:
    refuse_reboot = refused("RebootInstance", code="Instance.RebootInstanceOperationForbidden")
    before = len(provider_server.stderr_lines)
    admin.faults(refuse_reboot)
    assert res.up(inputs(count=2, reboot=True)) == "create"
    assert res.outputs["private_ips"] == secondary(admin)
    assert len(secondary(admin)) == 2
    assert res.up(inputs(count=1, reboot=True)) == "update"
    assert res.outputs["private_ips"] == secondary(admin)
    assert len(secondary(admin)) == 1
    res.destroy()
    assert secondary(admin) == []
    warnings = [line for line in provider_server.stderr_lines[before:] if "WARNING: reboot" in line]
    assert len(warnings) == 3, warnings
    assert all("Instance.RebootInstanceOperationForbidden" in w for w in warnings)
    assert all("address change is saved" in w for w in warnings)


def test_a_reboot_past_its_deadline_warns_and_keeps_the_change(
    emulator: RunningEmulator,
    admin: Admin,
    monkeypatch: pytest.MonkeyPatch,
    stderr: Callable[[], str],
) -> None:
    admin.post("bcc/instances", {"id": "i-slowboot", "reboot_seconds": 60})
    monkeypatch.setattr(secondary_ip_set, "REBOOT_DEADLINE_SECONDS", 0.3)
    provider = in_process(emulator)
    created = provider.create(checked(instance_id="i-slowboot", count=1, reboot=True))
    assert created.outs["private_ips"] == secondary(admin, instance="i-slowboot")
    err = stderr()
    assert "WARNING: reboot i-slowboot did not complete: still Starting" in err
    assert "address change is saved" in err


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
