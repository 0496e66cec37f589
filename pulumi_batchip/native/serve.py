"""Starts the plugin's gRPC server (the SDK's ``pulumi.provider.experimental``), or
says why it cannot: that module first shipped in the Pulumi Python SDK 3.216 with
everything this plugin uses (``Provider`` and its CRUD servicer)."""

from __future__ import annotations

import sys

from .. import _engine_watch

NEEDS = "the batchip provider plugin needs the Pulumi Python SDK 3.216 or newer"


def main(argv: list[str]) -> int:
    try:
        from pulumi.provider.experimental.server import main as serve
    except ImportError as error:
        print(f"pulumi-resource-batchip: {NEEDS} ({error})", file=sys.stderr)
        return 1
    from .provider import BatchIpNativeProvider
    from .schema import plugin_version

    address = next((a for a in reversed(argv) if not a.startswith("-")), None)
    engine = address if address is not None and ":" in address else None
    if engine is not None:
        # Ends this process should the engine that started it be killed.
        _engine_watch.watch(engine, _engine_watch.check_period(), _engine_watch.GRACE_SECONDS)
    version = plugin_version()
    serve(argv, version, BatchIpNativeProvider(version, engine))
    return 0


def console() -> None:
    """The console script ``pulumi-resource-batchip``."""
    sys.exit(main(sys.argv[1:]))
