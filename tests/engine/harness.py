"""Drive ``python -m pulumi.dynamic`` over gRPC exactly as the Pulumi engine does.

The Pulumi CLI cannot be installed here, so this is the closest thing to ``pulumi up``:
the SDK's own provider server in a subprocess, properties serialized with
``pulumi.runtime.rpc``, ``__provider`` taken from what the real resource class
produces under ``pulumi.runtime.set_mocks``. :class:`EngineResource` replays the
engine's sequences for up / preview / refresh / destroy on one resource.
"""

from __future__ import annotations

import array
import asyncio
import base64
import binascii
import fcntl
import json
import os
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import grpc
import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
)

[(BCE_AK, BCE_SK)] = DEFAULT_BCE_CREDENTIALS.items()
[(HW_AK, HW_SK)] = DEFAULT_HW_CREDENTIALS.items()
UNKNOWN = rpc.UNKNOWN  # the wire value of a preview-time unknown


def stack_config(emulator_url: str) -> dict[str, str]:
    """What `pulumi config set` would hold for a stack using the emulator."""
    return {
        "baiducloud:accessKey": BCE_AK,
        "baiducloud:secretKey": BCE_SK,
        "baiducloud:region": "bj",
        "batchip:bccEndpoint": emulator_url,
        "huaweicloud:accessKey": HW_AK,
        "huaweicloud:secretKey": HW_SK,
        "huaweicloud:region": "cn-north-4",
        "huaweicloud:projectId": DEFAULT_HW_PROJECT_ID,
        "batchip:eipEndpoint": emulator_url,
    }


PROVIDER_KEY = "__provider"
REPO_ROOT = Path(__file__).resolve().parents[2]


class ProviderError(Exception):
    """The provider answered an RPC with an error (the Python traceback is in details)."""

    def __init__(self, method: str, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{method} failed ({code.name}):\n{details}")
        self.method = method
        self.code = code
        self.details = details


class CheckFailed(Exception):
    def __init__(self, failures: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{p}: {r}" for p, r in failures))
        self.failures = failures


# -- secret hygiene ----------------------------------------------------------------------
# Credential names in stack config and in the provider's environment (README, "Configuration").
CREDENTIAL_CONFIG_KEYS = (
    "baiducloud:accessKey",
    "baiducloud:secretKey",
    "baiducloud:securityToken",
    "huaweicloud:accessKey",
    "huaweicloud:secretKey",
    "huaweicloud:securityToken",
)
CREDENTIAL_ENV_VARS = (
    "BAIDUCLOUD_ACCESS_KEY",
    "BAIDUCLOUD_SECRET_KEY",
    "BAIDUCLOUD_SECURITY_TOKEN",
    "HW_ACCESS_KEY",
    "HW_SECRET_KEY",
    "HW_SECURITY_TOKEN",
)


class SecretLedger:
    """Every credential the harness hands to a provider, and every piece of state,
    error and stderr it sees back. ``leaks()`` lists where a credential showed up;
    ``tests/conftest.py`` asserts there are none at the end of the session."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.secrets: set[str] = set()
        self.seen: list[tuple[str, str]] = []

    def add_secret(self, value: object) -> None:
        if isinstance(value, str) and len(value.strip()) >= 4:
            with self._lock:
                self.secrets.add(value.strip())

    def saw(self, where: str, text: str) -> None:
        with self._lock:
            self.seen.append((where, text))

    def saw_message(self, where: str, message: Any) -> None:
        """A gRPC request or answer: its JSON form plus each decoded ``__provider``."""
        try:
            text = json_format.MessageToJson(message)
        except (ValueError, json_format.Error):  # NaN/Infinity have no JSON form
            text = str(message)
        self.saw(where, text)
        for _field, value in message.ListFields():
            if isinstance(value, struct_pb2.Struct):
                provider = value.fields.get(PROVIDER_KEY)
                if provider is not None and provider.string_value:
                    self.saw(f"{where} (unpickled {PROVIDER_KEY})", _decode(provider.string_value))

    def leaks(self) -> list[str]:
        with self._lock:
            secrets, seen = sorted(self.secrets), list(self.seen)
        return [
            f"{where}: holds a credential starting {secret[:4]!r}"
            for where, text in seen
            for secret in secrets
            if secret in text
        ]

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.seen)


def _decode(provider: str) -> str:
    try:
        return base64.b64decode(provider, validate=True).decode("latin-1")
    except (binascii.Error, ValueError):
        return provider


LEDGER = SecretLedger()


def _serialize(props: Mapping[str, Any]) -> struct_pb2.Struct:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(rpc.serialize_properties(dict(props), {}))
    finally:
        loop.close()


def _deserialize(struct: struct_pb2.Struct, keep_unknowns: bool = False) -> dict[str, Any]:
    return dict(rpc.deserialize_properties(struct, keep_unknowns) or {})


def _unwrap_secrets(value: Any) -> Any:
    # The engine strips secrets for a provider that does not accept them.
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == rpc._special_secret_sig:
            return _unwrap_secrets(value.get("value"))
        return {k: _unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(v) for v in value]
    return value


class ProviderProcess:
    """``python -u -m pulumi.dynamic`` as the engine starts it, plus a gRPC stub."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        child_env = {k: v for k, v in os.environ.items() if not _looks_like_credential(k)}
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), child_env.get("PYTHONPATH", "")) if p
        )
        child_env.update(env or {})
        for name in CREDENTIAL_ENV_VARS:
            LEDGER.add_secret((env or {}).get(name))
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "pulumi.dynamic"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env,
            cwd=str(REPO_ROOT),
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.isdigit():
            self.proc.kill()
            raise RuntimeError(f"provider server did not print its port: {line!r}")
        self.port = int(line)
        self.stderr_lines: list[str] = []
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self.channel).result(timeout=30)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self.channel)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.stderr_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    @property
    def stderr(self) -> str:
        """What the provider wrote to stderr so far. The provider runs unbuffered, so a
        line written before an answer is in the pipe when the answer arrives; the drain
        thread may not have read it yet (on a busy machine): wait until the pipe is
        empty, then give the thread a moment to append what it read."""
        assert self.proc.stderr is not None
        if self._drain.is_alive():
            deadline = time.monotonic() + 2.0
            waiting = array.array("i", [0])
            while time.monotonic() < deadline:
                try:
                    fcntl.ioctl(self.proc.stderr.fileno(), termios.FIONREAD, waiting)
                except (OSError, ValueError):
                    break  # closed: the thread has read it all
                if waiting[0] == 0:
                    break
                time.sleep(0.01)
            time.sleep(0.05)
        return "\n".join(self.stderr_lines)

    def close(self) -> None:
        self.channel.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._drain.join(timeout=5)
        LEDGER.saw(f"provider process {self.proc.pid} stderr", self.stderr)

    def __enter__(self) -> ProviderProcess:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _rpc(self, method: str, request: Any) -> Any:
        if method != "Configure":  # the stack config holds the credentials, as it should
            LEDGER.saw_message(f"{method} request", request)
        try:
            response = getattr(self.stub, method)(request, timeout=300)
        except grpc.RpcError as exc:
            LEDGER.saw(f"{method} error", exc.details() or "")
            raise ProviderError(method, exc.code(), exc.details() or "") from None
        LEDGER.saw_message(f"{method} answer", response)
        return response

    # -- the RPCs, with the engine's argument shapes ------------------------------------
    def get_plugin_info(self) -> str:
        from google.protobuf import empty_pb2

        info = self._rpc("GetPluginInfo", empty_pb2.Empty())
        return str(info.version)

    def configure(self, config: Mapping[str, str]) -> None:
        for key in CREDENTIAL_CONFIG_KEYS:
            LEDGER.add_secret(config.get(key))
        self._rpc(
            "Configure",
            provider_pb2.ConfigureRequest(variables=dict(config), args=_serialize(config)),
        )

    def check(
        self, urn: str, olds: Mapping[str, Any], news: Mapping[str, Any]
    ) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        resp = self._rpc(
            "Check",
            provider_pb2.CheckRequest(urn=urn, olds=_serialize(olds), news=_serialize(news)),
        )
        failures = [(f.property, f.reason) for f in resp.failures]
        return _deserialize(resp.inputs, keep_unknowns=True), failures

    def diff(
        self,
        id_: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any],
    ) -> provider_pb2.DiffResponse:
        return self._rpc(
            "Diff",
            provider_pb2.DiffRequest(
                id=id_,
                urn=urn,
                olds=_serialize(olds),
                news=_serialize(news),
                old_inputs=_serialize(old_inputs),
            ),
        )

    def create(self, urn: str, props: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        resp = self._rpc(
            "Create", provider_pb2.CreateRequest(urn=urn, properties=_serialize(props))
        )
        return resp.id, _deserialize(resp.properties)

    def update(
        self,
        id_: str,
        urn: str,
        olds: Mapping[str, Any],
        news: Mapping[str, Any],
        old_inputs: Mapping[str, Any],
    ) -> dict[str, Any]:
        resp = self._rpc(
            "Update",
            provider_pb2.UpdateRequest(
                id=id_,
                urn=urn,
                olds=_serialize(olds),
                news=_serialize(news),
                old_inputs=_serialize(old_inputs),
            ),
        )
        return _deserialize(resp.properties)

    def read(
        self, id_: str, urn: str, props: Mapping[str, Any], inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any], dict[str, Any] | None]:
        resp = self._rpc(
            "Read",
            provider_pb2.ReadRequest(
                id=id_, urn=urn, properties=_serialize(props), inputs=_serialize(inputs)
            ),
        )
        new_inputs = _deserialize(resp.inputs) if resp.HasField("inputs") else None
        return resp.id, _deserialize(resp.properties), new_inputs

    def delete(
        self, id_: str, urn: str, props: Mapping[str, Any], old_inputs: Mapping[str, Any]
    ) -> None:
        self._rpc(
            "Delete",
            provider_pb2.DeleteRequest(
                id=id_, urn=urn, properties=_serialize(props), old_inputs=_serialize(old_inputs)
            ),
        )


def _looks_like_credential(name: str) -> bool:
    # The provider under test must only see what the test configures.
    prefixes = ("BAIDUCLOUD_", "HW_", "BATCHIP_", "HUAWEICLOUD_")
    return name.startswith(prefixes)


# -- inputs from the real resource classes ----------------------------------------------
class _CaptureMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:  # type: ignore[type-arg]
        self.resources.append(args)
        return (args.resource_id or f"{args.name}-id", dict(args.inputs))

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict:  # type: ignore[type-arg]
        return {}


def program_inputs(program: Callable[[], list[pulumi.Resource]]) -> dict[str, dict[str, Any]]:
    """Run ``program`` under mocks; return each resource's inputs as the engine gets
    them (``__provider`` included, secrets unwrapped), keyed by resource name."""
    mocks = _CaptureMocks()
    pulumi.runtime.set_mocks(mocks, project="harness", stack="test", preview=False)

    @pulumi.runtime.test  # type: ignore[misc]
    def run() -> pulumi.Output[Any]:
        resources = program()
        return pulumi.Output.all(*[r.urn for r in resources])

    run()
    return {a.name: _unwrap_secrets(dict(a.inputs)) for a in mocks.resources}


def urn_of(type_token: str, name: str) -> str:
    return f"urn:pulumi:test::harness::{type_token}::{name}"


# -- one resource through the engine's sequences ----------------------------------------
class EngineResource:
    """The engine's view of one resource: its id, inputs and outputs in state."""

    def __init__(self, provider: ProviderProcess, type_token: str, name: str) -> None:
        self.provider = provider
        self.urn = urn_of(type_token, name)
        self.id: str | None = None
        self.inputs: dict[str, Any] = {}
        self.outputs: dict[str, Any] = {}
        self.log: list[str] = []
        self.external = False  # read with ``get``: never updated or deleted

    @property
    def exists(self) -> bool:
        return bool(self.id)

    def check(self, news: Mapping[str, Any], *, fresh: bool = False) -> dict[str, Any]:
        """Check with the old inputs, or (``fresh``) without, as the engine does for a
        create and for a replacement (pkg/resource/deploy/step_generator.go)."""
        olds = {} if fresh else self.inputs
        checked, failures = self.provider.check(self.urn, olds, news)
        if failures:
            raise CheckFailed(failures)
        return checked

    def preview(self, news: Mapping[str, Any]) -> provider_pb2.DiffResponse | None:
        """``pulumi preview``: Check, and Diff when the resource exists. No changes."""
        checked = self.check(news)
        if not self.exists:
            return None
        assert self.id is not None
        return self.provider.diff(self.id, self.urn, self.outputs, checked, self.inputs)

    def up(self, news: Mapping[str, Any], *, replace: bool = False) -> str:
        """``pulumi up`` for this resource (``replace``: ``pulumi up --replace`` of it,
        which checks without the old inputs and calls no Diff); returns what happened."""
        if self.external:
            raise AssertionError("the engine never updates a resource read with get")
        checked = self.check(news, fresh=replace)
        if not self.exists:
            self._create(checked)
            return self._note("create")
        assert self.id is not None
        if replace:
            diff = provider_pb2.DiffResponse(
                changes=provider_pb2.DiffResponse.DIFF_SOME, replaces=["id"]
            )
        else:
            diff = self.provider.diff(self.id, self.urn, self.outputs, checked, self.inputs)
        if diff.changes == provider_pb2.DiffResponse.DIFF_UNKNOWN:
            # A provider without a diff of its own: the engine compares the old and
            # new inputs itself and updates in place when they differ.
            if checked == self.inputs:
                return self._note("same")
        elif diff.changes != provider_pb2.DiffResponse.DIFF_SOME:
            return self._note("same")
        # Pulumi's default order is create-then-delete; deleteBeforeReplace flips it
        # (both orders seen with the real CLI in tests/e2e/test_lifecycle.py).
        if diff.replaces:
            if not replace:  # the engine recomputes the inputs of a replacement
                checked = self.check(news, fresh=True)
            old = (self.id, dict(self.outputs), dict(self.inputs))
            if diff.deleteBeforeReplace:
                self.provider.delete(old[0], self.urn, old[1], old[2])
                self.id, self.outputs, self.inputs = None, {}, {}
                self._create(checked)
            else:
                self._create(checked)
                self.provider.delete(old[0], self.urn, old[1], old[2])
            return self._note("replace")
        self.outputs = self.provider.update(self.id, self.urn, self.outputs, checked, self.inputs)
        self.inputs = checked
        return self._note("update")

    def _create(self, checked: dict[str, Any]) -> None:
        id_, outs = self.provider.create(self.urn, checked)
        self.id, self.outputs, self.inputs = id_, outs, checked

    def refresh(self) -> str:
        """``pulumi refresh``: Read with the old outputs; a blank id means deleted."""
        assert self.id is not None
        id_, outs, new_inputs = self.provider.read(self.id, self.urn, self.outputs, self.inputs)
        if not id_:
            self.id, self.outputs, self.inputs = None, {}, {}
            return self._note("gone")
        self.id, self.outputs = id_, outs
        if new_inputs is not None:
            self.inputs = new_inputs
        return self._note("refreshed")

    def get(self, id_: str, inputs: Mapping[str, Any]) -> str:
        """``Resource.get``: Read with the id and the inputs the program gave. The
        resource is external from then on: the real engine only ever reads it again,
        and never updates or deletes it (proved with the real CLI in
        tests/e2e/test_get_and_import.py). Like the engine's ReadStep
        (pkg/resource/deploy/step.go), it sends the program's inputs as both the
        inputs and the state of the Read."""
        new_id, outs, new_inputs = self.provider.read(id_, self.urn, inputs, inputs)
        if not new_id:
            return self._note("not found")
        self.id, self.outputs = new_id, outs
        self.inputs = new_inputs if new_inputs is not None else dict(inputs)
        self.inputs.setdefault(PROVIDER_KEY, inputs[PROVIDER_KEY])
        self.external = True
        return self._note("read")

    def destroy(self) -> None:
        """``pulumi destroy``: Delete with the provider pickled in state; a resource read
        with ``get`` is only dropped from state, as the engine does."""
        if self.id is None:
            return
        if not self.external:
            self.provider.delete(self.id, self.urn, self.outputs, self.inputs)
        self.id, self.outputs, self.inputs = None, {}, {}
        self._note("delete")

    def _note(self, what: str) -> str:
        self.log.append(what)
        state = {"id": self.id, "inputs": self.inputs, "outputs": self.outputs}
        LEDGER.saw(f"state of {self.urn} after {what}", json.dumps(state, default=str))
        return what
