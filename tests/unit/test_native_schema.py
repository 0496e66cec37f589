"""The native provider's package schema is the declarations: every declared input,
its rule as the description, replaceOnChanges exactly where a change replaces, the
required inputs check insists on; and every output the providers write."""

from __future__ import annotations

import json

import pytest

from pulumi_batchip import config as cfg
from pulumi_batchip.baidu.set_state import Desired, outputs_of
from pulumi_batchip.eip_batch import outputs
from pulumi_batchip.eip_inputs import DECLARATION as EIP_BATCH
from pulumi_batchip.eip_inputs import REPLACE_KEYS as EIP_REPLACE_KEYS
from pulumi_batchip.eip_inputs import check_inputs as check_eip_inputs
from pulumi_batchip.huawei.eip import PublicIp
from pulumi_batchip.inputs import Declaration
from pulumi_batchip.native.names import camel_keys, snake_keys, to_camel, to_snake
from pulumi_batchip.native.schema import plugin_version, schema, schema_json
from pulumi_batchip.secondary_ip_inputs import DECLARATION as SECONDARY_IP_SET
from pulumi_batchip.secondary_ip_inputs import REPLACE_KEYS as SET_REPLACE_KEYS
from pulumi_batchip.secondary_ip_inputs import check_inputs as check_set_inputs

SCHEMA = schema("1.2.3")
RESOURCES = [
    ("batchip:index:EipBatch", EIP_BATCH, EIP_REPLACE_KEYS),
    ("batchip:index:SecondaryIpSet", SECONDARY_IP_SET, SET_REPLACE_KEYS),
]


def test_package() -> None:
    assert SCHEMA["name"] == "batchip" and SCHEMA["version"] == "1.2.3"
    assert set(SCHEMA["resources"]) == {token for token, _d, _r in RESOURCES}
    assert json.loads(schema_json("1.2.3")) == SCHEMA
    assert set(SCHEMA["config"]["variables"]) == {
        "bccEndpoint",
        "eipEndpoint",
        "allowInsecureHttp",
        "eipJobTimeout",
        "httpTimeout",
        *("baiduAccessKey", "baiduSecretKey", "baiduSecurityToken", "baiduRegion"),
        *("huaweiAccessKey", "huaweiSecretKey", "huaweiSecurityToken", "huaweiRegion"),
        "huaweiProjectId",
    }


@pytest.mark.parametrize(("token", "declaration", "replace_keys"), RESOURCES)
def test_every_declared_input(
    token: str, declaration: Declaration, replace_keys: tuple[str, ...]
) -> None:
    spec = SCHEMA["resources"][token]
    given = spec["inputProperties"]
    assert set(given) == {to_camel(f.name) for f in declaration.fields if not f.hidden}
    for field in declaration.fields:
        if field.hidden:
            continue
        prop = given[to_camel(field.name)]
        assert prop["description"] == field.doc_rule
        assert ("type" in prop) or ("$ref" in prop)
        if isinstance(field.default, bool | int | str):
            assert prop["default"] == field.default
    replacing = {name for name, prop in given.items() if prop.get("replaceOnChanges")}
    assert replacing == {to_camel(k) for k in replace_keys}


@pytest.mark.parametrize(
    ("token", "check"),
    [
        ("batchip:index:EipBatch", check_eip_inputs),
        ("batchip:index:SecondaryIpSet", check_set_inputs),
    ],
)
def test_required_inputs_are_what_check_requires(token: str, check: object) -> None:
    assert callable(check)
    _inputs, failures = check({})
    failed = {to_camel(f.property) for f in failures.items}
    assert set(SCHEMA["resources"][token]["requiredInputs"]) <= failed


def test_eip_batch_outputs_are_in_the_schema() -> None:
    settings = cfg.HuaweiSettings(
        cfg.Credentials("ak", "sk"), "cn-north-4", "0" * 32, "http://127.0.0.1:1"
    )
    eip = PublicIp(id="e-1", status="ACTIVE", public_ip_address="192.0.2.1", bandwidth_id="b-1")
    props = {
        "count": 1,
        "bandwidth": {"size": 5, "share_type": "PER"},
        "tags": {"team_name": "x"},
        "enterprise_project_id": "0",
        "adopted_batch_id": "a",
        "adopted_eip_ids": ["e-1"],
    }
    outs = camel_keys(outputs(props, settings, "batch", [eip]))
    spec = SCHEMA["resources"]["batchip:index:EipBatch"]
    assert set(outs) <= set(spec["properties"])
    assert set(spec["required"]) <= set(outs)
    assert outs["tags"] == {"team_name": "x"}  # a user's keys are never renamed
    eip_type = SCHEMA["types"]["batchip:index:Eip"]["properties"]
    assert set(outs["eips"][0]) == set(eip_type)


def test_secondary_ip_set_outputs_are_in_the_schema() -> None:
    desired = Desired("i-1", False, False, "bj", None, 1, secret=True, owner="k")
    outs = camel_keys(outputs_of(desired, "bj", ["10.0.0.5"]))
    spec = SCHEMA["resources"]["batchip:index:SecondaryIpSet"]
    assert set(outs) <= set(spec["properties"])
    assert set(spec["required"]) <= set(outs)


def test_names_round_trip() -> None:
    names = [f.name for d in (EIP_BATCH, SECONDARY_IP_SET) for f in d.fields]
    for resource in SCHEMA["resources"].values():
        names += [to_snake(n) for n in resource["properties"]]
    for name in names:
        assert to_snake(to_camel(name)) == name
    props = {"public_ips": ["x"], "tags": {"cost_center": "a"}, "bandwidth": {"share_type": "PER"}}
    assert snake_keys(camel_keys(props)) == props


@pytest.mark.parametrize(
    ("python", "semver"),
    [("0.1.0.dev0", "0.1.0-dev0"), ("1.2.3", "1.2.3"), ("1.2.3rc1", "1.2.3-rc1")],
)
def test_plugin_version_is_semver(python: str, semver: str) -> None:
    assert plugin_version(python) == semver


def test_sdk_language_settings() -> None:
    """The SDKs `pulumi package gen-sdk` generates (tests/e2e/test_generated_sdks.py):
    the Python one must not take this package's import name, and the Go and npm names
    are the README's."""
    languages = SCHEMA["language"]
    python_name = languages["python"]["packageName"]
    assert python_name == "pulumi_batchip_native" and python_name != "pulumi_batchip"
    assert python_name.isidentifier()
    assert languages["python"]["pyproject"] == {"enabled": True}
    go_path = languages["go"]["importBasePath"]
    assert go_path == "github.com/pulumi-batchip/pulumi-batchip/sdk/go/batchip"
    assert go_path.rsplit("/", 1)[-1] == SCHEMA["name"]  # the Go package is `batchip`
    assert languages["nodejs"]["packageName"] == "@pulumi-batchip/batchip"
    assert SCHEMA["meta"] == {"supportPack": True}
    assert set(languages) == {"python", "go", "nodejs"}
