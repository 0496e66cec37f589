"""Which of the addresses that appeared on a NIC one ``batchAddIp`` may call its own.

BCC marks no owner on an address, and anyone on the account (the console, another
tool, another stack) can add to the same NIC while our call is in flight: the NIC
read before and after the call shows what appeared, never who added it. So:

- explicit addresses: only those asked for can be the call's; any other is not;
- a count N: BCC adds all N or none, so after an *answered* call the new addresses
  are the call's when exactly N appeared. Any other number means another writer added
  (or removed) some, and which are the call's is unknown: none is attributed, so none
  is removed or claimed, and the error lists them all for a person to sort out.

After an *unanswered* call nothing is attributed at all: the same request is sent
again with its clientToken (BCC answers a seen token with the first result), and if
that stays unanswered too, what appeared (even exactly N, even the addresses asked
for) may be another writer's, added while the call went unanswered: none is removed
(``unresolved_after_no_answer``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

import attrs


@attrs.frozen
class Attribution:
    appeared: tuple[str, ...]  # new on the NIC since the snapshot, in the NIC's order
    ours: tuple[str, ...]  # what the call may call its own (never more than it asked for)
    count: int | None  # the N asked for; None for explicit addresses

    @property
    def unclear(self) -> bool:
        """A count add whose new addresses cannot be told apart from another writer's."""
        return self.count is not None and len(self.appeared) != self.count


def attribute(
    before: Collection[str],
    after: Sequence[str],
    *,
    private_ips: Sequence[str] | None,
    count: int | None,
) -> Attribution:
    """``before``/``after``: the NIC's secondary addresses (canonical) around the call."""
    known = set(before)
    appeared = tuple(a for a in after if a not in known)
    if private_ips is not None:
        asked = set(private_ips)
        return Attribution(appeared, tuple(a for a in appeared if a in asked), None)
    n = count or 0
    return Attribution(appeared, appeared if len(appeared) == n else (), n)


def _what_to_do(instance_id: str, n: int, ipv6: bool, creating: bool) -> str:
    if not creating:  # adopt on an update claims what the set does not own yet
        return (
            "find out which of them are this set's (the other writer knows its own); then "
            "either claim those by giving this set private_ips=[its own addresses and "
            "those] with adopt=True in place of count, or remove them by hand (BCC "
            "batchDelIp); then run `pulumi up` again"
        )
    family = ", ipv6=True" if ipv6 else ""
    return (
        "find out which of them are this set's (the other writer knows its own); then "
        f"either claim those with SecondaryIpSet(..., instance_id={instance_id!r}, "
        f"private_ips=[those]{family}, adopt=True) in place of count={n}, or remove them "
        "by hand (BCC batchDelIp); then run `pulumi up` again"
    )


def _addresses(k: int) -> str:
    return f"{k} new address{'' if k == 1 else 'es'}"


def unresolved_after_no_answer(
    instance_id: str,
    found: Attribution,
    candidates: Sequence[str],
    ipv6: bool,
    creating: bool,
    listed: Callable[[Sequence[str]], str],
) -> str:
    """The error text (after "the call may still have acted") when an add stayed
    unanswered, asked again with its clientToken too, and the NIC shows ``candidates``
    that may be its own: new addresses for a count add, the asked ones that are there
    for explicit addresses. None is removed or claimed: nothing records them as this
    call's, and another writer may have added them meanwhile."""
    n, k = found.count, len(candidates)
    shown = listed(candidates)
    if n is None:
        return (
            f"VM {instance_id}'s NIC, read again, holds {k} of the addresses it asked "
            f"for ({shown}): this call's if it went through, else another writer's (the "
            "console, another tool or stack). Which is unknown, so none was removed and "
            "none is in any Pulumi state: if they are this set's, claim them with "
            "adopt=True; else remove them by hand or choose other addresses; then run "
            "`pulumi up` again"
        )
    if k > n:
        whose = (
            f"it asked for {n} and BCC adds all or none, so another writer (the console, "
            f"another tool or stack) added at least {k - n} of them: if the call went "
            f"through, {n} of them are this call's, else none is"
        )
    elif k == n:
        whose = (
            "as many as it asked for, but another writer (the console, another tool or "
            "stack) may have added them while the call went unanswered: they are this "
            "call's if it went through, else none is"
        )
    else:
        whose = (
            f"fewer than the {n} it asked for; BCC adds all or none, so either the call "
            "did not act and another writer (the console, another tool or stack) added "
            "them, or it did and some of its addresses were removed since"
        )
    return (
        f"VM {instance_id}'s NIC, read again, shows {_addresses(k)} ({shown}): {whose}. "
        "Which are this call's is unknown, so none was removed and none is in any "
        f"Pulumi state (a rerun as it is would add {n} more): "
        f"{_what_to_do(instance_id, n, ipv6, creating)}"
    )


def unclear_after_success(
    instance_id: str,
    found: Attribution,
    ipv6: bool,
    creating: bool,
    listed: Callable[[Sequence[str]], str],
) -> str:
    """The error text when a count add was answered as done but without naming the
    addresses, and the NIC does not show exactly that many new ones."""
    n, k = found.count or 0, len(found.appeared)
    if k > n:
        whose = (
            f"{n} of them are this call's and another writer (the console, another tool "
            f"or stack) added the other {k - n}"
        )
    else:
        whose = (
            "fewer than it added, so another writer removed some of this call's since "
            "(and may have added some of these)"
        )
    shown = f" ({listed(found.appeared)})" if k else ""
    return (
        f"batchAddIp added {n} addresses to VM {instance_id} (answered without naming "
        f"them), but its NIC, read again, shows {_addresses(k)}{shown}: {whose}. Which "
        "are this set's is unknown, so none is claimed or removed; this set's are in no "
        f"Pulumi state: {_what_to_do(instance_id, n, ipv6, creating)}"
    )
