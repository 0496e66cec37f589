"""The emulator serves the regions it was started for (``--regions``): a request whose
signed Host names a vendor endpoint of another region is refused, as by the vendor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from pulumi_batchip.baidu.signer import BceSigner
from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    DEFAULT_HW_CREDENTIALS,
    DEFAULT_HW_PROJECT_ID,
    EmulatorConfig,
    RunningEmulator,
    start_emulator,
)
from pulumi_batchip.emulator.app import host_region
from pulumi_batchip.emulator.config import DEFAULT_REGIONS
from pulumi_batchip.huawei.signer import HuaweiSigner

[(BCE_AK, BCE_SK)] = DEFAULT_BCE_CREDENTIALS.items()
[(HW_AK, HW_SK)] = DEFAULT_HW_CREDENTIALS.items()
EIP_PATH = f"/v1/{DEFAULT_HW_PROJECT_ID}/publicips"
BCC_PATH = "/v2/instance/i-DhjUXmSA"


@pytest.fixture(scope="module")
def two_regions() -> Iterator[RunningEmulator]:
    with start_emulator(config=EmulatorConfig(regions={"cn-north-4", "bj"})) as emu:
        yield emu


def eip_get(url: str, host: str | None) -> httpx.Response:
    headers = {} if host is None else {"Host": host}
    auth = HuaweiSigner(HW_AK, HW_SK, project_id=DEFAULT_HW_PROJECT_ID)
    with httpx.Client(auth=auth, timeout=10) as http:
        return http.get(url + EIP_PATH, headers=headers)


def bcc_get(url: str, host: str | None) -> httpx.Response:
    headers = {} if host is None else {"Host": host}
    with httpx.Client(auth=BceSigner(BCE_AK, BCE_SK), timeout=10) as http:
        return http.get(url + BCC_PATH, headers=headers)


@pytest.mark.parametrize(
    "host",
    [
        None,  # the emulator's own address: no region in the request, served
        "vpc.cn-north-4.myhuaweicloud.com",
        "VPC.CN-NORTH-4.MyHuaweiCloud.com:443",  # host names are case-insensitive
    ],
)
def test_eip_serves_its_region(two_regions: RunningEmulator, host: str | None) -> None:
    response = eip_get(two_regions.url, host)
    assert response.status_code == 200, response.text
    assert response.json()["publicips"] == []


@pytest.mark.parametrize(
    "host",
    [
        "vpc.ap-southeast-1.myhuaweicloud.com",  # a real region it was not started for
        "vpc.ap-southeast-1.evil.example.myhuaweicloud.com",
        "vpc.gz.myhuaweicloud.com",
    ],
)
def test_eip_refuses_another_region(two_regions: RunningEmulator, host: str) -> None:
    response = eip_get(two_regions.url, host)
    assert response.status_code == 401  # never a 404, which a read takes for "gone"
    body: dict[str, Any] = response.json()
    assert body["error_code"] == "APIGW.0301"
    assert "is not served here" in body["error_msg"]


@pytest.mark.parametrize("host", [None, "bcc.bj.baidubce.com", "BCC.BJ.baidubce.com:443"])
def test_bcc_serves_its_region(two_regions: RunningEmulator, host: str | None) -> None:
    response = bcc_get(two_regions.url, host)
    assert response.status_code == 200, response.text
    assert response.json()["instance"]["id"] == "i-DhjUXmSA"


@pytest.mark.parametrize("host", ["bcc.gz.baidubce.com", "bcc.bj.evil.example.baidubce.com"])
def test_bcc_refuses_another_region(two_regions: RunningEmulator, host: str) -> None:
    response = bcc_get(two_regions.url, host)
    assert response.status_code == 403
    assert response.json()["code"] == "AccessDenied"
    assert "x-bce-request-id" in response.headers


def test_default_serves_every_published_region() -> None:
    assert {"cn-north-4", "ap-southeast-1", "ru-northwest-2", "bj", "gz", "yq"} <= DEFAULT_REGIONS
    with start_emulator() as emu:
        assert eip_get(emu.url, "vpc.la-south-2.myhuaweicloud.com").status_code == 200
        assert bcc_get(emu.url, "bcc.fwh.baidubce.com").status_code == 200
        assert eip_get(emu.url, "vpc.xx-nowhere-9.myhuaweicloud.com").status_code == 401
        assert bcc_get(emu.url, "bcc.nowhere.baidubce.com").status_code == 403


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("vpc.cn-north-4.myhuaweicloud.com", "cn-north-4"),
        ("vpc.cn-north-4.myhuaweicloud.com.:8443", "cn-north-4"),
        ("127.0.0.1:8700", None),
        ("[::1]:8700", None),
        ("vpc.myhuaweicloud.com", None),
        ("", None),
    ],
)
def test_host_region(host: str, region: str | None) -> None:
    assert host_region(host, "vpc.{region}.myhuaweicloud.com") == region


@pytest.mark.parametrize(
    ("regions", "error"),
    [("bj", TypeError), (set(), ValueError), ({"BJ"}, ValueError), ({"bj/x"}, ValueError)],
)
def test_config_refuses_bad_region_lists(regions: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="region"):
        EmulatorConfig(regions=regions)
