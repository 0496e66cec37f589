"""What the program asks of a batch, in the cloud's terms: the provider builds a
``Desired`` from the checked inputs, and every procedure works from it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from .eip import BandwidthSpec, BatchCreateRequest
from .tags import batch_tags


@attrs.frozen
class Desired:
    batch_id: str
    count: int
    publicip_type: str = "5_bgp"
    ip_version: int = 4
    bandwidth: dict[str, Any] = attrs.field(factory=dict)
    user_tags: dict[str, str] = attrs.field(factory=dict)
    enterprise_project_id: str | None = None
    stack_scope: str | None = None
    adopt_batch_id: str | None = None
    adopt_eip_ids: tuple[str, ...] = ()

    @classmethod
    def from_inputs(cls, batch_id: str, props: Mapping[str, Any]) -> Desired:
        """From checked inputs (or a migrated state)."""
        count = props.get("count")
        scope = props.get("stack_scope")
        return cls(
            batch_id=batch_id,
            count=int(count) if count is not None else len(props.get("eip_ids") or ()),
            publicip_type=str(props.get("publicip_type", "5_bgp")),
            ip_version=int(props.get("ip_version", 4)),
            bandwidth=dict(props.get("bandwidth") or {}),
            user_tags=dict(props.get("tags") or {}),
            enterprise_project_id=props.get("enterprise_project_id"),
            stack_scope=scope if isinstance(scope, str) else None,
            adopt_batch_id=str(props["adopt_batch_id"]) if props.get("adopt_batch_id") else None,
            adopt_eip_ids=tuple(str(i) for i in props.get("adopt_eip_ids") or ()),
        )

    @property
    def adopting(self) -> bool:
        return bool(self.adopt_batch_id or self.adopt_eip_ids)

    @property
    def tags(self) -> dict[str, str]:
        """Every tag the batch's EIPs carry: the user's and pulumi-batchip's."""
        return batch_tags(self.batch_id, self.user_tags, self.stack_scope)

    def request(self, count: int) -> BatchCreateRequest:
        """The create of ``count`` EIPs of this batch."""
        bw = self.bandwidth
        share = bw.get("share_type", "PER")
        name = bw.get("name") or (f"batchip-{self.batch_id[:8]}" if share == "PER" else None)
        return BatchCreateRequest(
            count=count,
            publicip_type=self.publicip_type,
            ip_version=self.ip_version,
            bandwidth=BandwidthSpec(
                size=int(bw["size"]) if bw.get("size") is not None else 0,
                share_type=share,
                charge_mode=bw.get("charge_mode"),
                name=name,
                id=bw.get("id"),
            ),
            tags=self.tags,
            enterprise_project_id=self.enterprise_project_id,
        )
