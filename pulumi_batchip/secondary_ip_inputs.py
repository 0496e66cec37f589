"""SecondaryIpSet's inputs, declared once (inputs.py).

``DECLARATION`` gives each input's name, the README's type and rule (word for word
the row of README.md's SecondaryIpSet input table), its default, what a change does
and the rule as code. ``check_inputs``, ``REPLACE_KEYS`` and the defaults state
migration fills in come from it; the rules that span fields are the small named
validators below it. ``parse_import_id`` reads an import id by the same rules.

Every message built from user input quotes it in at most MAX_QUOTED characters:
failures and errors travel in gRPC metadata, which is limited to a few KiB.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from . import config as cfg
from ._provider import Failures, coerce_int, is_unknown
from .baidu import secrecy
from .baidu.secrecy import HIDDEN_FLAG
from .errors import BatchIpError
from .inputs import Declaration, Field, Rule

# Instance ids and regions: the vendor formats of config.py (bcc_instance_id_problem,
# baidu_region_problem), which keep an id safe in a URL path and a region in a host name.
MAX_ADDRESS_TEXT = 64  # the longest IPv6 spelling is 45 characters
MAX_ADDRESSES = 256  # per set; BCC holds far fewer per NIC (40 at most on an ENI)
MAX_FAILURES_PER_PROPERTY = 10
MAX_QUOTED = 80


def normalize(address: str) -> str:
    """Canonical spelling of a valid address (raises ValueError otherwise)."""
    return ipaddress.ip_address(address).compressed


def brief(value: object, limit: int = MAX_QUOTED) -> str:
    """``repr(value)``, cut to ``limit`` characters: user input quoted in a message."""
    try:
        text = repr(value)
    except ValueError:  # an int past the interpreter's digit limit
        return f"<{type(value).__name__} too large to show>"
    if len(text) <= limit:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters"
    return f"{text[:limit]}... ({size})"


def instance_id_problem(value: object) -> str | None:
    """Why ``value`` is no instance id, or None."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty instance id such as 'i-DhjUXmSA'"
    return cfg.bcc_instance_id_problem(value)


def address_problem(text: str, ipv6: object) -> str | None:
    """Why ``text`` (stripped) is not an address a set can hold, or None."""
    if len(text) > MAX_ADDRESS_TEXT:
        return "is not a valid IP address"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "is not a valid IP address"
    if address.version == 6 and address.scope_id:
        return (
            f"carries a zone id (%{address.scope_id[:MAX_QUOTED]}): a NIC's secondary "
            "address is given without one"
        )
    if isinstance(ipv6, bool) and (address.version == 6) != ipv6:
        family = "IPv6" if ipv6 else "IPv4"
        return f"is IPv{address.version} but ipv6={ipv6} needs {family}"
    return None


# -- the rules of single fields -----------------------------------------------------
def _instance_id(value: Any, failures: Failures, _inputs: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if problem := instance_id_problem(value):
        failures.add("instance_id", problem)
    return value


def _flag(name: str) -> Rule:
    def rule(value: Any, failures: Failures, _inputs: Mapping[str, Any]) -> Any:
        if not isinstance(value, bool):
            failures.add(name, "must be true or false")
        return value

    return rule


def _region(value: Any, failures: Failures, _inputs: Mapping[str, Any]) -> Any:
    if not isinstance(value, str) or not value.strip():
        failures.add("region", "must be a non-empty region name such as 'bj'")
    elif problem := cfg.baidu_region_problem(value.strip()):
        failures.add("region", problem)
    else:
        return value.strip()
    return value


def _private_ips(value: Any, failures: Failures, inputs: Mapping[str, Any]) -> Any:
    """Valid, canonical, of the family ``ipv6`` says, no duplicates. A secret list
    (HIDDEN_FLAG, checked before) is never quoted; only so many failures per list."""
    if not isinstance(value, list):
        failures.add("private_ips", "must be a list of IP address strings")
        return None
    if not value:
        failures.add("private_ips", "must hold at least one address (or use count)")
        return None
    if len(value) > MAX_ADDRESSES:
        failures.add(
            "private_ips", f"holds {len(value)} addresses; a set holds at most {MAX_ADDRESSES}"
        )
        return None
    secret, ipv6 = inputs.get(HIDDEN_FLAG) is True, inputs.get("ipv6")
    normalized: list[Any] = []
    seen: set[str] = set()
    problems: list[str] = []
    for i, item in enumerate(value):
        if is_unknown(item):
            normalized.append(item)
            continue
        if not isinstance(item, str):
            problems.append(f"item {i} must be a string, not {type(item).__name__}")
            continue
        quoted = "" if secret else f" {brief(item)}"
        if problem := address_problem(item.strip(), ipv6):
            problems.append(f"item {i}{quoted} {problem}")
            continue
        address = normalize(item.strip())
        if address in seen:
            problems.append(f"item {i}{quoted} is a duplicate")
            continue
        seen.add(address)
        normalized.append(address)
    for problem in problems[:MAX_FAILURES_PER_PROPERTY]:
        failures.add("private_ips", problem)
    if len(problems) > MAX_FAILURES_PER_PROPERTY:
        failures.add(
            "private_ips", f"... and {len(problems) - MAX_FAILURES_PER_PROPERTY} more items fail"
        )
    return normalized


def _count(value: Any, failures: Failures, _inputs: Mapping[str, Any]) -> Any:
    as_int = coerce_int(value)
    if as_int is None:
        failures.add("count", f"must be a whole number, not {brief(value)}")
    elif as_int < 1:
        failures.add("count", f"must be at least 1, not {brief(as_int)}")
    else:
        return as_int
    return value


DECLARATION = Declaration(
    "SecondaryIpSet",
    (
        Field(
            "instance_id",
            "str",
            "required, `i-` and 1..62 letters or digits (`i-DhjUXmSA`); changing it "
            "replaces the set",
            "replaces",
            _instance_id,
            required=True,
        ),
        Field(
            "private_ips",
            "list[str]",
            "explicit addresses, valid, of the family `ipv6` says, no zone ids, no "
            "duplicates, at most 256; exactly one of `private_ips` / `count`",
            "in place",
            _private_ips,
        ),
        Field("count", "int", "≥ 1; BCC allocates from the VM's subnet", "in place", _count),
        Field(
            "ipv6",
            "bool",
            "default False; changing it replaces the set",
            "replaces",
            _flag("ipv6"),
            default=False,
        ),
        Field(
            "reboot", "bool", "default False; see below", "in place", _flag("reboot"), default=False
        ),
        Field(
            "region",
            "str",
            "a Baidu region (`bj`, `gz`, ...; see Configuration); default from config/env; "
            "changing it replaces the set",
            "replaces",
            _region,
        ),
        Field(
            "adopt",
            "bool",
            "default False; with `private_ips`, addresses already on the NIC are claimed "
            "instead of added (the missing ones are added), on create and on update (the "
            "listed addresses the set does not own yet), except an address another set of "
            "the same `pulumi up` owns (refused before anything changes); changing only "
            "`adopt` changes nothing",
            "nothing",
            _flag("adopt"),
            default=False,
            omit_default=True,  # absent when False: the inputs of existing stacks stay
        ),
        Field(
            HIDDEN_FLAG,
            "bool",
            "set by SecondaryIpSet when `private_ips` is a secret (secrecy.py)",
            "in place",  # recorded in place; the id keeps its form
            _flag(HIDDEN_FLAG),
            default=False,
            omit_default=True,
            hidden=True,
        ),
    ),
)

REPLACE_KEYS = DECLARATION.replace_keys
DEFAULTS: Mapping[str, Any] = DECLARATION.defaults
# Fields a rule reads (ipv6, the secret flag) are checked before the rules that read them.
CHECK_ORDER = ("instance_id", "ipv6", "reboot", "adopt", "region", HIDDEN_FLAG)
ADDRESS_FIELDS = ("private_ips", "count")


# -- the rules across fields --------------------------------------------------------
def _instance_id_is_required(news: Mapping[str, Any], failures: Failures) -> bool:
    if news.get("instance_id") is not None:
        return True
    failures.add("instance_id", str(instance_id_problem(None)))
    return False


def _exactly_one_of_private_ips_and_count(news: Mapping[str, Any], failures: Failures) -> None:
    private_ips, count = news.get("private_ips"), news.get("count")
    if private_ips is not None and count is not None:
        failures.add("private_ips", "give exactly one of private_ips and count, not both")
        failures.add("count", "give exactly one of private_ips and count, not both")
    elif private_ips is None and count is None:
        failures.add("count", "give exactly one of private_ips and count")


def _adopt_needs_private_ips(
    news: Mapping[str, Any], inputs: Mapping[str, Any], failures: Failures
) -> None:
    if inputs.get("adopt") is True and news.get("private_ips") is None:
        failures.add("adopt", "needs explicit private_ips: only named addresses can be claimed")


def _only_true_flags_kept(inputs: dict[str, Any]) -> None:
    """``adopt`` and the secret flag are left out unless set: the inputs of stacks made
    before they existed stay unchanged."""
    if inputs.get("adopt") is False:
        del inputs["adopt"]
    secret = inputs.get(HIDDEN_FLAG, True)
    if secret is not True and not is_unknown(secret):
        del inputs[HIDDEN_FLAG]


def check_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], Failures]:
    """Every input rule of the README, as failures on the offending property. Unknown
    values (preview) pass through untouched."""
    failures = Failures()
    inputs: dict[str, Any] = {}
    if not _instance_id_is_required(news, failures):
        inputs["instance_id"] = None
    # Neither of private_ips and count is checked unless exactly one is given.
    one = (news.get("private_ips") is None) != (news.get("count") is None)
    inputs.update(
        DECLARATION.check_fields(news, failures, CHECK_ORDER + (ADDRESS_FIELDS if one else ()))
    )
    _exactly_one_of_private_ips_and_count(news, failures)
    if inputs.get("private_ips", ()) is None:
        del inputs["private_ips"]  # not a list of addresses at all
    _adopt_needs_private_ips(news, inputs, failures)
    _only_true_flags_kept(inputs)
    return inputs, failures


def parse_import_id(id_: object) -> tuple[str, list[str]]:
    """``<instance_id>/<ip>[,<ip>...]`` → instance id and normalized addresses. Anything
    else is a BatchIpError that quotes the id briefly."""
    shape = "must look like <instance_id>/<ip>[,<ip>...]"
    if not isinstance(id_, str):
        raise BatchIpError(f"SecondaryIpSet id {brief(id_)} {shape}")
    instance_id, sep, rest = id_.partition("/")
    if not sep or not instance_id or not rest:
        raise BatchIpError(f"SecondaryIpSet id {brief(id_)} {shape}")
    if secrecy.is_opaque(rest):
        raise BatchIpError(
            f"SecondaryIpSet id {brief(id_)} is the id of a set whose private_ips are "
            "secret and names no address: to read or import addresses, give an id that "
            f"{shape}"
        )
    if problem := instance_id_problem(instance_id):
        raise BatchIpError(f"SecondaryIpSet id {brief(id_)}: the instance id {problem}")
    texts = [a.strip() for a in rest.split(",") if a.strip()]
    if not texts:
        raise BatchIpError(f"SecondaryIpSet id {brief(id_)} {shape}")
    if len(texts) > MAX_ADDRESSES:
        raise BatchIpError(
            f"SecondaryIpSet id {brief(id_)} names {len(texts)} addresses; at most {MAX_ADDRESSES}"
        )
    for text in texts:
        if problem := address_problem(text, None):
            raise BatchIpError(f"SecondaryIpSet id {brief(id_)}: {brief(text)} {problem}")
    addresses = list(dict.fromkeys(normalize(t) for t in texts))
    if len({ipaddress.ip_address(a).version for a in addresses}) != 1:
        raise BatchIpError(f"SecondaryIpSet id {brief(id_)} needs addresses of one IP family")
    return instance_id, addresses
