"""The SecondaryIpSet operations the provider calls: create, read, update, delete.

Each runs under one operation deadline (``operation_seconds``), taken once the VM's
lock is held (a set waiting behind another set's reboot does not spend its own time
waiting): no call of it retries, or waits, past that. The procedures on the NIC are
nic_operations.py's; the claims that keep sets of one process off each other's
addresses are claims.py's.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence

import attrs

from ..resilience import Clock, Sleep, operation_deadline
from . import secrecy
from .bcc import BccClient
from .claims import CLAIMS
from .nic_operations import NicOperations, in_order, plan
from .reboot import REBOOT_LAST_LOOK_SECONDS
from .secrecy import named, progress
from .set_state import Desired

# The budget of one operation without its reboot: a snapshot read, an add and a
# delete, each of whose retries the retry policy caps at 180 s, with room to spare.
# (Undoing an unanswered add, or rolling back an update, gets its own time:
# nic_operations.CLEANUP_SECONDS.)
CHANGE_SECONDS = 600.0


def operation_seconds(reboot_timeout: float) -> float:
    """The deadline of one SecondaryIpSet operation: the change (CHANGE_SECONDS) plus
    the reboot wait and its last look (reboot.REBOOT_DEADLINE_SECONDS by
    default: 600 + 600 + 15 s)."""
    return CHANGE_SECONDS + reboot_timeout + REBOOT_LAST_LOOK_SECONDS


class SetOperations:
    """One Pulumi operation's procedures on one set. ``lock_for`` gives the lock of a
    VM (module-level, shared by every provider object of the process)."""

    def __init__(
        self,
        client: BccClient,
        lock_for: Callable[[str], threading.Lock],
        say: Callable[[str], None] = progress,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        self.nic = NicOperations(client, say, clock, sleep)
        self.lock_for = lock_for
        self.say = say
        self.clock = clock

    @contextlib.contextmanager
    def _deadline(self) -> Iterator[None]:
        with operation_deadline(self.clock() + operation_seconds(self.nic.reboot_timeout)):
            yield

    @contextlib.contextmanager
    def _changing(self, instance_id: str) -> Iterator[None]:
        """The VM's lock, then the operation's deadline."""
        with self.lock_for(instance_id), self._deadline():
            yield

    def create(self, desired: Desired, *, adopt: bool) -> tuple[str, list[str]]:
        """Add (or with ``adopt``, claim what is on the NIC of) the addresses; reboot
        if asked. Returns the set's id and the addresses it owns."""
        with self._changing(desired.instance_id):
            # The NIC as it is before we add: what an unanswered batchAddIp did is the
            # difference (NicOperations.add). Adoption reads the same snapshot.
            _instance, before = self.nic.snapshot(desired.instance_id, desired.ipv6)
            claimed: list[str] = []
            wanted = desired.private_ips
            if adopt and wanted is not None:
                # Addresses already on the NIC are claimed as they are; the rest added.
                theirs = CLAIMS.by_others(desired.instance_id, desired.owner or "", "")
                claimed = self.nic.adoptable(desired.instance_id, wanted, before, theirs)
                wanted = tuple(a for a in wanted if a not in claimed)
            added: list[str] = []
            if wanted or desired.count:
                added = self.nic.add(desired, wanted or None, before, creating=True, adopt=adopt)
            if desired.reboot and added:
                self.nic.reboot_and_wait(desired.instance_id)
        owned = in_order(claimed + added, desired.private_ips) if claimed else added
        # The id is never secret in Pulumi: a secret set's names no address.
        if desired.secret:
            id_ = secrecy.opaque_id(desired.instance_id)
        else:
            id_ = f"{desired.instance_id}/{','.join(owned)}"
        CLAIMS.claim(desired.instance_id, desired.owner or id_, id_, owned)
        return id_, owned

    def read(self, id_: str, desired: Desired, owned: Sequence[str], who: str | None) -> list[str]:
        """What of ``owned`` is still on the NIC (none when the VM is gone). ``who``:
        the claimant, or None for a `.get` view, which owns nothing: it must not
        shield addresses from their owner."""
        with self._deadline():
            present = self.nic.present(desired.instance_id, desired.ipv6)
        still_owned = [a for a in owned if present is not None and a in present]
        if still_owned and who is not None:
            CLAIMS.claim(desired.instance_id, who, id_, still_owned)
        return still_owned

    def update(
        self, id_: str, desired: Desired, previously: Sequence[str], was: str, *, adopt: bool
    ) -> list[str]:
        """Add what is missing, then delete what is extra (rolling the add back when
        the delete fails); reboot if anything changed and asked. ``previously``: what
        the state says the set owns; ``was``: its claimant in that state. Returns what
        the set owns now."""
        # State of older code claimed by id; from now on the set claims by owner key.
        who = desired.owner or was
        if who != was:
            CLAIMS.release(desired.instance_id, was)
        with self._changing(desired.instance_id):
            instance, before = self.nic.snapshot(desired.instance_id, desired.ipv6)
            present = set(before)
            owned = [a for a in previously if a in present]
            keep, to_delete, add_ips, add_count = plan(owned, desired)
            theirs = CLAIMS.by_others(desired.instance_id, who, id_)
            if shielded := [a for a in to_delete if a in theirs]:
                self.say(
                    f"SecondaryIpSet {id_}: not deleting {named(shielded)}: another set of "
                    "this stack owns it; this set lets it go"
                )
                to_delete = [a for a in to_delete if a not in shielded]
            claimed: list[str] = []
            if adopt and add_ips:
                # Wanted addresses already on the NIC that this set does not own (left
                # by an interrupted `pulumi up`, or made by hand): claimed as they are.
                claimed = self.nic.adoptable(desired.instance_id, add_ips, before, theirs)
                add_ips = [a for a in add_ips if a not in claimed]
            added: list[str] = []
            if add_ips or add_count:
                added = self.nic.add(
                    attrs.evolve(desired, count=add_count),
                    add_ips or None,
                    before,
                    creating=False,
                    adopt=adopt,
                )
            if to_delete:
                self.nic.delete_or_roll_back(desired, instance, to_delete, added)
            if desired.reboot and (added or to_delete):
                self.nic.reboot_and_wait(desired.instance_id)
        owned = keep + claimed + added
        CLAIMS.claim(desired.instance_id, who, id_, owned)
        return owned

    def delete(self, id_: str, desired: Desired, owned: Sequence[str], who: str) -> None:
        """Delete what the set owns, except what another set claims now; reboot after
        a delete if asked. A VM that is gone took the addresses with it."""
        instance_id = desired.instance_id
        with self._changing(instance_id):
            result = self.nic.delete_owned(
                instance_id,
                desired.ipv6,
                owned,
                lambda: CLAIMS.by_others(instance_id, who, id_),
                f"SecondaryIpSet {id_}",
            )
            if result != "vm gone":
                CLAIMS.release(instance_id, who)
            if result == "deleted" and desired.reboot:
                self.nic.reboot_and_wait(instance_id)
