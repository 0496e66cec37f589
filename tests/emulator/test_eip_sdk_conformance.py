"""The official Huawei Cloud SDK (huaweicloudsdkeip v2) talks to the emulator.

The SDK signs with its own signer, adds its own headers (User-Agent, X-Project-Id,
Content-Type on every call) and parses answers into its own models: if the emulator
is faithful, every call below works unchanged, and errors surface as the SDK's
``ClientRequestException`` with the vendor code.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkeip.v2 import (
    BatchBandwidth,
    BatchCreatePublicipsRequest,
    BatchCreatePublicipsResponse,
    BatchCreatePublicipsV2RequestBody,
    BatchCreatePublicipTagsRequest,
    BatchCreatePublicipTagsRequestBody,
    BatchDeletePublicIpRequest,
    BatchDeletePublicIpRequestBody,
    BatchDeletePublicipTagsRequest,
    BatchDeletePublicipTagsRequestBody,
    BatchPublicIp,
    DeletePublicipRequest,
    EipClient,
    ListPublicipsByTagsRequest,
    ListPublicipsByTagsRequestBody,
    ListPublicipsRequest,
    PublicipShowResp,
    ResourceTagOption,
    ShowPublicipRequest,
    ShowResourcesJobDetailRequest,
    ShowResourcesJobDetailResponse,
    TagReq,
)

from pulumi_batchip.emulator import DEFAULT_HW_PROJECT_ID, RunningEmulator

from ..conftest import Admin

AK, SK = "emulator-hw-ak", "emulator-hw-sk"
PID = DEFAULT_HW_PROJECT_ID


def sdk_client(url: str, secret_key: str = SK) -> EipClient:
    config = HttpConfig.get_default_config()
    config.ignore_ssl_verification = True  # plain http anyway; no CA involved
    config.timeout = (5, 10)
    return (
        EipClient.new_builder()
        .with_http_config(config)
        .with_credentials(BasicCredentials(AK, secret_key, PID))
        .with_endpoint(url)
        .build()
    )


@pytest.fixture
def sdk(emulator: RunningEmulator) -> Iterator[EipClient]:
    client = sdk_client(emulator.url)
    yield client
    client.get_http_client().close()


def create_body(count: int, tag: str) -> BatchCreatePublicipsV2RequestBody:
    return BatchCreatePublicipsV2RequestBody(
        bandwidth=BatchBandwidth(name="sdk-bw", share_type="PER", size=10, charge_mode="traffic"),
        publicip=BatchPublicIp(type="5_sbgp", ip_version="ipv4", tags=[f"batch*{tag}"]),
        publicip_number=count,
        enterprise_project_id="0",
    )


def wait_job(sdk: EipClient, job_id: str) -> ShowResourcesJobDetailResponse:
    deadline = time.monotonic() + 5
    while True:
        job = sdk.show_resources_job_detail(ShowResourcesJobDetailRequest(job_id=job_id))
        if job.status in ("SUCCESS", "FAIL") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_sdk_drives_a_whole_batch_lifecycle(sdk: EipClient, admin: Admin) -> None:
    created = sdk.batch_create_publicips(BatchCreatePublicipsRequest(body=create_body(3, "sdk1")))
    assert isinstance(created, BatchCreatePublicipsResponse)
    assert created.job_id

    job = wait_job(sdk, created.job_id)
    assert isinstance(job, ShowResourcesJobDetailResponse)
    assert (job.status, job.job_type, job.job_id) == (
        "SUCCESS",
        "createBatchPublicip",
        created.job_id,
    )
    assert job.entities.sub_jobs == []

    body = ListPublicipsByTagsRequestBody(
        action="filter", tags=[TagReq(key="batch", values=["sdk1"])], limit=10, offset=0
    )
    by_tags = sdk.list_publicips_by_tags(ListPublicipsByTagsRequest(body=body))
    assert by_tags.total_count == 3
    ids = sorted(r.resource_id for r in by_tags.resources)
    assert by_tags.resources[0].tags[0].key == "batch"

    page = sdk.list_publicips(ListPublicipsRequest(limit=2))
    assert [p.id for p in page.publicips] == ids[:2]
    rest = sdk.list_publicips(ListPublicipsRequest(limit=2, marker=ids[1]))
    assert [p.id for p in rest.publicips] == ids[2:]
    chosen = sdk.list_publicips(ListPublicipsRequest(id=[ids[0], ids[2]]))
    assert sorted(p.id for p in chosen.publicips) == [ids[0], ids[2]]

    shown = sdk.show_publicip(ShowPublicipRequest(publicip_id=ids[0])).publicip
    assert isinstance(shown, PublicipShowResp)
    assert (shown.status, shown.type, shown.ip_version) == ("DOWN", "5_sbgp", 4)
    assert (shown.bandwidth_share_type, shown.bandwidth_size) == ("PER", 10)
    assert shown.tags == ["batch*sdk1"]
    assert shown.tenant_id == PID

    sdk.batch_create_publicip_tags(
        BatchCreatePublicipTagsRequest(
            publicip_id=ids[0],
            body=BatchCreatePublicipTagsRequestBody(
                action="create", tags=[ResourceTagOption(key="env", value="prod")]
            ),
        )
    )
    sdk.batch_delete_publicip_tags(
        BatchDeletePublicipTagsRequest(
            publicip_id=ids[0],
            body=BatchDeletePublicipTagsRequestBody(
                action="delete", tags=[ResourceTagOption(key="batch", value="sdk1")]
            ),
        )
    )
    retagged = sdk.show_publicip(ShowPublicipRequest(publicip_id=ids[0])).publicip
    assert retagged.tags == ["env*prod"]

    sdk.delete_publicip(DeletePublicipRequest(publicip_id=ids[0]))
    deleted = sdk.batch_delete_public_ip(
        BatchDeletePublicIpRequest(body=BatchDeletePublicIpRequestBody(publicip_ids=ids[1:]))
    )
    assert len(deleted.job_ids) == 1  # one per call, as the documented example
    pending = sdk.list_publicips(ListPublicipsRequest()).publicips
    assert {p.status for p in pending} == {"PENDING_DELETE"}  # asynchronous deletes
    deadline = time.monotonic() + 5
    while sdk.list_publicips(ListPublicipsRequest()).publicips and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sdk.list_publicips(ListPublicipsRequest()).publicips == []

    operations = admin.operations()
    assert "BatchCreatePublicipTags" in operations and "BatchDeletePublicipTags" in operations
    assert all(r["status"] < 400 for r in admin.requests())


def test_sdk_gets_client_request_exception_for_a_bad_signature(
    emulator: RunningEmulator,
) -> None:
    client = sdk_client(emulator.url, secret_key="not-the-secret")
    with pytest.raises(ClientRequestException) as info:
        client.list_publicips(ListPublicipsRequest())
    assert (info.value.status_code, info.value.error_code) == (401, "APIGW.0301")
    assert info.value.request_id


def test_sdk_gets_client_request_exception_for_an_invalid_body(sdk: EipClient) -> None:
    with pytest.raises(ClientRequestException) as info:
        sdk.batch_create_publicips(BatchCreatePublicipsRequest(body=create_body(51, "x")))
    assert (info.value.status_code, info.value.error_code) == (400, "VPC.0501")
    assert "publicip_number" in info.value.error_msg
    assert info.value.request_id


def test_sdk_gets_client_request_exception_for_a_missing_eip(sdk: EipClient) -> None:
    with pytest.raises(ClientRequestException) as info:
        sdk.show_publicip(ShowPublicipRequest(publicip_id="no-such-eip"))
    assert (info.value.status_code, info.value.error_code) == (404, "VPC.0504")


def test_sdk_sees_bound_eips_refused(sdk: EipClient, admin: Admin) -> None:
    created = sdk.batch_create_publicips(BatchCreatePublicipsRequest(body=create_body(1, "b")))
    wait_job(sdk, created.job_id)
    [eip] = sdk.list_publicips(ListPublicipsRequest()).publicips
    admin.post("eip/bind", {"publicip_id": eip.id, "port_id": "port-9"})
    shown = sdk.show_publicip(ShowPublicipRequest(publicip_id=eip.id)).publicip
    assert (shown.status, shown.port_id) == ("ACTIVE", "port-9")
    with pytest.raises(ClientRequestException) as info:
        sdk.delete_publicip(DeletePublicipRequest(publicip_id=eip.id))
    assert (info.value.status_code, info.value.error_code) == (409, "VPC.0517")


def test_sdk_resizes_a_dedicated_bandwidth(sdk: EipClient) -> None:
    from huaweicloudsdkeip.v2 import (
        UpdateBandwidthOption,
        UpdateBandwidthRequest,
        UpdateBandwidthRequestBody,
    )

    created = sdk.batch_create_publicips(BatchCreatePublicipsRequest(body=create_body(1, "rs")))
    wait_job(sdk, created.job_id)
    (eip,) = sdk.list_publicips(ListPublicipsRequest()).publicips
    resized = sdk.update_bandwidth(
        UpdateBandwidthRequest(
            bandwidth_id=eip.bandwidth_id,
            body=UpdateBandwidthRequestBody(bandwidth=UpdateBandwidthOption(size=200)),
        )
    )
    assert resized.bandwidth.size == 200
    # Left out, charge_mode means "bandwidth" (Table 4-62): the traffic billing is gone.
    assert resized.bandwidth.charge_mode == "bandwidth"
    shown = sdk.show_publicip(ShowPublicipRequest(publicip_id=eip.id)).publicip
    assert shown.bandwidth_size == 200
    with pytest.raises(ClientRequestException) as info:
        sdk.update_bandwidth(
            UpdateBandwidthRequest(
                bandwidth_id=eip.bandwidth_id,
                body=UpdateBandwidthRequestBody(
                    bandwidth=UpdateBandwidthOption(size=350, charge_mode="traffic")
                ),
            )
        )
    # 350 is a valid size, but billed by traffic a bandwidth takes at most 300.
    assert (info.value.status_code, info.value.error_code) == (400, "VPC.0501")
    with pytest.raises(ClientRequestException) as info:
        sdk.update_bandwidth(
            UpdateBandwidthRequest(
                bandwidth_id="no-such-bandwidth",
                body=UpdateBandwidthRequestBody(bandwidth=UpdateBandwidthOption(size=10)),
            )
        )
    assert (info.value.status_code, info.value.error_code) == (404, "VPC.0504")
