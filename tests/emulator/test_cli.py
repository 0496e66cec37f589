"""`python -m pulumi_batchip.emulator`: URL first on stdout, logs on stderr, clean stop."""

from __future__ import annotations

import signal
import subprocess
import sys

import httpx
import pytest

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.config import BaiduSettings, Credentials, HuaweiSettings
from pulumi_batchip.errors import AuthError
from pulumi_batchip.huawei.eip import EipClient


def start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "pulumi_batchip.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_prints_url_serves_and_stops_cleanly(sig: signal.Signals) -> None:
    proc = start("--bce-access-key", "ak-x", "--bce-secret-key", "sk-x", "--job-seconds", "0.1")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert url.startswith("http://127.0.0.1:")
        settings = BaiduSettings(Credentials("ak-x", "sk-x"), "bj", url)
        client = BccClient.from_settings(settings)
        assert client.get_instance("i-DhjUXmSA").status == "Running"
        client.close()
        # The flags replaced the default credentials.
        default = BaiduSettings(Credentials("emulator-bce-ak", "emulator-bce-sk"), "bj", url)
        stale = BccClient.from_settings(default)
        with pytest.raises(AuthError) as info:
            stale.get_instance("i-DhjUXmSA")
        assert info.value.code == "InvalidAccessKeyId"
        stale.close()
    finally:
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert out.decode().strip() == ""  # nothing but the URL ever goes to stdout
    assert b"stopped" in err


def test_flags_set_project_and_quota() -> None:
    proc = start("--hw-project-id", "p" * 32, "--eip-quota", "7", "--seed", "3")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        state = httpx.get(f"{url}/_emulator/state", timeout=5).json()
        assert state["eip"]["quota"] == 7
        client = EipClient.from_settings(
            HuaweiSettings(Credentials("emulator-hw-ak", "emulator-hw-sk"), "r", "p" * 32, url)
        )
        assert client.list_publicips() == []
        client.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert proc.returncode == 0
