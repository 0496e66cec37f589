"""What the CLI shows when an operation fails: our message, not a Python traceback.

The SDK's provider server turns every exception into ``Exception("<message>:\\n<the
stack>")`` (3.260) or lets it escape to grpc, which says ``Unexpected <class ...>``
(3.216); either way the user reads ``Unexpected <class 'Exception'>`` and thirty lines
of our frames under a message that was already complete. Our own errors
(``BatchIpError``: bad config, cloud errors with the vendor's code and request id,
outcomes) are worded for the user, so this interceptor answers with just their message.
Anything else (a bug) keeps the SDK's traceback: it is what a bug report needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from ..errors import BatchIpError


def ours(exc: BaseException | None) -> BatchIpError | None:
    """Our error, raised itself or the one an exception was raised while handling."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, BatchIpError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


class CleanErrors(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    async def intercept_service(
        self,
        continuation: Callable[[Any], Awaitable[Any]],
        handler_call_details: Any,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary

        async def behavior(request: Any, context: Any) -> Any:
            try:
                return await inner(request, context)
            except Exception as exc:
                error = ours(exc)
                if error is None:
                    raise
                await context.abort(grpc.StatusCode.UNKNOWN, str(error))

        return grpc.unary_unary_rpc_method_handler(
            behavior,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
