"""The Pulumi package schema of ``batchip``, built from the inputs' declarations.

Inputs: every declared field a user gives (``hidden`` ones are the adapter's), with the
README's rule as its description, its default, ``replaceOnChanges`` where a change
replaces the resource, and ``required``. Outputs: what the dynamic providers return
(``eip_batch.outputs``, ``baidu.set_state.outputs_of``), named in camelCase like the
inputs (names.py).
"""

from __future__ import annotations

import json
from typing import Any

from .. import __version__
from ..inputs import ABSENT, Declaration, Field
from . import configuration
from .names import to_camel
from .resources import PACKAGE, Kind, kinds

BANDWIDTH = f"{PACKAGE}:index:Bandwidth"
EIP = f"{PACKAGE}:index:Eip"

_STRING: dict[str, Any] = {"type": "string"}
_STRINGS: dict[str, Any] = {"type": "array", "items": _STRING}
# The README's type column -> the schema's type.
TYPES: dict[str, dict[str, Any]] = {
    "str": _STRING,
    "int": {"type": "integer"},
    "bool": {"type": "boolean"},
    "list[str]": _STRINGS,
    "dict[str, str]": {"type": "object", "additionalProperties": _STRING},
    "`BandwidthArgs` or dict": {"$ref": f"#/types/{BANDWIDTH}"},
}

DESCRIPTIONS = {
    f"{PACKAGE}:index:EipBatch": (
        "`count` Huawei Cloud elastic IPs created together through `batchpublicips`, each "
        "with a dedicated (`PER`) bandwidth or inside a shared (`WHOLE`) one. `count`, "
        "`tags` and `bandwidth.size` change in place; anything else replaces the batch. "
        "Import: `pulumi import batchip:index:EipBatch <name> <batch id>`."
    ),
    f"{PACKAGE}:index:SecondaryIpSet": (
        "Secondary private IPv4 or IPv6 addresses on a Baidu BCC VM's primary NIC, added "
        "and removed in batches (`batchAddIp` / `batchDelIp`). Import: `pulumi import "
        "batchip:index:SecondaryIpSet <name> <instance id>/<ip>[,<ip>...]`."
    ),
}

_SCHEMA_VERSION = ("int", "the version of this resource's state layout")
# Outputs beyond the inputs, as (type, description); a type is a TYPES key or a $ref.
EXTRA_OUTPUTS: dict[str, dict[str, tuple[str, str]]] = {
    f"{PACKAGE}:index:EipBatch": {
        "schema_version": _SCHEMA_VERSION,
        "batch_id": ("str", "the batch id (also the resource id): every EIP's batch tag"),
        "eip_ids": ("list[str]", "the EIP ids, in a stable order (new EIPs are appended)"),
        "public_ips": ("list[str]", "the public addresses, in `eipIds` order"),
        "bandwidth_ids": ("list[str]", "each EIP's bandwidth id, in `eipIds` order"),
        "eips": (f"array:{EIP}", "per EIP: id, publicIp, bandwidthId, status, portId"),
        "adopted_batch_id": ("str", "the batch whose EIPs the create adopted (adoptBatchId)"),
        "adopted_eip_ids": ("list[str]", "the EIPs the create adopted (adoptEipIds)"),
    },
    f"{PACKAGE}:index:SecondaryIpSet": {
        "schema_version": _SCHEMA_VERSION,
        "owner_key": ("str", "tells apart sets that own the same addresses"),
        "secret_addresses": ("bool", "true when `privateIps` was a secret input"),
    },
}
# Outputs every resource of the type has (the rest only when given or applicable).
REQUIRED_OUTPUTS = {
    f"{PACKAGE}:index:EipBatch": (
        *("schema_version", "batch_id", "count", "publicip_type", "ip_version", "bandwidth"),
        *("tags", "region", "project_id", "eip_ids", "public_ips", "bandwidth_ids", "eips"),
    ),
    f"{PACKAGE}:index:SecondaryIpSet": (
        *("schema_version", "instance_id", "private_ips", "ipv6", "reboot", "region"),
    ),
}

OBJECT_TYPES: dict[str, dict[str, Any]] = {
    BANDWIDTH: {
        "description": "An EipBatch's bandwidth: dedicated per EIP (PER) or shared (WHOLE).",
        "type": "object",
        "properties": {
            "size": {"type": "integer", "description": "Mbit/s; changes in place"},
            "shareType": {**_STRING, "description": "`PER` (default) or `WHOLE`; replaces"},
            "chargeMode": {**_STRING, "description": "`bandwidth` (default) or `traffic`"},
            "name": {**_STRING, "description": "generated for PER when absent; replaces"},
            "id": {**_STRING, "description": "the shared bandwidth's id (WHOLE); replaces"},
        },
    },
    EIP: {
        "description": "One EIP of a batch.",
        "type": "object",
        "properties": {
            name: {**_STRING} for name in ("id", "publicIp", "bandwidthId", "status", "portId")
        },
    },
}


# The SDKs `pulumi package gen-sdk` generates from this schema (README, "From other
# languages"). The Python one is `pulumi_batchip_native`: `pulumi_batchip`, the name
# Pulumi would pick, is this package (its dynamic resources), and one environment
# holds both. Go: a module of its own, `<module>/batchip` the package to import;
# Node.js: a scoped npm name, as `@pulumi/*` names Pulumi's own packages.
GO_MODULE = "github.com/pulumi-batchip/pulumi-batchip/sdk/go"
LANGUAGES: dict[str, dict[str, Any]] = {
    "python": {"packageName": "pulumi_batchip_native", "pyproject": {"enabled": True}},
    "go": {"importBasePath": f"{GO_MODULE}/{PACKAGE}"},
    "nodejs": {"packageName": "@pulumi-batchip/batchip"},
}


def _type(doc_type: str) -> dict[str, Any]:
    if doc_type.startswith("array:"):
        return {"type": "array", "items": {"$ref": f"#/types/{doc_type[6:]}"}}
    try:
        return dict(TYPES[doc_type])
    except KeyError:
        raise KeyError(f"no schema type for the declared type {doc_type!r}") from None


def _input(field: Field) -> dict[str, Any]:
    prop = {**_type(field.doc_type), "description": field.doc_rule}
    if field.default is not ABSENT and isinstance(field.default, bool | int | float | str):
        prop["default"] = field.default
    if field.change == "replaces":
        prop["replaceOnChanges"] = True
    return prop


def inputs(declaration: Declaration) -> dict[str, dict[str, Any]]:
    return {to_camel(f.name): _input(f) for f in declaration.fields if not f.hidden}


def resource(kind: Kind) -> dict[str, Any]:
    given = inputs(kind.declaration)
    # The inputs come back as outputs, as applied, except those that only act once.
    kept = {to_camel(f.name) for f in kind.declaration.fields if f.change != "nothing"}
    outputs = {
        name: {k: v for k, v in prop.items() if k != "default"}
        for name, prop in given.items()
        if name in kept
    }
    for name, (doc_type, text) in EXTRA_OUTPUTS[kind.token].items():
        outputs[to_camel(name)] = {**_type(doc_type), "description": text}
    return {
        "description": DESCRIPTIONS[kind.token],
        "inputProperties": given,
        "requiredInputs": [to_camel(f.name) for f in kind.declaration.fields if f.required],
        "properties": outputs,
        "required": [to_camel(name) for name in REQUIRED_OUTPUTS[kind.token]],
    }


def _config() -> dict[str, dict[str, Any]]:
    return {
        name: {
            **_STRING,
            "description": (
                f"the `{key}` setting (README, Configuration); when unset, the "
                f"environment variable `{configuration.ENV[name]}`"
            ),
            **({"secret": True} if name in configuration.SECRETS else {}),
        }
        for name, key in configuration.SETTINGS
    }


def schema(version: str) -> dict[str, Any]:
    return {
        "name": PACKAGE,
        "displayName": "batchip",
        "version": version,
        "description": "IP addresses in batches: Baidu BCC secondary IPs and Huawei Cloud EIPs.",
        "license": "Apache-2.0",
        "config": {"variables": _config()},
        "provider": {
            "description": (
                "The batchip provider: credentials, regions and endpoints from its "
                "settings, else from the environment."
            ),
            "inputProperties": _config(),
        },
        "resources": {token: resource(kind) for token, kind in sorted(kinds().items())},
        "types": OBJECT_TYPES,
        # supportPack: the SDKs carry their own metadata (go.mod, pyproject.toml,
        # package.json) and the schema's version.
        "meta": {"supportPack": True},
        "language": LANGUAGES,
    }


def plugin_version(python_version: str = __version__) -> str:
    """The package version as semver, which the engine expects: ``0.1.0.dev0`` ->
    ``0.1.0-dev0``."""
    release, sep, rest = python_version.partition(".dev")
    if sep:
        return f"{release}-dev{rest}"
    for tag in ("rc", "a", "b"):
        head, found, tail = python_version.partition(tag)
        if found and head[-1:].isdigit():
            return f"{head}-{tag}{tail}"
    return python_version


def schema_json(version: str | None = None) -> str:
    return json.dumps(schema(version or plugin_version()), indent=2, ensure_ascii=False)


def property_names() -> frozenset[str]:
    """Every property name of the schema's resources and types (inputs and outputs)."""
    document = schema(plugin_version())
    found: set[str] = set()
    for section in (document["resources"], document.get("types", {})):
        for spec in section.values():
            for key in ("inputProperties", "properties"):
                found.update(spec.get(key, {}))
    return frozenset(found)
