"""``BatchOperations``: one operation's session with the multi-call procedures as
methods (create in chunks, await the new EIPs, clean up after a failed create,
delete and confirm gone). The procedures live in their own modules beside this one."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from . import batch_create, cleanup, release
from .eip import BatchCreateRequest, PublicIp
from .outcome import CleanupOutcome
from .session import EipBatchError, EipSession


class BatchOperations(EipSession):
    def create(
        self,
        request: BatchCreateRequest,
        batch_id: str,
        base: int,
        ignore: Sequence[str] = (),
    ) -> list[str]:
        """See :func:`batch_create.create`."""
        return batch_create.create(self, request, batch_id, base, ignore)

    def created(self, ids: Sequence[str], *, new: Collection[str]) -> list[PublicIp]:
        """See :func:`batch_create.created`."""
        return batch_create.created(self, ids, new=new)

    def cleanup(self, batch_id: str, *, keep: Sequence[str] = ()) -> CleanupOutcome:
        """See :func:`cleanup.cleanup`."""
        return cleanup.cleanup(self, batch_id, keep=keep)

    def fail_with_cleanup(
        self, batch_id: str, cause: BaseException, *, operation: str, keep: Sequence[str] = ()
    ) -> EipBatchError:
        """See :func:`cleanup.fail_with_cleanup`."""
        return cleanup.fail_with_cleanup(self, batch_id, cause, operation=operation, keep=keep)

    def delete(self, ids: Sequence[str]) -> None:
        """See :func:`release.delete`."""
        release.delete(self, ids)
