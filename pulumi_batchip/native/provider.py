"""The native provider: Pulumi's ResourceProvider protocol (through the SDK's
``pulumi.provider.experimental``) over the dynamic providers' objects.

Each call converts the engine's values to what the dynamic provider server would have
handed the same method (snake_case names, plain values, unknowns as ``Unknown``), runs
the method in a worker thread (they block on HTTP and waits) and converts the result
back, secrets marked again. No resource logic lives here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pulumi.provider.experimental.property_value import PropertyValue
from pulumi.provider.experimental.provider import (
    CheckFailure,
    CheckRequest,
    CheckResponse,
    ConfigureRequest,
    ConfigureResponse,
    CreateRequest,
    CreateResponse,
    DeleteRequest,
    DiffRequest,
    DiffResponse,
    GetSchemaRequest,
    GetSchemaResponse,
    PropertyDiff,
    PropertyDiffKind,
    Provider,
    ReadRequest,
    ReadResponse,
    UpdateRequest,
    UpdateResponse,
)

from ..errors import BatchIpError
from ..lines import lines_to
from . import configuration
from .engine_log import EngineLog
from .names import camel_keys, camel_text, path_to_camel, snake_keys, to_camel, to_snake
from .resources import Kind, kinds
from .schema import property_names, schema_json
from .values import plain, plain_map, wire_map

T = TypeVar("T")
# Every property name of the schema as the providers' messages spell it.
SNAKE_NAMES = frozenset(to_snake(n) for n in property_names())


def _snake(props: Mapping[str, PropertyValue]) -> tuple[dict[str, Any], frozenset[str]]:
    values, secret = plain_map(props)
    return snake_keys(values), frozenset(to_snake(k) for k in secret)


def _camel(values: Mapping[str, Any], secret: frozenset[str]) -> dict[str, PropertyValue]:
    return wire_map(camel_keys(dict(values)), (to_camel(k) for k in secret))


class BatchIpNativeProvider(Provider):
    def __init__(self, version: str, engine_address: str | None = None) -> None:
        self._version = version
        self._kinds = kinds()
        self._log = EngineLog(engine_address) if engine_address else None

    async def _run(self, urn: str, method: Callable[..., T], *args: Any) -> T:
        """A provider method in a worker thread (they block on HTTP and waits), its
        progress lines sent to the engine under ``urn``."""
        if self._log is None:
            return await asyncio.to_thread(method, *args)
        with lines_to(self._log.sink(urn)):
            return await asyncio.to_thread(method, *args)

    def _kind(self, urn: str) -> Kind:
        token = urn.split("::")[-2] if "::" in urn else ""
        kind = self._kinds.get(token)
        if kind is None:
            raise BatchIpError(f"batchip has no resource type {token!r}")
        return kind

    # -- the provider itself ------------------------------------------------------------
    async def get_schema(self, request: GetSchemaRequest) -> GetSchemaResponse:
        return GetSchemaResponse(schema=schema_json(self._version))

    async def check_config(self, request: CheckRequest) -> CheckResponse:
        failures = [
            CheckFailure(key, configuration.unknown_key_reason(key))
            for key in configuration.unknown_keys(request.new_inputs)
        ]
        args = {k: plain(v) for k, v in request.new_inputs.items()}
        failures += [CheckFailure(k, why) for k, why in configuration.format_problems(args)]
        # The credentials go back secret even when set in plain text: the engine keeps
        # these inputs in state, encrypting only what is secret.
        inputs = configuration.secret_inputs(request.new_inputs)
        return CheckResponse(inputs=inputs, failures=failures)

    async def diff_config(self, request: DiffRequest) -> DiffResponse:
        # A new endpoint, timeout or credential takes effect in the next run: the
        # provider is never replaced (that would replace every resource). A resource
        # whose region or project id comes from these settings sees a change of them
        # in its own diff, which replaces it as the Python class's does.
        return DiffResponse(changes=False)

    async def configure(self, request: ConfigureRequest) -> ConfigureResponse:
        args = {k: plain(v) for k, v in request.args.items()}
        if not args:  # an engine that sends only the variables ("batchip:config:key")
            args = {k.rpartition(":")[2]: v for k, v in request.variables.items()}
        dynamic = configuration.request(args)
        for kind in self._kinds.values():
            kind.provider.configure(dynamic, shown=configuration.SHOWN)
        # Secrets: taken (the SecondaryIpSet adapter needs to know a secret privateIps).
        # Preview: the engine then never calls create or update in a preview.
        return ConfigureResponse(accept_secrets=True, supports_preview=False)

    # -- the resources --------------------------------------------------------------------
    async def check(self, request: CheckRequest) -> CheckResponse:
        kind = self._kind(request.urn)
        olds, _ = _snake(request.old_inputs)
        news, secret = _snake(request.new_inputs)
        news = kind.prepare(news, secret, request.urn)
        strays = _strays(kind, request.new_inputs)
        if strays:  # a misspelt input would otherwise be dropped, its default used
            return CheckResponse(inputs=request.new_inputs, failures=strays)
        result = await self._run(request.urn, kind.provider.check, olds, news)
        failures = [
            CheckFailure(path_to_camel(f.property), camel_text(f.reason, SNAKE_NAMES))
            for f in result.failures
        ]
        return CheckResponse(inputs=_camel(result.inputs, secret), failures=failures)

    async def diff(self, request: DiffRequest) -> DiffResponse:
        kind = self._kind(request.urn)
        olds, _ = _snake(request.old_state)
        news, _ = _snake(request.new_inputs)
        result = await self._run(request.urn, kind.provider.diff, request.resource_id, olds, news)
        replaces = [path_to_camel(k) for k in result.replaces or ()]
        detail = _detailed_diff(kind, olds, news, replaces) if result.changes else {}
        return DiffResponse(
            changes=result.changes,
            replaces=replaces,
            stables=[path_to_camel(k) for k in result.stables or ()],
            delete_before_replace=bool(result.delete_before_replace),
            diffs=sorted(detail),
            detailed_diff=detail,
        )

    async def create(self, request: CreateRequest) -> CreateResponse:
        kind = self._kind(request.urn)
        props, secret = _snake(request.properties)
        result = await self._run(request.urn, kind.provider.create, props)
        outs = dict(result.outs or {})
        return CreateResponse(
            resource_id=str(result.id), properties=_camel(outs, kind.secret_outputs(outs, secret))
        )

    async def read(self, request: ReadRequest) -> ReadResponse:
        kind = self._kind(request.urn)
        props, secret = _snake(request.properties)
        result = await self._run(request.urn, kind.provider.read, request.resource_id, props)
        if not result.id:
            if not request.properties:
                # An import or a get: nothing to drop, and the engine would record a
                # resource without inputs or outputs (it takes empty properties, which
                # is all this SDK can send, for a live resource).
                name = kind.token.rpartition(":")[2]
                raise BatchIpError(
                    f"{name} {request.resource_id!r} does not exist: nothing in the cloud "
                    "answers to this id"
                )
            return ReadResponse(resource_id=None)  # gone: a refresh drops it from state
        outs = dict(result.outs or {})
        # A refresh keeps the inputs the program gave; an import gets the inputs that
        # would make this resource.
        inputs = request.inputs if result.inputs is None else _camel(result.inputs, secret)
        return ReadResponse(
            resource_id=str(result.id),
            properties=_camel(outs, kind.secret_outputs(outs, secret)),
            inputs=inputs,
        )

    async def update(self, request: UpdateRequest) -> UpdateResponse:
        kind = self._kind(request.urn)
        olds, _ = _snake(request.olds)
        news, secret = _snake(request.news)
        result = await self._run(request.urn, kind.provider.update, request.resource_id, olds, news)
        outs = dict(result.outs or {})
        return UpdateResponse(properties=_camel(outs, kind.secret_outputs(outs, secret)))

    async def delete(self, request: DeleteRequest) -> None:
        kind = self._kind(request.urn)
        props, _ = _snake(request.properties)
        await self._run(request.urn, kind.provider.delete, request.resource_id, props)


def _strays(kind: Kind, inputs: Mapping[str, PropertyValue]) -> list[CheckFailure]:
    """A failure for each input the type does not have (a null is no input at all: a
    Python program names its outputs that way)."""
    known = kind.known_inputs()
    given = kind.input_names()
    listed = ", ".join(given)
    failures = []
    for key, value in inputs.items():
        if key in known or plain(value) is None:
            continue
        hint = f" (the schema spells it {to_camel(key)})" if to_camel(key) in given else ""
        reason = f"{key} is not an input of {kind.name}{hint}; its inputs are {listed}"
        failures.append(CheckFailure(key, reason))
    return failures


def _detailed_diff(
    kind: Kind, olds: Mapping[str, Any], news: Mapping[str, Any], replaces: list[str]
) -> dict[str, PropertyDiff]:
    """What the CLI shows: the declared inputs the program gives that differ from the
    state, and every property the provider said replaces (display only; the provider's
    own diff decided)."""
    # The user's inputs only: the ones the plugin sets (stackScope) are no outputs, so
    # against the old outputs they would always look changed.
    changed = {
        name
        for name in kind.input_names()
        if news.get(to_snake(name)) is not None
        and news.get(to_snake(name)) != olds.get(to_snake(name))
    }
    return {
        name: PropertyDiff(
            PropertyDiffKind.UPDATE_REPLACE if name in replaces else PropertyDiffKind.UPDATE,
            input_diff=True,
        )
        for name in sorted(changed | set(replaces))
    }
