"""The multi-call EIP procedures behind EipBatch: create in chunks and await the jobs,
find a batch by its tag, delete and confirm, and clean up after a failed create.

Nothing here knows about Pulumi; the provider in ``eip_batch.py`` calls these.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import attrs

from .errors import (
    AuthError,
    BatchIpError,
    CloudApiError,
    NotFoundError,
    RefusedError,
    TransportError,
)
from .http import operation_deadline, remaining_time
from .huawei.confirm import PERMISSION_HINT, confirm_absent, read_by_id, sample
from .huawei.eip import (
    LIST_PAGE_LIMIT,
    MAX_PER_BATCH,
    BatchCreateRequest,
    EipClient,
    Job,
    PublicIp,
)
from .huawei.ownership import BATCH_TAG_KEY as BATCH_TAG_KEY
from .huawei.ownership import STACK_TAG_KEY as STACK_TAG_KEY

MANAGED_TAG = ("managed-by", "pulumi-batchip")
RESERVED_TAG_KEYS = frozenset({MANAGED_TAG[0], BATCH_TAG_KEY, STACK_TAG_KEY})
CONCURRENCY = 4  # in-flight calls per operation: gentle on APIGW throttling
IDS_PER_LIST_CALL = 50  # keeps the id-filtered list URL short
PENDING_DELETE = "PENDING_DELETE"  # a deleted EIP's status until it is gone
# EIP statuses (API Reference, ShowPublicip "status"): being released; left broken by
# a create or a bind; still being created.
LEAVING = frozenset({PENDING_DELETE, "NOTIFY_DELETE"})
BROKEN = frozenset({"ERROR", "BIND_ERROR"})
CREATING = frozenset({"PENDING_CREATE", "NOTIFYING"})
POLL_FIRST = 0.25
POLL_MAX = 5.0
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
T = TypeVar("T")
R = TypeVar("R")


class EipBatchError(BatchIpError):
    """An EipBatch operation failed; the message says what was cleaned up."""


def chunk_sizes(count: int, limit: int = MAX_PER_BATCH) -> list[int]:
    """200 → [50, 50, 50, 50]; 51 → [50, 1]."""
    full, rest = divmod(count, limit)
    return [limit] * full + ([rest] if rest else [])


def stack_tag_value(stack_scope: str) -> str:
    """``<project>/<stack>`` as a tag value: a tag value takes no ``/`` and at most 43
    characters, so a stable hash of it (what `orphans` computes from a stack export)."""
    return hashlib.sha256(stack_scope.encode()).hexdigest()[:32]


def batch_tags(
    batch_id: str, user_tags: dict[str, str], stack_scope: str | None = None
) -> dict[str, str]:
    tags = {**user_tags, MANAGED_TAG[0]: MANAGED_TAG[1], BATCH_TAG_KEY: batch_id}
    if stack_scope:
        tags[STACK_TAG_KEY] = stack_tag_value(stack_scope)
    return tags


@attrs.define
class _Chunk:
    number: int
    size: int
    job_id: str | None = None
    job: Job | None = None
    lost: BatchIpError | None = None  # the create's outcome is unknown

    @property
    def done(self) -> bool:
        return self.lost is not None or (self.job is not None and self.job.finished)


def _raise_if_failed(chunks: Sequence[_Chunk], which: Callable[[_Chunk], str]) -> None:
    """Raise for the first chunk whose job ended in anything but SUCCESS."""
    for chunk in chunks:
        job = chunk.job
        if job is not None and job.status != "SUCCESS":
            raise EipBatchError(
                f"job {job.job_id} ({which(chunk)}) ended {job.status}: "
                f"{job.error_code or 'no code'} {job.fail_reason or 'no reason given'}"
            )


class BatchOperations:
    """One operation's EIP calls. Every call of a create (each retry, each poll) keeps
    to one deadline (``timeout``); a failed create is cleaned up under a deadline of
    its own (``cleanup_timeout``), so cleanup always gets its time."""

    def __init__(
        self,
        client: EipClient,
        *,
        timeout: float,
        say: Callable[[str], None],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        cleanup_timeout: float | None = None,
        page_limit: int = LIST_PAGE_LIMIT,
    ) -> None:
        self.client = client
        # The largest ListPublicips page the API serves (it caps at 2000).
        self.page_limit = min(page_limit, LIST_PAGE_LIMIT)
        self.timeout = timeout
        self.cleanup_timeout = (
            cleanup_timeout if cleanup_timeout is not None else min(max(timeout, 10.0), 300.0)
        )
        self.say = say
        self.clock = clock
        self.sleep = sleep
        # Every chunk the creates of this object started: cleanup must account for all.
        self._started: list[_Chunk] = []
        self._listing_instead = False
        # Ids some list answer of this operation showed: the list can see them, so its
        # saying later that they are gone is believed (see _confirm_gone).
        self._listed: set[str] = set()
        # Ids this operation released (and saw gone).
        self._released: set[str] = set()

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` in threads that see this context (the deadline)."""
        with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
            futures = [pool.submit(contextvars.copy_context().run, fn, item) for item in items]
            return [f.result() for f in futures]

    # -- finding --------------------------------------------------------------------
    def find_ids(self, batch_id: str) -> list[str]:
        """The ids of every EIP carrying the batch tag (one call per 1000)."""
        return list(self.find_tagged(BATCH_TAG_KEY, batch_id))

    def find_tagged(self, key: str, value: str) -> dict[str, dict[str, str]]:
        """Every EIP carrying the tag ``key=value``: id -> its tags. Huawei's tag APIs
        do not accept rights granted through an enterprise project (the EIP permission
        table; terraform's EIP data source tolerates their 403 too), and older API
        references offer tag management only in some regions (a 404: no such route).
        Either way the EIPs are listed instead and their tags matched here."""
        try:
            found = self.client.list_publicips_by_tags({key: [value]})
            return {r.resource_id: dict(r.tags) for r in found}
        except (AuthError, NotFoundError) as exc:
            if exc.status not in (403, 404):
                raise
            if not self._listing_instead:
                self._listing_instead = True
                self.say(f"the tag API answered {exc.status}: finding EIPs by listing them instead")
            why = (
                "Huawei's tag APIs do not accept rights granted through an enterprise project"
                if exc.status == 403
                else "this region may not serve the tag API"
            )
            try:
                return self.listed_with_tag(key, value)
            except BatchIpError as list_exc:
                raise EipBatchError(
                    f"cannot find the EIPs tagged {key}={value}: the tag API refused "
                    f"({exc}; {why}) and listing the EIPs failed too ({list_exc}). "
                    + (
                        "Grant the EIP permissions on the project, not only the enterprise project."
                        if exc.status == 403
                        else "Check the region and endpoint."
                    )
                ) from list_exc

    def listed_with_tag(self, key: str, value: str) -> dict[str, dict[str, str]]:
        """Every EIP carrying ``key=value``, found by listing them all and matching."""
        listed = self.client.list_publicips()
        self._listed.update(e.id for e in listed)
        return {e.id: dict(e.tags) for e in listed if e.tags.get(key) == value}

    def details(
        self,
        ids: Sequence[str],
        *,
        pending_delete: bool = False,
        said_by: str | None = "the state",
    ) -> list[PublicIp]:
        """Full records of the given EIPs that still exist, in the order given. An EIP
        being deleted (``PENDING_DELETE``, still listed for a while) is gone for every
        purpose but waiting for it to disappear (``pending_delete=True``). EIPs the list
        leaves out are confirmed gone by id (a sample, see ``huawei.confirm``): one still
        there raises ``ListContradiction``; ``said_by`` names who says they exist
        (None: the caller confirms itself)."""
        wanted = list(dict.fromkeys(ids))
        by_id: dict[str, PublicIp] = {}
        if len(wanted) > CONCURRENCY * IDS_PER_LIST_CALL:
            # More than one round of id-filtered lists: one unfiltered page first. A
            # page shorter than the API's cap is the whole project, so an id not on
            # it does not exist; a full page leaves the rest to the filtered lists.
            page = self.client.list_publicips_page(limit=self.page_limit)
            whole = set(wanted)
            by_id = {eip.id: eip for eip in page if eip.id in whole}
            wanted = [] if len(page) < self.page_limit else [i for i in wanted if i not in by_id]
        groups = [
            wanted[i : i + IDS_PER_LIST_CALL] for i in range(0, len(wanted), IDS_PER_LIST_CALL)
        ]
        for page in self.map(lambda g: self.client.list_publicips(g), groups):
            by_id.update((eip.id, eip) for eip in page)
        self._listed.update(by_id)
        if said_by is not None:
            absent = [i for i in dict.fromkeys(ids) if i not in by_id]
            confirm_absent(self.client, absent, what=said_by, run=self.map)
        return [
            by_id[i]
            for i in ids
            if i in by_id and (pending_delete or by_id[i].status not in LEAVING)
        ]

    def created(self, ids: Sequence[str], *, new: Collection[str]) -> list[PublicIp]:
        """The batch's EIPs after a create added ``new``: new ones still being created
        are awaited (within the operation's timeout), and one the create left broken
        (ERROR, BIND_ERROR) fails it, so the caller cleans up."""
        deadline = self.clock() + self.timeout
        interval = POLL_FIRST
        while True:
            eips = self.details(ids, said_by="the batch tag")
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
            if self.clock() >= deadline:
                raise EipBatchError(
                    f"{len(waiting)} of the {len(new)} new EIPs were still being created "
                    f"after {self.timeout:.0f} s"
                )
            self.say(f"{len(waiting)} new EIPs are still being created")
            self.sleep(min(interval, max(0.0, deadline - self.clock())))
            interval = min(interval * 1.5, POLL_MAX)

    # -- creating -------------------------------------------------------------------
    def create(
        self,
        request: BatchCreateRequest,
        batch_id: str,
        base: int,
        ignore: Sequence[str] = (),
    ) -> list[str]:
        """Create ``request.count`` EIPs carrying the batch tag; ``base`` EIPs of the
        batch exist already. Returns the new ids. Raises after a failed job, the
        deadline or a lost answer whose EIPs never showed; the caller then calls
        :meth:`fail_with_cleanup`, which accounts for every job started here.
        ``ignore``: EIPs still carrying the tag that are on their way out (being
        deleted): they are not counted."""
        chunks = [_Chunk(n + 1, size) for n, size in enumerate(chunk_sizes(request.count))]
        self._started.extend(chunks)
        started = self.clock()
        with operation_deadline(started + self.timeout):
            self.map(lambda c: self._start(c, request), chunks)
            expected = base + request.count
            ids = self._await_jobs(
                chunks,
                request.count,
                started,
                all_there=lambda: self._all_tagged(batch_id, expected, set(ignore)),
            )
            if ids is not None:
                return ids
            _raise_if_failed(chunks, lambda c: f"{c.number}/{len(chunks)}")
            # A lost create answer is resolved by the tag; what provably did not land
            # is sent again (see _await_tagged).
            return self._await_tagged(request, batch_id, expected, started, chunks, set(ignore))

    def _start(self, chunk: _Chunk, request: BatchCreateRequest) -> None:
        part = attrs.evolve(request, count=chunk.size)
        try:
            chunk.job_id = self.client.batch_create_publicips(part)
        except TransportError as exc:
            if not exc.sent:
                raise
            chunk.lost = exc
        except CloudApiError as exc:
            # A 5xx may come after the backend acted (a gateway timing out on it): the
            # outcome is unknown, as with a lost answer. Other errors, and the business
            # errors documented with a 500 (RefusedError), refused the call.
            if isinstance(exc, RefusedError) or exc.status is None or exc.status < 500:
                raise
            chunk.lost = exc

    def _await_jobs(
        self,
        chunks: list[_Chunk],
        total: int,
        started: float,
        all_there: Callable[[], list[str] | None],
        label: str = "job",
    ) -> list[str] | None:
        """Poll until every started job is finished. The jobs start together and take
        about as long, so each round polls only the newest unfinished one (a round
        costs one call, not one per job). Once that one succeeded, one look at the
        batch tag (``all_there``) usually shows every EIP there: the batch's ids are
        returned without reading the other jobs. Else one concurrent sweep reads them,
        and None is returned once all are finished."""
        interval = POLL_FIRST
        self._last_status: dict[int, str] = {}
        while True:
            pending = [c for c in chunks if not c.done and c.job_id]
            if not pending:
                return None
            try:
                self._poll([pending[-1]], chunks, total, started, label)
                newest = pending[-1]
                if newest.done and len(pending) > 1:
                    there = None
                    if newest.job is not None and newest.job.status == "SUCCESS":
                        there = all_there()
                    if there is not None:
                        self.say(
                            f"all {total} EIPs carry the batch tag: the other "
                            f"{len(pending) - 1} jobs created theirs, "
                            f"{self.clock() - started:.0f} s"
                        )
                        return there
                    self._poll(pending[:-1], chunks, total, started, label)
            except BatchIpError:
                if self.clock() - started <= self.timeout:
                    raise  # else: the deadline cut the poll short, said below
            if all(c.done for c in chunks if c.job_id):
                return None
            if self.clock() - started >= self.timeout:
                waiting = [c.job_id for c in chunks if not c.done and c.job_id]
                raise EipBatchError(
                    f"jobs {', '.join(str(j) for j in waiting)} did not finish within "
                    f"{self.timeout:.0f} s"
                )
            if pending[-1].done:
                continue  # the sweep found some still running: go on without a pause
            self.sleep(min(interval, max(0.0, started + self.timeout - self.clock())))
            interval = min(interval * 1.5, POLL_MAX)

    def _all_tagged(self, batch_id: str, expected: int, ignore: set[str]) -> list[str] | None:
        """The batch's ids when at least ``expected`` carry its tag, else None."""
        ids = [i for i in self.find_ids(batch_id) if i not in ignore]
        return ids if len(ids) >= expected else None

    def _poll(
        self, polled: list[_Chunk], chunks: list[_Chunk], total: int, started: float, label: str
    ) -> None:
        def one(chunk: _Chunk) -> None:
            assert chunk.job_id is not None
            chunk.job = self.client.show_job(chunk.job_id)

        self.map(one, polled)
        for chunk in polled:
            assert chunk.job is not None
            if self._last_status.get(chunk.number) != chunk.job.status:
                self._last_status[chunk.number] = chunk.job.status
                created = sum(
                    c.size for c in chunks if c.job is not None and c.job.status == "SUCCESS"
                )
                self.say(
                    f"{label} {chunk.number}/{len(chunks)} {chunk.job.status}, "
                    f"{created}/{total} EIPs, {self.clock() - started:.0f} s"
                )

    def _await_tagged(
        self,
        request: BatchCreateRequest,
        batch_id: str,
        expected: int,
        started: float,
        chunks: list[_Chunk],
        ignore: set[str],
    ) -> list[str]:
        """Wait until ``expected`` EIPs carry the batch tag. A create whose answer was
        lost (or a 5xx) has no job to watch. When a job of the same create is known, the
        lost calls' jobs (sent with it, as long) are over when it is: once the tag count
        has then not moved for ``SETTLE_STABLE_SECONDS``, the EIPs still missing did not
        land, and only those are sent again. With no job known (every answer lost) the
        count must stay put ``NO_JOB_SETTLE_SECONDS`` first. At most ``MAX_RESENDS``
        times, and only with time left for a job as long as the last. Should the lost
        call land after all, the surplus (the newest) is released here; if it lands
        after this returns, every one carries the batch tag: a refresh shows it and the
        next update releases it."""
        interval = POLL_FIRST
        lost = [c for c in chunks if c.lost is not None]
        lost_first = len(lost)
        jobs_known = any(c.job_id for c in chunks)
        settle = SETTLE_STABLE_SECONDS if jobs_known else NO_JOB_SETTLE_SECONDS
        job_took = self.clock() - started if jobs_known else NO_JOB_SETTLE_SECONDS
        last_count, stable_since = -1, self.clock()
        resent, resends = 0, 0
        refused: CloudApiError | None = None
        ids: list[str] = []
        while True:
            try:
                ids = [i for i in self.find_ids(batch_id) if i not in ignore]
            except BatchIpError:
                if self.clock() - started <= self.timeout:
                    raise
                # The deadline cut the look short: the error tells the last count seen.
            if len(ids) >= expected:
                return self._trim(ids, expected) if resends else ids
            now = self.clock()
            if len(ids) != last_count:
                last_count, stable_since = len(ids), now
            if not lost and now - stable_since >= SETTLE_STABLE_SECONDS:
                # Every job succeeded, yet the tag query stays short: a caller without
                # rights is answered an empty list, so list the EIPs and match the tag.
                listed = self.listed_with_tag(BATCH_TAG_KEY, batch_id)
                ids += [i for i in listed if i not in ignore and i not in set(ids)]
                if len(ids) >= expected:
                    self.say("the tag query showed fewer EIPs than the jobs made: found by listing")
                    return self._trim(ids, expected) if resends else ids
                stable_since = now  # look again after another settle period
            missing = expected - len(ids)
            if (
                lost
                and resends < MAX_RESENDS
                and now - stable_since >= settle
                and missing <= sum(c.size for c in lost)
                and started + self.timeout - now > job_took + SETTLE_STABLE_SECONDS
            ):
                resends += 1
                resent += missing
                self.say(
                    f"{missing} EIPs of a create whose answer was lost did not appear "
                    f"{settle:.0f} s after {'its jobs' if jobs_known else 'it'}: sending "
                    f"those {missing} again"
                )
                lost, job_took, refused = self._resend(
                    request, missing, batch_id, expected, started, ignore
                )
                if not lost:
                    settle = SETTLE_STABLE_SECONDS
                last_count, stable_since = -1, self.clock()
                continue
            if now - started >= self.timeout:
                if refused is not None:
                    cause = (
                        f"the answer to {lost_first} create call(s) was lost and sending "
                        f"the {resent} missing EIPs again was refused ({refused})"
                    )
                elif lost_first and resent:
                    cause = (
                        f"the answer to {lost_first} create call(s) was lost, {resent} EIPs "
                        f"were sent again, and not all appeared"
                    )
                elif lost_first:
                    cause = (
                        f"the answer to {lost_first} create call(s) was lost "
                        f"({lost[0].lost}) and their EIPs did not appear"
                    )
                else:
                    cause = (
                        "the jobs succeeded but not every EIP carries the batch tag (a tag "
                        "query short of what the jobs created can also be a caller without "
                        f"read rights: {PERMISSION_HINT})"
                    )
                raise EipBatchError(
                    f"found {len(ids)} of {expected} EIPs of batch {batch_id} after "
                    f"{self.timeout:.0f} s: {cause}"
                )
            if lost:
                self.say(
                    f"waiting for the EIPs of a create whose answer was lost: {len(ids)}/{expected}"
                )
            self.sleep(min(interval, max(0.0, started + self.timeout - now)))
            interval = min(interval * 1.5, POLL_MAX)

    def _resend(
        self,
        request: BatchCreateRequest,
        count: int,
        batch_id: str,
        expected: int,
        started: float,
        ignore: set[str],
    ) -> tuple[list[_Chunk], float, CloudApiError | None]:
        """Create ``count`` more EIPs of the batch and wait for their jobs. Returns the
        chunks whose answer was lost again (none when the cloud refused: the lost call
        may hold the quota, so the tag is awaited instead) and how long the jobs took."""
        chunks = [_Chunk(n + 1, size) for n, size in enumerate(chunk_sizes(count))]
        self._started.extend(chunks)
        part = attrs.evolve(request, count=count)
        sent = self.clock()
        refused: CloudApiError | None = None
        try:
            self.map(lambda c: self._start(c, part), chunks)
        except CloudApiError as exc:
            refused = exc
            self.say(f"sending again was refused ({exc}): waiting for the lost create by tag")
        there = self._await_jobs(
            chunks,
            count,
            started,  # the create's deadline still holds
            all_there=lambda: self._all_tagged(batch_id, expected, ignore),
            label="sent-again job",
        )
        took = self.clock() - sent
        if there is not None:
            return [], took, refused  # every EIP is there: no other job needs reading
        _raise_if_failed(chunks, lambda _c: "sent again for a lost create")
        return [c for c in chunks if c.lost is not None], took, refused

    def _trim(self, ids: list[str], expected: int) -> list[str]:
        """After a re-send: a lost create that landed late leaves more than ``expected``;
        release the newest surplus (never an older member: those predate the create).
        Under a deadline of its own: the batch is complete whatever happens here, and a
        surplus left carries the batch tag (a refresh shows it)."""
        if len(ids) <= expected:
            return ids
        surplus: list[str] = []
        try:
            with operation_deadline(self.clock() + PURGE_SECONDS):
                records = sorted(
                    self.details(ids, said_by="the batch tag"),
                    key=lambda e: (e.create_time or "", e.id),
                )
                surplus = [e.id for e in records[expected:]]
                self.say(
                    f"a lost create landed after all: releasing the {len(surplus)} newest EIPs"
                )
                self.delete(surplus)
        except BatchIpError as exc:
            self.say(
                f"releasing the surplus failed ({exc}): it keeps the batch tag, so a "
                "refresh shows it and the next update releases it"
            )
        return [i for i in ids if i not in set(surplus)]

    # -- after a failed create ----------------------------------------------------------
    def _settle(self, batch_id: str, deadline: float) -> bool:
        """Wait until every job this object started is finished and the batch's tag
        count has stopped changing (a create whose answer was lost has no job to watch:
        its EIPs can only be seen arriving). True when that was reached in time."""
        interval = POLL_FIRST
        last_count, stable_since = -1, self.clock()
        while True:
            pending = [c for c in self._started if c.job_id and not (c.job and c.job.finished)]
            count = -2  # unknown: a look that failed is never "stable"
            # Its own deadline for the calls too: a call retrying a burst of errors
            # must not eat the time set aside for deleting.
            with operation_deadline(deadline):
                for chunk in pending:
                    assert chunk.job_id is not None
                    with contextlib.suppress(BatchIpError):
                        chunk.job = self.client.show_job(chunk.job_id)
                with contextlib.suppress(BatchIpError):
                    count = len(self.find_ids(batch_id))
            now = self.clock()
            if count != last_count:
                last_count, stable_since = count, now
            still_running = any(c.job_id and not (c.job and c.job.finished) for c in pending)
            lost = any(c.lost is not None for c in self._started)
            if (
                count >= 0
                and not still_running
                and (not lost or now - stable_since >= SETTLE_STABLE_SECONDS)
            ):
                return True
            if now >= deadline:
                return False
            self.sleep(min(interval, max(0.0, deadline - now)))
            interval = min(interval * 1.5, POLL_MAX)

    def fail_with_cleanup(
        self, batch_id: str, cause: BaseException, *, operation: str, keep: Sequence[str] = ()
    ) -> EipBatchError:
        """After a failed create call of ``operation`` (the Pulumi create or update it
        serves): wait for everything it started, delete what carries the batch tag
        (except ``keep``), and say exactly what is known."""
        what = operation
        cause_text = str(cause).rstrip(". ")
        tag = f"{BATCH_TAG_KEY}*{batch_id}"
        if not any(c.job_id or c.lost for c in self._started):
            return EipBatchError(
                f"EipBatch {what} failed: {cause_text}. Nothing was created: every create call "
                "was refused before it did anything."
            )
        # First let what it started finish (bounded: a job that never ends cannot eat
        # the rest), then delete, with time for a full retry budget of each call.
        settle_deadline = self.clock() + self.cleanup_timeout
        settled = self._settle(batch_id, settle_deadline)
        deadline = self.clock() + PURGE_SECONDS
        removed = 0
        with operation_deadline(deadline):
            try:
                while doomed := self._cleanup_targets(batch_id, keep):
                    if self.clock() >= deadline:
                        raise EipBatchError(
                            f"{len(doomed)} EIP(s) still carry the tag when the cleanup "
                            f"deadline ({PURGE_SECONDS:.0f} s for deleting) passed"
                        )
                    self.delete(doomed)
                    removed += len(doomed)
            except (BatchIpError, CloudApiError) as cleanup_exc:
                return EipBatchError(
                    f"EipBatch {what} failed: {cause_text}. Cleanup deleted {removed} EIP(s) "
                    f"tagged {tag}, then failed: {cleanup_exc}. EIPs with that tag may "
                    "remain: `python -m pulumi_batchip orphans` lists them (or list them "
                    "by that tag) to release them."
                )
        made = self._jobs_created()
        if len(self._released - set(keep)) < made:
            # The jobs made more than every answer showed: saying "none left" would hide
            # billed EIPs (a caller without read rights gets empty lists).
            return EipBatchError(
                f"EipBatch {what} failed: {cause_text}. Cleanup deleted {removed} EIP(s) "
                f"tagged {tag}, but its jobs reported {made} created and neither the tag "
                f"query nor the EIP list showed the others: they may remain, and be billed. "
                f"{PERMISSION_HINT}; `python -m pulumi_batchip orphans` then lists them."
            )
        if settled:
            after = "none carries the tag now" if not keep else "only the batch's own remain"
        else:
            after = (
                f"none carried the tag when it checked, but not every job it started had "
                f"finished within {self.cleanup_timeout:.0f} s: EIPs tagged {tag} may still "
                "appear; `python -m pulumi_batchip orphans` finds them"
            )
        return EipBatchError(
            f"EipBatch {what} failed: {cause_text}. Cleaned up: deleted {removed} EIP(s) "
            f"tagged {tag} that it had created; {after}."
        )

    def _jobs_created(self) -> int:
        """EIPs the jobs of this object reported made (a SUCCESS job made its chunk)."""
        return sum(c.size for c in self._started if c.job is not None and c.job.status == "SUCCESS")

    def _cleanup_targets(self, batch_id: str, keep: Sequence[str]) -> list[str]:
        """What carries the batch tag, except ``keep``. When the tag query shows fewer
        than the jobs made (and than were released), the EIPs are listed and their tags
        matched instead: an empty tag answer is no proof there are none."""
        kept = set(keep)
        doomed = [i for i in self.find_ids(batch_id) if i not in kept]
        if len(self._released - kept) + len(doomed) < self._jobs_created():
            listed = self.listed_with_tag(BATCH_TAG_KEY, batch_id)
            doomed += [i for i in listed if i not in kept and i not in set(doomed)]
            doomed = [i for i in doomed if i not in self._released]
        return doomed

    # -- deleting -------------------------------------------------------------------
    def delete(self, ids: Sequence[str]) -> None:
        """Release the EIPs (already gone is fine) and confirm they are gone."""
        if not ids:
            return
        groups = [ids[i : i + MAX_PER_BATCH] for i in range(0, len(ids), MAX_PER_BATCH)]
        self.map(self._delete_group, groups)
        self._confirm_gone(ids)
        self._released.update(ids)

    def _delete_group(self, ids: Sequence[str]) -> None:
        try:
            self.client.batch_delete_publicips(ids)
        except NotFoundError:
            # Some are gone already: the batch call is all-or-nothing, so go one by one.
            for publicip_id in ids:
                with contextlib.suppress(NotFoundError):
                    self.client.delete_publicip(publicip_id)

    def _confirm_gone(self, ids: Sequence[str]) -> None:
        started = self.clock()
        left_time = remaining_time(self.clock)
        limit = self.timeout if left_time is None else min(self.timeout, left_time)
        interval = POLL_FIRST
        while True:
            left = self.details(ids, pending_delete=True, said_by=None)
            by_id_only = False
            if not left:
                # The list shows none left. It is believed for EIPs some list answer of
                # this operation showed (it can see them); the others are read by id
                # (a sample), since a caller without rights is answered an empty list.
                unseen = [i for i in ids if i not in self._listed]
                left = read_by_id(self.client, sample(unseen), run=self.map) if unseen else []
                by_id_only = bool(left)
                if not left:
                    return
            if self.clock() - started > limit:
                listing = ", ".join(e.id for e in left[:10])
                if by_id_only:
                    raise EipBatchError(
                        f"{len(left)} EIPs still exist by id {limit:.0f} s after their "
                        f"delete although the EIP list shows none: {listing}. "
                        f"{PERMISSION_HINT}."
                    )
                raise EipBatchError(
                    f"{len(left)} EIPs still exist {limit:.0f} s after their delete: {listing}"
                )
            self.sleep(interval)
            interval = min(interval * 1.5, POLL_MAX)
