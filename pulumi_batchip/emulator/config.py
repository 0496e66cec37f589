"""The emulator's settings and defaults. Importable without werkzeug (the ``emulator``
extra), so that ``python -m pulumi_batchip.emulator`` can parse its flags and say what
is missing, and so that the default credentials can be read without the extra."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from ..config import baidu_region_problem

DEFAULT_BCE_CREDENTIALS = {"emulator-bce-ak": "emulator-bce-sk"}
DEFAULT_HW_CREDENTIALS = {"emulator-hw-ak": "emulator-hw-sk"}
DEFAULT_HW_PROJECT_ID = "0123456789abcdef0123456789abcdef"

# The largest request body read: larger ones are refused (413) from Content-Length,
# before a byte of the body is read, or as soon as a chunked body passes it.
MAX_BODY_BYTES = 1 << 20
# The longest wait the emulator agrees to add to a call: a `delay` fault's `seconds`
# and the `latency_seconds` setting. Ten minutes is far past any client's timeout, and
# still frees the connection slot (see `max_connections`) within a test run.
MAX_DELAY_SECONDS = 600.0
# Connections served at once; more wait, unaccepted, in the listen backlog. Far above
# what our clients open (16 each), far below what would exhaust threads.
DEFAULT_MAX_CONNECTIONS = 64
# A connection that sends nothing (or stalls mid-request) for this long is closed, so
# idle or half-open sockets cannot hold connection slots for ever.
DEFAULT_IDLE_TIMEOUT_SECONDS = 30.0
# How long a released EIP stays listed as PENDING_DELETE before it is gone: the vendor's
# deletes are asynchronous (BatchDeletePublicIp, Chinese API reference 2025-12-31: "the
# delete is not finished when the job id comes back; query the EIP until it is not found").
DEFAULT_DELETE_SECONDS = 0.5
# The words a failed EIP job can be made to end with. Huawei lists no EIP job states
# (ShowResourcesJobDetail: "status: job状态"); the ECS job API says FAIL, the default.
# FAILED and ERROR are there to prove a client takes any word but a running one as the
# end, rather than waiting out its deadline on a word it does not know.
JOB_FAIL_WORDS = ("FAIL", "FAILED", "ERROR")
# The regions served (``--regions``): a request whose Host names a vendor endpoint
# (vpc.{region}.myhuaweicloud.com, bcc.{region}.baidubce.com) of another region is refused.
# By default every region the vendors publish: Huawei's are the ids of huaweicloudsdkeip
# 3.1.219 (v2/region/eip_region.py); Baidu's the BCC "Service Domain Name" list plus cd,
# yq (BOS "Region and Endpoint") and nj. Before this setting the emulator looked at no
# region, so every real region keeps working by default.
DEFAULT_HW_REGIONS = frozenset(
    [
        "ae-ad-1",
        "af-north-1",
        "af-south-1",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "cn-east-2",
        "cn-east-3",
        "cn-east-4",
        "cn-east-5",
        "cn-north-1",
        "cn-north-11",
        "cn-north-12",
        "cn-north-2",
        "cn-north-4",
        "cn-north-9",
        "cn-south-1",
        "cn-south-2",
        "cn-south-4",
        "cn-southwest-2",
        "eu-west-0",
        "eu-west-101",
        "la-north-2",
        "la-south-2",
        "me-east-1",
        "my-kualalumpur-1",
        "na-mexico-1",
        "ru-moscow-1",
        "ru-northwest-2",
        "sa-brazil-1",
        "tr-west-1",
    ]
)
DEFAULT_BCE_REGIONS = frozenset(
    ["bj", "gz", "su", "hkg", "fwh", "bd", "sin", "fsh", "cd", "yq", "nj"]
)
DEFAULT_REGIONS = DEFAULT_HW_REGIONS | DEFAULT_BCE_REGIONS


def _finite_at_least(low: float, high: float = math.inf) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"{attribute.name} must be a number, not {value!r}")
        if not (math.isfinite(value) and low <= value <= high):
            bounds = f"at least {low:g}" if high == math.inf else f"within {low:g}..{high:g}"
            raise ValueError(f"{attribute.name} must be a finite number {bounds}, not {value!r}")

    return check


def _int_at_least(low: int) -> Any:
    def check(_instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{attribute.name} must be an integer, not {value!r}")
        if value < low:
            raise ValueError(f"{attribute.name} must be at least {low}, not {value!r}")

    return check


def _job_fail_word(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    if value not in JOB_FAIL_WORDS:
        words = ", ".join(JOB_FAIL_WORDS)
        raise ValueError(f"{attribute.name} must be one of {words}, not {value!r}")


def _regions(value: object) -> frozenset[str]:
    """The served regions as a set; a bare string is refused (it is no list of names)."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise TypeError(f"regions must be a collection of region names, not {value!r:.60}")
    return frozenset(value)


def _region_names(
    _instance: object, attribute: attrs.Attribute[Any], value: frozenset[str]
) -> None:
    if not value:
        raise ValueError(f"{attribute.name} must name at least one region")
    for name in sorted(value, key=repr):
        # Every Huawei region id is also of the Baidu form: one rule covers both.
        if baidu_region_problem(name) is not None:
            raise ValueError(
                f"{attribute.name} must be region names (lowercase letters and digits, "
                f"parts joined by single hyphens), not {name!r:.60}"
            )


def _positive_finite(_instance: object, attribute: attrs.Attribute[Any], value: float) -> None:
    _finite_at_least(0.0)(_instance, attribute, value)
    if value <= 0:
        raise ValueError(f"{attribute.name} must be above 0, not {value!r}")


@attrs.frozen
class EmulatorConfig:
    bce_credentials: Mapping[str, str] = attrs.field(factory=lambda: dict(DEFAULT_BCE_CREDENTIALS))
    hw_credentials: Mapping[str, str] = attrs.field(factory=lambda: dict(DEFAULT_HW_CREDENTIALS))
    hw_project_id: str = DEFAULT_HW_PROJECT_ID
    job_seconds: float = attrs.field(default=1.0, validator=_finite_at_least(0.0))
    eip_quota: int = attrs.field(default=1000, validator=_int_at_least(0))
    seed: int | None = None
    latency_seconds: float = attrs.field(
        default=0.0, validator=_finite_at_least(0.0, MAX_DELAY_SECONDS)
    )
    max_skew_seconds: float = attrs.field(default=900.0, validator=_finite_at_least(0.0))
    max_connections: int = attrs.field(default=DEFAULT_MAX_CONNECTIONS, validator=_int_at_least(1))
    idle_timeout_seconds: float = attrs.field(
        default=DEFAULT_IDLE_TIMEOUT_SECONDS, validator=_positive_finite
    )
    # A released EIP is PENDING_DELETE (listed, counted, found by tag) this long.
    delete_seconds: float = attrs.field(
        default=DEFAULT_DELETE_SECONDS, validator=_finite_at_least(0.0, MAX_DELAY_SECONDS)
    )
    # The status a failed batch-create job ends with (a job_fail rule may name another).
    job_fail_word: str = attrs.field(default="FAIL", validator=_job_fail_word)
    # The EIP tag APIs answer 403, as for rights granted only through an enterprise
    # project (which those APIs do not support).
    tags_forbidden: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    # batchAddIp answers 200 with no body, as the BCC API documentation promises.
    bcc_add_ip_no_body: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool)
    )
    # The regions served: a request whose Host header names a vendor endpoint of another
    # region is refused as the vendor's gateway would (see DEFAULT_REGIONS).
    regions: frozenset[str] = attrs.field(
        default=DEFAULT_REGIONS, converter=_regions, validator=_region_names
    )
