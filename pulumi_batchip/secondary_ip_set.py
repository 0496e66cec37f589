"""SecondaryIpSet: secondary private addresses on a Baidu BCC VM's primary NIC."""

from __future__ import annotations

import ipaddress
import secrets
import threading
import time
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import attrs
import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from . import config as cfg
from ._provider import (
    BatchIpProvider,
    Failures,
    coerce_int,
    contains_unknown,
    is_unknown,
)
from .baidu import attribution, secrecy
from .baidu.bcc import BccClient, Instance, canonical_address
from .baidu.rollback import error_text as _error_text
from .baidu.rollback import listed as _listed
from .baidu.rollback import roll_back as _roll_back
from .baidu.rollback import token as _token
from .baidu.secrecy import HIDDEN_FLAG, hidden, named, progress
from .errors import (
    AuthError,
    BatchIpError,
    ClientError,
    CloudApiError,
    ConfigError,
    NotFoundError,
    OperationTimeoutError,
    ValidationError,
    code_is,
)

REPLACE_KEYS = ("instance_id", "ipv6", "region")
REBOOT_DEADLINE_SECONDS = 600.0
# A reboot request is asynchronous: wait this long to see the VM leave Running.
REBOOT_START_GRACE_SECONDS = 15.0

# The outputs carry the version of their own layout, so state written by any version
# can be brought to this one before it is used (migrate_state). Not an input name, not
# a Pulumi-reserved one (those start with "__"). Bump it, and teach migrate_state the
# step, whenever an output is added, renamed or changes meaning.
SCHEMA_KEY = "schema_version"
SCHEMA_VERSION = 2
# Defaults of the boolean inputs: check_inputs gives them to new inputs and
# migrate_state to old state that lacks them.
# Tells apart sets that own the same addresses (so share an id); chosen in check.
OWNER_KEY = "owner_key"
FLAG_DEFAULTS: Mapping[str, bool] = {"ipv6": False, "reboot": False, "adopt": False}

# Instance ids and regions: the vendor formats of config.py (bcc_instance_id_problem,
# baidu_region_problem), which keep an id safe in a URL path and a region in a host name.
MAX_ADDRESS_TEXT = 64  # the longest IPv6 spelling is 45 characters
MAX_ADDRESSES = 256  # per set; BCC holds far fewer per NIC (40 at most on an ENI)
MAX_FAILURES_PER_PROPERTY = 10
# Every message built from user input quotes it in at most this many characters (and
# lists at most rollback.MAX_LISTED addresses): errors travel in gRPC metadata, which
# is limited to a few KiB.
MAX_QUOTED = 80


def _normalize(address: str) -> str:
    """Canonical spelling of a valid address (raises ValueError otherwise)."""
    return ipaddress.ip_address(address).compressed


def _brief(value: object, limit: int = MAX_QUOTED) -> str:
    """``repr(value)``, cut to ``limit`` characters: user input quoted in a message."""
    try:
        text = repr(value)
    except ValueError:  # an int past the interpreter's digit limit
        return f"<{type(value).__name__} too large to show>"
    if len(text) <= limit:
        return text
    size = f"{len(value)} characters" if isinstance(value, str) else f"{len(text)} characters"
    return f"{text[:limit]}... ({size})"


def _instance_id_problem(value: object) -> str | None:
    """Why ``value`` is no instance id, or None."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty instance id such as 'i-DhjUXmSA'"
    return cfg.bcc_instance_id_problem(value)


def _address_problem(text: str, ipv6: object) -> str | None:
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


class _Claims:
    """Which set claims which addresses on which VM, as far as this provider process
    has seen: created, updated, read or diffed sets. BCC marks no owner on an
    address, so this is the strongest guard there is: a set never deletes or adopts
    an address another set of this process claims (one the VM handed to another set
    after it was removed behind our back, or one adopted twice). A set claims by its
    owner key (OWNER_KEY), or by its id when its state predates the key: two sets
    can share an id (same addresses), never an owner key. Module-level, like the
    locks."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        # VM -> claimant -> (the set's id, its addresses)
        self._by_vm: dict[str, dict[str, tuple[str, frozenset[str]]]] = {}

    def claim(self, instance_id: str, who: str, set_id: str, addresses: Sequence[str]) -> None:
        with self._guard:
            self._by_vm.setdefault(instance_id, {})[who] = (set_id, frozenset(addresses))

    def release(self, instance_id: str, who: str) -> None:
        with self._guard:
            self._by_vm.get(instance_id, {}).pop(who, None)

    def by_others(self, instance_id: str, who: str, set_id: str) -> frozenset[str]:
        """What other sets claim. A claimant without owner key (``who`` is its id)
        cannot tell itself from another set of the same id: those are left out."""
        legacy = who == set_id
        with self._guard:
            sets = self._by_vm.get(instance_id, {})
            return frozenset().union(
                *(
                    addresses
                    for key, (sid, addresses) in sets.items()
                    if key != who and not (legacy and sid == set_id)
                )
            )


CLAIMS = _Claims()


def _check_address_list(
    value: object, ipv6: object, failures: Failures, secret: bool = False
) -> list[Any] | None:
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
    normalized: list[Any] = []
    seen: set[str] = set()
    problems: list[str] = []

    def quoted(item: str) -> str:
        return "" if secret else f" {_brief(item)}"  # a secret item is never quoted

    for i, item in enumerate(value):
        if is_unknown(item):
            normalized.append(item)
            continue
        if not isinstance(item, str):
            problems.append(f"item {i} must be a string, not {type(item).__name__}")
            continue
        if problem := _address_problem(item.strip(), ipv6):
            problems.append(f"item {i}{quoted(item)} {problem}")
            continue
        address = _normalize(item.strip())
        if address in seen:
            problems.append(f"item {i}{quoted(item)} is a duplicate")
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


def check_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], Failures]:
    """Every input rule of the README, as failures on the offending property. Unknown
    values (preview) pass through untouched."""
    failures = Failures()
    inputs: dict[str, Any] = {}

    instance_id = news.get("instance_id")
    if isinstance(instance_id, str):
        instance_id = instance_id.strip()
    if not is_unknown(instance_id) and (problem := _instance_id_problem(instance_id)):
        failures.add("instance_id", problem)
    inputs["instance_id"] = instance_id

    for flag, default in FLAG_DEFAULTS.items():
        value = news.get(flag)
        value = default if value is None else value
        if not is_unknown(value) and not isinstance(value, bool):
            failures.add(flag, "must be true or false")
        inputs[flag] = value
    ipv6 = inputs["ipv6"]

    region = news.get("region")
    if region is not None and not is_unknown(region):
        if not isinstance(region, str) or not region.strip():
            failures.add("region", "must be a non-empty region name such as 'bj'")
        elif problem := cfg.baidu_region_problem(region.strip()):
            failures.add("region", problem)
        else:
            region = region.strip()
    if region is not None:
        inputs["region"] = region

    private_ips, count = news.get("private_ips"), news.get("count")
    if private_ips is not None and count is not None:
        failures.add("private_ips", "give exactly one of private_ips and count, not both")
        failures.add("count", "give exactly one of private_ips and count, not both")
    elif private_ips is None and count is None:
        failures.add("count", "give exactly one of private_ips and count")
    elif private_ips is not None:
        if is_unknown(private_ips):
            inputs["private_ips"] = private_ips
        else:
            hide = news.get(HIDDEN_FLAG) is True
            checked = _check_address_list(private_ips, ipv6, failures, hide)
            if checked is not None:
                inputs["private_ips"] = checked
    elif is_unknown(count):
        inputs["count"] = count
    else:
        as_int = coerce_int(count)
        if as_int is None:
            failures.add("count", f"must be a whole number, not {_brief(count)}")
        elif as_int < 1:
            failures.add("count", f"must be at least 1, not {_brief(as_int)}")
        else:
            inputs["count"] = as_int
    if inputs["adopt"] is True and private_ips is None:
        failures.add("adopt", "needs explicit private_ips: only named addresses can be claimed")
    if inputs["adopt"] is False:
        del inputs["adopt"]  # the default: keeps the inputs of existing stacks unchanged
    secret = news.get(HIDDEN_FLAG)
    if secret is not None and not is_unknown(secret) and not isinstance(secret, bool):
        failures.add(HIDDEN_FLAG, "must be true or false")
    elif secret is not None and secret is not False:
        inputs[HIDDEN_FLAG] = secret  # like adopt: absent when False
    return inputs, failures


@attrs.frozen
class _Desired:
    instance_id: str
    ipv6: bool
    reboot: bool
    region: str | None
    private_ips: tuple[str, ...] | None
    count: int | None
    secret: bool = False  # private_ips was a secret input (secrecy.py)
    owner: str | None = None  # this set among sets of the same addresses (OWNER_KEY)

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> _Desired:
        ips = props.get("private_ips")
        count = props.get("count")
        return cls(
            instance_id=str(props["instance_id"]),
            ipv6=bool(props.get("ipv6", FLAG_DEFAULTS["ipv6"])),
            reboot=bool(props.get("reboot", FLAG_DEFAULTS["reboot"])),
            region=props.get("region") or None,
            private_ips=tuple(canonical_address(str(a)) for a in ips) if ips is not None else None,
            count=coerce_int(count) if count is not None else None,
            secret=props.get(HIDDEN_FLAG) is True,
            owner=props[OWNER_KEY] if isinstance(props.get(OWNER_KEY), str) else None,
        )


def _outputs(desired: _Desired, region: str, owned: Sequence[str]) -> dict[str, Any]:
    outs: dict[str, Any] = {
        "instance_id": desired.instance_id,
        "private_ips": list(owned),
        "ipv6": desired.ipv6,
        "reboot": desired.reboot,
        "region": region,
        SCHEMA_KEY: SCHEMA_VERSION,
    }
    if desired.count is not None:
        outs["count"] = desired.count
    if desired.secret:
        outs[HIDDEN_FLAG] = True
    if desired.owner:
        outs[OWNER_KEY] = desired.owner
    return outs


def _claimant(id_: str, props: Mapping[str, Any]) -> str:
    """Who claims in CLAIMS: the set's owner key, else (state of older code) its id."""
    owner = props.get(OWNER_KEY)
    return owner if isinstance(owner, str) else id_


def migrate_state(state: Mapping[str, Any], default_region: str | None = None) -> dict[str, Any]:
    """Outputs as any version of this package wrote them, in this version's layout.

    Version 0 (no ``schema_version``): older code could leave out ``ipv6``, ``reboot``
    and ``region`` and wrote addresses as it got them. The flags get check's defaults
    (FLAG_DEFAULTS), except that a set whose addresses are IPv6 is an IPv6 set; a
    missing region is the configured one, which is what that code used; addresses
    get their canonical spelling; ``count`` an int. Version 1 had no
    ``secret_addresses``: its sets are not secret (the output is kept only when
    true). A newer layout than this code knows is refused rather than guessed at."""
    raw_version = state.get(SCHEMA_KEY)
    version = 0 if raw_version is None else coerce_int(raw_version)
    if version is None or not 0 <= version <= SCHEMA_VERSION:
        raise BatchIpError(
            f"SecondaryIpSet state has {SCHEMA_KEY} {_brief(raw_version)}, but this "
            f"pulumi-batchip reads up to {SCHEMA_VERSION}: upgrade pulumi-batchip (the state "
            "was written by a newer version)"
        )
    migrated = dict(state)
    owned = [canonical_address(a) for a in state.get("private_ips") or () if isinstance(a, str)]
    migrated["private_ips"] = list(dict.fromkeys(owned))
    if isinstance(state.get("instance_id"), str):
        migrated["instance_id"] = state["instance_id"].strip()
    for flag in ("ipv6", "reboot"):
        if not isinstance(state.get(flag), bool):
            migrated[flag] = FLAG_DEFAULTS[flag]
    if not isinstance(state.get("ipv6"), bool) and any(":" in a for a in owned):
        migrated["ipv6"] = True
    region = state.get("region")
    if isinstance(region, str) and region.strip():
        migrated["region"] = region.strip()
    elif default_region:
        migrated["region"] = default_region
    else:
        migrated.pop("region", None)
    if "count" in state:
        count = coerce_int(state.get("count"))
        if count is None:
            del migrated["count"]
        else:
            migrated["count"] = count
    if migrated.get(HIDDEN_FLAG) is not True:
        migrated.pop(HIDDEN_FLAG, None)
    migrated[SCHEMA_KEY] = SCHEMA_VERSION
    return migrated


def parse_import_id(id_: object) -> tuple[str, list[str]]:
    """``<instance_id>/<ip>[,<ip>...]`` → instance id and normalized addresses. Anything
    else is a BatchIpError that quotes the id briefly."""
    shape = "must look like <instance_id>/<ip>[,<ip>...]"
    if not isinstance(id_, str):
        raise BatchIpError(f"SecondaryIpSet id {_brief(id_)} {shape}")
    instance_id, sep, rest = id_.partition("/")
    if not sep or not instance_id or not rest:
        raise BatchIpError(f"SecondaryIpSet id {_brief(id_)} {shape}")
    if secrecy.is_opaque(rest):
        raise BatchIpError(
            f"SecondaryIpSet id {_brief(id_)} is the id of a set whose private_ips are "
            "secret and names no address: to read or import addresses, give an id that "
            f"{shape}"
        )
    if problem := _instance_id_problem(instance_id):
        raise BatchIpError(f"SecondaryIpSet id {_brief(id_)}: the instance id {problem}")
    texts = [a.strip() for a in rest.split(",") if a.strip()]
    if not texts:
        raise BatchIpError(f"SecondaryIpSet id {_brief(id_)} {shape}")
    if len(texts) > MAX_ADDRESSES:
        raise BatchIpError(
            f"SecondaryIpSet id {_brief(id_)} names {len(texts)} addresses; at most {MAX_ADDRESSES}"
        )
    for text in texts:
        if problem := _address_problem(text, None):
            raise BatchIpError(f"SecondaryIpSet id {_brief(id_)}: {_brief(text)} {problem}")
    addresses = list(dict.fromkeys(_normalize(t) for t in texts))
    if len({ipaddress.ip_address(a).version for a in addresses}) != 1:
        raise BatchIpError(f"SecondaryIpSet id {_brief(id_)} needs addresses of one IP family")
    return instance_id, addresses


def _outcome_unknown(exc: BatchIpError) -> bool:
    """Whether a failed call may still have acted. A refusal the cloud answered (4xx,
    auth, not found) or one raised before sending did nothing: BCC's batch calls are
    all or nothing, and every retry carried the same clientToken, so an earlier attempt
    that acted would have been answered with its success. No answer at all, a 5xx or
    a throttle after the last retry leaves it open."""
    definite = (ClientError, AuthError, NotFoundError, ValidationError, ConfigError)
    return not isinstance(exc, definite)


class SecondaryIpSetProvider(BatchIpProvider):
    """The dynamic provider behind :class:`SecondaryIpSet` (pickled by reference:
    keep this class at this import path)."""

    # -- plumbing -------------------------------------------------------------------
    def _client(self, region: str | None) -> tuple[BccClient, str]:
        settings = cfg.resolve_baidu(self.stack_config, region=region)
        key = ("bcc", settings.endpoint, settings.credentials)
        timeout = self.http_timeout()
        client = self.cached_client(key, lambda: BccClient.from_settings(settings, timeout=timeout))
        return client, settings.region

    def _default_region(self) -> str | None:
        return cfg.configured(cfg.BAIDU_REGION, self.stack_config)

    def _migrated(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """Stored outputs in this version's layout (diff, update, read and delete all
        start here)."""
        return migrate_state(state, self._default_region())

    # -- check / diff ---------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = check_inputs(news)
        # Two sets can own the same address list, hence the same id (one adopted the
        # other's): the owner key, chosen once and then kept, tells them apart.
        kept = olds.get(OWNER_KEY)
        inputs[OWNER_KEY] = kept if isinstance(kept, str) else secrets.token_hex(8)
        return CheckResult(inputs, failures.items)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        olds = self._migrated(olds)
        if isinstance(olds.get("instance_id"), str):
            # Every set of the program is diffed on each `up`: what it owns is claimed.
            instance_id = str(olds.get("instance_id"))
            who = _claimant(id_, olds)
            CLAIMS.claim(instance_id, who, id_, olds["private_ips"])
            theirs = CLAIMS.by_others(instance_id, who, id_)
            if twice := [a for a in olds["private_ips"] if a in theirs]:
                progress(
                    f"SecondaryIpSet {id_}: WARNING: {named(twice)} on VM {instance_id} "
                    "is owned by another SecondaryIpSet of this stack too. Neither set "
                    "deletes it while the other claims it in the same deployment; remove "
                    "it from the private_ips of the set that should not own it"
                )
        effective = {
            "instance_id": news.get("instance_id"),
            "ipv6": news.get("ipv6", FLAG_DEFAULTS["ipv6"]),
            # No region input means the configured one, as create resolved it.
            "region": news.get("region") or self._default_region() or olds.get("region"),
        }
        replaces = [
            key
            for key in REPLACE_KEYS
            if is_unknown(effective[key]) or effective[key] != olds.get(key)
        ]

        changed = list(replaces)
        if news.get("reboot", FLAG_DEFAULTS["reboot"]) != olds["reboot"]:
            changed.append("reboot")
        if news.get(HIDDEN_FLAG, False) != olds.get(HIDDEN_FLAG, False):
            changed.append(HIDDEN_FLAG)  # recorded in place; the id keeps its form
        if self._address_set_changes(olds, news):
            changed.append("private_ips" if news.get("private_ips") is not None else "count")

        delete_first = False
        if replaces:
            new_ips = news.get("private_ips")
            old_ips = set(olds["private_ips"])
            # Explicit addresses must leave the old set before the new one can take them.
            delete_first = isinstance(new_ips, list) and (
                contains_unknown(new_ips) or bool(old_ips & set(new_ips))
            )
        return DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[],
            delete_before_replace=delete_first,
        )

    @staticmethod
    def _address_set_changes(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
        owned = list(olds.get("private_ips") or ())
        new_ips, new_count = news.get("private_ips"), news.get("count")
        if contains_unknown(new_ips) or is_unknown(new_count):
            return True
        if new_ips is not None:
            # Switching from count to an explicit list is a change even if equal.
            return "count" in olds or set(new_ips) != set(owned)
        if "count" not in olds:
            return True
        return coerce_int(new_count) != len(owned) or coerce_int(new_count) != coerce_int(
            olds.get("count")
        )

    # -- create ---------------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        with hidden(props.get(HIDDEN_FLAG) is True):
            return self._create(props)

    def _create(self, props: dict[str, Any]) -> CreateResult:
        desired = _Desired.from_props(props)
        client, region = self._client(desired.region)
        with self.lock_for(desired.instance_id):
            # The NIC as it is before we add: what an unanswered batchAddIp did is the
            # difference (_add). Adoption reads the same snapshot.
            instance = client.get_instance(desired.instance_id)
            before = instance.secondary_addresses(ipv6=desired.ipv6)
            claimed: list[str] = []
            wanted = desired.private_ips
            adopt = props.get("adopt") is True
            if adopt and wanted is not None:
                # Addresses already on the NIC are claimed as they are; the rest added.
                claimed = _adoptable(desired.instance_id, desired.owner or "", "", wanted, before)
                wanted = tuple(a for a in wanted if a not in claimed)
            added: list[str] = []
            if wanted or desired.count:
                added = self._add(
                    client, desired, wanted or None, before, creating=True, adopt=adopt
                )
            if desired.reboot and added:
                self._reboot_and_wait(client, desired.instance_id)
        owned = _in_order(claimed + added, desired.private_ips) if claimed else added
        # The id is never secret in Pulumi: a secret set's names no address.
        if desired.secret:
            id_ = secrecy.opaque_id(desired.instance_id)
        else:
            id_ = f"{desired.instance_id}/{','.join(owned)}"
        CLAIMS.claim(desired.instance_id, desired.owner or id_, id_, owned)
        return CreateResult(id_, _outputs(desired, region, owned))

    @staticmethod
    def _add(
        client: BccClient,
        desired: _Desired,
        private_ips: Sequence[str] | None,
        before: Collection[str],
        *,
        creating: bool,
        adopt: bool = False,
    ) -> list[str]:
        """One batchAddIp; the addresses reach the user's terminal at once, so an
        interrupted `pulumi up` still leaves them named in its output.

        ``before``: the NIC's secondary addresses of the family, read under the VM's
        lock just before. If the call ends without a definite answer, whatever it
        added is in no state and a rerun (a fresh clientToken) would add more: the NIC
        is read again, what appeared is removed again, and the error says exactly that.
        """
        try:
            added = client.batch_add_ip(
                desired.instance_id,
                client_token=_token(),
                private_ips=private_ips,
                count=None if private_ips else desired.count,
                ipv6=desired.ipv6,
            )
        except BatchIpError as exc:
            hint = ""
            if isinstance(exc, CloudApiError) and code_is(exc.code, "PrivateIpInUseException"):
                hint = _in_use_hint(desired.instance_id, creating=creating, adopt=adopt)
            if not _outcome_unknown(exc):
                if hint:
                    raise BatchIpError(f"{exc}{hint}") from exc
                raise
            raise SecondaryIpSetProvider._undo_unanswered_add(
                client, desired, private_ips, before, exc, creating=creating
            ) from exc
        added = [canonical_address(a) for a in added]
        if not added and private_ips is None:
            # An answer without privateIps (the BCC docs promise no body): what appeared
            # on the NIC since the snapshot taken under this VM's lock is what it added,
            # unless another writer added or removed some meanwhile (attribution.py).
            after = client.get_instance(desired.instance_id)
            found = attribution.attribute(
                before,
                after.secondary_addresses(ipv6=desired.ipv6),
                private_ips=None,
                count=desired.count,
            )
            if found.unclear:
                raise BatchIpError(
                    attribution.unclear_after_success(
                        desired.instance_id, found, desired.ipv6, creating, _listed
                    )
                )
            added = list(found.ours)
        progress(f"SecondaryIpSet on {desired.instance_id}: added {named(added)}")
        return added

    @staticmethod
    def _undo_unanswered_add(
        client: BccClient,
        desired: _Desired,
        private_ips: Sequence[str] | None,
        before: Collection[str],
        exc: BatchIpError,
        *,
        creating: bool,
    ) -> BatchIpError:
        """After a batchAddIp without a definite answer: find what it added, remove it
        again and describe the outcome truthfully (the caller raises it).

        Only our own sets are kept out of the way, by the VM's lock this runs under.
        Anyone else may add to the NIC at the same moment (the console, another tool,
        another stack), so no more than asked for is taken for ours (attribution.py):
        with explicit addresses only those; with ``count`` N the new ones only when
        exactly N appeared, else none is removed and the error lists them all."""
        instance_id, ipv6 = desired.instance_id, desired.ipv6
        failed = f"{_error_text(exc)}. The call may still have acted"
        try:
            after = client.get_instance(instance_id)
        except BatchIpError as read_exc:
            message = (
                f"{failed}, and reading VM {instance_id}'s NIC to check failed too "
                f"({_error_text(read_exc)}): whether it added addresses is unknown. Before "
                "the call the NIC held these secondary addresses: "
                f"{_listed(list(before)) or 'none'}; "
                "any other one there now may be this call's and belongs to no Pulumi "
                "state: remove it by hand or claim it with adopt=True"
            )
            progress(f"SecondaryIpSet on {instance_id}: {message}")
            return BatchIpError(message)
        found = attribution.attribute(
            before,
            after.secondary_addresses(ipv6=ipv6),
            private_ips=private_ips,
            count=None if private_ips is not None else desired.count,
        )
        if found.unclear and found.appeared:
            message = attribution.unclear_after_no_answer(
                instance_id, found, ipv6, creating, _listed
            )
            progress(f"SecondaryIpSet on {instance_id}: {message}")
            return BatchIpError(f"{failed}. {message}")
        appeared = list(found.ours)
        if not appeared:
            return BatchIpError(
                f"{failed}, but VM {instance_id}'s NIC, read again, shows no address it "
                "added: nothing to clean up"
            )
        progress(
            f"SecondaryIpSet on {instance_id}: batchAddIp got no answer but added "
            f"{named(appeared)}; removing them again"
        )
        outcome = _roll_back(
            client, instance_id, ipv6, appeared, after.cloud_text(appeared, ipv6=ipv6)
        )
        if outcome.remaining:
            progress(
                f"SecondaryIpSet on {instance_id}: LEFT ON THE VM, in no state: "
                f"{named(outcome.remaining)}"
            )
        then = "" if outcome.remaining else ". Run `pulumi up` again"
        return BatchIpError(
            f"{failed}: VM {instance_id}'s NIC, read again, shows it added "
            f"{_listed(appeared)}; {outcome.describe(instance_id, ipv6)}{then}"
        )

    # -- read -----------------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with hidden(props.get(HIDDEN_FLAG) is True):
            return self._read(id_, props)

    def _read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        imported = "private_ips" not in props or "instance_id" not in props
        if imported:
            instance_id, owned = parse_import_id(id_)
            ipv6 = ipaddress.ip_address(owned[0]).version == 6
            region = props.get("region")
            region = region if cfg.baidu_region_problem(region) is None else None
            desired = _Desired(instance_id, ipv6, False, region, None, None)
        else:
            state = self._migrated(props)
            desired = _Desired.from_props(state)
            owned = list(state["private_ips"])
        client, region = self._client(desired.region)
        try:
            instance = client.get_instance(desired.instance_id)
        except NotFoundError:
            return ReadResult(None, {})
        present = set(instance.secondary_addresses(ipv6=desired.ipv6))
        still_owned = [a for a in owned if a in present]
        if not still_owned:
            return ReadResult(None, {})
        outs = _outputs(desired, region, still_owned)
        if imported:
            # A `.get` view owns nothing: it must not shield addresses from their owner.
            inputs = {k: outs[k] for k in ("instance_id", "private_ips", "ipv6", "reboot")}
            return ReadResult(id_, outs, inputs)
        CLAIMS.claim(desired.instance_id, _claimant(id_, props), id_, still_owned)
        return ReadResult(id_, outs)

    # -- update ---------------------------------------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with hidden(olds.get(HIDDEN_FLAG) is True or news.get(HIDDEN_FLAG) is True):
            return self._update(id_, olds, news)

    def _update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds = self._migrated(olds)
        desired = _Desired.from_props(news)
        # State of older code claimed by id; from now on the set claims by owner key.
        was = _claimant(id_, olds)
        who = desired.owner or was
        if who != was:
            CLAIMS.release(desired.instance_id, was)
        client, region = self._client(desired.region)
        with self.lock_for(desired.instance_id):
            instance = client.get_instance(desired.instance_id)
            before = instance.secondary_addresses(ipv6=desired.ipv6)
            present = set(before)
            owned = [a for a in olds["private_ips"] if a in present]
            keep, to_delete, add_ips, add_count = _plan(owned, desired)
            if shielded := [
                a for a in to_delete if a in CLAIMS.by_others(desired.instance_id, who, id_)
            ]:
                progress(
                    f"SecondaryIpSet {id_}: not deleting {named(shielded)}: another set of "
                    "this stack owns it; this set lets it go"
                )
                to_delete = [a for a in to_delete if a not in shielded]
            adopt = news.get("adopt") is True
            claimed: list[str] = []
            if adopt and add_ips:
                # Wanted addresses already on the NIC that this set does not own (left
                # by an interrupted `pulumi up`, or made by hand): claimed as they are.
                claimed = _adoptable(desired.instance_id, who, id_, add_ips, before)
                add_ips = [a for a in add_ips if a not in claimed]

            added: list[str] = []
            if add_ips or add_count:
                added = self._add(
                    client,
                    attrs.evolve(desired, count=add_count),
                    add_ips or None,
                    before,
                    creating=False,
                    adopt=adopt,
                )
            if to_delete:
                self._delete_or_roll_back(client, desired, instance, to_delete, added)
            if desired.reboot and (added or to_delete):
                self._reboot_and_wait(client, desired.instance_id)
        owned = keep + claimed + added
        CLAIMS.claim(desired.instance_id, who, id_, owned)
        return UpdateResult(_outputs(desired, region, owned))

    @staticmethod
    def _delete_or_roll_back(
        client: BccClient,
        desired: _Desired,
        instance: Instance,
        to_delete: list[str],
        added: list[str],
    ) -> None:
        """batchDelIp of the extra addresses; if that fails, what was just added is
        removed again so the set stays as it was, and the error says what is left."""
        instance_id, ipv6 = desired.instance_id, desired.ipv6
        try:
            client.batch_del_ip(
                instance_id, instance.cloud_text(to_delete, ipv6=ipv6), client_token=_token()
            )
            progress(f"SecondaryIpSet on {instance_id}: removed {named(to_delete)}")
            return
        except BatchIpError as exc:
            failure = exc
        gone: bool | None = False  # did the delete act? None: could not tell
        if _outcome_unknown(failure):
            try:
                now = set(client.get_instance(instance_id).secondary_addresses(ipv6=ipv6))
            except BatchIpError:
                gone = None
            else:
                gone = not (set(to_delete) & now)
            if gone:
                progress(
                    f"SecondaryIpSet on {instance_id}: batchDelIp got no answer, but "
                    f"{named(to_delete)} are gone from the NIC: it went through"
                )
                return
        old_set = (
            "so the set is as it was before this update"
            if gone is False
            else f"whether {_listed(to_delete)} were removed is unknown (`pulumi refresh` "
            "will tell: they are in this set's state)"
        )
        if not added:
            if gone is None:
                raise BatchIpError(f"{_error_text(failure)}; {old_set}") from failure
            raise failure
        outcome = _roll_back(client, instance_id, ipv6, added)
        if not outcome.remaining:
            raise BatchIpError(
                f"{_error_text(failure)}; the addresses just added ({_listed(added)}) were "
                f"removed again, {old_set}"
            ) from failure
        progress(
            f"SecondaryIpSet on {instance_id}: LEFT ON THE VM, in no state: "
            f"{named(outcome.remaining)}"
        )
        raise BatchIpError(
            f"{_error_text(failure)}; rolling back the addresses just added "
            f"({_listed(added)}): {outcome.describe(instance_id, ipv6)}"
        ) from failure

    # -- delete ---------------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with hidden(props.get(HIDDEN_FLAG) is True):
            self._delete(id_, props)

    def _delete(self, id_: str, props: dict[str, Any]) -> None:
        if "instance_id" in props:
            state = self._migrated(props)
            desired = _Desired.from_props(state)
            owned = list(state["private_ips"])
        else:
            instance_id, owned = parse_import_id(id_)
            ipv6 = ipaddress.ip_address(owned[0]).version == 6
            desired = _Desired(instance_id, ipv6, False, None, None, None)
        who = _claimant(id_, props)
        client, _region = self._client(desired.region)
        with self.lock_for(desired.instance_id):
            for attempt in range(3):
                try:
                    instance = client.get_instance(desired.instance_id)
                except NotFoundError:
                    return  # the VM is gone, and its addresses with it
                present = set(instance.secondary_addresses(ipv6=desired.ipv6))
                others = CLAIMS.by_others(desired.instance_id, who, id_)
                if shielded := [a for a in owned if a in present and a in others]:
                    progress(
                        f"SecondaryIpSet {id_}: not deleting {named(shielded)}: another "
                        "set now owns it (it was removed from this set behind its back)"
                    )
                to_delete = [a for a in owned if a in present and a not in others]
                if not to_delete:
                    CLAIMS.release(desired.instance_id, who)
                    return
                try:
                    client.batch_del_ip(
                        desired.instance_id,
                        instance.cloud_text(to_delete, ipv6=desired.ipv6),
                        client_token=_token(),
                    )
                    CLAIMS.release(desired.instance_id, who)
                    break
                except CloudApiError as exc:
                    # All-or-nothing: one address removed meanwhile fails the call; look again.
                    if not code_is(exc.code, "PrivateIPNotExistException") or attempt == 2:
                        raise
            if desired.reboot:
                self._reboot_and_wait(client, desired.instance_id)

    # -- reboot ---------------------------------------------------------------------
    # The callers hold the VM's lock through the whole reboot, wait for Running
    # included (up to REBOOT_DEADLINE_SECONDS), on purpose:
    # - while the VM is Starting, BCC refuses another reboot (409
    #   Instance.RebootInstanceOperationForbidden), so the next set's change on that VM
    #   could not take effect through its own reboot; it would have to wait for
    #   Running before its reboot request anyway;
    # - releasing the lock earlier frees no server thread: the rebooting set's own RPC
    #   keeps its thread until Running regardless;
    # - only create/update/delete of sets on the same VM wait for this lock; check,
    #   diff and read take no lock, and other VMs have their own.
    # The cost: the provider server runs 4 RPCs at once, so 4 or more sets changing
    # rebooting VMs at the same moment hold all of them and other RPCs queue behind
    # the reboots (`pulumi up --parallel`, or depends_on between the sets, limits it).
    def _reboot_and_wait(self, client: BccClient, instance_id: str) -> None:
        """Reboot so the change takes effect. The change is already made and saved:
        a reboot that fails or misses its deadline is reported, not raised, because
        raising would drop the new addresses from state and leak them."""
        try:
            self._reboot(client, instance_id)
        except BatchIpError as exc:
            progress(
                f"WARNING: reboot {instance_id} did not complete: {_error_text(exc)}. The "
                "address change is saved; it takes effect once the VM restarts."
            )

    def _reboot(self, client: BccClient, instance_id: str) -> None:
        progress(f"reboot {instance_id}: requested so the address change takes effect")
        client.reboot(instance_id)
        started = time.monotonic()
        left_running = False
        interval = 0.2
        while True:
            elapsed = time.monotonic() - started
            instance = client.get_instance(instance_id)
            if instance.status != "Running":
                left_running = True
            elif left_running or elapsed > REBOOT_START_GRACE_SECONDS:
                progress(f"reboot {instance_id}: Running after {elapsed:.0f} s")
                return
            if elapsed > REBOOT_DEADLINE_SECONDS:
                raise OperationTimeoutError(
                    f"still {instance.status} after {elapsed:.0f} s "
                    f"(deadline {REBOOT_DEADLINE_SECONDS:.0f} s)"
                )
            progress(f"reboot {instance_id}: {instance.status}, {elapsed:.0f} s")
            time.sleep(interval)
            interval = min(interval * 1.5, 5.0)


def _plan(owned: list[str], desired: _Desired) -> tuple[list[str], list[str], list[str], int]:
    """(kept, to delete, explicit to add, count to allocate). Newest go first on a
    count decrease: ``owned`` is in the order the addresses were added."""
    if desired.private_ips is not None:
        wanted = list(desired.private_ips)
        keep = [a for a in owned if a in wanted]
        to_delete = [a for a in owned if a not in wanted]
        add_ips = [a for a in wanted if a not in owned]
        return keep, to_delete, add_ips, 0
    count = desired.count or 0
    if count >= len(owned):
        return owned, [], [], count - len(owned)
    return owned[:count], owned[count:], [], 0


def _adoptable(
    instance_id: str, who: str, set_id: str, wanted: Sequence[str], before: Collection[str]
) -> list[str]:
    """The wanted addresses already on the NIC (``before``), for ``adopt=True`` to
    claim. None may be one that another set of this provider process owns (CLAIMS):
    that is refused before anything changes."""
    present = set(before)
    on_nic = [a for a in wanted if a in present]
    if not on_nic:
        return []
    theirs = CLAIMS.by_others(instance_id, who, set_id)
    if taken := [a for a in on_nic if a in theirs]:
        raise BatchIpError(
            f"adopt=True cannot claim {_listed(taken)} on VM {instance_id}: another "
            "SecondaryIpSet of this deployment owns "
            f"{'it' if len(taken) == 1 else 'them'}, and adopt=True claims only addresses "
            "no other set owns. Nothing was changed; remove "
            f"{'it' if len(taken) == 1 else 'them'} from this set's private_ips, or from "
            "the other set first"
        )
    progress(f"SecondaryIpSet on {instance_id}: claimed {named(on_nic)}")
    return on_nic


def _in_use_hint(instance_id: str, *, creating: bool, adopt: bool) -> str:
    """What to do about PrivateIpInUseException from batchAddIp."""
    if adopt:
        return (
            f". adopt=True claims only secondary addresses of VM {instance_id}'s NIC, and "
            "the NIC did not hold this one when read just before the call: another NIC "
            "(or this NIC's primary address) holds it"
        )
    if creating:
        return (
            ". If the address was left on the VM by an interrupted `pulumi up` "
            "(or you want this set to own what is already there), set adopt=True "
            "to claim it; `python -m pulumi_batchip orphans` lists what an "
            "interrupted `pulumi up` left behind."
        )
    return (
        ". If the address is already on the VM, left by an interrupted `pulumi up` (or "
        "you want this set to own what is already there), set adopt=True on this set, "
        "keeping these private_ips, and run `pulumi up` again: the update then claims "
        "the addresses already on the NIC instead of adding them; "
        "`python -m pulumi_batchip orphans` lists what an interrupted `pulumi up` left "
        "behind."
    )


def _in_order(addresses: list[str], wanted: Sequence[str] | None) -> list[str]:
    """Explicit addresses keep the order the user gave; allocated ones BCC's order."""
    if wanted is None:
        return addresses
    rank = {a: n for n, a in enumerate(wanted)}
    return sorted(addresses, key=lambda a: rank.get(a, len(rank)))


class SecondaryIpSet(Resource, module="batchip", name="SecondaryIpSet"):
    """Secondary private IPv4 or IPv6 addresses on a Baidu BCC VM's primary NIC,
    added and removed in batches (``batchAddIp`` / ``batchDelIp``).

    Give exactly one of ``private_ips`` (explicit addresses) and ``count`` (let BCC
    allocate from the VM's subnet). Changing either updates the set in place;
    changing ``instance_id``, ``ipv6`` or ``region`` replaces it.

    Outputs in state: the inputs as applied, plus ``schema_version``, the version of
    this resource's state layout (now 2; seen in ``pulumi stack export`` and the CLI's
    diff display, not an attribute of this class). It lets newer releases read state
    written by older ones (state without it is version 0: missing ``ipv6``,
    ``reboot``, ``region`` get their defaults); a release refuses state from a newer
    one instead of guessing.
    Addresses are always in canonical form (``ipaddress``'s compressed, lower-case
    spelling), whatever spelling the cloud answers with.

    A ``batchAddIp`` that ends without an answer (every retry lost, or 5xx) is
    checked against the NIC as it was just before: what it added is removed again and
    the error says so, or names exactly what is left on which VM. It never takes
    more than it asked for: if another writer added to the NIC meanwhile and a
    ``count`` add cannot be told apart, nothing is removed or claimed and the error
    lists what appeared.

    A secret ``private_ips`` (``pulumi.Output.secret([...])``) stays secret: the id
    is ``<instance_id>/secret-<random hex>`` instead of naming the addresses, and
    progress lines and errors give counts instead of addresses.
    """

    instance_id: pulumi.Output[str]
    """The BCC instance (VM) whose primary NIC holds the addresses."""
    private_ips: pulumi.Output[list[str]]
    """The addresses this resource owns, in the order they were added."""
    count: pulumi.Output[int | None]
    """The requested number of addresses, when ``count`` was given."""
    ipv6: pulumi.Output[bool]
    """True for an IPv6 set, False for IPv4."""
    reboot: pulumi.Output[bool]
    """Whether the VM is rebooted after each change so it takes effect."""
    region: pulumi.Output[str]
    """The Baidu region the instance lives in (e.g. ``bj``)."""

    def __init__(
        self,
        resource_name: str,
        *,
        instance_id: pulumi.Input[str],
        private_ips: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        count: pulumi.Input[int] | None = None,
        ipv6: pulumi.Input[bool] = False,
        reboot: pulumi.Input[bool] = False,
        region: pulumi.Input[str] | None = None,
        adopt: pulumi.Input[bool] = False,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """``adopt=True`` (with ``private_ips``): addresses already on the NIC are
        claimed instead of added, the missing ones added, on create and on update
        (addresses the set does not own yet), except one another set of the same
        deployment owns. Changing only ``adopt`` changes nothing."""
        props = {
            "instance_id": instance_id,
            "private_ips": private_ips,
            "count": count,
            "ipv6": ipv6,
            "reboot": reboot,
            "region": region,
            "adopt": adopt or None,
            # The provider gets secret inputs unwrapped: tell it private_ips was secret.
            HIDDEN_FLAG: secrecy.secret_flag(private_ips),
        }
        super().__init__(SecondaryIpSetProvider(), resource_name, props, opts)

    @staticmethod
    def get(
        resource_name: str,
        id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> SecondaryIpSet:
        """A read-only view of existing addresses: ``id`` is
        ``<instance_id>/<ip>[,<ip>...]``. Pulumi never updates or deletes a resource
        read this way; to make a set own addresses already on the NIC, give them as
        ``private_ips`` with ``adopt=True``."""
        merged = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(id=id))
        resource = SecondaryIpSet.__new__(SecondaryIpSet)
        props = dict.fromkeys(("instance_id", "private_ips", "count", "ipv6", "reboot", "region"))
        Resource.__init__(resource, SecondaryIpSetProvider(), resource_name, props, merged)
        return resource
