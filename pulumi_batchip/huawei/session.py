"""One EipBatch operation's view of the cloud: its client, deadline, clock and progress
line, what it started and saw, and the look-ups every procedure shares (a batch by
its tag, EIP records by id). The procedures beside this module take an ``EipSession``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs

from ..errors import AuthError, BatchIpError, NotFoundError
from ..resilience import Clock, Pacer, Sleep, parallel_map
from .confirm import confirm_absent
from .eip import LIST_PAGE_LIMIT, EipClient, Job, PublicIp
from .ownership import BATCH_TAG_KEY

IDS_PER_LIST_CALL = 50  # keeps the id-filtered list URL short
PENDING_DELETE = "PENDING_DELETE"  # a deleted EIP's status until it is gone
# EIP statuses (API Reference, ShowPublicip "status"): being released; left broken by
# a create or a bind; still being created.
LEAVING = frozenset({PENDING_DELETE, "NOTIFY_DELETE"})
BROKEN = frozenset({"ERROR", "BIND_ERROR"})
CREATING = frozenset({"PENDING_CREATE", "NOTIFYING"})
T = TypeVar("T")
R = TypeVar("R")


class EipBatchError(BatchIpError):
    """An EipBatch operation failed; the message says what was cleaned up."""


@attrs.define
class Chunk:
    """One create call (at most 50 EIPs) and what is known of it."""

    number: int
    size: int
    job_id: str | None = None
    job: Job | None = None
    lost: BatchIpError | None = None  # the create's outcome is unknown

    @property
    def done(self) -> bool:
        return self.lost is not None or (self.job is not None and self.job.finished)

    @property
    def running(self) -> bool:
        """A job was started and is not known to be finished."""
        return self.job_id is not None and not (self.job is not None and self.job.finished)


class EipSession:
    """One operation's EIP calls. Every call of a create (each retry, each poll) keeps
    to one deadline (``timeout``); a failed create is cleaned up under a deadline of
    its own (``cleanup_timeout``), so cleanup always gets its time."""

    def __init__(
        self,
        client: EipClient,
        *,
        timeout: float,
        say: Callable[[str], None],
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
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
        self.started: list[Chunk] = []
        self._listing_instead = False
        # A whole-project page came back full: the project does not fit on one.
        self._project_overflows = False
        # Ids some list answer of this operation showed: the list can see them, so its
        # saying later that they are gone is believed (see release.confirm_gone).
        self.listed: set[str] = set()
        # Ids this operation released (and saw gone).
        self.released: set[str] = set()

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` in threads that see this context (the deadline)."""
        return parallel_map(fn, items)

    def pacer(self, timeout: float) -> Pacer:
        """The rounds of a wait of at most ``timeout`` s, on this session's clock."""
        return Pacer(max(0.0, timeout), clock=self.clock, sleep=self.sleep)

    def jobs_created(self) -> int:
        """EIPs the jobs of this object reported made (a SUCCESS job made its chunk)."""
        return sum(c.size for c in self.started if c.job is not None and c.job.status == "SUCCESS")

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
        self.listed.update(e.id for e in listed)
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
        if len(wanted) > IDS_PER_LIST_CALL and not self._project_overflows:
            # More than one id-filtered list: one unfiltered page instead. A page
            # shorter than the API's cap is the whole project, so an id not on it
            # does not exist; a full page leaves the rest to the filtered lists (and
            # the later looks of this operation go to them directly).
            page = self.client.list_publicips_page(limit=self.page_limit)
            whole = set(wanted)
            by_id = {eip.id: eip for eip in page if eip.id in whole}
            self._project_overflows = len(page) >= self.page_limit
            wanted = [i for i in wanted if i not in by_id] if self._project_overflows else []
        groups = [
            wanted[i : i + IDS_PER_LIST_CALL] for i in range(0, len(wanted), IDS_PER_LIST_CALL)
        ]
        for page in self.map(lambda g: self.client.list_publicips(g), groups):
            by_id.update((eip.id, eip) for eip in page)
        self.listed.update(by_id)
        if said_by is not None:
            absent = [i for i in dict.fromkeys(ids) if i not in by_id]
            confirm_absent(self.client, absent, what=said_by, run=self.map)
        return [
            by_id[i]
            for i in ids
            if i in by_id and (pending_delete or by_id[i].status not in LEAVING)
        ]
