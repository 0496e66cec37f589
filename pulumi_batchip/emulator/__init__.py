"""A local, faithful stand-in for the Baidu BCC and Huawei EIP APIs.

Install with ``pip install 'pulumi-batchip[emulator]'``; run with
``python -m pulumi_batchip.emulator`` or, in tests, :func:`start_emulator`.
"""

from __future__ import annotations

from .app import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
)
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
