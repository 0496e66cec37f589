"""Another writer on the same NIC while our batchAddIp is in flight (issue 20, item 2):
a call is never credited with more than it asked for. An unanswered add is asked
again with its clientToken; if that stays unanswered, none of the new addresses is
removed or claimed (not even exactly N of them), and the error lists them all, says
whose they may be and what to do.

The lost-answer cases run the provider in this process (every one of the 8 attempts
must time out; the server's retry policy would sleep 25-50 s); the no-body cases go
through the real provider server against an emulator that answers batchAddIp with
no body, as the BCC docs promise."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pulumi_batchip import config as cfg
from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.emulator import EmulatorConfig, RunningEmulator, start_emulator
from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.http import RetryPolicy

from ..conftest import Admin, fresh_admin
from .conftest import stack_config
from .harness import EngineResource, ProviderError, ProviderProcess
from .secondary_ip_support import (
    INSTANCE,
    TYPE,
    Rewriting,
    calls,
    checked,
    in_process,
    inputs,
    outside_client,
    secondary,
)

THEIRS = ["192.168.0.201", "192.168.0.202"]
HTTP_TIMEOUT = 0.3  # seconds: every delayed attempt below outlasts it


def delayed(times: int, seconds: float, after: int = 0) -> dict[str, Any]:
    """BatchAddIp answered only after ``seconds`` (it acts then), past the timeout."""
    return {
        "operation": "BatchAddIp",
        "action": "delay",
        "seconds": seconds,
        "times": times,
        "after": after,
    }


def others_add_first(emulator: RunningEmulator, addresses: list[str]) -> Rewriting:
    """A transport on which, just before our first batchAddIp reaches BCC, someone else
    (the console, another tool) adds ``addresses`` to the same NIC."""
    outsider = outside_client(emulator)
    done: list[bool] = []

    def before(request: httpx.Request) -> None:
        if request.url.path.endswith("batchAddIp") and not done:
            done.append(True)
            outsider.batch_add_ip(INSTANCE, client_token="outsider", private_ips=addresses)
            outsider.close()

    return Rewriting(before=before)


def with_timeout(emulator: RunningEmulator, transport: httpx.BaseTransport) -> Any:
    """in_process, its BCC client waiting HTTP_TIMEOUT for each answer (as
    ``batchip:httpTimeout`` would make it)."""
    provider = in_process(emulator)
    settings = cfg.resolve_baidu(provider.stack_config, {})
    client = BccClient.from_settings(
        settings,
        transport=transport,
        policy=RetryPolicy(sleep=lambda _s: None),
        timeout=httpx.Timeout(HTTP_TIMEOUT),
    )
    key = ("bcc", settings.endpoint, settings.credentials)
    provider._clients[key] = client
    return provider


# -- an unanswered add (every attempt outlasts httpTimeout) --------------------------------------
def test_unanswered_count_add_removes_nothing_when_more_appeared_than_it_asked_for(
    emulator: RunningEmulator, admin: Admin
) -> None:
    provider = with_timeout(emulator, others_add_first(emulator, THEIRS))
    admin.faults(delayed(times=0, seconds=2 * HTTP_TIMEOUT, after=1))  # not the outsider's
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    time.sleep(2 * HTTP_TIMEOUT)  # the last delayed attempts are answered (replays)
    on_nic = secondary(admin)
    assert len(on_nic) == 4 and set(THEIRS) <= set(on_nic)
    ours = [a for a in on_nic if a not in THEIRS]
    message = str(info.value)
    assert "The call may still have acted" in message
    assert f"shows 4 new addresses ({', '.join(on_nic)})" in message
    assert "another writer (the console, another tool or stack) added at least 2" in message
    assert "if the call went through, 2 of them are this call's, else none is" in message
    assert "none was removed and none is in any Pulumi state" in message
    assert "private_ips=[those], adopt=True) in place of count=2" in message
    assert calls(admin, "BatchDelIp") == 0  # the outsider's addresses are untouched

    # Following the advice: this set claims exactly its own two.
    admin.clear_faults()
    adopted = provider.create(checked(private_ips=ours, adopt=True))
    assert adopted.outs["private_ips"] == ours
    provider.delete(adopted.id, dict(adopted.outs))
    assert secondary(admin) == THEIRS


def test_unanswered_count_add_removes_nothing_when_fewer_appeared(
    emulator: RunningEmulator, admin: Admin
) -> None:
    """Our call never acts (every connection reset before it does); meanwhile another
    writer adds one address. The old rule took it for ours and removed it."""
    provider = in_process(emulator, others_add_first(emulator, THEIRS[:1]))
    admin.faults({"operation": "BatchAddIp", "action": "reset", "times": 0, "after": 1})
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=3))
    message = str(info.value)
    assert f"shows 1 new address ({THEIRS[0]}): fewer than the 3 it asked for" in message
    assert "either the call did not act and another writer" in message
    assert "none was removed" in message
    assert secondary(admin) == THEIRS[:1]
    assert calls(admin, "BatchDelIp") == 0


def test_unanswered_count_add_removes_nothing_even_when_exactly_n_appeared(
    emulator: RunningEmulator, admin: Admin
) -> None:
    """Exactly N new addresses may be another writer's, added while the call went
    unanswered (attack review: another stack's were removed this way)."""
    provider = with_timeout(emulator, httpx.HTTPTransport())
    admin.faults(delayed(times=0, seconds=2 * HTTP_TIMEOUT))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(count=2))
    time.sleep(2 * HTTP_TIMEOUT)
    message = str(info.value)
    assert "shows 2 new addresses" in message and "as many as it asked for" in message
    assert "none was removed" in message
    assert len(secondary(admin)) == 2 and calls(admin, "BatchDelIp") == 0


def test_unanswered_count_add_is_answered_by_its_token(
    emulator: RunningEmulator, admin: Admin
) -> None:
    """All 8 attempts outlast the timeout (they act once: one clientToken); the same
    request once more is answered with the first result: 2 addresses, not 4."""
    provider = with_timeout(emulator, httpx.HTTPTransport())
    admin.faults(delayed(times=8, seconds=2 * HTTP_TIMEOUT))
    created = provider.create(checked(count=2))
    time.sleep(2 * HTTP_TIMEOUT)
    assert secondary(admin) == created.outs["private_ips"]
    assert len(secondary(admin)) == 2 and calls(admin, "BatchDelIp") == 0
    provider.delete(created.id, dict(created.outs))
    assert secondary(admin) == []


def test_unanswered_update_add_points_to_adopt_or_removal(
    emulator: RunningEmulator, admin: Admin
) -> None:
    created = in_process(emulator).create(checked(count=1))
    owned = list(created.outs["private_ips"])
    provider = with_timeout(emulator, others_add_first(emulator, THEIRS))
    admin.faults(delayed(times=0, seconds=2 * HTTP_TIMEOUT, after=1))
    with pytest.raises(BatchIpError) as info:
        provider.update(created.id, dict(created.outs), checked(count=3))
    time.sleep(2 * HTTP_TIMEOUT)
    message = str(info.value)
    assert "shows 4 new addresses" in message and all(a in message for a in THEIRS)
    assert "if the call went through, 2 of them are this call's" in message
    assert "remove them by hand (BCC batchDelIp)" in message
    assert "private_ips=[its own addresses and those] with adopt=True" in message
    assert len(secondary(admin)) == 5 and secondary(admin)[0] == owned[0]
    admin.clear_faults()
    provider.delete(created.id, dict(created.outs))
    assert len(secondary(admin)) == 4 and set(THEIRS) <= set(secondary(admin))


# -- answered without a body: the NIC is read against the snapshot ------------------------------
@pytest.fixture(scope="module")
def no_body() -> Iterator[RunningEmulator]:
    with start_emulator(config=EmulatorConfig(bcc_add_ip_no_body=True)) as running:
        yield running


@pytest.fixture
def nb_admin(no_body: RunningEmulator) -> Iterator[Admin]:
    with fresh_admin(no_body.url) as admin:
        yield admin


@pytest.fixture(scope="module")
def nb_server(no_body: RunningEmulator) -> Iterator[ProviderProcess]:
    with ProviderProcess() as server:
        server.get_plugin_info()
        server.configure({**stack_config(no_body.url), "batchip:httpTimeout": "3"})
        yield server


@pytest.fixture
def nb_res(nb_server: ProviderProcess, nb_admin: Admin) -> EngineResource:
    return EngineResource(nb_server, TYPE, "no-body")


def while_delayed(no_body: RunningEmulator, admin: Admin, addresses: list[str]) -> threading.Thread:
    """Our first batchAddIp is held 6 s (past httpTimeout 3 s; the retry, same
    clientToken, acts and is answered with no body). While it is held, someone else
    adds ``addresses``: the thread waits until the delay rule has fired on our call,
    then has 3 s (ample on a loaded machine) before our retry."""
    admin.faults(delayed(times=1, seconds=6.0))

    def other_writer() -> None:
        deadline = time.monotonic() + 30
        while admin.state()["faults"][0]["fired"] < 1:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        fired = time.monotonic()
        outsider = outside_client(no_body)
        outsider.batch_add_ip(INSTANCE, client_token=f"other-{addresses[0]}", private_ips=addresses)
        outsider.close()
        # The held call lands when its 6 s are up (a replay of the retry's token): joining
        # this thread waits for it, so it never lands in the next test's reset emulator.
        time.sleep(max(0.0, fired + 6.5 - time.monotonic()))

    thread = threading.Thread(target=other_writer, daemon=True)
    thread.start()
    return thread


def test_no_body_count_create_claims_none_when_another_writer_added(
    no_body: RunningEmulator, nb_admin: Admin, nb_res: EngineResource
) -> None:
    writer = while_delayed(no_body, nb_admin, THEIRS)
    with pytest.raises(ProviderError) as info:
        nb_res.up(inputs(count=2))
    writer.join(timeout=30)
    message = info.value.details.strip().splitlines()[-1]
    on_nic = secondary(nb_admin)
    assert len(on_nic) == 4 and set(THEIRS) <= set(on_nic)
    assert (
        "batchAddIp added 2 addresses to VM i-DhjUXmSA (answered without naming them), but "
        f"its NIC, read again, shows 4 new addresses ({', '.join(on_nic)}): 2 of them are this "
        "call's and another writer (the console, another tool or stack) added the other 2"
    ) in message
    assert "none is claimed or removed" in message and "adopt=True" in message
    assert not nb_res.exists
    assert calls(nb_admin, "BatchDelIp") == 0

    ours = [a for a in on_nic if a not in THEIRS]
    assert nb_res.up(inputs(private_ips=ours, adopt=True)) == "create"
    assert nb_res.outputs["private_ips"] == ours
    nb_res.destroy()
    assert secondary(nb_admin) == THEIRS


def test_no_body_count_update_claims_none_when_another_writer_added(
    no_body: RunningEmulator, nb_admin: Admin, nb_res: EngineResource
) -> None:
    assert nb_res.up(inputs(count=1)) == "create"  # alone on the NIC: exactly 1 appeared
    owned = list(nb_res.outputs["private_ips"])
    assert secondary(nb_admin) == owned
    writer = while_delayed(no_body, nb_admin, THEIRS[:1])
    with pytest.raises(ProviderError) as info:
        nb_res.up(inputs(count=3))
    writer.join(timeout=30)
    message = info.value.details.strip().splitlines()[-1]
    assert "batchAddIp added 2 addresses" in message and "shows 3 new addresses" in message
    assert THEIRS[0] in message
    assert (
        "either claim those by giving this set private_ips=[its own addresses and those] "
        "with adopt=True in place of count, or remove them by hand (BCC batchDelIp)"
    ) in message
    assert nb_res.outputs["private_ips"] == owned  # the set is as it was
    assert len(secondary(nb_admin)) == 4
    # The advice, followed: an update claims the set's new addresses as they are.
    ours = [a for a in secondary(nb_admin) if a not in owned and a != THEIRS[0]]
    assert nb_res.up(inputs(private_ips=owned + ours, adopt=True)) == "update"
    assert nb_res.outputs["private_ips"] == owned + ours
    nb_res.destroy()
    assert secondary(nb_admin) == THEIRS[:1]  # only what it owned went
