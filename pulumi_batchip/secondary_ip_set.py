"""SecondaryIpSet: secondary private addresses on a Baidu BCC VM's primary NIC."""

from __future__ import annotations

import ipaddress
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
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
    progress,
)
from .baidu.bcc import BccClient
from .errors import BatchIpError, CloudApiError, NotFoundError, OperationTimeoutError

REPLACE_KEYS = ("instance_id", "ipv6", "region")
REBOOT_DEADLINE_SECONDS = 600.0
# A reboot request is asynchronous: wait this long to see the VM leave Running.
REBOOT_START_GRACE_SECONDS = 15.0


def _normalize(address: str) -> str:
    return ipaddress.ip_address(address).compressed


class _Claims:
    """Which set (by id) claims which addresses on which VM, as far as this provider
    process has seen: created, updated, read or diffed sets. BCC marks no owner on
    an address, so this is the strongest guard there is: a set never deletes an
    address another set of this process claims (one the VM handed to another set
    after it was removed behind our back). Module-level, like the locks."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._by_vm: dict[str, dict[str, frozenset[str]]] = {}

    def claim(self, instance_id: str, set_id: str, addresses: Sequence[str]) -> None:
        with self._guard:
            self._by_vm.setdefault(instance_id, {})[set_id] = frozenset(addresses)

    def release(self, instance_id: str, set_id: str) -> None:
        with self._guard:
            self._by_vm.get(instance_id, {}).pop(set_id, None)

    def by_others(self, instance_id: str, set_id: str) -> frozenset[str]:
        with self._guard:
            sets = self._by_vm.get(instance_id, {})
            return frozenset().union(*(a for sid, a in sets.items() if sid != set_id))


CLAIMS = _Claims()


def _check_address_list(value: object, ipv6: object, failures: Failures) -> list[Any] | None:
    if not isinstance(value, list):
        failures.add("private_ips", "must be a list of IP address strings")
        return None
    if not value:
        failures.add("private_ips", "must hold at least one address (or use count)")
        return None
    normalized: list[Any] = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        if is_unknown(item):
            normalized.append(item)
            continue
        if not isinstance(item, str):
            failures.add("private_ips", f"item {i} must be a string, not {type(item).__name__}")
            continue
        try:
            address = ipaddress.ip_address(item.strip())
        except ValueError:
            failures.add("private_ips", f"item {i} {item!r} is not a valid IP address")
            continue
        if isinstance(ipv6, bool) and (address.version == 6) != ipv6:
            family = "IPv6" if ipv6 else "IPv4"
            failures.add(
                "private_ips",
                f"item {i} {item!r} is IPv{address.version} but ipv6={ipv6} needs {family}",
            )
            continue
        if address.compressed in seen:
            failures.add("private_ips", f"item {i} {item!r} is a duplicate")
            continue
        seen.add(address.compressed)
        normalized.append(address.compressed)
    return normalized


def check_inputs(news: Mapping[str, Any]) -> tuple[dict[str, Any], Failures]:
    """Every input rule of the README, as failures on the offending property. Unknown
    values (preview) pass through untouched."""
    failures = Failures()
    inputs: dict[str, Any] = {}

    instance_id = news.get("instance_id")
    if not is_unknown(instance_id) and (
        not isinstance(instance_id, str) or not instance_id.strip() or "/" in instance_id
    ):
        failures.add("instance_id", "must be a non-empty instance id such as 'i-DhjUXmSA'")
    inputs["instance_id"] = instance_id.strip() if isinstance(instance_id, str) else instance_id

    for flag in ("ipv6", "reboot", "adopt"):
        value = news.get(flag)
        value = False if value is None else value
        if not is_unknown(value) and not isinstance(value, bool):
            failures.add(flag, "must be true or false")
        inputs[flag] = value
    ipv6 = inputs["ipv6"]

    region = news.get("region")
    if region is not None and not is_unknown(region):
        if not isinstance(region, str) or not region.strip():
            failures.add("region", "must be a non-empty region name such as 'bj'")
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
            checked = _check_address_list(private_ips, ipv6, failures)
            if checked is not None:
                inputs["private_ips"] = checked
    elif is_unknown(count):
        inputs["count"] = count
    else:
        as_int = coerce_int(count)
        if as_int is None:
            failures.add("count", f"must be a whole number, not {count!r}")
        elif as_int < 1:
            failures.add("count", f"must be at least 1, not {as_int}")
        else:
            inputs["count"] = as_int
    if inputs["adopt"] is True and private_ips is None:
        failures.add("adopt", "needs explicit private_ips: only named addresses can be claimed")
    if inputs["adopt"] is False:
        del inputs["adopt"]  # the default: keeps the inputs of existing stacks unchanged
    return inputs, failures


@attrs.frozen
class _Desired:
    instance_id: str
    ipv6: bool
    reboot: bool
    region: str | None
    private_ips: tuple[str, ...] | None
    count: int | None

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> _Desired:
        ips = props.get("private_ips")
        count = props.get("count")
        return cls(
            instance_id=str(props["instance_id"]),
            ipv6=bool(props.get("ipv6", False)),
            reboot=bool(props.get("reboot", False)),
            region=props.get("region") or None,
            private_ips=tuple(_normalize(a) for a in ips) if ips is not None else None,
            count=coerce_int(count) if count is not None else None,
        )


def _outputs(desired: _Desired, region: str, owned: Sequence[str]) -> dict[str, Any]:
    outs: dict[str, Any] = {
        "instance_id": desired.instance_id,
        "private_ips": list(owned),
        "ipv6": desired.ipv6,
        "reboot": desired.reboot,
        "region": region,
    }
    if desired.count is not None:
        outs["count"] = desired.count
    return outs


def parse_import_id(id_: str) -> tuple[str, list[str]]:
    """``<instance_id>/<ip>[,<ip>...]`` → instance id and normalized addresses."""
    instance_id, sep, rest = id_.partition("/")
    if not sep or not instance_id or not rest:
        raise BatchIpError(f"SecondaryIpSet id {id_!r} must look like <instance_id>/<ip>[,<ip>...]")
    try:
        addresses = [_normalize(a.strip()) for a in rest.split(",") if a.strip()]
    except ValueError as exc:
        raise BatchIpError(f"SecondaryIpSet id {id_!r}: {exc}") from None
    if not addresses or len({ipaddress.ip_address(a).version for a in addresses}) != 1:
        raise BatchIpError(f"SecondaryIpSet id {id_!r} needs addresses of one IP family")
    return instance_id, addresses


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

    # -- check / diff ---------------------------------------------------------------
    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = check_inputs(news)
        return CheckResult(inputs, failures.items)

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        if isinstance(olds.get("instance_id"), str):
            # Every set of the program is diffed on each `up`: what it owns is claimed.
            CLAIMS.claim(
                str(olds.get("instance_id")), id_, [str(a) for a in olds.get("private_ips") or ()]
            )
        effective = {
            "instance_id": news.get("instance_id"),
            "ipv6": news.get("ipv6", False),
            # No region input means the configured one, as create resolved it.
            "region": news.get("region") or self._default_region() or olds.get("region"),
        }
        replaces = [
            key
            for key in REPLACE_KEYS
            if is_unknown(effective[key]) or effective[key] != olds.get(key)
        ]

        changed = list(replaces)
        if news.get("reboot", False) != olds.get("reboot", False):
            changed.append("reboot")
        if self._address_set_changes(olds, news):
            changed.append("private_ips" if news.get("private_ips") is not None else "count")

        delete_first = False
        if replaces:
            new_ips = news.get("private_ips")
            old_ips = set(olds.get("private_ips") or ())
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
        desired = _Desired.from_props(props)
        client, region = self._client(desired.region)
        with self.lock_for(desired.instance_id):
            claimed: list[str] = []
            wanted = desired.private_ips
            if props.get("adopt") and wanted is not None:
                # Addresses already on the NIC are claimed as they are; the rest added.
                instance = client.get_instance(desired.instance_id)
                present = set(instance.secondary_addresses(ipv6=desired.ipv6))
                claimed = [a for a in wanted if a in present]
                wanted = tuple(a for a in wanted if a not in present)
                if claimed:
                    progress(
                        f"SecondaryIpSet on {desired.instance_id}: claimed {', '.join(claimed)}"
                    )
            added: list[str] = []
            if wanted or desired.count:
                added = self._add(client, desired, wanted or None)
            if desired.reboot and added:
                self._reboot_and_wait(client, desired.instance_id)
        owned = _in_order(claimed + added, desired.private_ips) if claimed else added
        id_ = f"{desired.instance_id}/{','.join(owned)}"
        CLAIMS.claim(desired.instance_id, id_, owned)
        return CreateResult(id_, _outputs(desired, region, owned))

    @staticmethod
    def _add(client: BccClient, desired: _Desired, private_ips: Sequence[str] | None) -> list[str]:
        """One batchAddIp; the addresses reach the user's terminal at once, so an
        interrupted `pulumi up` still leaves them named in its output."""
        try:
            added = client.batch_add_ip(
                desired.instance_id,
                client_token=_token(),
                private_ips=private_ips,
                count=None if private_ips else desired.count,
                ipv6=desired.ipv6,
            )
        except CloudApiError as exc:
            if exc.code == "PrivateIpInUseException":
                raise BatchIpError(
                    f"{exc}. If the address was left on the VM by an interrupted `pulumi up` "
                    "(or you want this set to own what is already there), set adopt=True "
                    "to claim it; `python -m pulumi_batchip orphans` lists what an "
                    "interrupted create left behind."
                ) from exc
            raise
        added = [_normalize(a) for a in added]
        progress(f"SecondaryIpSet on {desired.instance_id}: added {', '.join(added)}")
        return added

    # -- read -----------------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        imported = "private_ips" not in props or "instance_id" not in props
        if imported:
            instance_id, owned = parse_import_id(id_)
            ipv6 = ipaddress.ip_address(owned[0]).version == 6
            desired = _Desired(instance_id, ipv6, False, props.get("region") or None, None, None)
        else:
            desired = _Desired.from_props(props)
            owned = [_normalize(a) for a in props.get("private_ips") or ()]
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
        CLAIMS.claim(desired.instance_id, id_, still_owned)
        return ReadResult(id_, outs)

    # -- update ---------------------------------------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        desired = _Desired.from_props(news)
        client, region = self._client(desired.region)
        with self.lock_for(desired.instance_id):
            instance = client.get_instance(desired.instance_id)
            present = set(instance.secondary_addresses(ipv6=desired.ipv6))
            owned = [
                _normalize(a) for a in olds.get("private_ips") or () if _normalize(a) in present
            ]
            keep, to_delete, add_ips, add_count = _plan(owned, desired)

            added: list[str] = []
            if add_ips or add_count:
                added = self._add(client, attrs.evolve(desired, count=add_count), add_ips or None)
            if to_delete:
                self._delete_or_roll_back(client, desired.instance_id, to_delete, added)
            if desired.reboot and (added or to_delete):
                self._reboot_and_wait(client, desired.instance_id)
        CLAIMS.claim(desired.instance_id, id_, keep + added)
        return UpdateResult(_outputs(desired, region, keep + added))

    @staticmethod
    def _delete_or_roll_back(
        client: BccClient, instance_id: str, to_delete: list[str], added: list[str]
    ) -> None:
        try:
            client.batch_del_ip(instance_id, to_delete, client_token=_token())
        except BatchIpError as exc:
            if not added:
                raise
            try:
                client.batch_del_ip(instance_id, added, client_token=_token())
            except BatchIpError as rollback_exc:
                raise BatchIpError(
                    f"{exc}; rolling back the addresses just added ({', '.join(added)}) "
                    f"also failed: {rollback_exc}. Remove them by hand or run "
                    "`pulumi refresh`."
                ) from exc
            raise BatchIpError(
                f"{exc}; the addresses just added ({', '.join(added)}) were removed again, "
                "so the set is as it was before this update"
            ) from exc

    # -- delete ---------------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        if "instance_id" in props:
            desired = _Desired.from_props(props)
            owned = [_normalize(a) for a in props.get("private_ips") or ()]
        else:
            instance_id, owned = parse_import_id(id_)
            ipv6 = ipaddress.ip_address(owned[0]).version == 6
            desired = _Desired(instance_id, ipv6, False, None, None, None)
        client, _region = self._client(desired.region)
        with self.lock_for(desired.instance_id):
            for attempt in range(3):
                try:
                    instance = client.get_instance(desired.instance_id)
                except NotFoundError:
                    return  # the VM is gone, and its addresses with it
                present = set(instance.secondary_addresses(ipv6=desired.ipv6))
                others = CLAIMS.by_others(desired.instance_id, id_)
                if shielded := [a for a in owned if a in present and a in others]:
                    progress(
                        f"SecondaryIpSet {id_}: not deleting {', '.join(shielded)}: another "
                        "set now owns it (it was removed from this set behind its back)"
                    )
                to_delete = [a for a in owned if a in present and a not in others]
                if not to_delete:
                    CLAIMS.release(desired.instance_id, id_)
                    return
                try:
                    client.batch_del_ip(desired.instance_id, to_delete, client_token=_token())
                    CLAIMS.release(desired.instance_id, id_)
                    break
                except CloudApiError as exc:
                    # All-or-nothing: one address removed meanwhile fails the call; look again.
                    if exc.code != "PrivateIPNotExistException" or attempt == 2:
                        raise
            if desired.reboot:
                self._reboot_and_wait(client, desired.instance_id)

    # -- reboot ---------------------------------------------------------------------
    def _reboot_and_wait(self, client: BccClient, instance_id: str) -> None:
        """Reboot so the change takes effect. The change is already made and saved:
        a reboot that fails or misses its deadline is reported, not raised, because
        raising would drop the new addresses from state and leak them."""
        try:
            self._reboot(client, instance_id)
        except BatchIpError as exc:
            progress(
                f"WARNING: reboot {instance_id} did not complete: {exc}. The address "
                "change is saved; it takes effect once the VM restarts."
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


def _in_order(addresses: list[str], wanted: Sequence[str] | None) -> list[str]:
    """Explicit addresses keep the order the user gave; allocated ones BCC's order."""
    if wanted is None:
        return addresses
    rank = {a: n for n, a in enumerate(wanted)}
    return sorted(addresses, key=lambda a: rank.get(a, len(rank)))


def _token() -> str:
    # One token per operation, reused by every retry of that call (docs/design.md §3).
    return str(uuid.uuid4())


class SecondaryIpSet(Resource, module="batchip", name="SecondaryIpSet"):
    """Secondary private IPv4 or IPv6 addresses on a Baidu BCC VM's primary NIC,
    added and removed in batches (``batchAddIp`` / ``batchDelIp``).

    Give exactly one of ``private_ips`` (explicit addresses) and ``count`` (let BCC
    allocate from the VM's subnet). Changing either updates the set in place;
    changing ``instance_id``, ``ipv6`` or ``region`` replaces it.
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
        claimed instead of added, the missing ones added. It acts on create only."""
        props = {
            "instance_id": instance_id,
            "private_ips": private_ips,
            "count": count,
            "ipv6": ipv6,
            "reboot": reboot,
            "region": region,
            "adopt": adopt or None,
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
