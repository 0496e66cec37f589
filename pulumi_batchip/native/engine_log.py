"""The plugin's progress lines, sent to the engine's ``Log`` service.

The engine hides what a native resource plugin writes to stderr (only its debug log
keeps it), so the lines the providers say (``lines.say``) during a request go to the
engine with the request's URN: the CLI shows them under the resource, as it shows a
dynamic provider's stderr. A line the engine does not take (it went away, say) is
written to stderr instead: a progress line never fails an operation.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import grpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc


class EngineLog:
    def __init__(self, address: str) -> None:
        self._address = address
        self._stub: engine_pb2_grpc.EngineStub | None = None

    def _engine(self) -> engine_pb2_grpc.EngineStub:
        if self._stub is None:  # the channel connects on first use
            self._stub = engine_pb2_grpc.EngineStub(grpc.insecure_channel(self._address))
        return self._stub

    def sink(self, urn: str) -> Callable[[str], None]:
        """What ``lines.lines_to`` takes for one request on the resource ``urn``."""

        def send(line: str) -> None:
            request = engine_pb2.LogRequest(severity=engine_pb2.INFO, message=line, urn=urn)
            try:
                self._engine().Log(request, timeout=10)
            except grpc.RpcError:
                print(line, file=sys.stderr, flush=True)

        return send
