"""`python -m pulumi_batchip.emulator`: URL first on stdout, logs on stderr, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.baidu.signer import BceSigner
from pulumi_batchip.config import BaiduSettings, Credentials, HuaweiSettings
from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID
from pulumi_batchip.errors import AuthError, CloudApiError
from pulumi_batchip.http import RetryPolicy
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


def test_regions_flag_limits_the_regions_served() -> None:
    proc = start("--regions", "cn-north-4, bj")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        signer = BceSigner("emulator-bce-ak", "emulator-bce-sk")
        with httpx.Client(base_url=url, auth=signer, timeout=10) as http:
            path = "/v2/instance/i-DhjUXmSA"
            assert http.get(path, headers={"Host": "bcc.bj.baidubce.com"}).status_code == 200
            refused = http.get(path, headers={"Host": "bcc.gz.baidubce.com"})
            assert (refused.status_code, refused.json()["code"]) == (403, "AccessDenied")
            assert http.get(path).status_code == 200  # its own address names no region
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert proc.returncode == 0


@pytest.mark.parametrize("regions", ["BJ", "bj,cn north 4", ","])
def test_bad_regions_flag_is_a_usage_error(regions: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_batchip.emulator", "--port", "0", "--regions", regions],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "--regions" in result.stderr.splitlines()[-1]


def test_help_documents_regions() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_batchip.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "--regions" in result.stdout and "vpc.{region}.myhuaweicloud.com" in result.stdout


# --- without werkzeug -------------------------------------------------------------------


def hide_werkzeug(tmp_path: Path, error: str) -> dict[str, str]:
    """An environment whose PYTHONPATH puts first a `werkzeug` that cannot be imported."""
    package = tmp_path / "hidden" / "werkzeug"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(f"raise {error}\n")
    path = os.pathsep.join(filter(None, [str(package.parent), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


@pytest.mark.parametrize(
    "error",
    [
        "ModuleNotFoundError(\"No module named 'werkzeug'\", name='werkzeug')",
        "ImportError('cannot import name Request\\nfrom a broken werkzeug')",
    ],
)
def test_without_werkzeug_one_line_and_exit_2(tmp_path: Path, error: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_batchip.emulator", "--port", "0"],
        env=hide_werkzeug(tmp_path, error),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.endswith("\n")
    assert "pip install 'pulumi-batchip[emulator]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("python -m pulumi_batchip.emulator: error: ")


def test_without_werkzeug_settings_import_and_serving_says_what_to_install(
    tmp_path: Path,
) -> None:
    code = (
        "import pulumi_batchip.emulator as e, pulumi_batchip.testing\n"
        "print(e.DEFAULT_BCE_CREDENTIALS, e.EmulatorConfig().max_connections)\n"
        "try:\n"
        "    from pulumi_batchip.emulator import start_emulator\n"
        "except ImportError as exc:\n"
        "    print('ImportError:', exc)\n"
    )
    env = hide_werkzeug(tmp_path, "ModuleNotFoundError(\"No module named 'werkzeug'\")")
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    settings, error = result.stdout.splitlines()
    assert settings == "{'emulator-bce-ak': 'emulator-bce-sk'} 64"
    assert error.startswith("ImportError: the emulator needs werkzeug")
    assert error.endswith("pip install 'pulumi-batchip[emulator]'")


def test_help_works_without_werkzeug(tmp_path: Path) -> None:
    env = hide_werkzeug(tmp_path, "ImportError('hidden')")
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_batchip.emulator", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--max-connections" in result.stdout


# --- --help, --log-level, bad values ----------------------------------------------------


def test_help_documents_log_level_max_connections_and_secret_variables() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_batchip.emulator", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "--log-level {DEBUG,INFO,WARNING,ERROR}" in text
    assert "(default INFO)" in text
    assert "--max-connections MAX_CONNECTIONS" in text and "(default 64)" in text
    assert "BATCHIP_EMULATOR_BCE_SECRET_KEY" in text
    assert "BATCHIP_EMULATOR_HW_SECRET_KEY" in text
    assert "at most 600" in text
    # Every option that has a default says it.
    for shown in ("(default 127.0.0.1;", "0 (the default)", "default emulator-bce-ak",
                  "(default 1)", "(default 1000)", "(default 0; at most 600)"):  # fmt: skip
        assert shown in text, shown


def test_a_host_other_than_loopback_is_warned_about() -> None:
    _url, err = run_and_stop("--host", "0.0.0.0")
    assert "listening on 0.0.0.0, not a loopback address" in err
    _url2, quiet = run_and_stop("--host", "localhost")
    assert "not a loopback address" not in quiet


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--log-level", "LOUD"], "argument --log-level: invalid choice: 'LOUD'"),
        (["--max-connections", "0"], "--max-connections must be at least 1"),
        (["--latency", "nan"], "--latency must be a finite number within 0..600"),
        (["--latency", "601"], "--latency must be a finite number within 0..600"),
        (["--job-seconds", "inf"], "--job-seconds must be a finite number"),
        (["--eip-quota", "-1"], "--eip-quota must be at least 0"),
        (["--delete-seconds", "-1"], "--delete-seconds must be a finite number within 0..600"),
        (["--delete-seconds", "nan"], "--delete-seconds must be a finite number within 0..600"),
        (["--job-fail-word", "BROKEN"], "argument --job-fail-word: invalid choice: 'BROKEN'"),
    ],
)
def test_bad_flags_exit_2_without_traceback(args: list[str], complaint: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_batchip.emulator", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def run_and_stop(*args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Start, GET /_emulator/state once, stop; (url, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi_batchip.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert httpx.get(f"{url}/_emulator/state?x=1", timeout=5).status_code == 200
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    return url, err.decode()


def test_log_level_default_info() -> None:
    url, err = run_and_stop()
    assert err.splitlines() == [
        f"emulator: serving BCC and EIP on {url}",
        f"emulator: signal {int(signal.SIGTERM)}: stopping",
        "emulator: stopped",
    ]


def test_log_level_debug_adds_a_line_per_request() -> None:
    _url, err = run_and_stop("--log-level", "debug")
    # The path without its query: a query could carry a presigned signature.
    assert "emulator: GET /_emulator/state 200" in err.splitlines()
    assert "emulator: stopped" in err.splitlines()


def test_log_level_warning_is_quiet() -> None:
    _url, err = run_and_stop("--log-level", "WARNING")
    assert err == ""


# --- secret keys from the environment ---------------------------------------------------

BCE_ENV_SK, HW_ENV_SK = "sk-bce-from-env-7f3a", "sk-hw-from-env-91c2"


def secret_env() -> dict[str, str]:
    return {
        **os.environ,
        "BATCHIP_EMULATOR_BCE_SECRET_KEY": BCE_ENV_SK,
        "BATCHIP_EMULATOR_HW_SECRET_KEY": HW_ENV_SK,
    }


def bcc_call(url: str, sk: str) -> str | None:
    """None when GetInstance signed with ``sk`` is accepted, else the error code."""
    client = BccClient.from_settings(
        BaiduSettings(Credentials("emulator-bce-ak", sk), "bj", url),
        policy=RetryPolicy(sleep=lambda _s: None),
    )
    try:
        assert client.get_instance("i-DhjUXmSA").status == "Running"
        return None
    except CloudApiError as exc:
        return exc.code
    finally:
        client.close()


def eip_call(url: str, sk: str) -> str | None:
    client = EipClient.from_settings(
        HuaweiSettings(Credentials("emulator-hw-ak", sk), "r", DEFAULT_HW_PROJECT_ID, url),
        policy=RetryPolicy(sleep=lambda _s: None),
    )
    try:
        assert client.list_publicips() == []
        return None
    except CloudApiError as exc:
        return exc.code
    finally:
        client.close()


def test_secret_keys_from_the_environment() -> None:
    command = [
        sys.executable,
        "-m",
        "pulumi_batchip.emulator",
        "--port",
        "0",
        "--log-level",
        "DEBUG",
    ]
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=secret_env(),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert bcc_call(url, BCE_ENV_SK) is None
        assert bcc_call(url, "emulator-bce-sk") == "SignatureDoesNotMatch"
        assert eip_call(url, HW_ENV_SK) is None
        assert eip_call(url, "emulator-hw-sk") is not None
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    # Not on the command line (what ps shows), nor in any output.
    for secret in (BCE_ENV_SK, HW_ENV_SK):
        assert all(secret not in arg for arg in command)
        assert secret.encode() not in out + err


def test_secret_key_flags_win_over_the_environment() -> None:
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "pulumi_batchip.emulator", "--port", "0",
            "--bce-secret-key", "sk-bce-flag", "--hw-secret-key", "sk-hw-flag",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=secret_env(),
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert bcc_call(url, "sk-bce-flag") is None
        assert bcc_call(url, BCE_ENV_SK) == "SignatureDoesNotMatch"
        assert eip_call(url, "sk-hw-flag") is None
        assert eip_call(url, HW_ENV_SK) is not None
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert proc.returncode == 0


def test_empty_secret_variable_counts_as_unset() -> None:
    env = {**os.environ, "BATCHIP_EMULATOR_BCE_SECRET_KEY": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pulumi_batchip.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        assert bcc_call(url, "emulator-bce-sk") is None
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


# --- --max-connections ------------------------------------------------------------------


def test_max_connections_flag_makes_extra_connections_wait() -> None:
    proc = start("--max-connections", "1")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        host, port = url.removeprefix("http://").rsplit(":", 1)
        idle = socket.create_connection((host, int(port)), timeout=5)
        time.sleep(0.3)  # accepted: it holds the only slot
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{url}/_emulator/state", timeout=httpx.Timeout(5, read=1))
        idle.close()
        assert httpx.get(f"{url}/_emulator/state", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert proc.returncode == 0
