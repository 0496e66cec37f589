"""The multi-call EIP procedures behind EipBatch, by their old names: they live in
``pulumi_batchip.huawei`` now (``session``, ``jobs``, ``batch_create``, ``cleanup``,
``release``, ``adoption``, ``resize``, ``lifecycle``), one job per module."""

from __future__ import annotations

from .huawei.batch_create import MAX_RESENDS as MAX_RESENDS
from .huawei.batch_create import NO_JOB_SETTLE_SECONDS as NO_JOB_SETTLE_SECONDS
from .huawei.batch_create import PURGE_SECONDS as PURGE_SECONDS
from .huawei.batch_create import SETTLE_STABLE_SECONDS as SETTLE_STABLE_SECONDS
from .huawei.jobs import chunk_sizes as chunk_sizes
from .huawei.operations import BatchOperations as BatchOperations
from .huawei.outcome import CleanupOutcome as CleanupOutcome
from .huawei.session import BROKEN as BROKEN
from .huawei.session import CREATING as CREATING
from .huawei.session import IDS_PER_LIST_CALL as IDS_PER_LIST_CALL
from .huawei.session import LEAVING as LEAVING
from .huawei.session import PENDING_DELETE as PENDING_DELETE
from .huawei.session import EipBatchError as EipBatchError
from .huawei.tags import BATCH_TAG_KEY as BATCH_TAG_KEY
from .huawei.tags import MANAGED_TAG as MANAGED_TAG
from .huawei.tags import RESERVED_TAG_KEYS as RESERVED_TAG_KEYS
from .huawei.tags import STACK_TAG_KEY as STACK_TAG_KEY
from .huawei.tags import batch_tags as batch_tags
from .huawei.tags import stack_tag_value as stack_tag_value
from .resilience import CONCURRENCY as CONCURRENCY
from .resilience import POLL_FIRST as POLL_FIRST
from .resilience import POLL_MAX as POLL_MAX
