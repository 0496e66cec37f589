"""The Huawei Cloud EIP state model: EIPs, bandwidths, batch-create jobs, quota.

No HTTP here (that is ``eip_api.py``); requests arrive already validated as
:class:`CreateSpec` and friends. Thread-safe behind one lock. Time comes from an
injected clock, and jobs advance lazily: every access first settles the jobs whose
time has come, so a test with a fake clock sees exactly ``INIT`` → ``RUNNING`` →
``SUCCESS``/``FAIL``.

Choices where the vendor documentation is silent (each mirrored by ``eip_api.py``):

- A batch job is ``INIT`` for its first quarter, ``RUNNING`` until ``job_seconds``
  have passed, then ``SUCCESS``; its EIPs only exist from then on (created at the job's
  end time). ``entities.sub_jobs`` stays empty, as in the documented example, so EIP
  ids never appear in a job: find them by tag. Finished jobs vanish after a day, as
  ECS jobs do.
- ``job_fail`` (``created: N``) ends the job failed with exactly ``min(N, count)``
  EIPs created; ``job_hang`` keeps it ``RUNNING`` for ever, creating nothing.
- Quota counts existing EIPs (``PENDING_DELETE`` ones too) plus those that unfinished
  jobs (hung ones too) will create.
- ``job_fail`` ends the job with the emulator's ``job_fail_word`` (``FAIL`` unless
  configured) or the rule's ``job_status`` (``FAILED``, ``ERROR``): the vendor lists no
  EIP job states; the ECS job API says ``FAIL``.
- A single create (``CreatePublicip``, v1) makes the EIP at once, in ``PENDING_CREATE``
  (it counts against the quota and is listed from then on) with its bandwidth; it turns
  ``DOWN`` once ``job_seconds`` have passed, lazily like a job. It can be deleted in
  any status. (The job fault actions only apply to batch create.)
- Deletes are asynchronous (BatchDeletePublicIp, Chinese API reference 2025-12-31: the
  job id it answers is a fake job, the EIP is not deleted yet, and it is deleted once a
  query no longer finds it). A released EIP is ``PENDING_DELETE`` (a status the
  ShowPublicip reference lists) for ``delete_seconds``: still shown, listed, found by
  tag and counted against the quota; then it is gone, with its address and its ``PER``
  bandwidth. One batch delete answers one job id, as the documented example does
  (``{"job_ids": ["ff80..."]}`` for two EIPs).
- A batch delete naming an EIP that does not exist is refused as a whole (404
  ``VPC.0504``, nothing released): the vendor documents nothing partial.
- A delete (single or batch) of an EIP already ``PENDING_DELETE`` is accepted and
  changes nothing (204 / 200 with a new job id); its deletion time is not extended. An
  emulator choice: the vendor documents no answer for it. The first request was
  "delivered" and completion is only ever observed as the EIP disappearing, so a
  repeated request (a retry after a lost answer) asks for what is already under way;
  refusing it (e.g. 409 ``VPC.0512``, "busy", which the error table does not tie to
  this case) would have no documented basis either.
- IPv4 addresses come from 100.64.0.0/10; an IPv6 EIP gets an address from the
  documentation prefix 2001:db8::/32 *and* an IPv4 address (``public_ip_address`` is
  "the IPv4 address corresponding to the IPv6 one", per the SDK model).
- A ``PER`` bandwidth belongs to one EIP and is released with it. ``WHOLE`` needs an
  existing shared bandwidth: one exists by default (:data:`DEFAULT_SHARED_BANDWIDTH_ID`)
  and the admin API adds more.
"""

from __future__ import annotations

import ipaddress
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import attrs

JOB_TYPE_BATCH_CREATE = "createBatchPublicip"  # as in the documented job example
JOB_RETENTION_SECONDS = 86400.0
INIT_FRACTION = 0.25
MAX_TAGS_PER_EIP = 20

DEFAULT_SHARED_BANDWIDTH_ID = "5b0c5a43-0e1f-4c1a-9a52-ed0000000001"
DEFAULT_SHARED_BANDWIDTH_NAME = "emulator-shared-bandwidth"

IPV4_POOL = ipaddress.IPv4Network("100.64.0.0/10")
IPV6_POOL = ipaddress.IPv6Network("2001:db8::/32")

# Service error codes (EIP API reference, "Error Codes").
CODE_INVALID = "VPC.0501"
CODE_NOT_FOUND = "VPC.0504"
# A shared bandwidth holds at most 20 EIPs (API Reference §4.4.1, quota shareBandwidthIP).
SHARED_BANDWIDTH_MAX_EIPS = 20
CODE_BOUND = "VPC.0517"
CODE_QUOTA = "VPC.0521"
CODE_NO_ADDRESSES = "VPC.0532"

Clock = Callable[[], float]
# The fields of a single create's answer (huaweicloudsdkeip PublicipCreateResp).
_CREATED_FIELDS = (
    "id",
    "status",
    "type",
    "public_ip_address",
    "public_ipv6_address",
    "tenant_id",
    "ip_version",
    "create_time",
    "bandwidth_size",
    "enterprise_project_id",
    "alias",
)


class EipError(Exception):
    """A refusal of the model, with the HTTP status and vendor code to answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def not_found(publicip_id: str) -> EipError:
    return EipError(404, CODE_NOT_FOUND, f"Floating IP {publicip_id} could not be found.")


# --- requests, as validated by the HTTP layer -------------------------------------------


@attrs.frozen
class BandwidthSpec:
    share_type: str  # PER | WHOLE
    size: int | None = None  # required for PER; ignored for WHOLE
    name: str | None = None  # required for PER; ignored for WHOLE
    charge_mode: str = "bandwidth"
    id: str | None = None  # required for WHOLE


@attrs.frozen
class CreateSpec:
    count: int
    publicip_type: str
    ip_version: int  # 4 | 6
    bandwidth: BandwidthSpec
    tags: Mapping[str, str] = attrs.field(factory=dict)
    enterprise_project_id: str = "0"


@attrs.frozen
class JobFault:
    """What a ``job_fail`` / ``job_hang`` fault rule does to the job it lands on."""

    action: str  # job_fail | job_hang
    created: int = 0
    code: str | None = None
    message: str | None = None
    status: str | None = None  # the word a failed job ends with (else job_fail_word)


@attrs.frozen
class TagFilter:
    key: str
    values: tuple[str, ...] = ()  # empty: any value


# --- state ------------------------------------------------------------------------------


@attrs.define
class Bandwidth:
    id: str
    name: str
    size: int
    share_type: str
    charge_mode: str
    publicip_ids: list[str] = attrs.field(factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "size": self.size,
            "share_type": self.share_type,
            "charge_mode": self.charge_mode,
            "publicip_ids": list(self.publicip_ids),
        }


@attrs.define
class PublicIp:
    id: str
    type: str
    ip_version: int
    public_ip_address: str
    public_ipv6_address: str | None
    bandwidth_id: str
    enterprise_project_id: str
    create_time: float
    tags: dict[str, str] = attrs.field(factory=dict)
    port_id: str | None = None
    private_ip_address: str | None = None
    alias: str | None = None
    pending_until: float | None = None  # a single create: PENDING_CREATE until then
    deleting_until: float | None = None  # released: PENDING_DELETE, gone after that
    broken: bool = False  # an `eip_error` fault: the create left it in ERROR

    @property
    def status(self) -> str:
        if self.deleting_until is not None:
            return "PENDING_DELETE"
        if self.broken:
            return "ERROR"
        if self.pending_until is not None:
            return "PENDING_CREATE"
        return "ACTIVE" if self.port_id else "DOWN"


@attrs.define
class Job:
    job_id: str
    begin: float
    spec: CreateSpec
    fault: JobFault | None = None
    end: float | None = None
    status: str = "INIT"  # the final status once ``end`` is set
    error_code: str | None = None
    fail_reason: str | None = None
    publicip_ids: list[str] = attrs.field(factory=list)

    @property
    def finished(self) -> bool:
        return self.end is not None

    def pending(self) -> int:
        """EIPs this job will still create (reserved against the quota)."""
        return 0 if self.finished else self.spec.count


def _iso_millis(moment: float) -> str:
    stamp = datetime.fromtimestamp(moment, timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def _eip_time(moment: float) -> str:
    # The v1 EIP API shows create_time as "2015-07-16 04:10:52" (UTC).
    return datetime.fromtimestamp(moment, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


class _AddressPool:
    """Hands out host addresses of a network in order, reusing released ones later."""

    def __init__(self, network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> None:
        self._base = int(network.network_address)
        self._size = network.num_addresses
        self._version = network.version
        self._used: set[int] = set()
        self._cursor = 1

    def allocate(self) -> str:
        for _ in range(self._size):
            offset = self._cursor
            self._cursor = self._cursor + 1 if self._cursor + 1 < self._size else 1
            if offset not in self._used:
                self._used.add(offset)
                return str(ipaddress.ip_address(self._base + offset))
        raise EipError(409, CODE_NO_ADDRESSES, "No more IP addresses available in the pool.")

    def release(self, address: str | None) -> None:
        if address is not None:
            self._used.discard(int(ipaddress.ip_address(address)) - self._base)


class EipState:
    """Everything the EIP side of the emulator holds, for one project."""

    def __init__(
        self,
        *,
        project_id: str,
        job_seconds: float,
        quota: int,
        clock: Clock = time.time,
        delete_seconds: float = 0.0,
        job_fail_word: str = "FAIL",
    ) -> None:
        self.project_id = project_id
        self.job_seconds = max(0.0, job_seconds)
        self.delete_seconds = max(0.0, delete_seconds)
        self.job_fail_word = job_fail_word
        self.quota = quota
        self._clock = clock
        self._lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._publicips: dict[str, PublicIp] = {}
            self._bandwidths: dict[str, Bandwidth] = {}
            self._jobs: dict[str, Job] = {}
            self._pending: set[str] = set()  # EIPs of single creates still PENDING_CREATE
            self._deleting: set[str] = set()  # released EIPs still PENDING_DELETE
            self._v4 = _AddressPool(IPV4_POOL)
            self._v6 = _AddressPool(IPV6_POOL)
            self._bandwidths[DEFAULT_SHARED_BANDWIDTH_ID] = Bandwidth(
                id=DEFAULT_SHARED_BANDWIDTH_ID,
                name=DEFAULT_SHARED_BANDWIDTH_NAME,
                size=100,
                share_type="WHOLE",
                charge_mode="bandwidth",
            )

    # -- jobs ----------------------------------------------------------------------------
    def _settle(self) -> float:
        """Advance every job whose time has come; returns now. Caller holds the lock."""
        now = self._clock()
        for job_id, job in list(self._jobs.items()):
            if job.finished:
                if job.end is not None and now - job.end > JOB_RETENTION_SECONDS:
                    del self._jobs[job_id]
                continue
            hung = job.fault is not None and job.fault.action == "job_hang"
            if not hung and now - job.begin >= self.job_seconds:
                self._finish(job, job.begin + self.job_seconds)
        for eip_id in list(self._pending):
            eip = self._publicips.get(eip_id)
            if eip is None or eip.pending_until is None or eip.pending_until <= now:
                if eip is not None:
                    eip.pending_until = None
                self._pending.discard(eip_id)
        for eip_id in list(self._deleting):
            eip = self._publicips.get(eip_id)
            if eip is None:
                self._deleting.discard(eip_id)
            elif eip.deleting_until is not None and eip.deleting_until <= now:
                self._release(eip_id)
        return now

    def _finish(self, job: Job, end: float) -> None:
        fault = job.fault if job.fault and job.fault.action == "job_fail" else None
        count = job.spec.count if fault is None else min(fault.created, job.spec.count)
        broken = job.fault.created if job.fault and job.fault.action == "eip_error" else 0
        for n in range(count):
            job.publicip_ids.append(self._materialise(job.spec, end))
            self._publicips[job.publicip_ids[-1]].broken = n < broken
        job.end = end
        if fault is None:
            job.status = "SUCCESS"
            return
        job.status = fault.status or self.job_fail_word
        job.error_code = fault.code or CODE_NO_ADDRESSES
        job.fail_reason = fault.message or (
            f"Creating publicips failed: {count} of {job.spec.count} were created."
        )

    def _status(self, job: Job, now: float) -> str:
        if job.finished:
            return job.status
        return "INIT" if now - job.begin < self.job_seconds * INIT_FRACTION else "RUNNING"

    def _job_json(self, job: Job, now: float) -> dict[str, Any]:
        return {
            "job_id": job.job_id,
            "job_type": JOB_TYPE_BATCH_CREATE,
            "begin_time": _iso_millis(job.begin),
            "end_time": _iso_millis(job.end) if job.end is not None else None,
            "status": self._status(job, now),
            "error_code": job.error_code,
            "fail_reason": job.fail_reason,
            "entities": {"sub_jobs": []},
        }

    # -- create --------------------------------------------------------------------------
    def batch_create(self, spec: CreateSpec, fault: JobFault | None = None) -> str:
        """Start a batch-create job; returns its id. Quota and bandwidth checked now."""
        with self._lock:
            now = self._settle()
            self._admit(spec)
            job = Job(job_id=uuid.uuid4().hex, begin=now, spec=spec, fault=fault)
            self._jobs[job.job_id] = job
            self._settle()  # a zero-length job is done at once
            return job.job_id

    def create_one(self, spec: CreateSpec, *, alias: str | None = None) -> dict[str, Any]:
        """A single create (v1 ``CreatePublicip``): the EIP exists at once, in
        ``PENDING_CREATE`` until ``job_seconds`` have passed. Returns the create answer's
        ``publicip`` object."""
        if spec.count != 1:
            raise ValueError("a single create makes exactly one EIP")
        with self._lock:
            now = self._settle()
            self._admit(spec)
            eip = self._publicips[self._materialise(spec, now)]
            eip.alias = alias
            eip.pending_until = now + self.job_seconds
            self._pending.add(eip.id)
            self._settle()  # a zero-length create is done at once
            return self._created_json(eip)

    def _admit(self, spec: CreateSpec) -> None:
        """Refuse a create that names no shared bandwidth or would pass the quota."""
        if spec.bandwidth.share_type == "WHOLE":
            shared = self._shared_bandwidth(spec.bandwidth.id)
            coming = sum(
                j.pending() for j in self._jobs.values() if j.spec.bandwidth.id == shared.id
            )
            if len(shared.publicip_ids) + coming + spec.count > SHARED_BANDWIDTH_MAX_EIPS:
                # "Error Codes": 500 VPC.0304 "NO QUOTAS for shareBandwidthIP" (quota 20).
                raise EipError(
                    500,
                    "VPC.0304",
                    "createBandwidth error. NO QUOTAS for shareBandwidthIP! "
                    f"(bandwidth {shared.id} holds {len(shared.publicip_ids) + coming} of "
                    f"{SHARED_BANDWIDTH_MAX_EIPS}, requested {spec.count})",
                )
        in_use = len(self._publicips) + sum(j.pending() for j in self._jobs.values())
        if in_use + spec.count > self.quota:
            raise EipError(
                409,
                CODE_QUOTA,
                f"Quota exceeded for resources: ['floatingip'] "
                f"(quota {self.quota}, used {in_use}, requested {spec.count}).",
            )

    def _created_json(self, eip: PublicIp) -> dict[str, Any]:
        """The ``publicip`` of a single create's answer (the SDK's PublicipCreateResp):
        the fields of the full record that this model has."""
        full = self._eip_json(eip)
        return {k: full[k] for k in _CREATED_FIELDS if k in full}

    def _shared_bandwidth(self, bandwidth_id: str | None) -> Bandwidth:
        bandwidth = self._bandwidths.get(bandwidth_id or "")
        if bandwidth is None or bandwidth.share_type != "WHOLE":
            raise EipError(400, CODE_INVALID, f"Shared bandwidth {bandwidth_id} does not exist.")
        return bandwidth

    def _materialise(self, spec: CreateSpec, created: float) -> str:
        eip_id = str(uuid.uuid4())
        v6 = self._v6.allocate() if spec.ip_version == 6 else None
        eip = PublicIp(
            id=eip_id,
            type=spec.publicip_type,
            ip_version=spec.ip_version,
            public_ip_address=self._v4.allocate(),
            public_ipv6_address=v6,
            bandwidth_id=self._attach_bandwidth(spec.bandwidth, eip_id),
            enterprise_project_id=spec.enterprise_project_id,
            create_time=created,
            tags=dict(spec.tags),
        )
        self._publicips[eip_id] = eip
        return eip_id

    def _attach_bandwidth(self, spec: BandwidthSpec, eip_id: str) -> str:
        if spec.share_type == "WHOLE":
            shared = self._shared_bandwidth(spec.id)
            shared.publicip_ids.append(eip_id)
            return shared.id
        bandwidth = Bandwidth(
            id=str(uuid.uuid4()),
            name=spec.name or f"bandwidth-{eip_id[:8]}",
            size=spec.size or 1,
            share_type="PER",
            charge_mode=spec.charge_mode,
            publicip_ids=[eip_id],
        )
        self._bandwidths[bandwidth.id] = bandwidth
        return bandwidth.id

    # -- read ----------------------------------------------------------------------------
    def job(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            now = self._settle()
            job = self._jobs.get(job_id)
            if job is None:
                raise EipError(404, CODE_NOT_FOUND, f"Job {job_id} could not be found.")
            return self._job_json(job, now)

    def show(self, publicip_id: str) -> dict[str, Any]:
        with self._lock:
            self._settle()
            eip = self._publicips.get(publicip_id)
            if eip is None:
                raise not_found(publicip_id)
            return self._eip_json(eip)

    def list_page(
        self,
        *,
        ids: Sequence[str] = (),
        marker: str | None = None,
        limit: int,
        ip_version: int | None = None,
        port_ids: Sequence[str] = (),
        addresses: Sequence[str] = (),
        enterprise_project_id: str | None = None,
    ) -> list[dict[str, Any]]:
        """A page sorted by id; ``marker`` is the last id of the previous page."""
        with self._lock:
            self._settle()
            page: list[dict[str, Any]] = []
            for eip_id in sorted(self._publicips):
                eip = self._publicips[eip_id]
                if marker is not None and eip_id <= marker:
                    continue
                if ids and eip_id not in ids:
                    continue
                if ip_version is not None and eip.ip_version != ip_version:
                    continue
                if port_ids and eip.port_id not in port_ids:
                    continue
                if addresses and eip.public_ip_address not in addresses:
                    continue
                if enterprise_project_id not in (None, "all_granted_eps") and (
                    eip.enterprise_project_id != enterprise_project_id
                ):
                    continue
                page.append(self._eip_json(eip))
                if len(page) >= limit:
                    break
            return page

    def by_tags(
        self,
        filters: Sequence[TagFilter],
        *,
        name_contains: str | None = None,
    ) -> list[dict[str, Any]]:
        """Every EIP matching all filters, as ``resources`` entries, sorted by id."""
        with self._lock:
            self._settle()
            found = []
            for eip_id in sorted(self._publicips):
                eip = self._publicips[eip_id]
                if not all(_tag_matches(eip.tags, f) for f in filters):
                    continue
                name = eip.alias or ""  # EIPs made by batch create have no alias
                if name_contains and name_contains not in name:
                    continue
                found.append(
                    {
                        "resource_id": eip.id,
                        "resource_name": name,
                        "resource_detail": "",
                        "tags": [{"key": k, "value": v} for k, v in sorted(eip.tags.items())],
                    }
                )
            return found

    def _eip_json(self, eip: PublicIp) -> dict[str, Any]:
        bandwidth = self._bandwidths.get(eip.bandwidth_id)
        body: dict[str, Any] = {
            "id": eip.id,
            "status": eip.status,
            "type": eip.type,
            "public_ip_address": eip.public_ip_address,
            "ip_version": eip.ip_version,
            "tenant_id": self.project_id,
            "create_time": _eip_time(eip.create_time),
            "bandwidth_id": eip.bandwidth_id,
            "bandwidth_size": bandwidth.size if bandwidth else None,
            "bandwidth_share_type": bandwidth.share_type if bandwidth else None,
            "bandwidth_name": bandwidth.name if bandwidth else None,
            "enterprise_project_id": eip.enterprise_project_id,
            "public_border_group": "center",
            "tags": [f"{k}*{v}" for k, v in sorted(eip.tags.items())],
        }
        # Absent rather than null, as the SDK model describes them.
        if eip.public_ipv6_address is not None:
            body["public_ipv6_address"] = eip.public_ipv6_address
        if eip.alias is not None:
            body["alias"] = eip.alias
        if eip.port_id is not None:
            body["port_id"] = eip.port_id
            body["private_ip_address"] = eip.private_ip_address
        return body

    # -- tags ----------------------------------------------------------------------------
    def create_tags(self, publicip_id: str, tags: Mapping[str, str]) -> None:
        """Add or overwrite tags; refused as a whole past :data:`MAX_TAGS_PER_EIP`."""
        with self._lock:
            self._settle()
            eip = self._existing(publicip_id)
            merged = {**eip.tags, **tags}
            if len(merged) > MAX_TAGS_PER_EIP:
                raise EipError(
                    400, CODE_INVALID, f"An EIP can have at most {MAX_TAGS_PER_EIP} tags."
                )
            eip.tags = merged

    def delete_tags(self, publicip_id: str, tags: Iterable[tuple[str, str | None]]) -> None:
        """Remove tags by key (and value, when given); missing tags are not an error."""
        with self._lock:
            self._settle()
            eip = self._existing(publicip_id)
            for key, value in tags:
                if key in eip.tags and (value is None or eip.tags[key] == value):
                    del eip.tags[key]

    # -- delete --------------------------------------------------------------------------
    def delete(self, publicip_id: str) -> None:
        """Release one EIP: PENDING_DELETE now, gone after ``delete_seconds``. One that
        is already PENDING_DELETE is left as it is (accepted, nothing changes)."""
        with self._lock:
            now = self._settle()
            eip = self._existing(publicip_id)
            if eip.deleting_until is not None:
                return
            self._refuse_bound([eip])
            self._start_delete(eip, now)

    def batch_delete(self, publicip_ids: Sequence[str]) -> list[str]:
        """All or nothing: refused if any id is unknown (404) or bound (409). EIPs
        already PENDING_DELETE are accepted and left as they are.

        Returns one job id for the call (as the documented example); it is not kept
        (the SDK documents such jobs as not queryable), so asking for it answers 404.
        """
        with self._lock:
            now = self._settle()
            unique = list(dict.fromkeys(publicip_ids))
            missing = [i for i in unique if i not in self._publicips]
            if missing:
                raise EipError(
                    404, CODE_NOT_FOUND, f"Floating IP {', '.join(missing)} could not be found."
                )
            eips = [self._publicips[i] for i in unique]
            self._refuse_bound([e for e in eips if e.deleting_until is None])
            for eip in eips:
                if eip.deleting_until is None:
                    self._start_delete(eip, now)
            return [uuid.uuid4().hex]

    def _start_delete(self, eip: PublicIp, now: float) -> None:
        if self.delete_seconds <= 0:
            self._release(eip.id)
            return
        eip.deleting_until = now + self.delete_seconds
        self._deleting.add(eip.id)

    def _existing(self, publicip_id: str) -> PublicIp:
        eip = self._publicips.get(publicip_id)
        if eip is None:
            raise not_found(publicip_id)
        return eip

    @staticmethod
    def _refuse_bound(eips: Iterable[PublicIp]) -> None:
        bound = [e.id for e in eips if e.port_id]
        if bound:
            raise EipError(
                409,
                CODE_BOUND,
                f"Floating IP {', '.join(bound)} is still associated with a port; "
                "unbind it before releasing.",
            )

    def _release(self, publicip_id: str) -> None:
        eip = self._publicips.pop(publicip_id)
        self._pending.discard(publicip_id)
        self._deleting.discard(publicip_id)
        self._v4.release(eip.public_ip_address)
        self._v6.release(eip.public_ipv6_address)
        bandwidth = self._bandwidths.get(eip.bandwidth_id)
        if bandwidth is None:
            return
        if bandwidth.share_type == "PER":
            del self._bandwidths[bandwidth.id]
        elif publicip_id in bandwidth.publicip_ids:
            bandwidth.publicip_ids.remove(publicip_id)

    # -- admin ---------------------------------------------------------------------------
    def bind(self, publicip_id: str, port_id: str, private_ip_address: str | None) -> None:
        with self._lock:
            self._settle()
            eip = self._existing(publicip_id)
            eip.port_id = port_id
            eip.private_ip_address = private_ip_address

    def unbind(self, publicip_id: str) -> None:
        with self._lock:
            self._settle()
            eip = self._existing(publicip_id)
            eip.port_id = None
            eip.private_ip_address = None

    def resize_bandwidth(
        self, bandwidth_id: str, size: int, charge_mode: str = "bandwidth", name: str | None = None
    ) -> dict[str, Any]:
        """Change a bandwidth's size, charge mode and name in place (the caller
        validated them)."""
        with self._lock:
            self._settle()
            bandwidth = self._bandwidths.get(bandwidth_id)
            if bandwidth is None:
                raise EipError(404, CODE_NOT_FOUND, f"Bandwidth {bandwidth_id} does not exist.")
            if charge_mode == "traffic" and size > 300:
                raise EipError(
                    400, CODE_INVALID, "A traffic-billed bandwidth allows at most 300 Mbit/s."
                )
            bandwidth.size = size
            bandwidth.charge_mode = charge_mode
            if name is not None:
                bandwidth.name = name
            return bandwidth.to_json()

    def add_shared_bandwidth(
        self, *, name: str, size: int, charge_mode: str = "bandwidth", bandwidth_id: str | None
    ) -> dict[str, Any]:
        with self._lock:
            new_id = bandwidth_id or str(uuid.uuid4())
            if new_id in self._bandwidths:
                raise EipError(409, "BandwidthExists", f"bandwidth {new_id} already exists")
            bandwidth = Bandwidth(
                id=new_id, name=name, size=size, share_type="WHOLE", charge_mode=charge_mode
            )
            self._bandwidths[new_id] = bandwidth
            return bandwidth.to_json()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = self._settle()
            return {
                "publicips": {i: self._eip_json(e) for i, e in self._publicips.items()},
                "jobs": {i: self._job_json(j, now) for i, j in self._jobs.items()},
                "bandwidths": {i: b.to_json() for i, b in self._bandwidths.items()},
                "quota": self.quota,
            }


def _tag_matches(tags: Mapping[str, str], tag_filter: TagFilter) -> bool:
    if tag_filter.key not in tags:
        return False
    return not tag_filter.values or tags[tag_filter.key] in tag_filter.values
