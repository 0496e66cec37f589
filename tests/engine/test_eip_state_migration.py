"""State written by older code is migrated, never read as a change."""

from __future__ import annotations

from typing import Any

from pulumi_batchip.eip_batch import EipBatchProvider
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID

OLD_STATE: dict[str, Any] = {
    # What a `.get` (and older code) stored: no charge_mode, no ip_version, no tags.
    "batch_id": "b1",
    "count": 2,
    "bandwidth": {"size": 5, "share_type": "PER"},
    "region": "cn-north-4",
    "project_id": DEFAULT_HW_PROJECT_ID,
    "eip_ids": ["e1", "e2"],
}


def test_state_from_older_code_is_migrated_not_replaced() -> None:
    provider = EipBatchProvider()
    news = {
        "count": 2,
        "publicip_type": "5_bgp",
        "ip_version": 4,
        "bandwidth": {"size": 5, "share_type": "PER", "charge_mode": "bandwidth"},
        "tags": {},
        "region": "cn-north-4",
        "project_id": DEFAULT_HW_PROJECT_ID,
    }
    diff = provider.diff("b1", dict(OLD_STATE), news)
    assert diff.changes is False and not diff.replaces
