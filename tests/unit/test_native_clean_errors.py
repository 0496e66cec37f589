"""Which failures the plugin answers with their message alone: ours, however the SDK
wrapped them; anything else keeps its traceback."""

from __future__ import annotations

from pulumi_batchip.errors import BatchIpError, ConfigError
from pulumi_batchip.native.clean_errors import ours


def _wrapped_as_the_sdk_does(error: BaseException) -> Exception:
    try:
        try:
            raise error
        except Exception as e:  # the SDK's _raise_with_traceback
            raise Exception(f"{e}:\n  File ...") from None
    except Exception as outer:
        return outer


def test_our_error_itself() -> None:
    error = ConfigError("batchip:eipJobTimeout / BATCHIP_EIP_JOB_TIMEOUT: 'abc' is not ...")
    assert ours(error) is error


def test_our_error_under_the_sdks_wrapper() -> None:
    error = BatchIpError("missing Huawei access key")
    wrapped = _wrapped_as_the_sdk_does(error)
    # "from None" hides it from the printout, not from __context__.
    assert ours(wrapped) is error


def test_a_bug_keeps_its_traceback() -> None:
    assert ours(_wrapped_as_the_sdk_does(KeyError("x"))) is None
    assert ours(None) is None


def test_a_cycle_of_contexts_ends_the_search() -> None:
    first, second = KeyError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert ours(first) is None
