"""Where progress lines go: stderr by default (the engine shows a dynamic provider's
stderr), the engine's Log service for the native plugin, under the resource's URN."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

from pulumi_batchip.lines import lines_to, say
from pulumi_batchip.native.engine_log import EngineLog
from pulumi_batchip.resilience import parallel_map

URN = "urn:pulumi:dev::p::batchip:index:EipBatch::edge"


class RecordingEngine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logs: list[engine_pb2.LogRequest] = []

    def Log(self, request: engine_pb2.LogRequest, context: object) -> empty_pb2.Empty:
        self.logs.append(request)
        return empty_pb2.Empty()


@pytest.fixture
def engine() -> Iterator[tuple[RecordingEngine, str]]:
    servicer = RecordingEngine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    engine_pb2_grpc.add_EngineServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield servicer, f"127.0.0.1:{port}"
    server.stop(None)


def test_lines_go_to_stderr_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    say("batchip: hello")
    assert capsys.readouterr().err == "batchip: hello\n"


def test_a_sink_takes_the_lines_of_its_block_and_its_threads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    taken: list[str] = []
    with lines_to(taken.append):
        say("one")
        parallel_map(lambda i: say(f"thread {i}"), [1, 2])
    say("after")
    assert taken[0] == "one" and sorted(taken[1:]) == ["thread 1", "thread 2"]
    assert capsys.readouterr().err == "after\n"


def test_the_engine_gets_each_line_with_the_urn(engine: tuple[RecordingEngine, str]) -> None:
    servicer, address = engine
    send = EngineLog(address).sink(URN)
    send("batchip: jobs: 1/2 finished")
    send("batchip: jobs: 2/2 finished")
    assert [(r.message, r.urn, r.severity) for r in servicer.logs] == [
        ("batchip: jobs: 1/2 finished", URN, engine_pb2.INFO),
        ("batchip: jobs: 2/2 finished", URN, engine_pb2.INFO),
    ]


def test_a_line_the_engine_does_not_take_goes_to_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Nothing listens there: the line is kept, and the operation goes on.
    EngineLog("127.0.0.1:9").sink(URN)("batchip: still here")
    assert capsys.readouterr().err == "batchip: still here\n"
