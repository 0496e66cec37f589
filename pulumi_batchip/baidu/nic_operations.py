"""The NIC procedures of a SecondaryIpSet: add (asking again with the same clientToken
when an add got no answer, and reporting, never removing, what may be its addresses
when that stays unanswered), delete (or roll back an update's add when the delete
fails), reboot and wait, and the pure planning beside them.

Whether a failed call may have acted is resilience.outcome_unknown, with
``retried_with_token``: every BCC add and delete carries a clientToken, so a throttle
after an earlier attempt lost its answer may hide that attempt's success. Cleanup
after a failure runs under a deadline of its own (CLEANUP_SECONDS): it gets its time
even when the operation ran out of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import Literal

import attrs

from ..errors import BatchIpError, CloudApiError, NotFoundError, code_is
from ..resilience import (
    Clock,
    Sleep,
    operation_deadline,
    outcome_unknown,
)
from . import attribution, reboot
from .bcc import BccClient, Instance, canonical_address
from .rollback import error_text, listed, roll_back, token
from .secrecy import named, progress
from .set_state import Desired

REPLAY_SECONDS = 20.0  # the same batchAddIp again after no answer (a few of its retries)
CLEANUP_SECONDS = 300.0  # reading the NIC after an unanswered add; a rollback's removal
DELETE_ATTEMPTS = 3  # batchDelIp is all or nothing: an address gone meanwhile fails it

Deleted = Literal["vm gone", "nothing to delete", "deleted"]


def plan(owned: list[str], desired: Desired) -> tuple[list[str], list[str], list[str], int]:
    """(kept, to delete, explicit to add, count to allocate). Newest go first on a
    count decrease: ``owned`` is in the order the addresses were added."""
    if desired.private_ips is not None:
        wanted = list(desired.private_ips)
        keep = [a for a in owned if a in wanted]
        to_delete = [a for a in owned if a not in wanted]
        add_ips = [a for a in wanted if a not in owned]
        return keep, to_delete, add_ips, 0
    count = desired.count or 0
    if count >= len(owned):
        return owned, [], [], count - len(owned)
    return owned[:count], owned[count:], [], 0


def in_order(addresses: list[str], wanted: Sequence[str] | None) -> list[str]:
    """Explicit addresses keep the order the user gave; allocated ones BCC's order."""
    if wanted is None:
        return addresses
    rank = {a: n for n, a in enumerate(wanted)}
    return sorted(addresses, key=lambda a: rank.get(a, len(rank)))


def in_use_hint(instance_id: str, *, creating: bool, adopt: bool) -> str:
    """What to do about PrivateIpInUseException from batchAddIp."""
    if adopt:
        return (
            f". adopt=True claims only secondary addresses of VM {instance_id}'s NIC, and "
            "the NIC did not hold this one when read just before the call: another NIC "
            "(or this NIC's primary address) holds it"
        )
    if creating:
        return (
            ". If the address was left on the VM by an interrupted `pulumi up` "
            "(or you want this set to own what is already there), set adopt=True "
            "to claim it; `python -m pulumi_batchip orphans` lists what an "
            "interrupted `pulumi up` left behind."
        )
    return (
        ". If the address is already on the VM, left by an interrupted `pulumi up` (or "
        "you want this set to own what is already there), set adopt=True on this set, "
        "keeping these private_ips, and run `pulumi up` again: the update then claims "
        "the addresses already on the NIC instead of adding them; "
        "`python -m pulumi_batchip orphans` lists what an interrupted `pulumi up` left "
        "behind."
    )


@attrs.frozen
class SentAdd:
    """A batchAddIp as it was sent: what asking again and a lost answer's report work
    from. ``before``: the NIC's secondary addresses of the family just before;
    ``creating`` and ``adopt``: wording; ``client_token``: the one to ask again with."""

    desired: Desired
    private_ips: Sequence[str] | None
    before: tuple[str, ...]
    creating: bool
    client_token: str
    adopt: bool


class NicOperations:
    """One BCC client's NIC procedures for SecondaryIpSet. ``say`` gets progress
    lines (redacted on a secret set); ``clock``/``sleep`` drive the reboot wait and
    the cleanup deadlines (a fake clock in unit tests). The caller holds the VM's
    lock around every change (the snapshots below are only meaningful under it)."""

    def __init__(
        self,
        client: BccClient,
        say: Callable[[str], None] = progress,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        *,
        reboot_timeout: float | None = None,
    ) -> None:
        self.client = client
        self.say = say
        self.clock = clock
        self.sleep = sleep
        # Read at construction, not import: tests shorten the module's deadline.
        self.reboot_timeout = (
            reboot.REBOOT_DEADLINE_SECONDS if reboot_timeout is None else reboot_timeout
        )

    # -- reading ----------------------------------------------------------------------
    def snapshot(self, instance_id: str, ipv6: bool) -> tuple[Instance, tuple[str, ...]]:
        """The VM and its secondary addresses of one family, as they are now."""
        instance = self.client.get_instance(instance_id)
        return instance, instance.secondary_addresses(ipv6=ipv6)

    def present(self, instance_id: str, ipv6: bool) -> frozenset[str] | None:
        """The secondary addresses of one family, or None when the VM is gone."""
        try:
            return frozenset(self.snapshot(instance_id, ipv6)[1])
        except NotFoundError:
            return None

    def adoptable(
        self,
        instance_id: str,
        wanted: Sequence[str],
        before: Collection[str],
        theirs: Collection[str],
    ) -> list[str]:
        """The wanted addresses already on the NIC (``before``), for ``adopt=True`` to
        claim. None may be one another set owns (``theirs``, from the claims): that is
        refused before anything changes."""
        present = set(before)
        on_nic = [a for a in wanted if a in present]
        if not on_nic:
            return []
        if taken := [a for a in on_nic if a in theirs]:
            it = "it" if len(taken) == 1 else "them"
            raise BatchIpError(
                f"adopt=True cannot claim {listed(taken)} on VM {instance_id}: another "
                f"SecondaryIpSet of this deployment owns {it}, and adopt=True claims only "
                f"addresses no other set owns. Nothing was changed; remove {it} from this "
                "set's private_ips, or from the other set first"
            )
        self.say(f"SecondaryIpSet on {instance_id}: claimed {named(on_nic)}")
        return on_nic

    # -- adding -----------------------------------------------------------------------
    def add(
        self,
        desired: Desired,
        private_ips: Sequence[str] | None,
        before: Collection[str],
        *,
        creating: bool,
        adopt: bool = False,
    ) -> list[str]:
        """One batchAddIp of ``private_ips``, else of ``desired.count`` addresses; what
        it added reaches the user's terminal at once, so an interrupted `pulumi up`
        still leaves them named in its output. ``creating``: the wording of errors.

        ``before``: the NIC's secondary addresses of the family, read under the VM's
        lock just before. If the call ends without a definite answer, whatever it
        added is in no state and a rerun (a fresh clientToken) would add more: the NIC
        is read again, what appeared is removed again, and the error says exactly that.
        """
        client_token = token()
        try:
            added = self._send_add(desired, private_ips, client_token)
        except BatchIpError as exc:
            self._raise_if_refused(exc, desired, creating=creating, adopt=adopt)
            sent = SentAdd(desired, private_ips, tuple(before), creating, client_token, adopt)
            added = self.replay_unanswered_add(sent, exc)
        added = [canonical_address(a) for a in added]
        if not added and private_ips is None:
            # An answer without privateIps (the BCC docs promise no body): what appeared
            # on the NIC since the snapshot taken under this VM's lock is what it added,
            # unless another writer added or removed some meanwhile (attribution.py).
            _after, now = self.snapshot(desired.instance_id, desired.ipv6)
            found = attribution.attribute(before, now, private_ips=None, count=desired.count)
            if found.unclear:
                raise BatchIpError(
                    attribution.unclear_after_success(
                        desired.instance_id, found, desired.ipv6, creating, listed
                    )
                )
            added = list(found.ours)
        self.say(f"SecondaryIpSet on {desired.instance_id}: added {named(added)}")
        return added

    def _send_add(
        self, desired: Desired, private_ips: Sequence[str] | None, client_token: str
    ) -> list[str]:
        return self.client.batch_add_ip(
            desired.instance_id,
            client_token=client_token,
            private_ips=private_ips,
            count=None if private_ips else desired.count,
            ipv6=desired.ipv6,
        )

    def _raise_if_refused(
        self, exc: BatchIpError, desired: Desired, *, creating: bool, adopt: bool
    ) -> None:
        """Re-raise a failure that says the add did not act (with advice for an
        address in use); return for one whose outcome is unknown."""
        hint = ""
        if isinstance(exc, CloudApiError) and code_is(exc.code, "PrivateIpInUseException"):
            hint = in_use_hint(desired.instance_id, creating=creating, adopt=adopt)
        if outcome_unknown(exc, retried_with_token=True):
            return
        if hint:
            raise BatchIpError(f"{exc}{hint}") from exc
        raise exc

    def replay_unanswered_add(self, sent: SentAdd, exc: BatchIpError) -> list[str]:
        """After a batchAddIp without a definite answer, the same request once more
        with the same clientToken: BCC answers a token it has seen with the first
        result, so the answer names what the first call added (or, had it not acted,
        what this one adds). What the NIC shows is never taken for the answer: another
        writer may add to it meanwhile (attribution.py). Still no answer: the error of
        ``undo_unanswered_add``, which removes nothing."""
        desired = sent.desired
        self.say(
            f"SecondaryIpSet on {desired.instance_id}: batchAddIp got no answer "
            f"({error_text(exc)}); asking again with the same clientToken"
        )
        try:
            # Its own time, as cleanup has: the operation may have run out meanwhile.
            with operation_deadline(self.clock() + REPLAY_SECONDS):
                return self._send_add(desired, sent.private_ips, sent.client_token)
        except BatchIpError as replay_exc:
            if isinstance(replay_exc, CloudApiError):
                # A refusal of the replay means the first call did not act either (a
                # token that acted is answered with its result).
                self._raise_if_refused(
                    replay_exc, desired, creating=sent.creating, adopt=sent.adopt
                )
            raise self.undo_unanswered_add(sent, exc) from replay_exc

    def undo_unanswered_add(self, sent: SentAdd, exc: BatchIpError) -> BatchIpError:
        """After a batchAddIp without a definite answer: find what it added, remove it
        again and describe the outcome truthfully (the caller raises it).

        Only our own sets are kept out of the way, by the VM's lock this runs under.
        Anyone else may add to the NIC at the same moment (the console, another tool,
        another stack), so no more than asked for is taken for ours (attribution.py):
        with explicit addresses only those; with ``count`` N the new ones only when
        exactly N appeared, else none is removed and the error lists them all."""
        with operation_deadline(self.clock() + CLEANUP_SECONDS):
            return self._undo(sent, exc)

    def _undo(self, sent: SentAdd, exc: BatchIpError) -> BatchIpError:
        desired, private_ips, before, creating = (
            sent.desired,
            sent.private_ips,
            sent.before,
            sent.creating,
        )
        instance_id, ipv6 = desired.instance_id, desired.ipv6
        failed = f"{error_text(exc)}. The call may still have acted"
        try:
            after = self.client.get_instance(instance_id)
        except BatchIpError as read_exc:
            message = (
                f"{failed}, and reading VM {instance_id}'s NIC to check failed too "
                f"({error_text(read_exc)}): whether it added addresses is unknown. Before "
                "the call the NIC held these secondary addresses: "
                f"{listed(list(before)) or 'none'}; "
                "any other one there now may be this call's and belongs to no Pulumi "
                "state: remove it by hand or claim it with adopt=True"
            )
            self.say(f"SecondaryIpSet on {instance_id}: {message}")
            return BatchIpError(message)
        found = attribution.attribute(
            before,
            after.secondary_addresses(ipv6=ipv6),
            private_ips=private_ips,
            count=None if private_ips is not None else desired.count,
        )
        candidates = found.appeared if private_ips is None else found.ours
        if not candidates:
            return BatchIpError(
                f"{failed}, but VM {instance_id}'s NIC, read again, shows no address it "
                "added: nothing to clean up"
            )
        # Whatever appeared may be another writer's: nothing records it as this call's,
        # so nothing is removed (never on what the NIC happens to show).
        message = attribution.unresolved_after_no_answer(
            instance_id, found, candidates, ipv6, creating, listed
        )
        self.say(f"SecondaryIpSet on {instance_id}: {message}")
        return BatchIpError(f"{failed}. {message}")

    def _say_left(self, instance_id: str, remaining: Sequence[str]) -> None:
        self.say(
            f"SecondaryIpSet on {instance_id}: LEFT ON THE VM, in no state: {named(remaining)}"
        )

    # -- deleting ---------------------------------------------------------------------
    def delete_or_roll_back(
        self, desired: Desired, instance: Instance, to_delete: list[str], added: list[str]
    ) -> None:
        """An update's batchDelIp of the extra addresses (``instance``: the snapshot,
        for the cloud's spelling); if that fails, what the update just ``added`` is
        removed again so the set stays as it was, and the error says what is left."""
        instance_id, ipv6 = desired.instance_id, desired.ipv6
        try:
            self.client.batch_del_ip(
                instance_id, instance.cloud_text(to_delete, ipv6=ipv6), client_token=token()
            )
            self.say(f"SecondaryIpSet on {instance_id}: removed {named(to_delete)}")
            return
        except BatchIpError as exc:
            failure = exc
        with operation_deadline(self.clock() + CLEANUP_SECONDS):
            self._roll_back_update(desired, to_delete, added, failure)

    def _roll_back_update(
        self, desired: Desired, to_delete: list[str], added: list[str], failure: BatchIpError
    ) -> None:
        instance_id, ipv6 = desired.instance_id, desired.ipv6
        gone: bool | None = False  # did the delete act? None: could not tell
        if outcome_unknown(failure, retried_with_token=True):
            try:
                now = set(self.client.get_instance(instance_id).secondary_addresses(ipv6=ipv6))
            except BatchIpError:
                gone = None
            else:
                gone = not (set(to_delete) & now)
            if gone:
                self.say(
                    f"SecondaryIpSet on {instance_id}: batchDelIp got no answer, but "
                    f"{named(to_delete)} are gone from the NIC: it went through"
                )
                return
        old_set = (
            "so the set is as it was before this update"
            if gone is False
            else f"whether {listed(to_delete)} were removed is unknown (`pulumi refresh` "
            "will tell: they are in this set's state)"
        )
        if not added:
            if gone is None:
                raise BatchIpError(f"{error_text(failure)}; {old_set}") from failure
            raise failure
        outcome = roll_back(self.client, instance_id, ipv6, added)
        if not outcome.remaining:
            raise BatchIpError(
                f"{error_text(failure)}; the addresses just added ({listed(added)}) were "
                f"removed again, {old_set}"
            ) from failure
        self._say_left(instance_id, outcome.remaining)
        raise BatchIpError(
            f"{error_text(failure)}; rolling back the addresses just added "
            f"({listed(added)}): {outcome.describe(instance_id, ipv6)}"
        ) from failure

    def delete_owned(
        self,
        instance_id: str,
        ipv6: bool,
        owned: Sequence[str],
        theirs: Callable[[], Collection[str]],
        label: str,
    ) -> Deleted:
        """A set's delete: batchDelIp of what it owns that is still on the NIC, except
        what another set claims (``theirs``, asked again each attempt). BatchDelIp is
        all or nothing: an address removed meanwhile fails it, so the NIC is read and
        the call sent again (DELETE_ATTEMPTS in all)."""
        for attempt in range(DELETE_ATTEMPTS):
            try:
                instance, before = self.snapshot(instance_id, ipv6)
            except NotFoundError:
                return "vm gone"  # and its addresses with it
            present, others = set(before), theirs()
            if shielded := [a for a in owned if a in present and a in others]:
                self.say(
                    f"{label}: not deleting {named(shielded)}: another set now owns it (it "
                    "was removed from this set behind its back)"
                )
            to_delete = [a for a in owned if a in present and a not in others]
            if not to_delete:
                return "nothing to delete"
            try:
                self.client.batch_del_ip(
                    instance_id, instance.cloud_text(to_delete, ipv6=ipv6), client_token=token()
                )
                return "deleted"
            except CloudApiError as exc:
                last = attempt == DELETE_ATTEMPTS - 1
                if not code_is(exc.code, "PrivateIPNotExistException") or last:
                    raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    # -- rebooting --------------------------------------------------------------------
    def reboot_and_wait(self, instance_id: str) -> None:
        """Reboot so the change takes effect and wait for Running (reboot.py): a
        failure or a missed deadline is reported, not raised."""
        reboot.Reboot(self.client, self.reboot_timeout, self.say, self.clock, self.sleep).and_wait(
            instance_id
        )
