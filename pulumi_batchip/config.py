"""Settings and credential resolution (README, "Configuration").

Order: resource argument (region/project only) > Pulumi stack config > environment.
The dynamic provider gets the whole stack config in ``configure()``; the environment
is read in the provider process. Secrets never appear in ``repr()``.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
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
# The vendors' settings (the contract's baiducloud: and huaweicloud: keys), and which of
# them are credentials: those are never shown, and the native plugin keeps them secret.
VENDOR_SETTINGS = (
    BAIDU_ACCESS_KEY,
    BAIDU_SECRET_KEY,
    BAIDU_SECURITY_TOKEN,
    BAIDU_REGION,
    HUAWEI_ACCESS_KEY,
    HUAWEI_SECRET_KEY,
    HUAWEI_SECURITY_TOKEN,
    HUAWEI_REGION,
    HUAWEI_PROJECT_ID,
)
# Every setting (the native plugin has one ``batchip:`` name for each).
ALL_SETTINGS = (
    *VENDOR_SETTINGS,
    BCC_ENDPOINT,
    EIP_ENDPOINT,
    ALLOW_INSECURE_HTTP,
    EIP_JOB_TIMEOUT,
    HTTP_TIMEOUT,
)
CREDENTIAL_SETTINGS = (
    BAIDU_ACCESS_KEY,
    BAIDU_SECRET_KEY,
    BAIDU_SECURITY_TOKEN,
    HUAWEI_ACCESS_KEY,
    HUAWEI_SECRET_KEY,
    HUAWEI_SECURITY_TOKEN,
)


class StackConfig(dict[str, str]):
    """Stack config values under the contract's keys, and for messages the key the user
    sets each one under where that differs: the native plugin's ``batchip:`` keys
    (``batchip:huaweiSecretKey`` for ``huaweicloud:secretKey``), as the engine hands a
    provider only its own namespace."""

    def __init__(
        self, values: Mapping[str, str] | None = None, shown: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(values or {})
        self.shown = dict(shown or {})


def _shown(key: str, config: Mapping[str, str]) -> str:
    """The config key a message names for ``key``."""
    return config.shown.get(key, key) if isinstance(config, StackConfig) else key


# The vendors' identifier formats, each stated once: a region becomes part of an endpoint
# host and ids go into URL paths, so anything else must never reach a request. Each rule
# returns why a value breaks it, or None; `check` and the resolution below both use them.
# Sources (docs/design.md, "Identifier formats"):
# - Huawei region ids: every id of huaweicloudsdkeip 3.1.219 (v2/region/eip_region.py:
#   cn-north-4, ap-southeast-1, la-south-2, my-kualalumpur-1, eu-west-101, ...) and the
#   "Regions and Endpoints" page: lowercase letters and digits in two or more parts
#   joined by single hyphens; the id is one DNS label of vpc.{region}.myhuaweicloud.com.
# - Huawei project ids: the EIP API reference gives project_id "minimum length 32,
#   maximum length 32"; IAM's examples (GET /v3/projects) are lowercase hex,
#   e.g. a4a5d4098fb4474fa22cd05f897d6b99.
# - Baidu regions: BCC "Service Domain Name" (bcc.{bj,gz,su,hkg,fwh,bd,sin,fsh}
#   .baidubce.com), BOS "Region and Endpoint" (cd, yq), BSS (hk02, hb-fsg): lowercase
#   letters and digits, parts joined by single hyphens, one DNS label of the host.
# - BCC instance ids: "i-" and letters/digits ("i-DhjUXmSA" in the batchAddIp reference,
#   cloud.baidu.com/doc/BCC/s/ulxedqb8e; 8 after "i-", as the emulator makes them). Not
#   held to 8: any 1..62, so ids of mocks and tests ("i-1") keep working; 64 in all.
DNS_LABEL_MAX = 63  # RFC 1035: a region is one label of the endpoint's host name
HUAWEI_REGION_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")
HUAWEI_PROJECT_ID_RE = re.compile(r"[0-9a-f]{32}")
BAIDU_REGION_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
BCC_INSTANCE_ID_RE = re.compile(r"i-[A-Za-z0-9]{1,62}")
HUAWEI_REGION_RULE = (
    "a Huawei region id such as 'cn-north-4': lowercase letters and digits in two or "
    f"more parts joined by single hyphens, at most {DNS_LABEL_MAX} characters"
)
HUAWEI_PROJECT_ID_RULE = (
    "a Huawei project id: 32 lowercase hexadecimal characters "
    "(such as '0123456789abcdef0123456789abcdef')"
)
BAIDU_REGION_RULE = (
    "a Baidu region such as 'bj' or 'gz': lowercase letters and digits, parts joined "
    f"by single hyphens, at most {DNS_LABEL_MAX} characters"
)
BCC_INSTANCE_ID_RULE = "a BCC instance id such as 'i-DhjUXmSA': 'i-' and 1..62 letters or digits"


def _quoted(value: object, limit: int = 40) -> str:
    """A user's value in a message, cut short (errors travel in gRPC metadata)."""
    try:
        text = repr(value)
    except ValueError:  # an int past the interpreter's digit limit
        return f"<{type(value).__name__} too large to show>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _format_problem(value: object, pattern: re.Pattern[str], rule: str, limit: int) -> str | None:
    if isinstance(value, str) and len(value) <= limit and pattern.fullmatch(value):
        return None
    return f"must be {rule}, not {_quoted(value)}"


def huawei_region_problem(value: object) -> str | None:
    """Why ``value`` is no Huawei region id, or None."""
    return _format_problem(value, HUAWEI_REGION_RE, HUAWEI_REGION_RULE, DNS_LABEL_MAX)


def huawei_project_id_problem(value: object) -> str | None:
    """Why ``value`` is no Huawei project id, or None."""
    return _format_problem(value, HUAWEI_PROJECT_ID_RE, HUAWEI_PROJECT_ID_RULE, 32)


def baidu_region_problem(value: object) -> str | None:
    """Why ``value`` is no Baidu region, or None."""
    return _format_problem(value, BAIDU_REGION_RE, BAIDU_REGION_RULE, DNS_LABEL_MAX)


def bcc_instance_id_problem(value: object) -> str | None:
    """Why ``value`` is no BCC instance id, or None."""
    return _format_problem(value, BCC_INSTANCE_ID_RE, BCC_INSTANCE_ID_RULE, 64)


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
        key, var = _shown(names[0], config), names[1]
        # Every credential wants --secret (README); a region or project id is no secret.
        flag = "--secret " if names in CREDENTIAL_SETTINGS else ""
        raise ConfigError(
            f"missing {what}: set the Pulumi config `{key}` "
            f"(pulumi config set {flag}{key} ...) or the environment variable {var}"
        )
    return value


def _valid(
    names: tuple[str, str],
    what: str,
    argument: str | None,
    rule: Callable[[object], str | None],
    config: Mapping[str, str],
    env: Mapping[str, str],
) -> str:
    """The resource's ``argument``, else the setting; refused unless ``rule`` passes."""
    value = argument or _require(names, what, config, env)
    if problem := rule(value):
        key, var = _shown(names[0], config), names[1]
        if argument:
            source = f"the resource's {what} (its argument, not `{key}`)"
        elif _lookup(names, config, {}) is not None:
            source = f"the Pulumi config `{key}`"
        else:
            source = f"the environment variable {var} (read as `{key}` is not set)"
        raise ConfigError(f"{source} {problem}")
    return value


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (``[::1]`` as a URL writes it, too)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_endpoint(endpoint: str, names: tuple[str, str], *, allow_insecure: bool = False) -> str:
    """Accept https anywhere; http only on loopback (the emulator) or when allowed."""
    parts = urlsplit(endpoint)
    key, var = names
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key} / {var}: {endpoint!r} is not an http(s) URL")
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
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
    region = _valid(BAIDU_REGION, "Baidu region", region, baidu_region_problem, config, env)
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
    region = _valid(HUAWEI_REGION, "Huawei region", region, huawei_region_problem, config, env)
    project_id = _valid(
        HUAWEI_PROJECT_ID, "Huawei project id", project_id, huawei_project_id_problem, config, env
    )
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


def timeout_seconds(
    names: tuple[str, str], config: Mapping[str, str], env: Mapping[str, str] | None = None
) -> float:
    """The setting ``names`` (``EIP_JOB_TIMEOUT`` or ``HTTP_TIMEOUT``) in seconds."""
    default = DEFAULT_EIP_JOB_TIMEOUT if names == EIP_JOB_TIMEOUT else DEFAULT_HTTP_TIMEOUT
    return _seconds(names, default, config, env)


def allows_insecure_http(config: Mapping[str, str], env: Mapping[str, str] | None = None) -> bool:
    """Whether plain http is allowed beyond loopback."""
    return _truthy(_lookup(ALLOW_INSECURE_HTTP, config, _environ() if env is None else env))


def eip_job_timeout(config: Mapping[str, str], env: Mapping[str, str] | None = None) -> float:
    """Seconds to wait for EIP jobs (and for a lost create to show up) before giving up."""
    return _seconds(EIP_JOB_TIMEOUT, DEFAULT_EIP_JOB_TIMEOUT, config, env)


def http_timeout(config: Mapping[str, str], env: Mapping[str, str] | None = None) -> float:
    """Seconds one HTTP call may take (connect, send, wait for the answer)."""
    return _seconds(HTTP_TIMEOUT, DEFAULT_HTTP_TIMEOUT, config, env)
