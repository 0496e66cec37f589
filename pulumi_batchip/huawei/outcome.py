"""What a cleanup after a failed create leaves, worded once."""

from __future__ import annotations

import attrs

from .confirm import PERMISSION_HINT
from .ownership import BATCH_TAG_KEY
from .session import EipBatchError

ORPHANS = "`python -m pulumi_batchip orphans`"


@attrs.frozen
class CleanupOutcome:
    """After a failed create call: whether any call may have acted (``started``), what
    the cleanup deleted, what the jobs reported created, whether some of those were
    never seen (``unaccounted``: they may remain, billed), the cleanup's own failure,
    and whether every job had finished and the tag count had stopped changing
    (``settled``, within ``settle_seconds``)."""

    batch_id: str
    started: bool
    deleted: int = 0
    created: int = 0
    unaccounted: bool = False
    failed: BaseException | None = None
    settled: bool = True
    kept_own: bool = False  # the batch's own members were kept (an update or adoption)
    settle_seconds: float = 0.0

    @property
    def tag(self) -> str:
        return f"{BATCH_TAG_KEY}*{self.batch_id}"

    @property
    def may_remain(self) -> bool:
        """Whether EIPs tagged with the batch may still exist."""
        return self.failed is not None or self.unaccounted or not self.settled

    def describe(self, operation: str, cause: BaseException | str) -> str:
        """The whole story: which Pulumi operation failed and why, then what is left."""
        return f"EipBatch {operation} failed: {str(cause).rstrip('. ')}. {self._left()}"

    def error(self, operation: str, cause: BaseException | str) -> EipBatchError:
        return EipBatchError(self.describe(operation, cause))

    def _left(self) -> str:
        if not self.started:
            return "Nothing was created: every create call was refused before it did anything."
        deleted = f"deleted {self.deleted} EIP(s) tagged {self.tag}"
        if self.failed is not None:
            return (
                f"Cleanup {deleted}, then failed: {self.failed}. EIPs with that tag may "
                f"remain: {ORPHANS} lists them (or list them by that tag) to release them."
            )
        if self.unaccounted:
            # The jobs made more than every answer showed: saying "none left" would hide
            # billed EIPs (a caller without read rights gets empty lists).
            return (
                f"Cleanup {deleted}, but its jobs reported {self.created} created and "
                "neither the tag query nor the EIP list showed the others: they may "
                f"remain, and be billed. {PERMISSION_HINT}; {ORPHANS} then lists them."
            )
        if not self.settled:
            after = (
                "none carried the tag when it checked, but not every job it started had "
                f"finished within {self.settle_seconds:.0f} s: EIPs tagged {self.tag} may "
                f"still appear; {ORPHANS} finds them"
            )
        elif self.kept_own:
            after = "only the batch's own remain"
        else:
            after = "none carries the tag now"
        return f"Cleaned up: {deleted} that it had created; {after}."
