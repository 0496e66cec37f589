"""The create calls of a batch and their jobs: split a count into calls, start them,
poll the jobs until they end or the deadline passes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import attrs

from ..errors import BatchIpError, CloudApiError, TransportError
from ..resilience import Pacer, outcome_unknown
from .eip import MAX_PER_BATCH, BatchCreateRequest
from .session import Chunk, EipBatchError, EipSession


def chunk_sizes(count: int, limit: int = MAX_PER_BATCH) -> list[int]:
    """200 → [50, 50, 50, 50]; 51 → [50, 1]."""
    full, rest = divmod(count, limit)
    return [limit] * full + ([rest] if rest else [])


def chunks_of(ops: EipSession, count: int) -> list[Chunk]:
    """The calls that create ``count`` EIPs, recorded as started by ``ops``."""
    chunks = [Chunk(n + 1, size) for n, size in enumerate(chunk_sizes(count))]
    ops.started.extend(chunks)
    return chunks


def start(ops: EipSession, chunk: Chunk, request: BatchCreateRequest) -> None:
    """Send one create call. A call that may have acted without an answer (sent and
    lost, or a 5xx: a gateway timing out on the backend) is marked lost; one the cloud
    refused (or that never left) raises."""
    part = attrs.evolve(request, count=chunk.size)
    try:
        chunk.job_id = ops.client.batch_create_publicips(part)
    except (TransportError, CloudApiError) as exc:
        if not outcome_unknown(exc):
            raise
        chunk.lost = exc


def raise_if_failed(chunks: Sequence[Chunk], which: Callable[[Chunk], str]) -> None:
    """Raise for the first chunk whose job ended in anything but SUCCESS."""
    for chunk in chunks:
        job = chunk.job
        if job is not None and job.status != "SUCCESS":
            raise EipBatchError(
                f"job {job.job_id} ({which(chunk)}) ended {job.status}: "
                f"{job.error_code or 'no code'} {job.fail_reason or 'no reason given'}"
            )


def all_tagged(ops: EipSession, batch_id: str, expected: int, ignore: set[str]) -> list[str] | None:
    """The batch's ids when at least ``expected`` carry its tag, else None."""
    ids = [i for i in ops.find_ids(batch_id) if i not in ignore]
    return ids if len(ids) >= expected else None


@attrs.define
class JobWatch:
    """Polls the jobs of one create (or re-send) until each is finished. The jobs start
    together and take about as long, so each round polls only the newest unfinished one
    (a round costs one call, not one per job). Once that one succeeded, one look at the
    batch tag (``all_there``) usually shows every EIP there: the batch's ids are
    returned without reading the other jobs. Else one concurrent sweep reads them, and
    None is returned once all are finished."""

    ops: EipSession
    chunks: list[Chunk]
    total: int
    started: float  # when the create began: its deadline is started + ops.timeout
    all_there: Callable[[], list[str] | None]
    label: str = "job"
    _last_status: dict[int, str] = attrs.field(factory=dict)
    _pacer: Pacer | None = None

    def wait(self) -> list[str] | None:
        pacer = self._pacer = self.ops.pacer(self.started + self.ops.timeout - self.ops.clock())
        for _ in pacer:
            while True:  # a sweep that found some still running goes on without a pause
                pending = [c for c in self.chunks if not c.done and c.job_id]
                if not pending:
                    return None
                try:
                    there = self._round(pending)
                except BatchIpError:
                    if not pacer.expired:
                        raise  # else: the deadline cut the poll short, said below
                    there = None
                if there is not None:
                    return there
                if all(c.done for c in self.chunks if c.job_id):
                    return None
                if pacer.expired or not pending[-1].done:
                    break
        waiting = [c.job_id for c in self.chunks if not c.done and c.job_id]
        raise EipBatchError(
            f"jobs {', '.join(str(j) for j in waiting)} did not finish within "
            f"{self.ops.timeout:.0f} s"
        )

    def _round(self, pending: list[Chunk]) -> list[str] | None:
        newest = pending[-1]
        self._poll([newest])
        if not newest.done or len(pending) == 1:
            return None
        if newest.job is not None and newest.job.status == "SUCCESS":
            there = self.all_there()
            if there is not None:
                self.ops.say(
                    f"all {self.total} EIPs carry the batch tag: the other "
                    f"{len(pending) - 1} jobs created theirs, "
                    f"{self.ops.clock() - self.started:.0f} s"
                )
                return there
        self._poll(pending[:-1])
        return None

    def _poll(self, polled: list[Chunk]) -> None:
        def one(chunk: Chunk) -> None:
            assert chunk.job_id is not None
            chunk.job = self.ops.client.show_job(chunk.job_id)

        self.ops.map(one, polled)
        created = sum(
            c.size for c in self.chunks if c.job is not None and c.job.status == "SUCCESS"
        )
        elapsed = f"{self.ops.clock() - self.started:.0f} s"
        finished = sum(1 for c in self.chunks if c.done)
        news = (
            f"{self.label}s: {finished}/{len(self.chunks)} finished, "
            f"{created}/{self.total} EIPs created"
        )
        changed = False
        for chunk in polled:
            assert chunk.job is not None
            if self._last_status.get(chunk.number) != chunk.job.status:
                self._last_status[chunk.number] = chunk.job.status
                changed = True
                self.ops.say(
                    f"{self.label} {chunk.number}/{len(self.chunks)} {chunk.job.status}, "
                    f"{created}/{self.total} EIPs, {elapsed}"
                )
        if self._pacer is None:
            return
        # Jobs can run for minutes without a status change: say they are alive every
        # 10 s, with what they have made so far.
        if changed:
            self._pacer.note(news)
        else:
            self._pacer.report(self.ops.say, f"{news}, {elapsed}", news=news)
