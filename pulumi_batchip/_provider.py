"""What both dynamic providers share: pickling discipline, configuration, clients,
input coercion and progress lines.

A provider object is pickled into every user's state (``__provider``). It is pickled
*by reference* (a module-level class) and with an empty ``__dict__``: clients, locks
and configuration are runtime-only, rebuilt lazily in the provider process. That keeps
``__provider`` tiny and keeps credentials out of state.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

import httpx
from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider
from pulumi.output import Unknown

from . import _engine_watch
from . import config as cfg

# Every config key the providers read: the engine hands over the whole stack config.
CONFIG_KEYS = tuple(
    key
    for key, _env in (
        cfg.BAIDU_ACCESS_KEY,
        cfg.BAIDU_SECRET_KEY,
        cfg.BAIDU_SECURITY_TOKEN,
        cfg.BAIDU_REGION,
        cfg.BCC_ENDPOINT,
        cfg.HUAWEI_ACCESS_KEY,
        cfg.HUAWEI_SECRET_KEY,
        cfg.HUAWEI_SECURITY_TOKEN,
        cfg.HUAWEI_REGION,
        cfg.HUAWEI_PROJECT_ID,
        cfg.EIP_ENDPOINT,
        cfg.ALLOW_INSECURE_HTTP,
        cfg.EIP_JOB_TIMEOUT,
        cfg.HTTP_TIMEOUT,
    )
)

T = TypeVar("T")

# In the dynamic provider's process (where the engine unpickles our providers), end
# the process when the engine that started it is gone.
_engine_watch.start_if_provider_process()


class BatchIpProvider(ResourceProvider):
    """Base of both providers: nothing but the class is ever pickled."""

    serialize_as_secret_always = False  # __provider holds no secret: only a class reference

    def __init__(self) -> None:
        super().__init__()
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._config: dict[str, str] = {}
        self._clients: dict[Hashable, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Not empty: pickle skips __setstate__ for a falsy state, and it rebuilds the runtime.
        return {"v": 1}

    def __setstate__(self, _state: dict[str, Any]) -> None:
        self._init_runtime()

    def configure(self, req: ConfigureRequest) -> None:
        values = {}
        for key in CONFIG_KEYS:
            value = req.config.get(key)
            if value is not None:
                values[key] = str(value)
        with self._lock:
            self._config = values

    @property
    def stack_config(self) -> dict[str, str]:
        with self._lock:
            return dict(self._config)

    def cached_client(self, key: Hashable, factory: Callable[[], T]) -> T:
        """One client per endpoint and credentials, shared by the server's threads."""
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = factory()
                self._clients[key] = client
            return client

    def http_timeout(self) -> httpx.Timeout:
        seconds = cfg.http_timeout(self.stack_config)
        return httpx.Timeout(seconds, connect=min(seconds, 10.0))

    @staticmethod
    def lock_for(name: str) -> threading.Lock:
        """A lock per cloud object (an instance), so two resources touching the same
        VM in one ``pulumi up`` never interleave their change-and-reboot. Module-level:
        the server caches one provider object per exact ``__provider`` string, and
        state written by another version pickles to another string."""
        with _OBJECT_LOCKS_GUARD:
            return _OBJECT_LOCKS.setdefault(name, threading.Lock())


_OBJECT_LOCKS_GUARD = threading.Lock()
_OBJECT_LOCKS: dict[str, threading.Lock] = {}


def is_unknown(value: object) -> bool:
    """A value not known during preview (an output of a resource not yet created)."""
    return isinstance(value, Unknown)


def contains_unknown(value: object) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, list | tuple):
        return any(contains_unknown(v) for v in value)
    if isinstance(value, dict):
        return any(contains_unknown(v) for v in value.values())
    return False


def coerce_int(value: object) -> int | None:
    """Numbers cross the wire as floats (2 → 2.0): accept integral ones only."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


class Failures:
    """Collects CheckFailures; each names a property and the rule it breaks."""

    def __init__(self) -> None:
        self.items: list[CheckFailure] = []

    def add(self, prop: str, reason: str) -> None:
        self.items.append(CheckFailure(prop, reason))

    def __bool__(self) -> bool:
        return bool(self.items)


def progress(line: str) -> None:
    # The provider's stderr reaches the Pulumi CLI; pulumi.log does not (#6065).
    print(f"batchip: {line}", file=sys.stderr, flush=True)


def named_list(items: Sequence[str], first: int = 5) -> str:
    """``a, b, c``, or the first few and how many more: a line stays short."""
    shown = ", ".join(items[:first])
    return f"{shown} and {len(items) - first} more" if len(items) > first else shown
