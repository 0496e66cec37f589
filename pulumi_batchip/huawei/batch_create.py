"""Creating EIPs into a batch: the create calls and their jobs, then, for a create whose
answer was lost, waiting for its EIPs by the batch tag, sending again only what
provably did not land, and releasing a surplus should the lost call land after all.
Every call and wait of a create keeps to one deadline (the session's ``timeout``)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import attrs

from ..errors import BatchIpError, CloudApiError
from ..resilience import Pacer, operation_deadline
from .confirm import PERMISSION_HINT
from .eip import BatchCreateRequest, PublicIp
from .jobs import JobWatch, all_tagged, chunks_of, raise_if_failed, start
from .ownership import BATCH_TAG_KEY
from .release import delete
from .session import BROKEN, CREATING, Chunk, EipBatchError, EipSession

# After a create whose answer was lost, its EIPs can only be seen arriving: cleanup
# waits until the batch's tag count has not changed for this long.
SETTLE_STABLE_SECONDS = 5.0
# Time to delete what a failed create left: room for a whole retry budget of a call.
PURGE_SECONDS = 120.0
# Re-sends of a lost create's missing EIPs, each after the count settled.
MAX_RESENDS = 2
# With no job of the create known (every answer lost), how long the tag count must
# stay put before what is missing counts as never landed: longer than a batch job.
NO_JOB_SETTLE_SECONDS = 60.0


def create(
    ops: EipSession,
    request: BatchCreateRequest,
    batch_id: str,
    base: int,
    ignore: Sequence[str] = (),
) -> list[str]:
    """Create ``request.count`` EIPs carrying the batch tag; ``base`` EIPs of the batch
    exist already. Returns the new ids. Raises after a failed job, the deadline or a
    lost answer whose EIPs never showed; the caller then cleans up (``cleanup``), which
    accounts for every job started here. ``ignore``: EIPs still carrying the tag that
    are on their way out (being deleted): they are not counted."""
    chunks = chunks_of(ops, request.count)
    started = ops.clock()
    ignored = set(ignore)
    with operation_deadline(started + ops.timeout):
        ops.map(lambda c: start(ops, c, request), chunks)
        expected = base + request.count
        ids = JobWatch(
            ops,
            chunks,
            request.count,
            started,
            all_there=lambda: all_tagged(ops, batch_id, expected, ignored),
        ).wait()
        if ids is not None:
            return ids
        raise_if_failed(chunks, lambda c: f"{c.number}/{len(chunks)}")
        # A lost create answer is resolved by the tag; what provably did not land is
        # sent again (see TaggedWait).
        return TaggedWait(ops, request, batch_id, expected, started, chunks, ignored).wait()


@attrs.define
class TaggedWait:
    """Wait until ``expected`` EIPs carry the batch tag. A create whose answer was lost
    (or a 5xx) has no job to watch. When a job of the same create is known, the lost
    calls' jobs (sent with it, as long) are over when it is: once the tag count has
    then not moved for ``SETTLE_STABLE_SECONDS``, the EIPs still missing did not land,
    and only those are sent again. With no job known (every answer lost) the count must
    stay put ``NO_JOB_SETTLE_SECONDS`` first. At most ``MAX_RESENDS`` times, and only
    with time left for a job as long as the last. Should the lost call land after all,
    the surplus (the newest) is released here; if it lands after this returns, every
    one carries the batch tag: a refresh shows it and the next update releases it."""

    ops: EipSession
    request: BatchCreateRequest
    batch_id: str
    expected: int
    started: float
    chunks: list[Chunk]
    ignore: set[str]
    lost: list[Chunk] = attrs.field(init=False)
    lost_first: int = attrs.field(init=False)
    jobs_known: bool = attrs.field(init=False)
    settle: float = attrs.field(init=False)
    job_took: float = attrs.field(init=False)
    stable_since: float = attrs.field(init=False)
    last_count: int = -1
    resent: int = 0
    resends: int = 0
    refused: CloudApiError | None = None
    ids: list[str] = attrs.field(factory=list)

    def __attrs_post_init__(self) -> None:
        self.lost = [c for c in self.chunks if c.lost is not None]
        self.lost_first = len(self.lost)
        self.jobs_known = any(c.job_id for c in self.chunks)
        self.settle = SETTLE_STABLE_SECONDS if self.jobs_known else NO_JOB_SETTLE_SECONDS
        now = self.ops.clock()
        self.job_took = now - self.started if self.jobs_known else NO_JOB_SETTLE_SECONDS
        self.stable_since = now

    def wait(self) -> list[str]:
        pacer = self.ops.pacer(self.started + self.ops.timeout - self.ops.clock())
        for _ in pacer:
            while True:  # after sending again, look at once
                found = self._look(pacer)
                if found is not None:
                    return found
                if not self._may_resend(self.ops.clock()):
                    break
                self._resend_missing()
            if not pacer.expired:
                self._report(pacer)
        raise EipBatchError(
            f"found {len(self.ids)} of {self.expected} EIPs of batch {self.batch_id} after "
            f"{self.ops.timeout:.0f} s: {self._cause()}"
        )

    def _look(self, pacer: Pacer) -> list[str] | None:
        """The batch's ids once ``expected`` carry the tag, else None."""
        try:
            self.ids = [i for i in self.ops.find_ids(self.batch_id) if i not in self.ignore]
        except BatchIpError:
            if not pacer.expired:
                raise
            # The deadline cut the look short: the error tells the last count seen.
        if len(self.ids) >= self.expected:
            return self._complete()
        now = self.ops.clock()
        if len(self.ids) != self.last_count:
            self.last_count, self.stable_since = len(self.ids), now
        if not self.lost and now - self.stable_since >= SETTLE_STABLE_SECONDS:
            # Every job succeeded, yet the tag query stays short: a caller without
            # rights is answered an empty list, so list the EIPs and match the tag.
            listed = self.ops.listed_with_tag(BATCH_TAG_KEY, self.batch_id)
            self.ids += [i for i in listed if i not in self.ignore and i not in set(self.ids)]
            if len(self.ids) >= self.expected:
                self.ops.say("the tag query showed fewer EIPs than the jobs made: found by listing")
                return self._complete()
            self.stable_since = now  # look again after another settle period
        return None

    def _complete(self) -> list[str]:
        return trim(self.ops, self.ids, self.expected) if self.resends else self.ids

    def _may_resend(self, now: float) -> bool:
        missing = self.expected - len(self.ids)
        return (
            bool(self.lost)
            and self.resends < MAX_RESENDS
            and now - self.stable_since >= self.settle
            and missing <= sum(c.size for c in self.lost)
            and self.started + self.ops.timeout - now > self.job_took + SETTLE_STABLE_SECONDS
        )

    def _resend_missing(self) -> None:
        missing = self.expected - len(self.ids)
        self.resends += 1
        self.resent += missing
        self.ops.say(
            f"{missing} EIPs of a create whose answer was lost did not appear "
            f"{self.settle:.0f} s after {'its jobs' if self.jobs_known else 'it'}: sending "
            f"those {missing} again"
        )
        self.lost, self.job_took, self.refused = self._resend(missing)
        if not self.lost:
            self.settle = SETTLE_STABLE_SECONDS
        self.last_count, self.stable_since = -1, self.ops.clock()

    def _resend(self, count: int) -> tuple[list[Chunk], float, CloudApiError | None]:
        """Create ``count`` more EIPs of the batch and wait for their jobs. Returns the
        chunks whose answer was lost again (none when the cloud refused: the lost call
        may hold the quota, so the tag is awaited instead) and how long the jobs took."""
        chunks = chunks_of(self.ops, count)
        part = attrs.evolve(self.request, count=count)
        sent = self.ops.clock()
        refused: CloudApiError | None = None
        try:
            self.ops.map(lambda c: start(self.ops, c, part), chunks)
        except CloudApiError as exc:
            refused = exc
            self.ops.say(f"sending again was refused ({exc}): waiting for the lost create by tag")
        there = JobWatch(
            self.ops,
            chunks,
            count,
            self.started,  # the create's deadline still holds
            all_there=lambda: all_tagged(self.ops, self.batch_id, self.expected, self.ignore),
            label="sent-again job",
        ).wait()
        took = self.ops.clock() - sent
        if there is not None:
            return [], took, refused  # every EIP is there: no other job needs reading
        raise_if_failed(chunks, lambda _c: "sent again for a lost create")
        return [c for c in chunks if c.lost is not None], took, refused

    def _report(self, pacer: Pacer) -> None:
        """The tag count, said when it changes and at least every 10 s."""
        count = f"{len(self.ids)}/{self.expected}"
        if self.lost:
            line = f"waiting for the EIPs of a create whose answer was lost: {count}"
        else:
            line = f"waiting for the EIPs of batch {self.batch_id} to carry its tag: {count}"
        pacer.report(self.ops.say, line)

    def _cause(self) -> str:
        if self.refused is not None:
            return (
                f"the answer to {self.lost_first} create call(s) was lost and sending "
                f"the {self.resent} missing EIPs again was refused ({self.refused})"
            )
        if self.lost_first and self.resent:
            return (
                f"the answer to {self.lost_first} create call(s) was lost, {self.resent} EIPs "
                f"were sent again, and not all appeared"
            )
        if self.lost_first:
            return (
                f"the answer to {self.lost_first} create call(s) was lost "
                f"({self.lost[0].lost}) and their EIPs did not appear"
            )
        return (
            "the jobs succeeded but not every EIP carries the batch tag (a tag "
            "query short of what the jobs created can also be a caller without "
            f"read rights: {PERMISSION_HINT})"
        )


def trim(ops: EipSession, ids: list[str], expected: int) -> list[str]:
    """After a re-send: a lost create that landed late leaves more than ``expected``;
    release the newest surplus (never an older member: those predate the create).
    Under a deadline of its own: the batch is complete whatever happens here, and a
    surplus left carries the batch tag (a refresh shows it)."""
    if len(ids) <= expected:
        return ids
    surplus: list[str] = []
    try:
        with operation_deadline(ops.clock() + PURGE_SECONDS):
            records = sorted(
                ops.details(ids, said_by="the batch tag"),
                key=lambda e: (e.create_time or "", e.id),
            )
            surplus = [e.id for e in records[expected:]]
            ops.say(f"a lost create landed after all: releasing the {len(surplus)} newest EIPs")
            delete(ops, surplus)
    except BatchIpError as exc:
        ops.say(
            f"releasing the surplus failed ({exc}): it keeps the batch tag, so a "
            "refresh shows it and the next update releases it"
        )
    return [i for i in ids if i not in set(surplus)]


def created(ops: EipSession, ids: Sequence[str], *, new: Collection[str]) -> list[PublicIp]:
    """The batch's EIPs after a create added ``new``: new ones still being created are
    awaited (within the session's timeout), and one the create left broken (ERROR,
    BIND_ERROR) fails it, so the caller cleans up."""
    waiting: list[str] = []
    pacer = ops.pacer(ops.timeout)
    for _ in pacer:
        eips = ops.details(ids, said_by="the batch tag")
        fresh = [e for e in eips if e.id in new]
        if broken := [f"{e.id} ({e.status})" for e in fresh if e.status in BROKEN]:
            more = f" and {len(broken) - 5} more" if len(broken) > 5 else ""
            raise EipBatchError(
                f"{len(broken)} of the {len(new)} new EIPs ended broken: "
                f"{', '.join(broken[:5])}{more}"
            )
        waiting = [e.id for e in fresh if e.status in CREATING]
        if not waiting:
            return eips
        if not pacer.expired:
            pacer.report(ops.say, f"{len(waiting)} new EIPs are still being created")
    raise EipBatchError(
        f"{len(waiting)} of the {len(new)} new EIPs were still being created "
        f"after {ops.timeout:.0f} s"
    )
