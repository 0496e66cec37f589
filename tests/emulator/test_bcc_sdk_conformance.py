"""The official bce-python-sdk BccClient against the emulator: it must talk to it as
to BCE, and fail with its own exception type when BCE would refuse.

The SDK sends no clientToken, signs the path unencoded, sends ``?reboot=`` and wraps
every failure in ``BceHttpClientError`` (the server's answer is ``.last_error``, a
``BceServerError``). Its default policy retries 500/503 with real sleeps: these tests
use ``NoRetryPolicy`` so that nothing depends on it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from baidubce import protocol
from baidubce.auth.bce_credentials import BceCredentials
from baidubce.bce_client_configuration import BceClientConfiguration
from baidubce.exception import BceHttpClientError, BceServerError
from baidubce.retry.retry_policy import NoRetryPolicy
from baidubce.services.bcc.bcc_client import BccClient as SdkBccClient

from pulumi_batchip.emulator import RunningEmulator

from ..conftest import Admin

AK, SK = "emulator-bce-ak", "emulator-bce-sk"
VM = "i-DhjUXmSA"
V6 = "2400:da00:e003:0:219::"


def sdk_client(emulator: RunningEmulator, secret_key: str = SK) -> SdkBccClient:
    config = BceClientConfiguration(
        credentials=BceCredentials(AK, secret_key),
        endpoint=urlsplit(emulator.url).netloc,
        protocol=protocol.HTTP,
        retry_policy=NoRetryPolicy(),
    )
    return SdkBccClient(config)


@pytest.fixture
def sdk(emulator: RunningEmulator) -> SdkBccClient:
    """Reset emulator; the SDK opens a connection per request, so a client is cheap."""
    return sdk_client(emulator)


def server_error(info: pytest.ExceptionInfo[BceHttpClientError]) -> BceServerError:
    error = info.value.last_error
    assert isinstance(error, BceServerError)
    return error


def test_batch_add_ip_by_count(sdk: SdkBccClient, admin: Admin) -> None:
    response = sdk.batch_add_ip(VM, secondary_private_ip_address_count=2)
    assert response.private_ips == ["192.168.0.5", "192.168.0.6"]
    assert response.eni_private_ips is None
    assert response.metadata.bce_request_id
    assert admin.state()["bcc"]["instances"][VM]["secondary"]["ipv4"] == response.private_ips


def test_batch_add_ip_explicit_ipv6(sdk: SdkBccClient, admin: Admin) -> None:
    response = sdk.batch_add_ip(
        VM, private_ips=[V6 + "2f", V6 + "30"], allocate_multi_ipv6_addr=True
    )
    assert response.private_ips == [V6 + "2f", V6 + "30"]
    assert admin.state()["bcc"]["instances"][VM]["secondary"]["ipv6"] == [V6 + "2f", V6 + "30"]


def test_no_client_token_means_no_idempotence(sdk: SdkBccClient) -> None:
    first = sdk.batch_add_ip(VM, secondary_private_ip_address_count=1)
    second = sdk.batch_add_ip(VM, secondary_private_ip_address_count=1)
    assert (first.private_ips, second.private_ips) == (["192.168.0.5"], ["192.168.0.6"])


def test_batch_delete_ip(sdk: SdkBccClient, admin: Admin) -> None:
    sdk.batch_add_ip(VM, secondary_private_ip_address_count=3)
    response = sdk.batch_delete_ip(VM, ["192.168.0.5", "192.168.0.7"])
    assert (response.success, response.status) == (True, 200)
    assert admin.state()["bcc"]["instances"][VM]["secondary"]["ipv4"] == ["192.168.0.6"]


def test_get_instance(sdk: SdkBccClient) -> None:
    sdk.batch_add_ip(VM, secondary_private_ip_address_count=1)
    instance = sdk.get_instance(VM).instance
    assert (instance.id, instance.status) == (VM, "Running")
    assert instance.internal_ip == "192.168.0.4"
    assert instance.memory_capacity_in_gb == 128
    ips = [(ip.private_ip, ip.primary) for ip in instance.nic_info.ips]
    assert ips == [("192.168.0.4", "true"), ("192.168.0.5", "false")]
    assert [ip.private_ip for ip in instance.nic_info.ipv6s] == [V6 + "4"]
    assert instance.nic_info.eni_id.startswith("eni-")


def test_reboot_instance(sdk: SdkBccClient, admin: Admin) -> None:
    sdk.reboot_instance(VM, force_stop=False)
    assert sdk.get_instance(VM).instance.status == "Starting"
    assert admin.requests()[0]["operation"] == "RebootInstance"
    with pytest.raises(BceHttpClientError) as info:
        sdk.reboot_instance(VM)
    error = server_error(info)
    assert (error.status_code, error.code) == (409, "Instance.RebootInstanceOperationForbidden")


def test_wrong_secret_key(emulator: RunningEmulator, admin: Admin) -> None:
    client = sdk_client(emulator, secret_key="not-the-secret")
    with pytest.raises(BceHttpClientError) as info:
        client.batch_add_ip(VM, secondary_private_ip_address_count=1)
    error = server_error(info)
    assert (error.status_code, error.code) == (400, "SignatureDoesNotMatch")
    assert error.request_id
    assert admin.state()["bcc"]["instances"][VM]["secondary"]["ipv4"] == []


def test_address_outside_subnet(sdk: SdkBccClient, admin: Admin) -> None:
    with pytest.raises(BceHttpClientError) as info:
        sdk.batch_add_ip(VM, private_ips=["192.168.0.9", "10.0.0.9"])
    error = server_error(info)
    assert (error.status_code, error.code) == (400, "InvalidParameter")
    assert "10.0.0.9" in str(error)
    assert admin.state()["bcc"]["instances"][VM]["secondary"]["ipv4"] == []


def test_address_in_use(sdk: SdkBccClient) -> None:
    with pytest.raises(BceHttpClientError) as info:
        sdk.batch_add_ip(VM, private_ips=["192.168.0.4"])
    assert server_error(info).code == "PrivateIpInUseException"


def test_delete_missing_address(sdk: SdkBccClient) -> None:
    with pytest.raises(BceHttpClientError) as info:
        sdk.batch_delete_ip(VM, ["192.168.0.99"])
    error = server_error(info)
    assert (error.status_code, error.code) == (400, "PrivateIPNotExistException")


def test_unknown_instance(sdk: SdkBccClient) -> None:
    with pytest.raises(BceHttpClientError) as info:
        sdk.get_instance("i-nothere1")
    error = server_error(info)
    assert (error.status_code, error.code) == (404, "NoSuchObject")


def test_throttle_is_a_clean_error(sdk: SdkBccClient, admin: Admin) -> None:
    admin.faults({"operation": "GetInstance", "action": "throttle"})
    with pytest.raises(BceHttpClientError) as info:
        sdk.get_instance(VM)
    error = server_error(info)
    assert (error.status_code, error.code) == (429, "RateLimit")
