"""Rebooting a BCC VM so an address change takes effect, and waiting for Running.

The callers hold the VM's lock through the whole reboot, wait for Running included
(up to REBOOT_DEADLINE_SECONDS), on purpose:
- while the VM is Starting, BCC refuses another reboot (409
  Instance.RebootInstanceOperationForbidden), so the next set's change on that VM
  could not take effect through its own reboot; it would have to wait for Running
  before its reboot request anyway;
- releasing the lock earlier frees no server thread: the rebooting set's own RPC
  keeps its thread until Running regardless;
- only create/update/delete of sets on the same VM wait for this lock; check, diff
  and read take no lock, and other VMs have their own.
The cost: the provider server runs 4 RPCs at once, so 4 or more sets changing
rebooting VMs at the same moment hold all of them and other RPCs queue behind the
reboots (`pulumi up --parallel`, or depends_on between the sets, limits it).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from ..errors import BatchIpError, OperationTimeoutError
from ..resilience import Clock, Sleep, Waiter, WaitTimeout, step_deadline
from .bcc import BccClient
from .rollback import error_text

REBOOT_DEADLINE_SECONDS = 600.0
# A reboot request is asynchronous: wait this long to see the VM leave Running.
REBOOT_START_GRACE_SECONDS = 15.0
# The wait's calls may run this much past its deadline: its last look at the VM,
# taken at the deadline, still gets its answer (and cannot retry for longer).
REBOOT_LAST_LOOK_SECONDS = 15.0
FIRST_LOOK_SECONDS = 0.2


@attrs.frozen
class Boot:
    """One look at a rebooting VM."""

    status: str
    left_running: bool  # the VM was seen not Running since the reboot request
    elapsed: float


@attrs.frozen
class Reboot:
    """Reboots of one operation's VMs: the client, how long to wait for Running, and
    the operation's progress line and clock."""

    client: BccClient
    timeout: float
    say: Callable[[str], None]
    clock: Clock
    sleep: Sleep

    def and_wait(self, instance_id: str) -> None:
        """Reboot so the change takes effect, and wait up to ``timeout`` for Running.
        The change is already made and saved: a reboot that fails or misses its
        deadline is reported, not raised, because raising would drop the new addresses
        from state and leak them."""
        try:
            self._run(instance_id)
        except BatchIpError as exc:
            self.say(
                f"WARNING: reboot {instance_id} did not complete: {error_text(exc)}. The "
                "address change is saved; it takes effect once the VM restarts."
            )

    def _run(self, instance_id: str) -> None:
        client, timeout, say, clock = self.client, self.timeout, self.say, self.clock
        # Every call keeps to the wait's deadline (plus the last look's answer): a
        # GetInstance retrying a burst of errors cannot run past it.
        with step_deadline(clock() + timeout + REBOOT_LAST_LOOK_SECONDS):
            say(f"reboot {instance_id}: requested so the address change takes effect")
            client.reboot(instance_id)
            started = clock()
            seen = [False]  # whether the VM left Running, so far

            def look() -> Boot:
                status = client.get_instance(instance_id).status
                seen[0] = seen[0] or status != "Running"
                return Boot(status, seen[0], clock() - started)

            waiter = Waiter(
                refresh=look,
                # Running again after leaving it; or never seen leaving it (a reboot
                # faster than our rounds) once the grace has passed.
                target=lambda b: (
                    b.status == "Running"
                    and (b.left_running or b.elapsed > REBOOT_START_GRACE_SECONDS)
                ),
                timeout=timeout,
                what=f"reboot {instance_id}",
                describe=lambda b: b.status,
                say=say,
                clock=clock,
                sleep=self.sleep,
                first=FIRST_LOOK_SECONDS,
            )
            try:
                boot = waiter.wait()
            except WaitTimeout as exc:
                status = exc.last.status if isinstance(exc.last, Boot) else "unknown"
                raise OperationTimeoutError(
                    f"still {status} after {clock() - started:.0f} s (deadline {timeout:.0f} s)"
                ) from None
        say(f"reboot {instance_id}: Running after {boot.elapsed:.0f} s")
