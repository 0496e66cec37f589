"""Configuration: contract names, precedence, clear errors, no secret in repr."""

from __future__ import annotations

import pickle

import pytest

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
    "HW_PROJECT_ID": "p" * 32,
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
    config = {"huaweicloud:projectId": "cfgproject", "batchip:eipEndpoint": "http://127.0.0.1:9/"}
    s = resolve_huawei(config, {**HW_ENV, "HW_SECURITY_TOKEN": "t"}, region="ap-southeast-1")
    assert s.project_id == "cfgproject"
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
