"""Secret hygiene with distinctive credentials: an emulator started with its own keys
and tokens, a provider configured with them, full lifecycles with faults and
failures, and then a search for every credential in everything that came back.

The session-wide check (``tests/conftest.py``) covers every other test's state,
``__provider``, errors, provider stderr and logs with the default credentials.
"""

from __future__ import annotations

import base64
import logging
import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import dill
import httpx
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime.proto import provider_pb2

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.config import BaiduSettings, Credentials, HuaweiSettings
from pulumi_batchip.eip_batch import EipBatchProvider
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID, EmulatorConfig
from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.huawei.eip import BandwidthSpec, BatchCreateRequest, EipClient
from pulumi_batchip.secondary_ip_set import SecondaryIpSetProvider

from ..engine.harness import LEDGER, PROVIDER_KEY, ProviderError, SecretLedger, _serialize
from .lanes import EIP, JOB_SECONDS, SIS, Lane
from .results import RECORDER

# Distinctive, so a hit is never a coincidence.
BCE_AK, BCE_SK = "AKbce7Qf9Zx2distinct", "SKbce4Lm8Wq1distinct0secret"
HW_AK, HW_SK = "AKhw3Tn6Vb0distinct", "SKhw9Rd2Kp5distinct0secret"
BCE_TOKEN, HW_TOKEN = "TOKbce5Jx8distinct0sts", "TOKhw1Gz4distinct0sts"
CREDENTIALS = (BCE_AK, BCE_SK, HW_AK, HW_SK, BCE_TOKEN, HW_TOKEN)
# What an Authorization header starts with, per scheme: never in a log line.
AUTH_SCHEMES = ("bce-auth-v1/", "SDK-HMAC-SHA256 Access=")

# Seeded: the probabilistic throttling below repeats run to run.
CUSTOM_EMULATOR = EmulatorConfig(
    bce_credentials={BCE_AK: BCE_SK},
    hw_credentials={HW_AK: HW_SK},
    job_seconds=JOB_SECONDS,
    seed=20,
)
CUSTOM_STACK = {
    # This test is about where credentials go, not deadlines: the lanes' 3 s job
    # deadline left room for three attempts only, and three throttled answers in a row
    # (15% each) failed a good create (2 of 6 runs, issue 21).
    "batchip:eipJobTimeout": "60",
    "baiducloud:accessKey": BCE_AK,
    "baiducloud:secretKey": BCE_SK,
    "baiducloud:securityToken": BCE_TOKEN,
    "huaweicloud:accessKey": HW_AK,
    "huaweicloud:secretKey": HW_SK,
    "huaweicloud:securityToken": HW_TOKEN,
}


def _hits(text: str, secrets: tuple[str, ...] = CREDENTIALS) -> list[str]:
    return [s for s in secrets if s in text]


def _record(where: str, texts: list[str]) -> None:
    RECORDER.count("secrets", "texts_checked", len(texts))
    RECORDER.tally("secrets", "checked_by_kind", where, len(texts))


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger this process has, at DEBUG (httpx and httpcore log each request)."""
    caplog.set_level(logging.DEBUG)
    for name in ("httpx", "httpcore", "werkzeug", "pulumi_batchip", "hpack"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield caplog


def test_lifecycles_with_faults_leak_no_credential(debug_logs: pytest.LogCaptureFixture) -> None:
    seen_before = LEDGER.count
    errors: list[str] = []
    with Lane(config=CUSTOM_EMULATOR, stack=CUSTOM_STACK) as lane:
        sis, eip = lane.resource(SIS, "secret-sis"), lane.resource(EIP, "secret-eip")
        lane.admin.faults(
            {"operation": "*", "action": "throttle", "times": 0, "probability": 0.15},
            {"operation": "BatchAddIp", "action": "lost_response", "times": 1},
            {"operation": "ListPublicips", "action": "reset", "times": 1},
        )
        sis.up(SIS.inputs(count=2))
        eip.up(EIP.inputs(count=2, tags={"env": "a"}))
        sis.up(SIS.inputs(count=3))
        eip.up(EIP.inputs(count=3, tags={"env": "b"}))
        sis.refresh()
        eip.refresh()
        # Failures: their messages go to the user, so they are checked too.
        lane.admin.faults(
            {
                "operation": "BatchDelIp",
                "action": "error",
                "status": 400,
                "code": "InvalidParameter",
                "times": 1,
            },
            {"operation": "BatchCreatePublicips", "action": "job_fail", "created": 1},
        )
        for res, news in (
            (sis, SIS.inputs(count=1)),
            (eip, EIP.inputs(count=5, tags={"env": "b"})),
        ):
            with pytest.raises(ProviderError) as info:
                res.up(news)
            errors.append(info.value.details)
        lane.admin.clear_faults()
        sis.destroy()
        eip.destroy()
        emulator_views = [
            str(lane.admin.state()),
            str(lane.admin.requests()),
            str(lane.emulator.app.faults.snapshot()),
        ]
    stderr = lane.provider.stderr
    assert set(CREDENTIALS) <= LEDGER.secrets  # the session-wide check searches for them too
    assert "retrying" in stderr  # the retry lines really were written
    recorded = [text for _where, text in LEDGER.seen[seen_before:]]
    logs = [r.getMessage() for r in debug_logs.records]
    assert logs, "DEBUG logging captured nothing"
    for what, texts in {
        "engine state, answers and __provider": recorded,
        "provider errors": errors,
        "provider stderr": [stderr],
        "emulator state, request log, faults": emulator_views,
        "log records": logs,
    }.items():
        leaked = [h for text in texts for h in _hits(text)]
        assert not leaked, f"{what} holds credentials {sorted(set(leaked))}"
        _record(what, texts)
    for line in [*logs, stderr]:
        assert not any(scheme in line for scheme in AUTH_SCHEMES), line
    RECORDER.count("secrets", "credentials_planted", len(CREDENTIALS))


@pytest.mark.parametrize(
    ("stack", "resource", "code"),
    [
        ({"baiducloud:accessKey": "AKwrong8Hj2distinct"}, "sis", "InvalidAccessKeyId"),
        ({"baiducloud:secretKey": "SKwrong3Pd7distinct"}, "sis", "SignatureDoesNotMatch"),
        ({"huaweicloud:accessKey": "AKwrong5Qs1distinct"}, "eip", "APIGW.0301"),
        ({"huaweicloud:secretKey": "SKwrong6Tc4distinct"}, "eip", "APIGW.0301"),
    ],
)
def test_rejected_credentials_are_not_echoed(
    stack: dict[str, str], resource: str, code: str
) -> None:
    """The vendors echo an unknown access key ("ak ... not exist"): the error the user
    reads names the code and the request id, never the key."""
    wrong = tuple(stack.values())
    with Lane(config=CUSTOM_EMULATOR, stack={**CUSTOM_STACK, **stack}) as lane:
        kind = SIS if resource == "sis" else EIP
        res = lane.resource(kind, "wrong-creds")
        with pytest.raises(ProviderError) as info:
            res.up(kind.inputs(count=1))
        assert lane.held(kind) == []
    details = info.value.details
    assert code in details and "request id" in details, details
    assert not _hits(details, CREDENTIALS + wrong), details
    assert not _hits(lane.provider.stderr, CREDENTIALS + wrong)
    _record("rejected-credential errors", [details, lane.provider.stderr])


def test_clients_log_no_authorization_even_while_retrying(
    debug_logs: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    """Our retry lines and every DEBUG log line of httpx/httpcore/the emulator, over
    throttling, 5xx, dropped connections and auth failures."""
    with Lane(config=CUSTOM_EMULATOR, stack=CUSTOM_STACK) as lane:
        lane.admin.faults(
            {"operation": "GetInstance", "action": "throttle", "times": 1},
            {"operation": "GetInstance", "action": "error", "status": 503, "times": 1},
            {"operation": "GetInstance", "action": "reset", "times": 1},
            {"operation": "ListPublicips", "action": "error", "status": 500, "times": 1},
            {"operation": "ListPublicips", "action": "lost_response", "times": 1},
        )
        bce = Credentials(BCE_AK, BCE_SK, BCE_TOKEN)
        hw = Credentials(HW_AK, HW_SK, HW_TOKEN)
        bcc = BccClient.from_settings(BaiduSettings(bce, "bj", lane.url))
        eips = EipClient.from_settings(
            HuaweiSettings(hw, "cn-north-4", DEFAULT_HW_PROJECT_ID, lane.url)
        )
        assert bcc.get_instance("i-DhjUXmSA").status == "Running"
        assert eips.list_publicips() == []
        bad = EipClient.from_settings(
            HuaweiSettings(
                Credentials(HW_AK, "not-the-secret"), "cn-north-4", DEFAULT_HW_PROJECT_ID, lane.url
            )
        )
        with pytest.raises(BatchIpError) as info:
            bad.batch_create_publicips(
                BatchCreateRequest(1, "5_bgp", 4, BandwidthSpec(5, "PER", name="b"))
            )
        for client in (bcc, eips, bad):
            client.close()
    out, err = capfd.readouterr()
    assert "retrying" in err
    lines = [r.getMessage() for r in debug_logs.records] + [out, err, str(info.value)]
    assert any("HTTP Request" in line for line in lines)  # httpx did log every request
    for line in lines:
        assert not _hits(line), line
        assert not any(scheme in line for scheme in AUTH_SCHEMES), line
    _record("client and emulator log lines", lines)


def test_the_emulator_cli_logs_no_credentials() -> None:
    """The standalone emulator at DEBUG, with keys given as flags, under signed
    traffic including a forged signature: nothing of them on its stdout/stderr."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pulumi_batchip.emulator",
            "--port",
            "0",
            "--log-level",
            "DEBUG",
            "--bce-access-key",
            BCE_AK,
            "--bce-secret-key",
            BCE_SK,
            "--hw-access-key",
            HW_AK,
            "--hw-secret-key",
            HW_SK,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        bcc = BccClient.from_settings(BaiduSettings(Credentials(BCE_AK, BCE_SK), "bj", url))
        assert bcc.get_instance("i-DhjUXmSA").status == "Running"
        bcc.close()
        forged = httpx.get(
            f"{url}/v2/instance/i-DhjUXmSA",
            headers={
                "Authorization": f"bce-auth-v1/{BCE_AK}/2024-01-01T00:00:00Z/1800//{'0' * 64}"
            },
        )
        assert forged.status_code >= 400
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    text = out.decode() + err.decode()
    assert "serving" in text
    assert not _hits(text), text
    assert not any(scheme in text for scheme in AUTH_SCHEMES), text
    _record("emulator CLI output", [text])


def test_a_configured_provider_pickles_to_a_class_reference_only() -> None:
    """``__provider`` is pickled when the program runs, but a provider that has been
    configured and has built clients must not carry anything either."""
    raw_config: dict[str, Any] = {
        **CUSTOM_STACK,
        "baiducloud:region": "bj",
        "huaweicloud:region": "cn-north-4",
        "huaweicloud:projectId": DEFAULT_HW_PROJECT_ID,
        "batchip:bccEndpoint": "http://127.0.0.1:9",
        "batchip:eipEndpoint": "http://127.0.0.1:9",
    }
    pickles = []
    for provider in (SecondaryIpSetProvider(), EipBatchProvider()):
        provider.configure(ConfigureRequest(Config(raw_config, "harness")))
        if isinstance(provider, SecondaryIpSetProvider):
            provider._operations(None)
        else:
            provider._ops({})
        pickled = dill.dumps(provider, recurse=True)
        assert not _hits(pickled.decode("latin-1")), provider
        assert len(pickled) < 2000
        pickles.append(pickled.decode("latin-1"))
    for text in (SIS.inputs(count=1)[PROVIDER_KEY], EIP.inputs(count=1)[PROVIDER_KEY]):
        assert isinstance(text, str) and len(text) < 200
        pickles.append(text)
    _record("pickled providers", pickles)


def test_the_ledger_finds_a_planted_leak() -> None:
    """The session-wide check is only worth something if it can fail: a credential in
    a state, in an error, or inside a pickled ``__provider`` is found."""
    ledger = SecretLedger()
    ledger.add_secret(BCE_SK)
    ledger.saw("clean state", '{"id": "i-1/192.168.0.2", "outputs": {}}')
    assert ledger.leaks() == []
    ledger.saw("an error", f"Baidu BCC BatchAddIp failed: secret was {BCE_SK}")
    pickled = base64.b64encode(pickle.dumps({"key": BCE_SK})).decode()
    answer = provider_pb2.CreateResponse(id="x", properties=_serialize({PROVIDER_KEY: pickled}))
    ledger.saw_message("Create answer", answer)
    found = ledger.leaks()
    assert any(f.startswith("an error:") for f in found)
    assert any("unpickled __provider" in f for f in found)
