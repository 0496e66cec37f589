"""A local, faithful stand-in for the Baidu BCC and Huawei EIP APIs.

Install with ``pip install 'pulumi-batchip[emulator]'``; run with
``python -m pulumi_batchip.emulator`` or, in tests, :func:`start_emulator`.

The settings and defaults import without werkzeug (the ``emulator`` extra); what serves
(:func:`start_emulator`, :func:`build_app`, :class:`RunningEmulator`) imports it on
first use, and says which extra to install when it is missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
)

if TYPE_CHECKING:
    from .server import RunningEmulator, build_app, start_emulator

__all__ = [
    "DEFAULT_BCE_CREDENTIALS",
    "DEFAULT_HW_CREDENTIALS",
    "DEFAULT_HW_PROJECT_ID",
    "EmulatorConfig",
    "RunningEmulator",
    "build_app",
    "start_emulator",
]

INSTALL_HINT = "pip install 'pulumi-batchip[emulator]'"
_SERVING = frozenset({"RunningEmulator", "build_app", "start_emulator"})


def missing_werkzeug(error: ImportError) -> str:
    """One line saying that the emulator cannot run, why, and what to install."""
    why = " ".join(str(error).split()) or type(error).__name__
    return f"the emulator needs werkzeug, which cannot be imported ({why}): {INSTALL_HINT}"


def __getattr__(name: str) -> Any:
    if name not in _SERVING:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from . import server
    except ImportError as exc:
        raise ImportError(missing_werkzeug(exc), name="werkzeug") from exc
    return getattr(server, name)
