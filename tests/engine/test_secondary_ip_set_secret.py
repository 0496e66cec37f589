"""A SecondaryIpSet whose ``private_ips`` is a secret (issue 20, item 5): the engine
strips secrets before the dynamic provider sees them, so the resource class tells the
provider (``secret_addresses``); the provider then keeps the addresses out of the id,
progress lines and errors. Sets created before keep their id and state."""

from __future__ import annotations

import re

import pulumi
import pytest

from pulumi_batchip import SecondaryIpSet
from pulumi_batchip.emulator import RunningEmulator
from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.secondary_ip_set import SCHEMA_KEY, SCHEMA_VERSION

from ..conftest import Admin
from .harness import EngineResource, ProviderError, ProviderProcess, program_inputs
from .secondary_ip_support import (
    INSTANCE,
    TYPE,
    checked,
    in_process,
    lost,
    outside_client,
    secondary,
)

SECRET = ["192.168.0.77", "192.168.0.78"]
OPAQUE_ID = re.compile(rf"{INSTANCE}/secret-[0-9a-f]{{16}}")


def secret_inputs(ips: list[str], **kwargs: object) -> dict[str, object]:
    return program_inputs(
        lambda: [
            SecondaryIpSet(
                "s", instance_id=INSTANCE, private_ips=pulumi.Output.secret(ips), **kwargs
            )
        ]
    )["s"]


def plain_inputs(**kwargs: object) -> dict[str, object]:
    return program_inputs(lambda: [SecondaryIpSet("s", instance_id=INSTANCE, **kwargs)])["s"]


def assert_hidden(text: str, addresses: list[str]) -> None:
    shown = [a for a in addresses if a in text]
    assert not shown, f"{shown} in:\n{text}"


@pytest.fixture
def res(provider_server: ProviderProcess, emulator: RunningEmulator) -> EngineResource:
    return EngineResource(provider_server, TYPE, "secret")


def test_the_class_tells_the_provider_which_private_ips_are_secret() -> None:
    assert secret_inputs(SECRET)["secret_addresses"] is True
    one_secret = [pulumi.Output.secret("192.168.0.77"), "192.168.0.78"]
    assert plain_inputs(private_ips=one_secret)["secret_addresses"] is True
    assert "secret_addresses" not in plain_inputs(private_ips=SECRET)
    assert "secret_addresses" not in plain_inputs(count=2)


def test_a_secret_set_names_no_address_in_its_id_progress_or_state_keys(
    res: EngineResource, admin: Admin, provider_server: ProviderProcess
) -> None:
    start = len(provider_server.stderr_lines)
    assert res.up(secret_inputs(SECRET)) == "create"
    assert res.id and OPAQUE_ID.fullmatch(res.id), res.id
    assert res.outputs["private_ips"] == SECRET  # in state, where the engine encrypts it
    assert res.outputs["secret_addresses"] is True
    set_id = res.id
    assert res.up(secret_inputs([*SECRET, "192.168.0.79"])) == "update"
    assert res.refresh() == "refreshed"
    assert res.id == set_id
    assert secondary(admin) == [*SECRET, "192.168.0.79"]
    res.destroy()
    assert secondary(admin) == []
    lines = "\n".join(provider_server.stderr_lines[start:])
    assert "SecondaryIpSet on i-DhjUXmSA: added 2 secret addresses" in lines
    assert "SecondaryIpSet on i-DhjUXmSA: added 1 secret address" in lines
    assert_hidden(lines, [*SECRET, "192.168.0.79"])


def test_errors_of_a_secret_set_name_no_address(
    res: EngineResource, admin: Admin, emulator: RunningEmulator
) -> None:
    outsider = outside_client(emulator)
    outsider.batch_add_ip(INSTANCE, client_token="outsider", private_ips=SECRET[:1])
    outsider.close()
    with pytest.raises(ProviderError) as info:
        res.up(secret_inputs(SECRET))
    assert "PrivateIpInUseException" in info.value.details
    assert "set adopt=True" in info.value.details
    assert "<secret address>" in info.value.details  # BCC's own message quoted it
    assert_hidden(info.value.details, SECRET)  # the whole traceback the engine gets
    assert secondary(admin) == SECRET[:1]


def test_an_unanswered_add_on_a_secret_set_reports_counts(
    emulator: RunningEmulator, admin: Admin, capsys: pytest.CaptureFixture[str]
) -> None:
    provider = in_process(emulator)
    admin.faults(lost("BatchAddIp", times=0))
    with pytest.raises(BatchIpError) as info:
        provider.create(checked(private_ips=SECRET, secret_addresses=True))
    message = str(info.value)
    assert "holds 2 of the addresses it asked for (2 secret addresses)" in message
    assert "none was removed" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert_hidden(message, SECRET)
    printed = capsys.readouterr().err
    assert "asking again with the same clientToken" in printed
    assert "holds 2 of the addresses it asked for (2 secret addresses)" in printed
    assert_hidden(printed, SECRET)
    assert sorted(secondary(admin)) == sorted(SECRET)


def test_a_set_made_secret_later_keeps_its_old_form_id(res: EngineResource, admin: Admin) -> None:
    """Existing ids of existing state keep working: a set created before (or with a
    plain list) has the old id; marking its list secret is an in-place update that
    records it; the id cannot change (Pulumi ids are fixed), so replace the set to hide
    the addresses from the id too. State of schema 1 is migrated."""
    assert res.up(plain_inputs(private_ips=SECRET)) == "create"
    old_id = f"{INSTANCE}/{','.join(SECRET)}"
    assert res.id == old_id
    res.outputs = {**res.outputs, SCHEMA_KEY: 1}  # as the previous release wrote it
    preview = res.preview(secret_inputs(SECRET))
    assert preview is not None and preview.changes == preview.DIFF_SOME
    assert not preview.replaces
    assert res.up(secret_inputs(SECRET)) == "update"
    assert res.id == old_id
    assert res.outputs["secret_addresses"] is True
    assert res.outputs[SCHEMA_KEY] == SCHEMA_VERSION
    assert res.refresh() == "refreshed" and res.id == old_id
    res.destroy()
    assert secondary(admin) == []


def test_get_with_a_secret_sets_id_is_a_clear_error(
    provider_server: ProviderProcess, admin: Admin
) -> None:
    id_ = f"{INSTANCE}/secret-0123456789abcdef"
    captured = program_inputs(lambda: [SecondaryIpSet.get("seen", id_)])["seen"]
    with pytest.raises(ProviderError) as info:
        EngineResource(provider_server, TYPE, "seen").get(id_, captured)
    last = info.value.details.strip().splitlines()[-1]
    assert "is the id of a set whose private_ips are secret and names no address" in last
    assert "<instance_id>/<ip>[,<ip>...]" in last
    assert admin.requests() == []
