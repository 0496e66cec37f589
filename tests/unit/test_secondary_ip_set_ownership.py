"""The attribution rule (baidu/attribution.py) and the secrecy helpers
(baidu/secrecy.py) on their own: no cloud, no server."""

from __future__ import annotations

import pulumi
import pytest

import pulumi_batchip as batchip
from pulumi_batchip.baidu import secrecy
from pulumi_batchip.baidu.attribution import attribute
from pulumi_batchip.errors import BatchIpError
from pulumi_batchip.secondary_ip_set import (
    SCHEMA_KEY,
    SCHEMA_VERSION,
    check_inputs,
    migrate_state,
    parse_import_id,
)
from pulumi_batchip.testing import BatchIpMocks

BEFORE = ["10.0.0.2"]


@pytest.mark.parametrize(
    ("after", "count", "ours", "unclear"),
    [
        (["10.0.0.2", "10.0.0.3", "10.0.0.4"], 2, ("10.0.0.3", "10.0.0.4"), False),
        (["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"], 2, (), True),  # one too many
        (["10.0.0.2", "10.0.0.3"], 2, (), True),  # one too few
        (["10.0.0.2"], 2, (), True),  # none: nothing to attribute either
    ],
)
def test_a_count_add_owns_the_new_addresses_only_when_exactly_that_many_appeared(
    after: list[str], count: int, ours: tuple[str, ...], unclear: bool
) -> None:
    found = attribute(BEFORE, after, private_ips=None, count=count)
    assert found.ours == ours
    assert found.unclear is unclear
    assert found.appeared == tuple(a for a in after if a not in BEFORE)


def test_an_explicit_add_owns_only_what_it_asked_for() -> None:
    after = ["10.0.0.2", "10.0.0.9", "10.0.0.3", "10.0.0.4"]
    found = attribute(BEFORE, after, private_ips=["10.0.0.3", "10.0.0.4"], count=None)
    assert found.ours == ("10.0.0.3", "10.0.0.4")
    assert not found.unclear


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("added 192.168.0.77, 192.168.0.78.", "added <a>, <a>."),
        ("['2400:da00:e003:0:219::2f']", "['<a>']"),
        ("i-DhjUXmSA/10.0.0.1,10.0.0.2", "i-DhjUXmSA/<a>,<a>"),
        ("The private ip 10.0.0.1 is in use.", "The private ip <a> is in use."),
        ("added 2 addresses: e.g. face:cafe, 1.5 s, HTTP 1.1", None),  # no address here
    ],
)
def test_redact_replaces_every_address_and_nothing_else(text: str, expected: str | None) -> None:
    want = text if expected is None else expected.replace("<a>", secrecy.REDACTED)
    assert secrecy.redact(text) == want


def test_hidden_counts_redacts_and_drops_the_chain() -> None:
    assert secrecy.named(["10.0.0.1", "10.0.0.2"]) == "10.0.0.1, 10.0.0.2"
    with pytest.raises(BatchIpError) as info, secrecy.hidden(True):
        assert secrecy.named(["10.0.0.1"]) == "1 secret address"
        assert secrecy.named(["10.0.0.1", "10.0.0.2"]) == "2 secret addresses"
        try:
            raise ValueError("10.0.0.1 is bad")
        except ValueError as exc:
            raise BatchIpError(f"wrapped: {exc}") from exc
    assert str(info.value) == f"wrapped: {secrecy.REDACTED} is bad"
    assert info.value.__suppress_context__
    assert not secrecy.hiding()
    with pytest.raises(ValueError, match=r"10\.0\.0\.1"), secrecy.hidden(False):
        raise ValueError("10.0.0.1")


def test_opaque_ids_are_random_and_refused_as_import_ids() -> None:
    first, second = secrecy.opaque_id("i-1"), secrecy.opaque_id("i-1")
    assert first != second and first.startswith("i-1/secret-")
    with pytest.raises(BatchIpError, match="names no address"):
        parse_import_id(first)
    assert parse_import_id("i-1/10.0.0.1,10.0.0.2") == ("i-1", ["10.0.0.1", "10.0.0.2"])


def test_secret_addresses_input_is_a_bool_kept_only_when_true() -> None:
    base = {"instance_id": "i-1", "private_ips": ["10.0.0.1"]}
    inputs, failures = check_inputs({**base, "secret_addresses": True})
    assert not failures and inputs["secret_addresses"] is True
    inputs, failures = check_inputs({**base, "secret_addresses": False})
    assert not failures and "secret_addresses" not in inputs
    _inputs, failures = check_inputs({**base, "secret_addresses": "yes"})
    assert [f.property for f in failures.items] == ["secret_addresses"]


def test_schema_1_state_migrates_to_a_set_that_is_not_secret() -> None:
    old = {"instance_id": "i-1", "private_ips": ["10.0.0.1"], "ipv6": False, SCHEMA_KEY: 1}
    migrated = migrate_state(old, "bj")
    assert migrated[SCHEMA_KEY] == SCHEMA_VERSION == 2
    assert "secret_addresses" not in migrated
    kept = migrate_state({**old, SCHEMA_KEY: 2, "secret_addresses": True}, "bj")
    assert kept["secret_addresses"] is True


def test_the_offline_mocks_give_a_secret_set_the_opaque_id_too() -> None:
    pulumi.runtime.set_mocks(BatchIpMocks(), project="kit", stack="test", preview=False)
    seen: dict[str, object] = {}

    @pulumi.runtime.test  # type: ignore[misc]
    def body() -> pulumi.Output[object]:
        hidden = batchip.SecondaryIpSet(
            "h", instance_id="i-1", private_ips=pulumi.Output.secret(["10.0.0.7"])
        )
        plain = batchip.SecondaryIpSet("p", instance_id="i-1", private_ips=["10.0.0.8"])
        return pulumi.Output.all(hidden=hidden.id, plain=plain.id).apply(seen.update)

    body()
    assert str(seen["hidden"]).startswith("i-1/secret-")
    assert seen["plain"] == "i-1/10.0.0.8"


def test_check_failures_of_a_secret_list_quote_no_item() -> None:
    news = {"instance_id": "i-1", "private_ips": ["10.0.0.1", " 10.0.0.1", "2400::1"]}
    _inputs, failures = check_inputs({**news, "secret_addresses": True})
    reasons = [f.reason for f in failures.items]
    assert reasons == ["item 1 is a duplicate", "item 2 is IPv6 but ipv6=False needs IPv4"]
    _inputs, failures = check_inputs(news)
    assert "'2400::1'" in failures.items[1].reason  # a plain list is quoted as before
