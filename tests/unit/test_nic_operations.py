"""NicOperations (baidu/nic_operations.py; its reboot wait: baidu/reboot.py) on a
fake clock and a small fake BCC client: the reboot wait, an add whose answer is lost,
the delete loop, the cleanup deadline, and the resilience pieces they lean on. No
network, no real sleep."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest

from pulumi_batchip.baidu import nic_operations, reboot
from pulumi_batchip.baidu.bcc import BccClient, Instance, NicAddress
from pulumi_batchip.baidu.nic_operations import NicOperations, in_order, plan
from pulumi_batchip.baidu.set_operations import operation_seconds
from pulumi_batchip.baidu.set_state import Desired
from pulumi_batchip.errors import (
    BatchIpError,
    ClientError,
    CloudApiError,
    ThrottledError,
    TransportError,
)
from pulumi_batchip.resilience import (
    Pacer,
    operation_deadline,
    outcome_unknown,
    remaining_time,
    step_deadline,
)

from .fakes import FakeClock

VM = "i-DhjUXmSA"


def cloud_error(cls: type[CloudApiError], status: int, code: str, op: str) -> CloudApiError:
    return cls(
        cloud="Baidu BCC", operation=op, status=status, code=code, message="x", request_id="r"
    )


class FakeBcc:
    """A VM's primary NIC and status. ``statuses``: what GetInstance answers in turn
    (the last one repeats). ``add_fails``: raised by batchAddIp after (``acts``) or
    instead of acting (``add_fails_times`` calls, else every one); a clientToken seen
    acting is answered with its first result. Each call records the time left before
    the deadline."""

    def __init__(self, clock: FakeClock, statuses: Sequence[str] = ("Running",)) -> None:
        self.clock = clock
        self.statuses = list(statuses)
        self.secondary: list[str] = []
        self.add_fails: BaseException | None = None
        self.add_fails_times: int | None = None  # None: every call
        self.acts = True
        self.tokens: dict[str, list[str]] = {}
        self.del_fails: list[BaseException] = []
        self.read_fails: BaseException | None = None
        self.reboot_fails: BaseException | None = None
        self.calls: list[tuple[str, float | None]] = []
        self._next = 10

    def _note(self, name: str) -> None:
        self.calls.append((name, remaining_time(self.clock)))

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.calls if n == name)

    def get_instance(self, instance_id: str) -> Instance:
        self._note("get_instance")
        if self.read_fails is not None:
            raise self.read_fails
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        ips = (NicAddress("192.168.0.2", True), *(NicAddress(a, False) for a in self.secondary))
        return Instance(instance_id, status, ips)

    def batch_add_ip(
        self,
        instance_id: str,
        *,
        client_token: str,
        private_ips: Sequence[str] | None = None,
        count: int | None = None,
        ipv6: bool = False,
    ) -> list[str]:
        self._note("batch_add_ip")
        fails = self.add_fails if self.add_fails_times != 0 else None
        if self.add_fails_times:
            self.add_fails_times -= 1
        if client_token in self.tokens:  # BCC answers a seen token with its first result
            if fails is not None:
                raise fails
            return list(self.tokens[client_token])
        new = list(private_ips or ())
        for _ in range(count or 0):
            self._next += 1
            new.append(f"192.168.0.{self._next}")
        if self.acts or fails is None:
            self.secondary.extend(new)
            self.tokens[client_token] = new
        if fails is not None:
            raise fails
        return new

    def batch_del_ip(
        self, instance_id: str, private_ips: Sequence[str], *, client_token: str
    ) -> None:
        self._note("batch_del_ip")
        if self.del_fails:
            raise self.del_fails.pop(0)
        self.secondary = [a for a in self.secondary if a not in private_ips]

    def reboot(self, instance_id: str, *, force_stop: bool = False) -> None:
        self._note("reboot")
        if self.reboot_fails is not None:
            raise self.reboot_fails


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def ops(bcc: FakeBcc, said: list[str], **kwargs: Any) -> NicOperations:
    client = cast(BccClient, bcc)
    return NicOperations(client, said.append, bcc.clock, bcc.clock.sleep, **kwargs)


def desired(**kwargs: Any) -> Desired:
    fields: dict[str, Any] = {"instance_id": VM, "ipv6": False, "reboot": False, "region": None}
    fields.update({"private_ips": None, "count": None, **kwargs})
    return Desired(**fields)


# -- the reboot wait ------------------------------------------------------------------
def test_reboot_waits_until_the_vm_left_running_and_is_back(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock, ["Running", "Stopping", "Stopping", "Starting", "Running"]), []
    ops(bcc, said).reboot_and_wait(VM)
    assert bcc.count("reboot") == 1
    assert bcc.count("get_instance") == 5
    assert not any("WARNING" in line for line in said), said
    assert said[-1].startswith(f"reboot {VM}: Running after ")
    assert any(line.startswith(f"reboot {VM}: Stopping, ") for line in said)
    assert clock.now - 1000.0 < reboot.REBOOT_START_GRACE_SECONDS  # no grace wait


def test_a_vm_never_seen_leaving_running_is_done_once_the_grace_passed(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock, ["Running"]), []
    ops(bcc, said).reboot_and_wait(VM)
    waited = clock.now - 1000.0
    assert reboot.REBOOT_START_GRACE_SECONDS < waited < 25.0
    assert not any("WARNING" in line for line in said)
    assert said[-1] == f"reboot {VM}: Running after {waited:.0f} s"


def test_a_reboot_past_its_deadline_is_reported_not_raised(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock, ["Running", "Starting"]), []
    ops(bcc, said).reboot_and_wait(VM)  # no exception: the change is saved
    assert clock.now - 1000.0 == pytest.approx(600.0)
    warning = [line for line in said if "WARNING" in line]
    assert warning == [
        f"WARNING: reboot {VM} did not complete: still Starting after 600 s (deadline 600 s). "
        "The address change is saved; it takes effect once the VM restarts."
    ]
    assert max(clock.slept) <= 5.0  # the pacer's longest pause


@pytest.mark.parametrize("where", ["reboot", "get_instance"])
def test_a_failed_reboot_or_look_is_reported_not_raised(clock: FakeClock, where: str) -> None:
    bcc, said = FakeBcc(clock, ["Running", "Stopping"]), []
    refusal = cloud_error(ClientError, 409, "Instance.RebootInstanceOperationForbidden", where)
    if where == "reboot":
        bcc.reboot_fails = refusal
    else:
        bcc.read_fails = refusal
    ops(bcc, said).reboot_and_wait(VM)
    assert any(
        "did not complete" in line and "RebootInstanceOperationForbidden" in line for line in said
    )


def test_the_waits_calls_keep_to_its_deadline(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock, ["Running", "Stopping"]), []
    ops(bcc, said, reboot_timeout=60.0).reboot_and_wait(VM)
    lefts = [left for name, left in bcc.calls if name == "get_instance"]
    assert all(left is not None for left in lefts)
    # Never more than the wait plus its last look; the last look still has that look.
    assert max(left for left in lefts if left is not None) <= 60.0 + 15.0
    assert lefts[-1] == pytest.approx(reboot.REBOOT_LAST_LOOK_SECONDS)


def test_the_wait_never_outlives_its_operation(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock, ["Running", "Stopping"]), []
    with operation_deadline(clock() + 100.0):
        ops(bcc, said).reboot_and_wait(VM)
    assert clock.now - 1000.0 == pytest.approx(100.0)
    assert any("did not complete: still Stopping after 100 s" in line for line in said)


def test_the_operation_budget_holds_the_change_and_the_reboot() -> None:
    assert operation_seconds(600.0) == 600.0 + 600.0 + reboot.REBOOT_LAST_LOOK_SECONDS


# -- an add whose answer is lost ------------------------------------------------------
def test_a_lost_answer_is_found_by_asking_again_with_the_same_token(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    bcc.add_fails = TransportError(cloud="Baidu BCC", operation="BatchAddIp", sent=True, cause="t")
    bcc.add_fails_times = 1
    added = ops(bcc, said).add(desired(count=2), None, (), creating=True)
    assert added == ["192.168.0.11", "192.168.0.12"] == bcc.secondary
    assert bcc.count("batch_add_ip") == 2 and bcc.count("batch_del_ip") == 0
    assert any("asking again with the same clientToken" in line for line in said)


def test_an_add_still_unanswered_removes_nothing(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    bcc.add_fails = TransportError(cloud="Baidu BCC", operation="BatchAddIp", sent=True, cause="t")
    with pytest.raises(BatchIpError) as info:
        ops(bcc, said).add(desired(count=2), None, (), creating=True)
    message = str(info.value)
    assert "shows 2 new addresses (192.168.0.11, 192.168.0.12): as many as it asked for" in message
    assert "none was removed" in message
    assert bcc.secondary == ["192.168.0.11", "192.168.0.12"] and bcc.count("batch_del_ip") == 0


def test_another_writers_addresses_are_never_taken_for_an_unanswered_adds(
    clock: FakeClock,
) -> None:
    # Attack review: the call did not act; another stack added exactly as many
    # meanwhile. They were removed as this call's ("exactly N appeared").
    bcc, said = FakeBcc(clock), []
    bcc.acts = False
    bcc.add_fails = TransportError(cloud="Baidu BCC", operation="BatchAddIp", sent=True, cause="t")
    before: tuple[str, ...] = ()
    bcc.secondary = ["192.168.0.77", "192.168.0.78"]  # the other writer's, added meanwhile
    with pytest.raises(BatchIpError, match="none was removed"):
        ops(bcc, said).add(desired(count=2), None, before, creating=True)
    assert bcc.secondary == ["192.168.0.77", "192.168.0.78"]
    assert bcc.count("batch_del_ip") == 0


def test_a_refused_replay_means_the_add_did_not_act(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    bcc.acts = False
    bcc.add_fails = TransportError(cloud="Baidu BCC", operation="BatchAddIp", sent=True, cause="t")
    bcc.add_fails_times = 1
    real_add = bcc.batch_add_ip

    def refuse_replay(*args: Any, **kwargs: Any) -> list[str]:
        if bcc.count("batch_add_ip") >= 1:
            bcc._note("batch_add_ip")
            raise cloud_error(ClientError, 400, "SubnetIpExhausted", "BatchAddIp")
        return real_add(*args, **kwargs)

    bcc.batch_add_ip = refuse_replay  # type: ignore[method-assign]
    with pytest.raises(ClientError, match="SubnetIpExhausted"):
        ops(bcc, said).add(desired(count=2), None, (), creating=True)
    assert bcc.count("get_instance") == 0


def test_a_throttle_after_a_retried_token_is_an_unknown_outcome(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    bcc.add_fails = cloud_error(ThrottledError, 429, "RateLimit", "BatchAddIp")
    with pytest.raises(BatchIpError, match="none was removed"):
        ops(bcc, said).add(
            desired(private_ips=("192.168.0.50",)), ["192.168.0.50"], (), creating=True
        )
    assert bcc.secondary == ["192.168.0.50"]


def test_a_call_that_never_left_is_not_second_guessed(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    bcc.acts = False
    bcc.add_fails = TransportError(cloud="Baidu BCC", operation="BatchAddIp", sent=False, cause="c")
    with pytest.raises(TransportError):
        ops(bcc, said).add(desired(count=1), None, (), creating=True)
    assert bcc.count("get_instance") == 0


def test_cleanup_gets_its_own_time_when_the_operation_ran_out(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    bcc.add_fails = TransportError(cloud="Baidu BCC", operation="BatchAddIp", sent=True, cause="t")
    with operation_deadline(clock() - 1.0), pytest.raises(BatchIpError, match="none was removed"):
        ops(bcc, said).add(desired(count=1), None, (), creating=False)
    cleanup = [left for name, left in bcc.calls if name != "batch_add_ip"]
    assert cleanup and all(left == nic_operations.CLEANUP_SECONDS for left in cleanup)


# -- deleting, planning, adopting ------------------------------------------------------
def test_delete_looks_again_when_an_address_vanished_meanwhile(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    bcc.secondary = ["192.168.0.5", "192.168.0.6"]
    bcc.del_fails = [cloud_error(ClientError, 400, "PrivateIPNotExistException", "BatchDelIp")]
    result = ops(bcc, said).delete_owned(VM, False, ["192.168.0.5"], frozenset, "set")
    assert result == "deleted"
    assert bcc.secondary == ["192.168.0.6"]
    assert bcc.count("get_instance") == 2


def test_delete_leaves_what_another_set_claims(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    bcc.secondary = ["192.168.0.5"]
    ops_ = ops(bcc, said)
    assert ops_.delete_owned(VM, False, ["192.168.0.5"], lambda: {"192.168.0.5"}, "S") == (
        "nothing to delete"
    )
    assert bcc.secondary == ["192.168.0.5"]
    assert said == [
        "S: not deleting 192.168.0.5: another set now owns it (it was removed from "
        "this set behind its back)"
    ]


def test_adopting_an_address_another_set_owns_is_refused(clock: FakeClock) -> None:
    bcc, said = FakeBcc(clock), []
    wanted = ["192.168.0.5", "192.168.0.6"]
    with pytest.raises(BatchIpError, match="another SecondaryIpSet of this deployment owns it"):
        ops(bcc, said).adoptable(VM, wanted, wanted, {"192.168.0.6"})
    assert ops(bcc, said).adoptable(VM, wanted, ["192.168.0.6"], ()) == ["192.168.0.6"]


def test_plan_and_order() -> None:
    owned = ["a", "b", "c"]
    assert plan(owned, desired(count=1)) == (["a"], ["b", "c"], [], 0)
    assert plan(owned, desired(count=5)) == (owned, [], [], 2)
    assert plan(owned, desired(private_ips=("c", "d"))) == (["c"], ["a", "b"], ["d"], 0)
    assert in_order(["d", "c"], ("c", "d")) == ["c", "d"]


# -- the resilience pieces relied on ----------------------------------------------------
def test_a_step_deadline_never_extends_its_operation(clock: FakeClock) -> None:
    with operation_deadline(clock() + 10.0):
        with step_deadline(clock() + 100.0):
            assert remaining_time(clock) == 10.0
        with step_deadline(clock() + 3.0):
            assert remaining_time(clock) == 3.0
    assert remaining_time(clock) is None


def test_a_pacer_looks_once_more_at_its_deadline(clock: FakeClock) -> None:
    looks = [clock() for _ in Pacer(2.0, clock=clock, sleep=clock.sleep)]
    assert looks[-1] == pytest.approx(1002.0)
    assert looks[-2] < 1002.0


@pytest.mark.parametrize(
    ("exc", "with_token", "unknown"),
    [
        (cloud_error(ThrottledError, 429, "RateLimit", "op"), True, True),
        (cloud_error(ThrottledError, 429, "RateLimit", "op"), False, False),
        (cloud_error(ClientError, 400, "Bad", "op"), True, False),
        (TransportError(cloud="c", operation="o", sent=False, cause="x"), True, False),
        (TransportError(cloud="c", operation="o", sent=True, cause="x"), True, True),
    ],
)
def test_outcome_unknown_as_bcc_calls_use_it(
    exc: Exception, with_token: bool, unknown: bool
) -> None:
    assert outcome_unknown(exc, retried_with_token=with_token) is unknown
