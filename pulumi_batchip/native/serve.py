"""Starts the plugin's gRPC server: the SDK's ``pulumi.provider.experimental``
``ProviderServicer`` over our provider, with our errors answered cleanly
(``clean_errors.py``), or says why it cannot: that module first shipped in the Pulumi
Python SDK 3.216 with everything this plugin uses (``Provider`` and its CRUD servicer).

The protocol of a plugin's start: the engine's address is the last argument (flags such
as ``--logflow`` may come before it); the plugin prints the port it listens on, alone
on the first line of stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TYPE_CHECKING

from .. import _engine_watch

if TYPE_CHECKING:
    from .provider import BatchIpNativeProvider

NEEDS = "the batchip provider plugin needs the Pulumi Python SDK 3.216 or newer"
# As the SDK's own servers: large states and schemas fit in one message.
MAX_MESSAGE_BYTES = 400 * 1024 * 1024
GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
]


def main(argv: list[str]) -> int:
    try:
        from pulumi.provider.experimental.server import ProviderServicer  # noqa: F401
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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(argv, version, BatchIpNativeProvider(version, engine), engine))
    return 0


async def _serve(
    argv: list[str], version: str, provider: BatchIpNativeProvider, engine: str | None
) -> None:
    import grpc
    from pulumi.provider.experimental.server import ProviderServicer
    from pulumi.runtime.proto import provider_pb2_grpc

    from .clean_errors import CleanErrors

    server = grpc.aio.server(options=GRPC_OPTIONS, interceptors=[CleanErrors()])
    servicer = ProviderServicer(argv, version, provider, engine_address=engine or "")
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    await server.wait_for_termination()


def console() -> None:
    """The console script ``pulumi-resource-batchip``."""
    sys.exit(main(sys.argv[1:]))
