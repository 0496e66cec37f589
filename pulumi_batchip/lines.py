"""Where a provider's progress lines go.

The engine shows what a *dynamic* provider writes to stderr (``pulumi.log`` from a
provider does not reach it: pulumi/pulumi#6065), so that is the default. A native
plugin's stderr is hidden by the engine (kept only in its debug log), so the native
plugin sets a sink for each request that sends the lines to the engine's ``Log``
service under the resource's URN (``native/engine_log.py``). The sink is a context
variable: the worker threads a request starts copy it (``parallel_map``,
``asyncio.to_thread``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_SINK: ContextVar[Callable[[str], None] | None] = ContextVar("batchip_line_sink", default=None)


def say(line: str) -> None:
    """One line for the user running ``pulumi``."""
    sink = _SINK.get()
    if sink is None:
        print(line, file=sys.stderr, flush=True)
    else:
        sink(line)


@contextmanager
def lines_to(sink: Callable[[str], None]) -> Iterator[None]:
    """Within the block (and the threads it starts), ``say`` hands lines to ``sink``."""
    token = _SINK.set(sink)
    try:
        yield
    finally:
        _SINK.reset(token)
