"""The native provider's settings: the ``batchip:`` names of the vendors' credentials,
regions and project id, what the dynamic providers receive for them (config before the
environment, as for the Python classes), which are secrets (schema, Check), the
messages naming the key a user sets, and a changed setting replacing nothing."""

from __future__ import annotations

import pytest
from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import CheckRequest, ConfigureRequest, DiffRequest

from pulumi_batchip import config as cfg
from pulumi_batchip._provider import CONFIG_KEYS
from pulumi_batchip.eip_batch import outputs
from pulumi_batchip.errors import ConfigError
from pulumi_batchip.huawei.eip import PublicIp
from pulumi_batchip.native import configuration
from pulumi_batchip.native.names import camel_keys
from pulumi_batchip.native.provider import BatchIpNativeProvider
from pulumi_batchip.native.schema import schema
from pulumi_batchip.native.values import plain, wire_map

from .test_native_adapter import run

PROVIDER_URN = "urn:pulumi:dev::shop::pulumi:providers:batchip::default"
PROJECT = "0123456789abcdef" * 2
CREDENTIALS = (
    "baiduAccessKey",
    "baiduSecretKey",
    "baiduSecurityToken",
    "huaweiAccessKey",
    "huaweiSecretKey",
    "huaweiSecurityToken",
)
VENDOR_ENV = (
    "BAIDUCLOUD_ACCESS_KEY",
    "BAIDUCLOUD_SECRET_KEY",
    "BAIDUCLOUD_SECURITY_TOKEN",
    "BAIDUCLOUD_REGION",
    "HW_ACCESS_KEY",
    "HW_SECRET_KEY",
    "HW_SECURITY_TOKEN",
    "HW_REGION_NAME",
    "HW_PROJECT_ID",
)


@pytest.fixture(autouse=True)
def _no_vendor_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in VENDOR_ENV:
        monkeypatch.delenv(var, raising=False)


def check_config(news: dict[str, PropertyValue]) -> tuple[dict[str, PropertyValue], list[str]]:
    provider = BatchIpNativeProvider("0.0.1")
    response = run(provider.check_config(CheckRequest(PROVIDER_URN, {}, news, b"")))
    failures = [f"{f.property}: {f.reason}" for f in response.failures or []]
    return dict(response.inputs or {}), failures


def configured(args: dict[str, object]) -> BatchIpNativeProvider:
    provider = BatchIpNativeProvider("0.0.1")
    run(provider.configure(ConfigureRequest({}, wire_map(args), True, True)))
    return provider


def huawei(provider: BatchIpNativeProvider) -> cfg.HuaweiSettings:
    eip = provider._kinds["batchip:index:EipBatch"].provider
    return cfg.resolve_huawei(eip.stack_config)


def baidu(provider: BatchIpNativeProvider) -> cfg.BaiduSettings:
    bcc = provider._kinds["batchip:index:SecondaryIpSet"].provider
    return cfg.resolve_baidu(bcc.stack_config)


def test_names_follow_the_contract_keys() -> None:
    assert [(n, k) for n, k in configuration.SETTINGS if not k.startswith("batchip:")] == [
        ("baiduAccessKey", "baiducloud:accessKey"),
        ("baiduSecretKey", "baiducloud:secretKey"),
        ("baiduSecurityToken", "baiducloud:securityToken"),
        ("baiduRegion", "baiducloud:region"),
        ("huaweiAccessKey", "huaweicloud:accessKey"),
        ("huaweiSecretKey", "huaweicloud:secretKey"),
        ("huaweiSecurityToken", "huaweicloud:securityToken"),
        ("huaweiRegion", "huaweicloud:region"),
        ("huaweiProjectId", "huaweicloud:projectId"),
    ]
    assert frozenset(CREDENTIALS) == configuration.SECRETS
    # Every setting the dynamic providers read has a native name.
    assert {key for _n, key in configuration.SETTINGS} == set(CONFIG_KEYS)


def test_settings_reach_the_dynamic_providers_under_the_contract_keys() -> None:
    request = configuration.request(
        {"huaweiSecretKey": "sk", "baiduRegion": "bj", "eipJobTimeout": 60.0, "x": "y"}
    )
    assert request.config.get("huaweicloud:secretKey") == "sk"
    assert request.config.get("baiducloud:region") == "bj"
    assert request.config.get("batchip:eipJobTimeout") == "60"
    assert request.config.get("huaweicloud:accessKey") is None


def test_credentials_from_provider_config_alone() -> None:
    provider = configured(
        {
            "huaweiAccessKey": "hw-ak",
            "huaweiSecretKey": "hw-sk",
            "huaweiSecurityToken": "hw-tok",
            "huaweiRegion": "cn-north-4",
            "huaweiProjectId": PROJECT,
            "baiduAccessKey": "bce-ak",
            "baiduSecretKey": "bce-sk",
            "baiduRegion": "gz",
        }
    )
    hw = huawei(provider)
    assert (hw.credentials.access_key, hw.credentials.secret_key) == ("hw-ak", "hw-sk")
    assert hw.credentials.security_token == "hw-tok"
    assert (hw.region, hw.project_id) == ("cn-north-4", PROJECT)
    assert hw.endpoint == "https://vpc.cn-north-4.myhuaweicloud.com"
    bce = baidu(provider)
    assert (bce.credentials.access_key, bce.credentials.secret_key) == ("bce-ak", "bce-sk")
    assert bce.region == "gz" and bce.credentials.security_token is None


def test_config_beats_the_environment_which_fills_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HW_ACCESS_KEY", "env-ak")
    monkeypatch.setenv("HW_SECRET_KEY", "env-sk")
    monkeypatch.setenv("HW_REGION_NAME", "ap-southeast-1")
    monkeypatch.setenv("HW_PROJECT_ID", PROJECT)
    hw = huawei(configured({"huaweiSecretKey": "cfg-sk", "huaweiRegion": "cn-north-4"}))
    assert (hw.credentials.access_key, hw.credentials.secret_key) == ("env-ak", "cfg-sk")
    assert (hw.region, hw.project_id) == ("cn-north-4", PROJECT)
    # Nothing configured: the environment, as before.
    hw = huawei(configured({}))
    assert (hw.credentials.secret_key, hw.region) == ("env-sk", "ap-southeast-1")


def test_a_missing_credential_names_the_batchip_key_and_the_variable() -> None:
    provider = configured({"huaweiAccessKey": "hw-ak"})
    with pytest.raises(ConfigError) as missing:
        huawei(provider)
    message = str(missing.value)
    assert "`batchip:huaweiSecretKey`" in message and "HW_SECRET_KEY" in message
    assert "--secret batchip:huaweiSecretKey" in message
    assert "huaweicloud:" not in message and "hw-ak" not in message
    with pytest.raises(ConfigError, match=r"`batchip:baiduAccessKey`.*BAIDUCLOUD_ACCESS_KEY"):
        baidu(provider)
    # Access keys are secrets too; a region is none.
    with pytest.raises(ConfigError, match=r"set --secret batchip:baiduAccessKey"):
        baidu(provider)
    provider = configured({"huaweiAccessKey": "a", "huaweiSecretKey": "b"})
    with pytest.raises(ConfigError, match=r"\(pulumi config set batchip:huaweiRegion \.\.\.\)"):
        huawei(provider)


def test_a_bad_region_from_config_names_the_batchip_key() -> None:
    provider = configured(
        {"huaweiAccessKey": "a", "huaweiSecretKey": "b", "huaweiRegion": "CN_NORTH"}
    )
    with pytest.raises(ConfigError, match=r"^the Pulumi config `batchip:huaweiRegion` must be"):
        huawei(provider)


def test_the_python_classes_keep_their_contract_names() -> None:
    with pytest.raises(ConfigError) as missing:
        cfg.resolve_huawei({}, {})
    assert "`huaweicloud:accessKey`" in str(missing.value) and "batchip:" not in str(missing.value)


def test_check_config_marks_every_credential_secret() -> None:
    given = {name: f"value-of-{name}" for name in CREDENTIALS} | {
        "huaweiRegion": "cn-north-4",
        "huaweiProjectId": PROJECT,
        "baiduRegion": "bj",
        "eipEndpoint": "http://127.0.0.1:1",
    }
    # Plain as `pulumi config set --plaintext` sends them, one already secret.
    news = wire_map(given, secret=["huaweiSecretKey"])
    inputs, failures = check_config(news)
    assert failures == []
    assert {k for k, v in inputs.items() if v.is_secret} == set(CREDENTIALS)
    assert {k: plain(v) for k, v in inputs.items()} == given


def test_check_config_refuses_regions_and_project_ids_no_vendor_uses() -> None:
    news = wire_map({"huaweiRegion": "cn north", "huaweiProjectId": "xyz", "baiduRegion": "BJ"})
    _inputs, failures = check_config(news)
    assert [f.split(":")[0] for f in failures] == ["baiduRegion", "huaweiRegion", "huaweiProjectId"]
    assert all("batchip:" in f and "must be" in f for f in failures)


def test_an_unknown_key_fails_and_lists_the_settings() -> None:
    _inputs, failures = check_config(wire_map({"huaweiSecretKy": "x", "version": "1"}))
    [failure] = failures
    assert failure.startswith("huaweiSecretKy: batchip:huaweiSecretKy is not a setting")
    assert "batchip:huaweiSecretKey" in failure and "environment variable" in failure
    assert "from the environment only" not in failure


def test_schema_marks_the_credentials_secret() -> None:
    spec = schema("1.2.3")
    for props in (spec["config"]["variables"], spec["provider"]["inputProperties"]):
        assert set(props) == set(configuration.NAMES)
        assert {name for name, prop in props.items() if prop.get("secret")} == set(CREDENTIALS)
        assert "HW_SECRET_KEY" in props["huaweiSecretKey"]["description"]
        assert "huaweicloud:secretKey" in props["huaweiSecretKey"]["description"]


def test_a_changed_credential_replaces_nothing() -> None:
    provider = BatchIpNativeProvider("0.0.1")
    olds = wire_map({"huaweiSecretKey": "old", "huaweiRegion": "cn-north-4"}, ["huaweiSecretKey"])
    news = wire_map({"huaweiSecretKey": "new", "huaweiRegion": "cn-north-4"}, ["huaweiSecretKey"])
    response = run(provider.diff_config(DiffRequest(PROVIDER_URN, "id", olds, news, [])))
    assert not response.replaces and not response.delete_before_replace


def test_a_changed_region_replaces_the_batch_that_takes_it_from_config() -> None:
    provider = configured({"huaweiRegion": "ap-southeast-1", "huaweiProjectId": PROJECT})
    settings = cfg.HuaweiSettings(
        cfg.Credentials("ak", "sk"), "cn-north-4", PROJECT, "http://127.0.0.1:1"
    )
    eip = PublicIp(id="e1", status="ACTIVE", public_ip_address="192.0.2.1", bandwidth_id="b1")
    bandwidth = {"size": 5, "share_type": "PER", "charge_mode": "bandwidth"}
    props = {"count": 1, "bandwidth": bandwidth}
    olds = camel_keys(outputs(props, settings, "batch-1", [eip]))
    news = {"count": 1, "bandwidth": olds["bandwidth"]}
    urn = "urn:pulumi:dev::shop::batchip:index:EipBatch::edge"
    diff = run(provider.diff(DiffRequest(urn, "batch-1", wire_map(olds), wire_map(news), [])))
    assert diff.replaces == ["region"]
    # The same region configured: nothing changes.
    provider = configured({"huaweiRegion": "cn-north-4", "huaweiProjectId": PROJECT})
    diff = run(provider.diff(DiffRequest(urn, "batch-1", wire_map(olds), wire_map(news), [])))
    assert not diff.changes and not diff.replaces


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({"eipJobTimeout": "abc"}, "eipJobTimeout: batchip:eipJobTimeout / "),
        ({"eipJobTimeout": "-1"}, "'-1' is not a positive number of seconds"),
        ({"httpTimeout": "-5"}, "httpTimeout: batchip:httpTimeout / BATCHIP_HTTP_TIMEOUT: '-5'"),
        ({"eipEndpoint": "not a url"}, "eipEndpoint: batchip:eipEndpoint / "),
        ({"bccEndpoint": "http://bcc.example.com"}, "plain http is only accepted for loopback"),
        ({"allowInsecureHttp": "maybe"}, "batchip:allowInsecureHttp must be true or false"),
    ],
)
def test_check_config_refuses_what_the_providers_would_refuse_later(
    given: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # So that preview says it, before any resource (it once failed only in up, deep in
    # a create).
    monkeypatch.delenv("BATCHIP_ALLOW_INSECURE_HTTP", raising=False)
    _inputs, failures = check_config(wire_map(given))
    [failure] = failures
    assert expected in failure, failure


@pytest.mark.parametrize(
    "given",
    [
        {"eipJobTimeout": "900", "httpTimeout": 30, "allowInsecureHttp": False},
        {"eipEndpoint": "http://127.0.0.1:8700", "bccEndpoint": "https://bcc.example.com"},
        {"eipEndpoint": "http://emulator.internal:8700", "allowInsecureHttp": "true"},
    ],
)
def test_check_config_takes_good_settings(given: dict[str, object]) -> None:
    assert check_config(wire_map(given))[1] == []
