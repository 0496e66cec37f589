"""What both dynamic providers share: pickling discipline, configuration, clients,
input coercion and progress lines.

A provider object is pickled into every user's state (``__provider``). It is pickled
*by reference* (a module-level class) and with an empty ``__dict__``: clients, locks
and configuration are runtime-only, rebuilt lazily in the provider process. That keeps
``__provider`` tiny and keeps credentials out of state.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pulumi.dynamic import CheckFailure, ConfigureRequest, ResourceProvider
from pulumi.output import Unknown

from . import _engine_watch
from . import config as cfg
from .lines import say

if TYPE_CHECKING:
    import httpx

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
F = TypeVar("F", bound=Callable[..., Any])


class ProviderHalf:
    """The names a resource module's provider methods use and a Pulumi program never
    needs (the inputs' rules, the state layout, clients with their signers and retries,
    the operations layer): imported into that module's namespace by :meth:`load`,
    before any method of the provider class runs (``class XProvider(BatchIpProvider,
    half=_HALF)``), before a module function decorated with :meth:`loading` (one called
    from outside the provider's methods), and on first access from outside (the
    module's ``__getattr__`` calls :meth:`attribute`). The program, which only builds
    resources, imports none of them (tests/unit/test_import_time.py)."""

    def __init__(self, namespace: dict[str, Any], imports: Mapping[str, Sequence[str]]) -> None:
        self._namespace = namespace  # the module's globals()
        self._imports = imports  # {module, relative to the package: names}
        self._loaded = False

    @property
    def names(self) -> frozenset[str]:
        return frozenset(name for names in self._imports.values() for name in names)

    def load(self) -> None:
        if self._loaded:
            return
        package = self._namespace["__package__"]
        for source, names in self._imports.items():
            module = importlib.import_module(source, package)
            for name in names:
                self._namespace[name] = getattr(module, name)
        self._loaded = True

    def loading(self, function: F) -> F:
        """``function``, loading the half before it runs."""

        @functools.wraps(function)
        def loaded(*args: Any, **kwargs: Any) -> Any:
            self.load()
            return function(*args, **kwargs)

        return cast(F, loaded)

    def attribute(self, name: str) -> Any:
        if name not in self.names:
            module = self._namespace["__name__"]
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        self.load()
        return self._namespace[name]


# In the dynamic provider's process (where the engine unpickles our providers), end
# the process when the engine that started it is gone.
_engine_watch.start_if_provider_process()


class BatchIpProvider(ResourceProvider):
    """Base of both providers: nothing but the class is ever pickled."""

    serialize_as_secret_always = False  # __provider holds no secret: only a class reference

    def __init_subclass__(cls, *, half: ProviderHalf | None = None, **kwargs: Any) -> None:
        """``class XProvider(BatchIpProvider, half=_HALF)``: every method the class
        defines loads the module's provider half before it runs. Any of them can be a
        provider process's first call (a refresh starts with read, a destroy with
        delete; a test may build the client first)."""
        super().__init_subclass__(**kwargs)
        if half is not None:
            for name, value in list(vars(cls).items()):
                if inspect.isfunction(value):
                    setattr(cls, name, half.loading(value))

    def __init__(self) -> None:
        super().__init__()
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._config = cfg.StackConfig()
        self._clients: dict[Hashable, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        # Not empty: pickle skips __setstate__ for a falsy state, and it rebuilds the runtime.
        return {"v": 1}

    def __setstate__(self, _state: dict[str, Any]) -> None:
        self._init_runtime()

    def configure(self, req: ConfigureRequest, shown: Mapping[str, str] | None = None) -> None:
        """Takes the settings of the stack config; ``shown`` names, for messages, the key
        a setting is set under where that is not its contract key (the native plugin's
        ``batchip:huaweiSecretKey`` for ``huaweicloud:secretKey``)."""
        values = {}
        for key in CONFIG_KEYS:
            value = req.config.get(key)
            if value is not None:
                values[key] = str(value)
        with self._lock:
            self._config = cfg.StackConfig(values, shown)

    @property
    def stack_config(self) -> cfg.StackConfig:
        with self._lock:
            return cfg.StackConfig(self._config, self._config.shown)

    def cached_client(self, key: Hashable, factory: Callable[[], T]) -> T:
        """One client per endpoint and credentials, shared by the server's threads."""
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = factory()
                self._clients[key] = client
            return client

    def http_timeout(self) -> httpx.Timeout:
        import httpx  # the provider process's: a Pulumi program never imports httpx

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
    say(f"batchip: {line}")


def named_list(items: Sequence[str], first: int = 5) -> str:
    """``a, b, c``, or the first few and how many more: a line stays short."""
    shown = ", ".join(items[:first])
    return f"{shown} and {len(items) - first} more" if len(items) > first else shown
