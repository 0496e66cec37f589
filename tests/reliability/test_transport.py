"""Transport security: TLS is verified by default, plain http only on loopback or when
explicitly allowed, and a certificate failure is reported at once, not retried."""

from __future__ import annotations

import http.server
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.baidu.signer import BceSigner
from pulumi_batchip.config import BaiduSettings, Credentials, resolve_baidu, resolve_huawei
from pulumi_batchip.errors import ConfigError, TransportError
from pulumi_batchip.http import RetryPolicy, new_http_client

from .results import RECORDER

BAIDU = {"BAIDUCLOUD_ACCESS_KEY": "ak", "BAIDUCLOUD_SECRET_KEY": "sk", "BAIDUCLOUD_REGION": "bj"}
HUAWEI = {
    "HW_ACCESS_KEY": "ak",
    "HW_SECRET_KEY": "sk",
    "HW_REGION_NAME": "cn-north-4",
    "HW_PROJECT_ID": "0123456789abcdef0123456789abcdef",  # the vendor's format
}


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"instance": {"id": "i-1", "status": "Running"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A local HTTPS server with a fresh self-signed certificate: (url, cert file)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a self-signed certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{server.server_address[1]}", cert
    server.shutdown()
    server.server_close()


def test_client_verifies_tls_by_default(https_server: tuple[str, Path]) -> None:
    url, _cert = https_server
    client = new_http_client(base_url=url, auth=BceSigner("ak", "sk"))
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        client.get("/v2/instance/i-1")
    client.close()
    RECORDER.count("transport", "tls_checks")


def test_the_same_server_is_fine_once_its_certificate_is_trusted(
    https_server: tuple[str, Path],
) -> None:
    """So the failure above is the verification, not a broken server."""
    url, cert = https_server
    with httpx.Client(base_url=url, verify=ssl.create_default_context(cafile=str(cert))) as c:
        assert c.get("/v2/instance/i-1").status_code == 200
    RECORDER.count("transport", "tls_checks")


def test_certificate_failure_is_reported_at_once_with_its_cause(
    https_server: tuple[str, Path],
) -> None:
    url, _cert = https_server
    sleeps: list[float] = []
    policy = RetryPolicy(sleep=sleeps.append)
    client = BccClient.from_settings(
        BaiduSettings(Credentials("ak", "sk"), "bj", url), policy=policy
    )
    with pytest.raises(TransportError) as info:
        client.get_instance("i-1")
    client.close()
    assert sleeps == []  # a certificate does not get better by retrying
    assert "GetInstance" in str(info.value)
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    RECORDER.count("transport", "tls_checks")


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://bcc.bj.baidubce.com",
        "http://10.0.0.1:8080",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://0.0.0.0:80",
        "ftp://127.0.0.1",
        "127.0.0.1:8080",
    ],
)
@pytest.mark.parametrize("cloud", ["baidu", "huawei"])
def test_plain_http_off_loopback_is_refused(cloud: str, endpoint: str) -> None:
    with pytest.raises(ConfigError, match="ENDPOINT"):
        _resolve(cloud, endpoint)
    RECORDER.count("transport", "endpoint_checks")


@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:8700", "http://localhost:1", "http://[::1]:5", "http://127.8.9.10"],
)
@pytest.mark.parametrize("cloud", ["baidu", "huawei"])
def test_plain_http_on_loopback_is_accepted(cloud: str, endpoint: str) -> None:
    assert _resolve(cloud, endpoint) == endpoint
    RECORDER.count("transport", "endpoint_checks")


@pytest.mark.parametrize("cloud", ["baidu", "huawei"])
def test_plain_http_elsewhere_only_when_explicitly_allowed(cloud: str) -> None:
    assert _resolve(cloud, "http://lab:80", allow="true") == "http://lab:80"
    with pytest.raises(ConfigError):
        _resolve(cloud, "http://lab:80", allow="false")
    assert _resolve(cloud, "https://vpc.example.com") == "https://vpc.example.com"
    RECORDER.count("transport", "endpoint_checks", 3)


def _resolve(cloud: str, endpoint: str, allow: str | None = None) -> str:
    extra = {} if allow is None else {"BATCHIP_ALLOW_INSECURE_HTTP": allow}
    if cloud == "baidu":
        return resolve_baidu({}, {**BAIDU, "BATCHIP_BCC_ENDPOINT": endpoint, **extra}).endpoint
    return resolve_huawei({}, {**HUAWEI, "BATCHIP_EIP_ENDPOINT": endpoint, **extra}).endpoint
