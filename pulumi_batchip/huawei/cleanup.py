"""After a failed create: let what it started finish, delete what carries the batch
tag (but the batch's own members), and say what is known (``CleanupOutcome``)."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from ..errors import BatchIpError, CloudApiError
from ..resilience import operation_deadline
from .batch_create import PURGE_SECONDS, SETTLE_STABLE_SECONDS
from .outcome import CleanupOutcome
from .ownership import BATCH_TAG_KEY
from .release import delete
from .session import EipBatchError, EipSession


def settle(ops: EipSession, batch_id: str, deadline: float) -> bool:
    """Wait until every job ``ops`` started is finished and the batch's tag count has
    stopped changing (a create whose answer was lost has no job to watch: its EIPs can
    only be seen arriving). True when that was reached in time."""
    # Its own deadline for the calls too: a call retrying a burst of errors must not
    # eat the time set aside for deleting.
    with operation_deadline(deadline):
        pacer = ops.pacer(deadline - ops.clock())
        last_count, stable_since = -1, ops.clock()
        for _ in pacer:
            pending = [c for c in ops.started if c.running]
            count = -2  # unknown: a look that failed is never "stable"
            for chunk in pending:
                assert chunk.job_id is not None
                with contextlib.suppress(BatchIpError):
                    chunk.job = ops.client.show_job(chunk.job_id)
            with contextlib.suppress(BatchIpError):
                count = len(ops.find_ids(batch_id))
            now = ops.clock()
            if count != last_count:
                last_count, stable_since = count, now
            lost = any(c.lost is not None for c in ops.started)
            if (
                count >= 0
                and not any(c.running for c in pending)
                and (not lost or now - stable_since >= SETTLE_STABLE_SECONDS)
            ):
                return True
    return False


def cleanup(ops: EipSession, batch_id: str, *, keep: Sequence[str] = ()) -> CleanupOutcome:
    """Wait for everything the creates of ``ops`` started, then delete what carries the
    batch tag (except ``keep``)."""
    if not any(c.job_id or c.lost for c in ops.started):
        return CleanupOutcome(batch_id, started=False)
    # First let what it started finish (bounded: a job that never ends cannot eat the
    # rest), then delete, with time for a full retry budget of each call.
    settled = settle(ops, batch_id, ops.clock() + ops.cleanup_timeout)
    deadline = ops.clock() + PURGE_SECONDS
    removed = 0
    with operation_deadline(deadline):
        try:
            while doomed := _targets(ops, batch_id, keep):
                if ops.clock() >= deadline:
                    raise EipBatchError(
                        f"{len(doomed)} EIP(s) still carry the tag when the cleanup "
                        f"deadline ({PURGE_SECONDS:.0f} s for deleting) passed"
                    )
                delete(ops, doomed)
                removed += len(doomed)
        except (BatchIpError, CloudApiError) as exc:
            return CleanupOutcome(batch_id, started=True, deleted=removed, failed=exc)
    made = ops.jobs_created()
    return CleanupOutcome(
        batch_id,
        started=True,
        deleted=removed,
        created=made,
        unaccounted=len(ops.released - set(keep)) < made,
        settled=settled,
        kept_own=bool(keep),
        settle_seconds=ops.cleanup_timeout,
    )


def fail_with_cleanup(
    ops: EipSession,
    batch_id: str,
    cause: BaseException,
    *,
    operation: str,
    keep: Sequence[str] = (),
) -> EipBatchError:
    """After a failed create call of ``operation`` (the Pulumi create or update it
    serves): clean up, and the error that says exactly what is known."""
    return cleanup(ops, batch_id, keep=keep).error(operation, cause)


def _targets(ops: EipSession, batch_id: str, keep: Sequence[str]) -> list[str]:
    """What carries the batch tag, except ``keep``. When the tag query shows fewer than
    the jobs made (and than were released), the EIPs are listed and their tags matched
    instead: an empty tag answer is no proof there are none."""
    kept = set(keep)
    doomed = [i for i in ops.find_ids(batch_id) if i not in kept]
    if len(ops.released - kept) + len(doomed) < ops.jobs_created():
        listed = ops.listed_with_tag(BATCH_TAG_KEY, batch_id)
        doomed += [i for i in listed if i not in kept and i not in set(doomed)]
        doomed = [i for i in doomed if i not in ops.released]
    return doomed
