"""SecondaryIpSet: secondary private addresses on a Baidu BCC VM's primary NIC.

The Pulumi provider is thin: each method migrates the stored state, builds what is
desired and makes one call into baidu/set_operations.py. The inputs are declared in
secondary_ip_inputs.py; the state layout is baidu/set_state.py's.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

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
from ._provider import BatchIpProvider, ProviderHalf, coerce_int, contains_unknown, is_unknown
from .baidu import secrecy
from .baidu.secrecy import HIDDEN_FLAG, hidden, progress

# The provider's half: loaded before any SecondaryIpSetProvider method runs (half=_HALF).
if TYPE_CHECKING:
    from .baidu.bcc import BccClient
    from .baidu.claims import claim_diffed, claimant
    from .baidu.set_operations import SetOperations
    from .baidu.set_state import (
        OWNER_KEY,
        SCHEMA_KEY,
        SCHEMA_VERSION,
        Desired,
        migrate_state,
        outputs_of,
    )
    from .secondary_ip_inputs import DEFAULTS, REPLACE_KEYS, check_inputs, parse_import_id

_HALF = ProviderHalf(
    globals(),
    {
        ".baidu.bcc": ("BccClient",),
        ".baidu.claims": ("claim_diffed", "claimant"),
        ".baidu.set_operations": ("SetOperations",),
        ".baidu.set_state": (
            "OWNER_KEY",
            "SCHEMA_KEY",
            "SCHEMA_VERSION",
            "Desired",
            "migrate_state",
            "outputs_of",
        ),
        ".secondary_ip_inputs": ("DEFAULTS", "REPLACE_KEYS", "check_inputs", "parse_import_id"),
    },
)


def __getattr__(name: str) -> Any:
    return _HALF.attribute(name)


__all__ = [
    "REPLACE_KEYS",
    "SCHEMA_KEY",
    "SCHEMA_VERSION",
    "SecondaryIpSet",
    "SecondaryIpSetProvider",
    "check_inputs",
    "migrate_state",
    "parse_import_id",
]


class SecondaryIpSetProvider(BatchIpProvider, half=_HALF):
    """The dynamic provider behind :class:`SecondaryIpSet` (pickled by reference:
    keep this class at this import path)."""

    # -- plumbing -------------------------------------------------------------------
    def _operations(self, region: str | None) -> tuple[SetOperations, str]:
        """The operations on the BCC client of ``region`` (the configured one if None),
        and that region."""
        settings = cfg.resolve_baidu(self.stack_config, region=region)
        key = ("bcc", settings.endpoint, settings.credentials)
        timeout = self.http_timeout()
        client = self.cached_client(key, lambda: BccClient.from_settings(settings, timeout=timeout))
        return SetOperations(client, self.lock_for), settings.region

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
        claim_diffed(id_, olds, progress)
        effective = {
            "instance_id": news.get("instance_id"),
            "ipv6": news.get("ipv6", DEFAULTS["ipv6"]),
            # No region input means the configured one, as create resolved it.
            "region": news.get("region") or self._default_region() or olds.get("region"),
        }
        replaces = [
            key
            for key in REPLACE_KEYS
            if is_unknown(effective[key]) or effective[key] != olds.get(key)
        ]

        changed = list(replaces)
        if news.get("reboot", DEFAULTS["reboot"]) != olds["reboot"]:
            changed.append("reboot")
        if news.get(HIDDEN_FLAG, False) != olds.get(HIDDEN_FLAG, False):
            changed.append(HIDDEN_FLAG)  # recorded in place; the id keeps its form
        if _address_set_changes(olds, news):
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

    # -- create / read / update / delete ----------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        with hidden(props.get(HIDDEN_FLAG) is True):
            desired = Desired.from_props(props)
            operations, region = self._operations(desired.region)
            id_, owned = operations.create(desired, adopt=props.get("adopt") is True)
            return CreateResult(id_, outputs_of(desired, region, owned))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        with hidden(props.get(HIDDEN_FLAG) is True):
            imported = "private_ips" not in props or "instance_id" not in props
            if imported:
                desired, owned = _imported(id_, props.get("region"))
            else:
                state = self._migrated(props)
                desired, owned = Desired.from_props(state), list(state["private_ips"])
            operations, region = self._operations(desired.region)
            who = None if imported else claimant(id_, props)
            still_owned = operations.read(id_, desired, owned, who)
            if not still_owned:
                return ReadResult(None, {})
            outs = outputs_of(desired, region, still_owned)
            if imported:
                inputs = {k: outs[k] for k in ("instance_id", "private_ips", "ipv6", "reboot")}
                return ReadResult(id_, outs, inputs)
            return ReadResult(id_, outs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        with hidden(olds.get(HIDDEN_FLAG) is True or news.get(HIDDEN_FLAG) is True):
            olds = self._migrated(olds)
            desired = Desired.from_props(news)
            operations, region = self._operations(desired.region)
            owned = operations.update(
                id_,
                desired,
                olds["private_ips"],
                claimant(id_, olds),
                adopt=news.get("adopt") is True,
            )
            return UpdateResult(outputs_of(desired, region, owned))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        with hidden(props.get(HIDDEN_FLAG) is True):
            if "instance_id" in props:
                state = self._migrated(props)
                desired, owned = Desired.from_props(state), list(state["private_ips"])
            else:
                desired, owned = _imported(id_, None)
            operations, _region = self._operations(desired.region)
            operations.delete(id_, desired, owned, claimant(id_, props))


def _imported(id_: str, region: object) -> tuple[Desired, list[str]]:
    """A set known only by its id (``<instance_id>/<ip>,...``): an import or `.get`.
    ``region``: a region the caller has, used when it is a valid one."""
    instance_id, owned = parse_import_id(id_)
    ipv6 = ipaddress.ip_address(owned[0]).version == 6
    if not isinstance(region, str) or cfg.baidu_region_problem(region) is not None:
        region = None
    return Desired(instance_id, ipv6, False, region, None, None), owned


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
