"""``python -m pulumi_batchip orphans``: what this package made for a stack that no
resource in the stack's state owns (typically left by an interrupted ``pulumi up``).

An EIP is this stack's orphan when its batch tag names a batch the state records (an
interrupted create's batch id is in the inputs kept in ``pending_operations``) and no
resource owns it. The stack tag (``pulumi-batchip-stack``, a hash of
``<project>/<stack>``) only narrows the search: another backend can hold a stack of the
same name, so EIPs that match it alone are counted, never listed or released.
Secondary IPs carry no mark at all:
for each VM that an interrupted SecondaryIpSet create or update was working on, and
each VM a set of the stack is on, the addresses no set of the stack owns are listed as
what they are (maybe an interrupted operation's, maybe someone else's) and never
released.

Stacks of the native plugin (``batchip:index:EipBatch``, camelCase properties) are read
as the dynamic ones (``stack_export``); what to put in the program is then said with the
plugin's names (``adoptBatchId``).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, TextIO, TypeVar

import attrs

from . import config as cfg
from ._provider import named_list, progress
from .baidu.bcc import BccClient
from .errors import BatchIpError, ConfigError, NotFoundError
from .huawei.eip import EipClient, PublicIp
from .huawei.operations import BatchOperations
from .huawei.ownership import BATCH_TAG_KEY, STACK_TAG_KEY
from .huawei.tags import stack_tag_value
from .native.names import to_camel
from .stack_export import (
    EIP_BATCH,
    INTERRUPTED,
    NATIVE,
    SECONDARY_IP_SET,
    StackState,
    StateError,
    is_native,
    load_state,
)

T = TypeVar("T")
BATCH = '"<batch>"'  # in advice where the batch is the user's to tell


@attrs.frozen
class OrphanEip:
    eip: PublicIp
    batch_id: str
    settings: cfg.HuaweiSettings
    # named by the interrupted create's adopt_eip_ids: maybe not made by this package
    adopted: bool = False
    native: bool = False  # the interrupted resource is the plugin's (camelCase names)


@attrs.frozen
class UnownedAddress:
    instance_id: str
    address: str
    ipv6: bool
    named: bool  # the interrupted operation asked for exactly this address
    interrupted: bool  # an interrupted operation was working on this VM
    advice: str = ""  # how to adopt it (and the VM's other unowned addresses)


@attrs.define
class Unrecorded:
    """EIPs with this stack's name tag in batches the state does not record."""

    eips: int = 0
    batches: list[str] = attrs.field(factory=list)
    native: bool = False  # every EipBatch of the state is the plugin's


@attrs.define
class Findings:
    eips: list[OrphanEip] = attrs.field(factory=list)
    unrecorded: Unrecorded = attrs.field(factory=Unrecorded)
    addresses: list[UnownedAddress] = attrs.field(factory=list)
    interrupted: list[str] = attrs.field(factory=list)  # URNs
    skipped: list[str] = attrs.field(factory=list)  # VMs not scanned, and why
    owned_twice: list[str] = attrs.field(factory=list)  # one address in two sets' state


def find(state: StackState, env: Mapping[str, str] | None = None) -> Findings:
    env = dict(os.environ) if env is None else env
    found = Findings()
    found.interrupted = [
        str(p["resource"].get("urn")) for p in state.pending if p.get("type") in INTERRUPTED
    ]
    if state.of_type(EIP_BATCH) or state.pending_of_type(EIP_BATCH):
        found.eips = _orphan_eips(state, env, found.unrecorded)
    if state.of_type(SECONDARY_IP_SET) or state.pending_of_type(SECONDARY_IP_SET):
        found.owned_twice = _owned_twice(state)
        found.addresses = _unowned_addresses(state, env, found.skipped)
    return found


def _orphan_eips(
    state: StackState, env: Mapping[str, str], unrecorded: Unrecorded
) -> list[OrphanEip]:
    owned_batches: set[str] = set()
    owned_ids: set[str] = set()
    places: set[tuple[str | None, str | None]] = {(None, None)}  # the stack's defaults
    for res in state.of_type(EIP_BATCH):
        outs = res.get("outputs") or {}
        owned_batches.add(str(outs.get("batch_id") or res.get("id") or ""))
        owned_ids.update(str(i) for i in outs.get("eip_ids") or ())
        places.add((outs.get("region"), outs.get("project_id")))
    # batches of interrupted creates and updates: is the resource the plugin's
    recorded: dict[str, bool] = {}
    adopted: set[str] = set()  # EIPs an interrupted create named for adoption
    for pending in state.pending_of_type(EIP_BATCH):
        inputs = pending.get("inputs") or {}
        places.add((inputs.get("region"), inputs.get("project_id")))
        if isinstance(inputs.get("batch_id"), str):
            recorded[inputs["batch_id"]] = is_native(pending)
        adopted.update(str(i) for i in inputs.get("adopt_eip_ids") or ())
    tag = stack_tag_value(state.scope)
    orphans: dict[str, OrphanEip] = {}
    others: dict[str, set[str]] = {}
    for region, project_id in sorted(places, key=str):
        settings = _resolved(
            state,
            partial(cfg.resolve_huawei, state.config, env, region=region, project_id=project_id),
        )
        with _eip_ops(settings) as ops:
            tagged = ops.find_tagged(STACK_TAG_KEY, tag)
            batch_of = {
                eip_id: tags.get(BATCH_TAG_KEY, "")
                for eip_id, tags in tagged.items()
                if tags.get(STACK_TAG_KEY) == tag  # never trust a filter alone
                and eip_id not in owned_ids
                and tags.get(BATCH_TAG_KEY) not in owned_batches
            }
            for eip_id, batch in batch_of.items():
                if batch not in recorded:
                    others.setdefault(batch, set()).add(eip_id)
            mine = [i for i, batch in batch_of.items() if batch in recorded]
            for eip in ops.details(mine):
                batch = batch_of[eip.id]
                orphans[eip.id] = OrphanEip(
                    eip, batch, settings, eip.id in adopted, recorded[batch]
                )
    unrecorded.native = state.native(EIP_BATCH)
    unrecorded.eips = sum(len(ids) for ids in others.values())
    unrecorded.batches = sorted(others)
    return sorted(orphans.values(), key=lambda o: (o.batch_id, o.eip.address or "", o.eip.id))


def _resolved(state: StackState, resolve: Callable[[], T]) -> T:
    """Settings from the export's config and the environment; when a value is missing
    because the export holds it encrypted, the error says how to get it readable."""
    try:
        return resolve()
    except ConfigError as exc:
        if not state.encrypted:
            raise
        keys = ", ".join(sorted(state.encrypted))
        raise ConfigError(
            f"{exc}. The export holds {keys} encrypted: export again with "
            "`pulumi stack export --show-secrets`, or set the environment variables"
        ) from None


@attrs.frozen
class _Set:
    """A SecondaryIpSet of the state, as far as orphans go."""

    urn: str
    owned: tuple[str, ...] | None  # None: a secret, exported without --show-secrets
    by_count: bool
    region: str | None
    native: bool = False  # the plugin's resource (camelCase names)


@attrs.define
class _Vm:
    """A VM (and address family) to scan, and why."""

    region: str | None = None
    sets: list[_Set] = attrs.field(factory=list)
    pending: list[tuple[str, Mapping[str, Any]]] = attrs.field(factory=list)  # urn, inputs
    native: set[str] = attrs.field(factory=set)  # URNs of the plugin's resources


def _unowned_addresses(
    state: StackState, env: Mapping[str, str], skipped: list[str]
) -> list[UnownedAddress]:
    """Every VM an interrupted SecondaryIpSet operation was working on, and every VM a
    set of the stack is on (an interrupted update's leftovers stay there after a later
    successful `up`): the secondary addresses no set of the stack owns."""
    vms: dict[tuple[str, bool], _Vm] = {}
    for res in state.of_type(SECONDARY_IP_SET):
        outs = res.get("outputs") or {}
        key = (str(outs.get("instance_id")), bool(outs.get("ipv6")))
        addresses = outs.get("private_ips") or []
        owned = tuple(_norm(a) for a in addresses) if isinstance(addresses, list) else None
        vm = vms.setdefault(key, _Vm())
        vm.sets.append(
            _Set(str(res.get("urn")), owned, "count" in outs, outs.get("region"), is_native(res))
        )
        vm.region = vm.region or outs.get("region") or None
    for p in state.pending_of_type(SECONDARY_IP_SET):
        inputs = p.get("inputs") or {}
        key = (str(inputs.get("instance_id")), bool(inputs.get("ipv6")))
        vm = vms.setdefault(key, _Vm())
        vm.pending.append((str(p.get("urn")), inputs))
        if is_native(p):
            vm.native.add(str(p.get("urn")))
        vm.region = inputs.get("region") or vm.region or None
    # VMs of interrupted operations first, in the order the state names them.
    order = sorted(vms, key=lambda k: not vms[k].pending)
    found: list[UnownedAddress] = []
    for instance_id, ipv6 in order:
        vm = vms[(instance_id, ipv6)]
        if sealed := [s.urn for s in vm.sets if s.owned is None]:
            # Without the owned list every address of the VM would look unowned.
            why = (
                f"{sealed[0]} keeps its addresses on VM {instance_id} as a secret, "
                "encrypted in this export"
            )
            if vm.pending:
                raise StateError(f"{why}: export again with `pulumi stack export --show-secrets`")
            skipped.append(
                f"{why}: its VM was not scanned (export with `pulumi stack export "
                "--show-secrets` to scan it)"
            )
            continue
        settings = _resolved(state, partial(cfg.resolve_baidu, state.config, env, region=vm.region))
        client = BccClient.from_settings(settings)
        try:
            instance = client.get_instance(instance_id)
        except NotFoundError:
            continue  # the VM is gone, and its addresses with it
        finally:
            client.close()
        mine = {a for s in vm.sets for a in s.owned or ()}
        named: set[str] = set()
        for _urn, inputs in vm.pending:
            asked = inputs.get("private_ips")
            if isinstance(asked, list):
                named.update(_norm(a) for a in asked if isinstance(a, str))
        unowned = [
            a
            for a in dict.fromkeys(_norm(x) for x in instance.secondary_addresses(ipv6=ipv6))
            if a not in mine
        ]
        advice = _advice(vm, unowned)
        found.extend(
            UnownedAddress(instance_id, a, ipv6, a in named, bool(vm.pending), advice)
            for a in unowned
        )
    return found


def _owned_twice(state: StackState) -> list[str]:
    """Addresses two sets of the state own (one adopted what the other had: BCC marks
    no owner, so only the state can show it)."""
    owners: dict[tuple[str, str], list[str]] = {}
    native = state.native(SECONDARY_IP_SET)
    for res in state.of_type(SECONDARY_IP_SET):
        outs = res.get("outputs") or {}
        addresses = outs.get("private_ips")
        if not isinstance(addresses, list):
            continue  # encrypted in this export
        for a in addresses:
            if isinstance(a, str):
                owners.setdefault((str(outs.get("instance_id")), _norm(a)), []).append(
                    str(res.get("urn")).split("::")[-1]
                )
    return [
        f"secondary IP {address} on {vm} is owned by {len(sets)} SecondaryIpSets of stack "
        f"{state.scope} ({', '.join(sets)}): remove it from the "
        f"{_name('private_ips', native)} of those that "
        "should not own it (a set lets go of an address another set of the same "
        "deployment owns, without deleting it)"
        for (vm, address), sets in sorted(owners.items())
        if len(sets) > 1
    ]


def _advice(vm: _Vm, unowned: list[str]) -> str:
    """How to adopt a VM's unowned addresses: the set to give them to (the interrupted
    one, else the only set of the stack on the VM) with its own addresses and these,
    as an update of an existing set or the create of an interrupted one."""
    by_urn = {s.urn: s for s in vm.sets}
    target = next((urn for urn, _inputs in vm.pending), None)
    if target is None and len(vm.sets) == 1:
        target = vm.sets[0].urn
    if target is None:
        listed = ", ".join(f'"{a}"' for a in unowned)
        native = bool(vm.sets) and all(s.native for s in vm.sets)
        given = _inputs(native, private_ips=f"[<its own addresses>, {listed}]", adopt=True)
        if native:
            return (
                f"give them to the {NATIVE[SECONDARY_IP_SET]} that should own them, "
                f"with the inputs {given}"
            )
        return f"give them to the SecondaryIpSet that should own them: SecondaryIpSet(..., {given})"
    existing = by_urn.get(target)
    own = list(existing.owned or ()) if existing else []
    by_count = existing.by_count if existing else False
    for urn, inputs in vm.pending:  # what the interrupted operation's program said
        if urn == target:
            by_count = inputs.get("count") is not None and inputs.get("private_ips") is None
    addresses = list(dict.fromkeys(own + unowned))
    listed = ", ".join(f'"{a}"' for a in addresses)
    instead = " in place of count" if by_count else ""
    name = target.split("::")[-1]
    native = target in vm.native or (existing is not None and existing.native)
    given = _inputs(native, private_ips=f"[{listed}]", adopt=True)
    if native:
        return (
            f'give the {NATIVE[SECONDARY_IP_SET]} "{name}" the inputs {given}{instead}, '
            "then `pulumi up`"
        )
    return f'SecondaryIpSet("{name}", ..., {given}){instead}, then `pulumi up`'


def _name(snake: str, native: bool) -> str:
    """An input's name as the user's program spells it: ``adopt_batch_id`` for the
    Python classes, ``adoptBatchId`` for the plugin's resources (YAML, CustomResource
    and the generated SDKs but Python's)."""
    return to_camel(snake) if native else snake


def _inputs(native: bool, **given: str | bool) -> str:
    """Inputs as the program gives them: ``private_ips=[...], adopt=True`` to a Python
    class, ``privateIps: [...], adopt: true`` to a plugin resource."""
    if native:
        return ", ".join(f"{_name(k, True)}: {_literal(v)}" for k, v in given.items())
    return ", ".join(f"{k}={v}" for k, v in given.items())


def _literal(value: str | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _eip_advice(native: bool, **given: str) -> str:
    """``EipBatch(..., adopt_batch_id="b")``, or the plugin's ``adoptBatchId: "b"``."""
    if native:
        return f"give the {NATIVE[EIP_BATCH]} the input {_inputs(True, **given)}"
    return f"EipBatch(..., {_inputs(False, **given)})"


def _norm(address: str) -> str:
    return ipaddress.ip_address(address).compressed


class _eip_ops:
    def __init__(self, settings: cfg.HuaweiSettings) -> None:
        self._client = EipClient.from_settings(settings)
        self.ops = BatchOperations(self._client, timeout=600.0, say=progress)

    def __enter__(self) -> BatchOperations:
        return self.ops

    def __exit__(self, *_exc: object) -> None:
        self._client.close()


def report(state: StackState, found: Findings, state_arg: str, out: TextIO) -> None:
    where = f"stack {state.scope}"
    for urn in found.interrupted:
        out.write(f"interrupted: {urn} (in the state's pending_operations)\n")
    # One short line per EIP, then what to do once per batch.
    for batch in dict.fromkeys(o.batch_id for o in found.eips):
        members = [o for o in found.eips if o.batch_id == batch]
        for o in members:
            e = o.eip
            bound = f", bound to port {e.port_id}" if e.port_id else ""
            adopted = ", was being adopted: never released from here" if o.adopted else ""
            out.write(
                f"EIP {e.id} {e.address or '-'} batch {batch or '-'} "
                f"({o.settings.region}{bound}{adopted})\n"
            )
        mine = [o.eip.id for o in members if not o.adopted]
        theirs = [o.eip.id for o in members if o.adopted]
        native = members[0].native
        if mine:
            adopt = _eip_advice(native, adopt_batch_id=f'"{batch}"')
            out.write(
                f"  batch {batch}: {len(mine)} EIP(s) owned by no resource of {where}. "
                f"Adopt: {adopt}; release: "
                f"python -m pulumi_batchip orphans --state {state_arg} --release\n"
            )
        if theirs:
            quoted = ", ".join(f'"{i}"' for i in theirs[:5]) + (", ..." if len(theirs) > 5 else "")
            advice = _eip_advice(native, adopt_eip_ids=f"[{quoted}]")
            again = f"({advice})" if native else f"with {advice}"
            out.write(
                f"  batch {batch}: {len(theirs)} EIP(s) the interrupted create was adopting "
                f"({_name('adopt_eip_ids', native)}), maybe not made by pulumi-batchip: "
                f"adopt them again {again}, or release them by hand\n"
            )
    # One short line per address, then how to adopt them once per VM.
    for vm in dict.fromkeys(a.instance_id for a in found.addresses):
        on_vm = [a for a in found.addresses if a.instance_id == vm]
        for a in on_vm:
            if a.named:
                why = "named by the interrupted operation"
            elif a.interrupted:
                why = "maybe the interrupted operation's, maybe another stack's or by hand"
            else:
                why = "maybe an earlier interrupted `pulumi up`'s, another stack's or by hand"
            out.write(f"secondary IP {a.address} on {vm} ({why})\n")
        out.write(
            f"  VM {vm}: {len(on_vm)} secondary IP(s) owned by no SecondaryIpSet of {where}; "
            f"BCC does not say whose. Adopt: {on_vm[0].advice}; release: by hand (BCC "
            "marks no owner, so this command never removes secondary IPs)\n"
        )
    for note in found.skipped:
        out.write(f"not scanned: {note}\n")
    for conflict in found.owned_twice:
        out.write(f"owned twice: {conflict}\n")
    if (other := found.unrecorded).eips:
        out.write(
            f"not listed: {other.eips} EIP(s) in {len(other.batches)} batch(es) "
            f"({named_list(other.batches)}) carry the tag of a stack named {state.scope} but "
            "their batch is recorded nowhere in this state: another backend's stack of the "
            "same name, a stack renamed from it, or an interrupted create whose pending "
            "operation was cleared. They are never released from here; if you know they "
            f"are this stack's, adopt them: {_eip_advice(other.native, adopt_batch_id=BATCH)}\n"
        )
    batches = len({o.batch_id for o in found.eips})
    adopting = sum(o.adopted for o in found.eips)
    listed_only = f", {adopting} of them adopted, listed only" if adopting else ""
    out.write(
        f"orphans of {where}: {len(found.eips)} EIP(s) in {batches} batch(es) "
        f"(releasable with --release{listed_only}); {len(found.addresses)} secondary "
        "IP(s) that no set owns on the VMs of this stack's sets and interrupted "
        "operations (listed only)\n"
    )


def release(found: Findings, out: TextIO) -> int:
    """Delete the orphan EIPs (bound ones are skipped: their delete would be refused;
    adopted ones are not this command's to release)."""
    bound = [o for o in found.eips if o.eip.port_id and not o.adopted]
    for o in bound:
        out.write(f"skipped EIP {o.eip.id}: bound to port {o.eip.port_id}; unbind it first\n")
    by_place: dict[cfg.HuaweiSettings, list[str]] = {}
    for o in found.eips:
        if not o.eip.port_id and not o.adopted:
            by_place.setdefault(o.settings, []).append(o.eip.id)
    released = 0
    for settings, ids in by_place.items():
        with _eip_ops(settings) as ops:
            ops.delete(ids)  # waits until they are gone
        released += len(ids)
    out.write(f"released {released} EIP(s); {len(bound)} skipped\n")
    return 1 if bound else 0


def run(
    state_arg: str,
    *,
    do_release: bool,
    yes: bool,
    stdin: TextIO,
    out: TextIO,
    ask: Callable[[str], str] = input,
    env: Mapping[str, str] | None = None,
) -> int:
    text = stdin.read() if state_arg == "-" else _read(state_arg)
    state = load_state(text)
    found = find(state, env)
    report(state, found, state_arg, out)
    if not do_release:
        return 0
    releasable = [o for o in found.eips if not o.adopted]
    if not releasable:
        out.write("nothing to release\n")
        return 0
    if not yes:
        if state_arg == "-" or not stdin.isatty():
            out.write("refusing to release without --yes (no terminal to ask on)\n")
            return 2
        answer = ask(f"Release the {len(releasable)} EIP(s) listed above? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            out.write("nothing released\n")
            return 0
    return release(found, out)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise StateError(f"cannot read the state file {path}: {exc.strerror}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``orphans`` command's options (``python -m pulumi_batchip orphans``)."""
    parser.add_argument(
        "--state", required=True, help="`pulumi stack export` output, or - for stdin"
    )
    parser.add_argument("--release", action="store_true", help="delete the orphan EIPs")
    parser.add_argument("--yes", action="store_true", help="do not ask before releasing")


def run_parsed(
    args: argparse.Namespace, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout
) -> int:
    try:
        return run(args.state, do_release=args.release, yes=args.yes, stdin=stdin, out=out)
    except BatchIpError as exc:
        print(f"orphans: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, StateError | ConfigError) else 1
