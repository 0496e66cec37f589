"""A small typed client for the Huawei Cloud EIP operations EipBatch needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import httpx

from ..config import HuaweiSettings
from ..errors import HUAWEI_EIP, decode_huawei_error
from ..http import ApiCaller, RetryPolicy, json_object, new_http_client, path_segment
from .signer import HuaweiSigner

MAX_PER_BATCH = 50  # publicip_number limit of one batchpublicips call
LIST_PAGE_LIMIT = 2000
TAG_PAGE_LIMIT = 1000
SHARED_MIN_SIZE = 5  # Mbit/s: the default minimum of a shared bandwidth


@attrs.frozen
class BandwidthSpec:
    size: int
    share_type: str  # PER | WHOLE
    charge_mode: str | None = None  # bandwidth | traffic
    name: str | None = None
    id: str | None = None

    def to_json(self) -> dict[str, Any]:
        # `size` is always sent: the Go SDK's BatchBandwidth never omits it, while the
        # BatchCreatePublicips page says a WHOLE bandwidth with an id ignores it. A
        # shared bandwidth's size is its owner's, so without one of the program's the
        # smallest valid shared size goes (5 Mbit/s, BatchCreateSharedBandwidths):
        # right whether the API validates it or ignores it.
        body: dict[str, Any] = {"share_type": self.share_type, "size": self.size}
        if self.share_type == "WHOLE" and not self.size:
            body["size"] = SHARED_MIN_SIZE
        for key in ("charge_mode", "name", "id"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body


@attrs.frozen
class BatchCreateRequest:
    count: int
    publicip_type: str
    ip_version: int  # 4 | 6
    bandwidth: BandwidthSpec
    tags: Mapping[str, str] = attrs.field(factory=dict)
    enterprise_project_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        publicip: dict[str, Any] = {
            "type": self.publicip_type,
            # This API takes the version as a string (the v1 API takes 4/6).
            "ip_version": f"ipv{self.ip_version}",
            "tags": [f"{k}*{v}" for k, v in sorted(self.tags.items())],
        }
        # The international API reference marks enterprise_project_id required on
        # BatchCreatePublicips and its example sends "0" (the default project).
        project = self.enterprise_project_id if self.enterprise_project_id is not None else "0"
        publicip["enterprise_project_id"] = project
        return {
            "bandwidth": self.bandwidth.to_json(),
            "publicip": publicip,
            "publicip_number": self.count,
            "enterprise_project_id": project,
        }


# Job states that mean "not finished yet" (Huawei: INIT, RUNNING; PENDING/WAITING
# where other VPC jobs use them).
RUNNING_JOB_STATES = frozenset({"INIT", "RUNNING", "PENDING", "WAITING"})


@attrs.frozen
class Job:
    job_id: str
    status: str  # INIT | RUNNING | SUCCESS | FAIL
    job_type: str | None = None
    error_code: str | None = None
    fail_reason: str | None = None
    begin_time: str | None = None
    end_time: str | None = None
    sub_jobs: tuple[Job, ...] = ()

    @property
    def finished(self) -> bool:
        # Any word but a running one is terminal (FAIL, and FAILED or ERROR where a
        # region says so): a failed job must never wait out the whole deadline.
        return self.status.upper() not in RUNNING_JOB_STATES

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Job:
        entities = raw.get("entities") or {}
        subs = entities.get("sub_jobs") if isinstance(entities, dict) else None
        return cls(
            job_id=str(raw.get("job_id", "")),
            status=str(raw.get("status", "")),
            job_type=_opt_str(raw.get("job_type")),
            error_code=_opt_str(raw.get("error_code")),
            fail_reason=_opt_str(raw.get("fail_reason")),
            begin_time=_opt_str(raw.get("begin_time")),
            end_time=_opt_str(raw.get("end_time")),
            sub_jobs=tuple(cls.from_json(s) for s in subs or () if isinstance(s, dict)),
        )


@attrs.frozen
class PublicIp:
    id: str
    status: str
    type: str | None = None
    ip_version: int = 4
    public_ip_address: str | None = None
    public_ipv6_address: str | None = None
    port_id: str | None = None
    bandwidth_id: str | None = None
    bandwidth_size: int | None = None
    bandwidth_share_type: str | None = None
    bandwidth_name: str | None = None
    enterprise_project_id: str | None = None
    create_time: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict)

    @property
    def address(self) -> str | None:
        """The address of the EIP's own IP version."""
        return self.public_ipv6_address if self.ip_version == 6 else self.public_ip_address

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PublicIp:
        size = raw.get("bandwidth_size")
        return cls(
            id=str(raw.get("id", "")),
            status=str(raw.get("status", "")),
            type=_opt_str(raw.get("type")),
            ip_version=int(raw.get("ip_version") or 4),
            public_ip_address=_opt_str(raw.get("public_ip_address")),
            public_ipv6_address=_opt_str(raw.get("public_ipv6_address")),
            port_id=_opt_str(raw.get("port_id")),
            bandwidth_id=_opt_str(raw.get("bandwidth_id")),
            bandwidth_size=int(size) if size is not None else None,
            bandwidth_share_type=_opt_str(raw.get("bandwidth_share_type")),
            bandwidth_name=_opt_str(raw.get("bandwidth_name")),
            enterprise_project_id=_opt_str(raw.get("enterprise_project_id")),
            create_time=_opt_str(raw.get("create_time")),
            tags=parse_tags(raw.get("tags")),
        )


@attrs.frozen
class TaggedResource:
    resource_id: str
    resource_name: str | None = None
    tags: Mapping[str, str] = attrs.field(factory=dict)


def parse_tags(raw: object) -> dict[str, str]:
    """Tags come as ``"key*value"`` strings or as ``{"key", "value"}`` objects."""
    tags: dict[str, str] = {}
    if not isinstance(raw, list):
        return tags
    for item in raw:
        if isinstance(item, str):
            key, _, value = item.partition("*")
            tags[key] = value
        elif isinstance(item, dict) and "key" in item:
            tags[str(item["key"])] = str(item.get("value", ""))
    return tags


class EipClient:
    """EIP v1/v2/v2.0 operations, all under one project."""

    def __init__(self, caller: ApiCaller, *, project_id: str) -> None:
        self._caller = caller
        self._project = project_id

    @classmethod
    def from_settings(
        cls,
        settings: HuaweiSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        timeout: httpx.Timeout | None = None,
    ) -> EipClient:
        creds = settings.credentials
        auth = HuaweiSigner(
            creds.access_key,
            creds.secret_key,
            security_token=creds.security_token,
            project_id=settings.project_id,
        )
        extra = {"timeout": timeout} if timeout is not None else {}
        client = new_http_client(
            base_url=settings.endpoint, auth=auth, transport=transport, **extra
        )
        caller = ApiCaller(
            client, cloud=HUAWEI_EIP, decode_error=decode_huawei_error, policy=policy
        )
        return cls(caller, project_id=settings.project_id)

    def close(self) -> None:
        self._caller.close()

    def batch_create_publicips(self, request: BatchCreateRequest) -> str:
        """Start a batch create; returns the job id. Never retried once sent: a lost
        answer surfaces as ``TransportError(sent=True)`` for the caller to resolve."""
        if not 1 <= request.count <= MAX_PER_BATCH:
            raise ValueError(f"publicip_number must be 1..{MAX_PER_BATCH}")
        response = self._caller.call(
            "BatchCreatePublicips",
            "POST",
            f"/v2/{self._project}/batchpublicips",
            json=request.to_json(),
            idempotent=False,
        )
        return str(json_object(response).get("job_id", ""))

    def show_job(self, job_id: str) -> Job:
        response = self._caller.call(
            "ShowResourcesJobDetail",
            "GET",
            f"/v1/{self._project}/jobs/{path_segment(job_id)}",
            idempotent=True,
        )
        return Job.from_json(json_object(response))

    def show_publicip(self, publicip_id: str) -> PublicIp:
        response = self._caller.call(
            "ShowPublicip",
            "GET",
            f"/v1/{self._project}/publicips/{path_segment(publicip_id)}",
            idempotent=True,
        )
        return PublicIp.from_json(json_object(response).get("publicip") or {})

    def list_publicips(
        self, ids: Sequence[str] | None = None, *, page_limit: int = LIST_PAGE_LIMIT
    ) -> list[PublicIp]:
        """Every EIP (or those with the given ids), following ``marker`` paging."""
        page_limit = max(1, min(page_limit, LIST_PAGE_LIMIT))  # the API caps pages at 2000
        found: list[PublicIp] = []
        marker: str | None = None
        while True:
            page = self.list_publicips_page(ids, limit=page_limit, marker=marker)
            found.extend(page)
            if len(page) < page_limit:
                return found
            marker = page[-1].id

    def list_publicips_page(
        self,
        ids: Sequence[str] | None = None,
        *,
        limit: int = LIST_PAGE_LIMIT,
        marker: str | None = None,
    ) -> list[PublicIp]:
        """One page of ``ListPublicips``: fewer than ``limit`` records means the last."""
        # all_granted_eps: every EIP the caller may see, whatever its enterprise
        # project (as terraform-provider-huaweicloud lists them).
        params: list[tuple[str, Any]] = [
            ("limit", max(1, min(limit, LIST_PAGE_LIMIT))),
            ("enterprise_project_id", "all_granted_eps"),
        ]
        params += [("id", i) for i in ids or ()]
        if marker:
            params.append(("marker", marker))
        response = self._caller.call(
            "ListPublicips",
            "GET",
            f"/v1/{self._project}/publicips",
            params=params,
            idempotent=True,
        )
        return [PublicIp.from_json(p) for p in json_object(response).get("publicips") or ()]

    def list_publicips_by_tags(
        self, tags: Mapping[str, Sequence[str]], *, page_limit: int = TAG_PAGE_LIMIT
    ) -> list[TaggedResource]:
        """EIPs carrying every given tag key (any of its values; empty = any value)."""
        found: list[TaggedResource] = []
        offset = 0
        while True:
            body = {
                "action": "filter",
                "tags": [{"key": k, "values": list(v)} for k, v in tags.items()],
                "limit": page_limit,
                "offset": offset,
            }
            response = self._caller.call(
                "ListPublicipsByTags",
                "POST",
                f"/v2.0/{self._project}/publicips/resource_instances/action",
                json=body,
                idempotent=True,  # a filter query changes nothing
            )
            payload = json_object(response)
            page = [
                TaggedResource(
                    resource_id=str(r.get("resource_id", "")),
                    resource_name=_opt_str(r.get("resource_name")),
                    tags=parse_tags(r.get("tags")),
                )
                for r in payload.get("resources") or ()
            ]
            found.extend(page)
            total = payload.get("total_count")
            offset += len(page)
            if not page or (isinstance(total, int) and offset >= total):
                return found

    def delete_publicip(self, publicip_id: str) -> None:
        """Release one EIP. A 404 raises NotFoundError: the caller decides it is fine."""
        self._caller.call(
            "DeletePublicip",
            "DELETE",
            f"/v1/{self._project}/publicips/{path_segment(publicip_id)}",
            idempotent=True,
        )

    def batch_delete_publicips(self, publicip_ids: Sequence[str]) -> list[str]:
        """Release many EIPs in one call; returns the (unqueryable) job ids."""
        response = self._caller.call(
            "BatchDeletePublicIp",
            "DELETE",
            f"/v2/{self._project}/batchpublicips",
            json={"publicip_ids": list(publicip_ids)},
            idempotent=True,  # deleting twice is harmless; the second finds nothing
        )
        return [str(j) for j in json_object(response).get("job_ids") or ()]

    def update_bandwidth_size(
        self, bandwidth_id: str, size: int, charge_mode: str, name: str | None
    ) -> None:
        """Resize a bandwidth in place (``UpdateBandwidth``). ``charge_mode`` always
        goes: left out, it means "bandwidth" (API Reference, Table 4-62), which would
        switch a traffic-billed bandwidth's billing; ``name`` too, as terraform sends
        it."""
        option: dict[str, Any] = {"size": size, "charge_mode": charge_mode}
        if name:
            option["name"] = name
        self._caller.call(
            "UpdateBandwidth",
            "PUT",
            f"/v1/{self._project}/bandwidths/{path_segment(bandwidth_id)}",
            json={"bandwidth": option},
            idempotent=True,  # setting the same size twice ends the same
        )

    def create_tags(self, publicip_id: str, tags: Mapping[str, str]) -> None:
        self._tag_action("BatchCreatePublicipTags", "create", publicip_id, tags)

    def delete_tags(self, publicip_id: str, tags: Mapping[str, str]) -> None:
        self._tag_action("BatchDeletePublicipTags", "delete", publicip_id, tags)

    def _tag_action(
        self, operation: str, action: str, publicip_id: str, tags: Mapping[str, str]
    ) -> None:
        self._caller.call(
            operation,
            "POST",
            f"/v2.0/{self._project}/publicips/{path_segment(publicip_id)}/tags/action",
            json={"action": action, "tags": [{"key": k, "value": v} for k, v in tags.items()]},
            idempotent=True,  # setting or removing the same tags twice ends the same
        )


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)
