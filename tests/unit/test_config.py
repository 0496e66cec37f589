"""Configuration: contract names, precedence, clear errors, no secret in repr."""

from __future__ import annotations

import pickle

import pytest

from pulumi_batchip import config as cfg
from pulumi_batchip.config import Credentials, resolve_baidu, resolve_huawei
from pulumi_batchip.errors import ConfigError

BAIDU_ENV = {
    "BAIDUCLOUD_ACCESS_KEY": "env-ak",
    "BAIDUCLOUD_SECRET_KEY": "env-sk",
    "BAIDUCLOUD_REGION": "gz",
}
HW_ENV = {
    "HW_ACCESS_KEY": "hw-ak",
    "HW_SECRET_KEY": "hw-sk",
    "HW_REGION_NAME": "cn-north-4",
    "HW_PROJECT_ID": "0123456789abcdef" * 2,
}


def test_baidu_from_environment_with_default_endpoint() -> None:
    s = resolve_baidu({}, BAIDU_ENV)
    assert (s.credentials.access_key, s.credentials.secret_key) == ("env-ak", "env-sk")
    assert s.region == "gz"
    assert s.endpoint == "https://bcc.gz.baidubce.com"
    assert s.credentials.security_token is None


def test_config_beats_environment_and_argument_beats_config() -> None:
    config = {
        "baiducloud:accessKey": "cfg-ak",
        "baiducloud:secretKey": "cfg-sk",
        "baiducloud:region": "bj",
        "baiducloud:securityToken": "tok",
    }
    s = resolve_baidu(config, BAIDU_ENV)
    assert (s.credentials.access_key, s.region, s.credentials.security_token) == (
        "cfg-ak",
        "bj",
        "tok",
    )
    assert resolve_baidu(config, BAIDU_ENV, region="su").region == "su"


def test_huawei_names_and_overrides() -> None:
    config = {"huaweicloud:projectId": "c" * 32, "batchip:eipEndpoint": "http://127.0.0.1:9/"}
    s = resolve_huawei(config, {**HW_ENV, "HW_SECURITY_TOKEN": "t"}, region="ap-southeast-1")
    assert s.project_id == "c" * 32
    assert s.region == "ap-southeast-1"
    assert s.endpoint == "http://127.0.0.1:9"
    assert s.credentials.security_token == "t"
    assert resolve_huawei({}, HW_ENV).endpoint == "https://vpc.cn-north-4.myhuaweicloud.com"


@pytest.mark.parametrize(
    ("missing", "key", "var"),
    [
        ("HW_ACCESS_KEY", "huaweicloud:accessKey", "HW_ACCESS_KEY"),
        ("HW_SECRET_KEY", "huaweicloud:secretKey", "HW_SECRET_KEY"),
        ("HW_REGION_NAME", "huaweicloud:region", "HW_REGION_NAME"),
        ("HW_PROJECT_ID", "huaweicloud:projectId", "HW_PROJECT_ID"),
    ],
)
def test_missing_setting_names_config_key_and_env_var(missing: str, key: str, var: str) -> None:
    env = {k: v for k, v in HW_ENV.items() if k != missing}
    with pytest.raises(ConfigError) as info:
        resolve_huawei({}, env)
    assert key in str(info.value)
    assert var in str(info.value)
    # Every credential is set with --secret (access keys included, as the README
    # says); a region or project id is no secret.
    assert ("--secret" in str(info.value)) is (missing in ("HW_ACCESS_KEY", "HW_SECRET_KEY"))


def test_missing_baidu_secret() -> None:
    env = {k: v for k, v in BAIDU_ENV.items() if k != "BAIDUCLOUD_SECRET_KEY"}
    with pytest.raises(ConfigError, match=r"baiducloud:secretKey.*BAIDUCLOUD_SECRET_KEY"):
        resolve_baidu({}, env)


def test_blank_values_count_as_missing() -> None:
    with pytest.raises(ConfigError, match="BAIDUCLOUD_ACCESS_KEY"):
        resolve_baidu({"baiducloud:accessKey": "  "}, {**BAIDU_ENV, "BAIDUCLOUD_ACCESS_KEY": ""})


def test_secrets_never_in_repr_and_never_pickled() -> None:
    s = resolve_huawei({}, {**HW_ENV, "HW_SECURITY_TOKEN": "sekrit-token"})
    for text in (repr(s), repr(s.credentials), str(s)):
        assert "hw-sk" not in text
        assert "hw-ak" not in text
        assert "sekrit-token" not in text
    with pytest.raises(TypeError):
        pickle.dumps(Credentials("a", "b"))


@pytest.mark.parametrize(
    "endpoint", ["http://bcc.example.com", "ftp://127.0.0.1", "http://10.0.0.1:80", "nonsense"]
)
def test_insecure_or_bad_endpoints_refused(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="BATCHIP_BCC_ENDPOINT"):
        resolve_baidu({}, {**BAIDU_ENV, "BATCHIP_BCC_ENDPOINT": endpoint})


@pytest.mark.parametrize(
    "endpoint", ["http://127.0.0.1:8080", "http://localhost:1", "http://[::1]:5"]
)
def test_loopback_http_accepted(endpoint: str) -> None:
    assert resolve_baidu({}, {**BAIDU_ENV, "BATCHIP_BCC_ENDPOINT": endpoint}).endpoint == endpoint


def test_plain_http_allowed_when_asked() -> None:
    env = {
        **BAIDU_ENV,
        "BATCHIP_BCC_ENDPOINT": "http://bcc.lab:80",
        "BATCHIP_ALLOW_INSECURE_HTTP": "true",
    }
    assert resolve_baidu({}, env).endpoint == "http://bcc.lab:80"


# --- vendor formats (issue 22, item 7): nothing else reaches an endpoint host or a path --

HOSTILE_REGIONS = ["ap-southeast-1.evil.example/", "cn north 4", "CN-NORTH-4", "cn-north-4/../x"]


@pytest.mark.parametrize("region", HOSTILE_REGIONS)
def test_hostile_huawei_region_refused_from_config(region: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_huawei({"huaweicloud:region": region}, HW_ENV)
    message = str(info.value)
    assert "`huaweicloud:region`" in message and "Huawei region id" in message
    assert "evil.example/.myhuaweicloud" not in message


@pytest.mark.parametrize("region", HOSTILE_REGIONS)
def test_hostile_huawei_region_refused_from_environment(region: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_huawei({}, {**HW_ENV, "HW_REGION_NAME": region})
    message = str(info.value)
    assert "HW_REGION_NAME" in message and "huaweicloud:region" in message
    assert "lowercase letters and digits" in message


@pytest.mark.parametrize("region", HOSTILE_REGIONS)
def test_hostile_huawei_region_refused_as_an_argument(region: str) -> None:
    with pytest.raises(ConfigError, match="Huawei region id"):
        resolve_huawei({}, HW_ENV, region=region)


@pytest.mark.parametrize(
    "project_id",
    ["0123456789abcdef0123456789abcde", "0123456789ABCDEF0123456789ABCDEF", "../" + "a" * 29],
)
def test_bad_project_id_refused_naming_the_key(project_id: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_huawei({"huaweicloud:projectId": project_id}, HW_ENV)
    assert "`huaweicloud:projectId`" in str(info.value)
    assert "32 lowercase hexadecimal" in str(info.value)
    with pytest.raises(ConfigError, match=r"HW_PROJECT_ID.*32 lowercase hexadecimal"):
        resolve_huawei({}, {**HW_ENV, "HW_PROJECT_ID": project_id})


@pytest.mark.parametrize("region", ["bcc.evil.example/", "b j", "BJ", "bj/../x", "-bj", "bj."])
def test_hostile_baidu_region_refused(region: str) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_baidu({"baiducloud:region": region}, BAIDU_ENV)
    assert "`baiducloud:region`" in str(info.value) and "Baidu region" in str(info.value)
    with pytest.raises(ConfigError, match="BAIDUCLOUD_REGION"):
        resolve_baidu({}, {**BAIDU_ENV, "BAIDUCLOUD_REGION": region})
    with pytest.raises(ConfigError, match="Baidu region"):
        resolve_baidu({}, BAIDU_ENV, region=region)


def test_endpoint_override_still_validates_region_and_project() -> None:
    override = {
        "BATCHIP_EIP_ENDPOINT": "http://127.0.0.1:9",
        "BATCHIP_BCC_ENDPOINT": "http://[::1]:9",
    }
    with pytest.raises(ConfigError, match="HW_REGION_NAME"):
        resolve_huawei({}, {**HW_ENV, **override, "HW_REGION_NAME": "cn north 4"})
    with pytest.raises(ConfigError, match="HW_PROJECT_ID"):
        resolve_huawei({}, {**HW_ENV, **override, "HW_PROJECT_ID": "p" * 31})
    with pytest.raises(ConfigError, match="BAIDUCLOUD_REGION"):
        resolve_baidu({}, {**BAIDU_ENV, **override, "BAIDUCLOUD_REGION": "gz/"})
    # Good values keep the override.
    assert resolve_huawei({}, {**HW_ENV, **override}).endpoint == "http://127.0.0.1:9"
    assert resolve_baidu({}, {**BAIDU_ENV, **override}).endpoint == "http://[::1]:9"


@pytest.mark.parametrize(
    "region",
    [
        "cn-north-4",
        "ap-southeast-1",
        "la-south-2",
        "tr-west-1",
        "af-south-1",
        "cn-east-3",
        "me-east-1",
        "ru-northwest-2",
        "my-kualalumpur-1",
        "eu-west-101",
    ],
)
def test_real_huawei_regions_pass(region: str) -> None:
    s = resolve_huawei({"huaweicloud:region": region}, HW_ENV)
    assert s.endpoint == f"https://vpc.{region}.myhuaweicloud.com"


@pytest.mark.parametrize(
    "region", ["bj", "gz", "su", "bd", "fwh", "hkg", "yq", "cd", "nj", "sin", "fsh", "hb-fsg"]
)
def test_real_baidu_regions_pass(region: str) -> None:
    assert (
        resolve_baidu({}, BAIDU_ENV, region=region).endpoint == f"https://bcc.{region}.baidubce.com"
    )


def test_rules_are_stated_once_and_say_why() -> None:
    assert cfg.huawei_region_problem("cn-north-4") is None
    assert cfg.huawei_region_problem("cn") is not None  # one part: no Huawei region
    assert cfg.huawei_region_problem("a" * 30 + "-" + "b" * 33) is not None  # 64 > label
    assert cfg.huawei_project_id_problem("a4a5d4098fb4474fa22cd05f897d6b99") is None
    assert cfg.baidu_region_problem("bj\n") is not None  # fullmatch: no trailing newline
    assert cfg.bcc_instance_id_problem("i-DhjUXmSA") is None
    for bad in ("i-a/b", "i-", "DhjUXmSA", "i-ab?c", 7, None):
        problem = cfg.bcc_instance_id_problem(bad)
        assert problem is not None and "BCC instance id" in problem
