"""The tags pulumi-batchip writes on every EIP of a batch."""

from __future__ import annotations

import hashlib

from .ownership import BATCH_TAG_KEY as BATCH_TAG_KEY
from .ownership import STACK_TAG_KEY as STACK_TAG_KEY

MANAGED_TAG = ("managed-by", "pulumi-batchip")
RESERVED_TAG_KEYS = frozenset({MANAGED_TAG[0], BATCH_TAG_KEY, STACK_TAG_KEY})


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
