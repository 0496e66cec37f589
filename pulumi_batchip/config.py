"""Settings and credential resolution (README, "Configuration").

Order: resource argument (region/project only) > Pulumi stack config > environment.
The dynamic provider gets the whole stack config in ``configure()``; the environment
is read in the provider process. Secrets never appear in ``repr()``.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

import attrs

from .errors import ConfigError


@attrs.frozen(repr=False)
class Credentials:
    """An access key pair and an optional session token. Its repr shows none of them."""

    access_key: str
    secret_key: str
    security_token: str | None = None

    def __repr__(self) -> str:
        token = ", security_token=<redacted>" if self.security_token else ""
        return f"Credentials(access_key=<redacted>, secret_key=<redacted>{token})"

    def __getstate__(self) -> None:
        # Credentials must never be pickled into Pulumi state with a provider.
        raise TypeError("Credentials are not picklable: they must never reach Pulumi state")


@attrs.frozen
class BaiduSettings:
    credentials: Credentials
    region: str
    endpoint: str


@attrs.frozen
class HuaweiSettings:
    credentials: Credentials
    region: str
    project_id: str
    endpoint: str


# (Pulumi config key, environment variable) for every setting: the contract names.
BAIDU_ACCESS_KEY = ("baiducloud:accessKey", "BAIDUCLOUD_ACCESS_KEY")
BAIDU_SECRET_KEY = ("baiducloud:secretKey", "BAIDUCLOUD_SECRET_KEY")
BAIDU_SECURITY_TOKEN = ("baiducloud:securityToken", "BAIDUCLOUD_SECURITY_TOKEN")
BAIDU_REGION = ("baiducloud:region", "BAIDUCLOUD_REGION")
BCC_ENDPOINT = ("batchip:bccEndpoint", "BATCHIP_BCC_ENDPOINT")
HUAWEI_ACCESS_KEY = ("huaweicloud:accessKey", "HW_ACCESS_KEY")
HUAWEI_SECRET_KEY = ("huaweicloud:secretKey", "HW_SECRET_KEY")
HUAWEI_SECURITY_TOKEN = ("huaweicloud:securityToken", "HW_SECURITY_TOKEN")
HUAWEI_REGION = ("huaweicloud:region", "HW_REGION_NAME")
HUAWEI_PROJECT_ID = ("huaweicloud:projectId", "HW_PROJECT_ID")
EIP_ENDPOINT = ("batchip:eipEndpoint", "BATCHIP_EIP_ENDPOINT")
# Not in the contract table: an explicit opt-in for plain-HTTP endpoints off loopback,
# and how long EipBatch waits for EIP jobs (seconds).
ALLOW_INSECURE_HTTP = ("batchip:allowInsecureHttp", "BATCHIP_ALLOW_INSECURE_HTTP")
EIP_JOB_TIMEOUT = ("batchip:eipJobTimeout", "BATCHIP_EIP_JOB_TIMEOUT")
DEFAULT_EIP_JOB_TIMEOUT = 600.0
HTTP_TIMEOUT = ("batchip:httpTimeout", "BATCHIP_HTTP_TIMEOUT")
DEFAULT_HTTP_TIMEOUT = 30.0


def _lookup(
    names: tuple[str, str], config: Mapping[str, str], env: Mapping[str, str]
) -> str | None:
    key, var = names
    for source in (config, env):
        value = source.get(key if source is config else var)
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def configured(names: tuple[str, str], config: Mapping[str, str]) -> str | None:
    """A setting from stack config, else the environment; None when neither has it."""
    return _lookup(names, config, _environ())


def _require(
    names: tuple[str, str], what: str, config: Mapping[str, str], env: Mapping[str, str]
) -> str:
    value = _lookup(names, config, env)
    if value is None:
        key, var = names
        raise ConfigError(
            f"missing {what}: set the Pulumi config `{key}` "
            f"(pulumi config set --secret {key} ...) or the environment variable {var}"
        )
    return value


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str, names: tuple[str, str], *, allow_insecure: bool = False) -> str:
    """Accept https anywhere; http only on loopback (the emulator) or when allowed."""
    parts = urlsplit(endpoint)
    key, var = names
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key} / {var}: {endpoint!r} is not an http(s) URL")
    if parts.scheme == "http" and not allow_insecure and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"{key} / {var}: plain http is only accepted for loopback endpoints "
            f"(the emulator); use https, or set {ALLOW_INSECURE_HTTP[0]} / "
            f"{ALLOW_INSECURE_HTTP[1]} to true"
        )
    return endpoint.rstrip("/")


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes", "on")


def _environ() -> Mapping[str, str]:
    return os.environ


def resolve_baidu(
    config: Mapping[str, str],
    env: Mapping[str, str] | None = None,
    *,
    region: str | None = None,
) -> BaiduSettings:
    env = _environ() if env is None else env
    credentials = Credentials(
        access_key=_require(BAIDU_ACCESS_KEY, "Baidu access key", config, env),
        secret_key=_require(BAIDU_SECRET_KEY, "Baidu secret key", config, env),
        security_token=_lookup(BAIDU_SECURITY_TOKEN, config, env),
    )
    region = region or _require(BAIDU_REGION, "Baidu region", config, env)
    override = _lookup(BCC_ENDPOINT, config, env)
    allow = _truthy(_lookup(ALLOW_INSECURE_HTTP, config, env))
    endpoint = check_endpoint(
        override or f"https://bcc.{region}.baidubce.com", BCC_ENDPOINT, allow_insecure=allow
    )
    return BaiduSettings(credentials=credentials, region=region, endpoint=endpoint)


def resolve_huawei(
    config: Mapping[str, str],
    env: Mapping[str, str] | None = None,
    *,
    region: str | None = None,
    project_id: str | None = None,
) -> HuaweiSettings:
    env = _environ() if env is None else env
    credentials = Credentials(
        access_key=_require(HUAWEI_ACCESS_KEY, "Huawei access key", config, env),
        secret_key=_require(HUAWEI_SECRET_KEY, "Huawei secret key", config, env),
        security_token=_lookup(HUAWEI_SECURITY_TOKEN, config, env),
    )
    region = region or _require(HUAWEI_REGION, "Huawei region", config, env)
    project_id = project_id or _require(HUAWEI_PROJECT_ID, "Huawei project id", config, env)
    override = _lookup(EIP_ENDPOINT, config, env)
    allow = _truthy(_lookup(ALLOW_INSECURE_HTTP, config, env))
    endpoint = check_endpoint(
        override or f"https://vpc.{region}.myhuaweicloud.com", EIP_ENDPOINT, allow_insecure=allow
    )
    return HuaweiSettings(
        credentials=credentials, region=region, project_id=project_id, endpoint=endpoint
    )


def _seconds(
    names: tuple[str, str], default: float, config: Mapping[str, str], env: Mapping[str, str] | None
) -> float:
    raw = _lookup(names, config, _environ() if env is None else env)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        key, var = names
        raise ConfigError(f"{key} / {var}: {raw!r} is not a positive number of seconds")
    return value


def eip_job_timeout(config: Mapping[str, str], env: Mapping[str, str] | None = None) -> float:
    """Seconds to wait for EIP jobs (and for a lost create to show up) before giving up."""
    return _seconds(EIP_JOB_TIMEOUT, DEFAULT_EIP_JOB_TIMEOUT, config, env)


def http_timeout(config: Mapping[str, str], env: Mapping[str, str] | None = None) -> float:
    """Seconds one HTTP call may take (connect, send, wait for the answer)."""
    return _seconds(HTTP_TIMEOUT, DEFAULT_HTTP_TIMEOUT, config, env)
