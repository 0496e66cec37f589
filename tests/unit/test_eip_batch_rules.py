"""EipBatch check and diff as tables (no network), and the chunking arithmetic."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.output import Unknown

from pulumi_batchip.eip_batch import EipBatchProvider, bandwidth_size_rule, check_inputs
from pulumi_batchip.eip_operations import RESERVED_TAG_KEYS, batch_tags, chunk_sizes

PROVIDER = EipBatchProvider()
GOOD = {
    "count": 3.0,
    "publicip_type": "5_bgp",
    "ip_version": 4.0,
    "bandwidth": {"size": 5.0, "share_type": "PER", "name": "bw"},
    "tags": {"env": "prod"},
}


def test_good_inputs_are_normalized() -> None:
    inputs, failures = check_inputs(GOOD)
    assert not failures
    assert inputs["count"] == 3 and isinstance(inputs["count"], int)
    assert inputs["ip_version"] == 4
    assert inputs["bandwidth"] == {
        "size": 5,
        "share_type": "PER",
        "charge_mode": "bandwidth",
        "name": "bw",
    }


@pytest.mark.parametrize(
    ("size", "ok"),
    [
        (1, True),
        (300, True),
        (301, False),
        (350, True),
        (1000, True),
        (1050, False),
        (1500, True),
        (2000, True),
        (2001, False),
        (0, False),
    ],
)
def test_bandwidth_increments(size: int, ok: bool) -> None:
    assert (bandwidth_size_rule(size) is None) is ok


def test_whole_needs_no_size_but_an_id() -> None:
    inputs, failures = check_inputs({**GOOD, "bandwidth": {"share_type": "WHOLE", "id": "bw-1"}})
    assert not failures
    assert inputs["bandwidth"]["id"] == "bw-1"
    _inputs, failures = check_inputs(
        {**GOOD, "bandwidth": {"share_type": "PER", "size": 5, "id": "x"}}
    )
    assert [f.property for f in failures.items] == ["bandwidth.id"]


def test_missing_bandwidth() -> None:
    _inputs, failures = check_inputs({"count": 1})
    assert "bandwidth" in [f.property for f in failures.items]


def test_unknowns_pass() -> None:
    news = {
        "count": Unknown(),
        "bandwidth": {"size": Unknown(), "share_type": "WHOLE", "id": Unknown()},
        "tags": Unknown(),
        "ip_version": Unknown(),
    }
    _inputs, failures = check_inputs(news)
    assert not failures, failures.items


@settings(max_examples=300, derandomize=True, database=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["count", "publicip_type", "ip_version", "bandwidth", "tags", "region", "project_id"]
        ),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=8), inner, max_size=4)
            ),
            max_leaves=8,
        ),
    )
)
def test_check_never_raises(news: dict[str, Any]) -> None:
    check_inputs(news)  # only returns failures, whatever arrives


OLDS = {
    "batch_id": "b-1",
    "count": 3,
    "publicip_type": "5_bgp",
    "ip_version": 4,
    "bandwidth": {"size": 5, "share_type": "PER", "charge_mode": "bandwidth", "name": "bw"},
    "tags": {"env": "prod"},
    "region": "cn-north-4",
    "project_id": "p1",
    "eip_ids": ["e1", "e2", "e3"],
    "public_ips": ["1.1.1.1", "1.1.1.2", "1.1.1.3"],
    "__provider": "abc",
}


def diff(**changes: Any) -> Any:
    news, _ = check_inputs({**GOOD, **changes})
    news.setdefault("region", "cn-north-4")
    news.setdefault("project_id", "p1")
    news["__provider"] = "different"
    return PROVIDER.diff("b-1", OLDS, news)


def test_no_diff() -> None:
    result = diff()
    assert result.changes is False and result.replaces == []


@pytest.mark.parametrize(
    ("changes", "replaces"),
    [
        ({"count": 5}, []),
        ({"tags": {"env": "dev"}}, []),
        ({"publicip_type": "5_sbgp"}, ["publicip_type"]),
        ({"ip_version": 6}, ["ip_version"]),
        ({"bandwidth": {"size": 10, "share_type": "PER", "name": "bw"}}, []),  # resized
        ({"bandwidth": {"size": 5, "share_type": "PER", "name": "other"}}, ["bandwidth"]),
        ({"bandwidth": {"size": 5, "charge_mode": "traffic", "name": "bw"}}, ["bandwidth"]),
        ({"region": "cn-east-3"}, ["region"]),
        ({"count": Unknown()}, []),
    ],
)
def test_diff_table(changes: dict[str, Any], replaces: list[str]) -> None:
    result = diff(**changes)
    assert result.changes is True
    assert result.replaces == replaces


def test_refresh_shrinkage_is_an_update() -> None:
    olds = {**OLDS, "eip_ids": ["e1", "e2"]}
    news, _ = check_inputs(GOOD)
    news.update(region="cn-north-4", project_id="p1")
    result = PROVIDER.diff("b-1", olds, news)
    assert result.changes is True and result.replaces == []


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(1, [1]), (50, [50]), (51, [50, 1]), (200, [50, 50, 50, 50]), (1000, [50] * 20)],
)
def test_chunk_sizes(count: int, sizes: list[int]) -> None:
    assert chunk_sizes(count) == sizes


def test_batch_tags_add_ours() -> None:
    assert batch_tags("b", {"env": "x"}) == {
        "env": "x",
        "managed-by": "pulumi-batchip",
        "pulumi-batchip-batch": "b",
    }


def _tag_failures(tags: dict[str, str]) -> list[str]:
    _inputs, failures = check_inputs({**GOOD, "tags": tags})
    return [f.reason for f in failures.items if f.property == "tags"]


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("env", True),
        ("Env_2-x", True),
        ("环境", True),
        ("k" * 36, True),
        ("k" * 37, False),
        ("", False),
        ("env\n", False),  # `$` would have let a trailing newline through
        ("café", False),  # `\w` would have let these through
        ("ключ", False),
        ("a.b", False),  # "." is for values only
        ("a b", False),
        ("a*b", False),  # "*" joins key and value in the list API's tags
        ("managed-by", False),  # ours
        ("pulumi-batchip-batch", False),
        ("pulumi-batchip-stack", False),
    ],
)
def test_tag_key_rules(key: str, ok: bool) -> None:
    failures = _tag_failures({key: "v"})
    assert (failures == []) is ok, failures
    if key in RESERVED_TAG_KEYS:
        assert failures == [f"key {key!r} is reserved for pulumi-batchip"]
    elif not ok:
        assert len(failures) == 1 and failures[0].startswith(f"key {key!r}"[:38])
        assert failures[0].endswith("must be 1..36 letters, digits, '_' or '-'")


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("prod", True),
        ("v1_2_3-x", True),
        ("v1.2", False),  # "." left the current tag pages (docs/design.md)
        ("生产", True),
        ("v" * 43, True),
        ("v" * 44, False),
        ("prod\n", False),
        ("é", False),
        ("значение", False),
        ("a/b", False),
        ("a b", False),
    ],
)
def test_tag_value_rules(value: str, ok: bool) -> None:
    failures = _tag_failures({"env": value})
    assert (failures == []) is ok, failures
    if not ok:
        assert failures == ["value of 'env' must be 0..43 letters, digits, '_' or '-'"]


@pytest.mark.parametrize(("count", "ok"), [(20, True), (21, False), (1000, False)])
def test_a_shared_bandwidth_holds_at_most_20_eips(count: int, ok: bool) -> None:
    _out, failures = check_inputs(
        {"count": count, "bandwidth": {"share_type": "WHOLE", "id": "bw-shared"}}
    )
    problems = [(f.property, f.reason) for f in failures.items]
    if ok:
        assert problems == []
    else:
        assert problems == [
            ("count", f"a shared (WHOLE) bandwidth holds at most 20 EIPs, not {count}")
        ]


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("bw", True),
        ("edge-bw_1.v2", True),
        ("带宽", True),
        ("n" * 64, True),
        ("n" * 65, False),
        ("", False),
        ("bw\n", False),
        ("bañda", False),
        ("a b", False),
    ],
)
def test_bandwidth_name_rules(name: str, ok: bool) -> None:
    _inputs, failures = check_inputs({**GOOD, "bandwidth": {**GOOD["bandwidth"], "name": name}})
    assert ([f.property for f in failures.items] == []) is ok
    if not ok:
        assert [f.property for f in failures.items] == ["bandwidth.name"]


def test_at_most_seven_user_tags() -> None:
    assert _tag_failures({f"k{n}": "v" for n in range(7)}) == []
    assert _tag_failures({f"k{n}": "v" for n in range(8)}) == [
        "at most 7 tags (an EIP holds 10, three are ours)"
    ]


# --- region and project id: the vendor's formats, refused before any API call --------

BAD_IDS = [
    ("region", "ap-southeast-1.evil.example/", "Huawei region id"),
    ("region", "cn north 4", "Huawei region id"),
    ("region", "CN-NORTH-4", "Huawei region id"),
    ("region", "", "Huawei region id"),
    ("region", "cn-north-4/../x", "Huawei region id"),
    ("region", 4, "Huawei region id"),
    ("project_id", "0123456789abcdef0123456789abcde", "32 lowercase hexadecimal"),  # 31
    ("project_id", "0123456789abcdef0123456789abcdef0", "32 lowercase hexadecimal"),  # 33
    ("project_id", "0123456789ABCDEF0123456789ABCDEF", "32 lowercase hexadecimal"),
    ("project_id", "../0123456789abcdef0123456789abc", "32 lowercase hexadecimal"),
    ("project_id", "", "32 lowercase hexadecimal"),
]


@pytest.mark.parametrize(("key", "value", "rule"), BAD_IDS)
def test_hostile_region_or_project_id_fails_on_its_property(
    key: str, value: object, rule: str
) -> None:
    _inputs, failures = check_inputs({**GOOD, key: value})
    assert [f.property for f in failures.items] == [key]
    assert rule in failures.items[0].reason
    assert len(failures.items[0].reason) < 300


@pytest.mark.parametrize(("key", "value", "rule"), BAD_IDS[:5])
def test_provider_check_refuses_before_any_call(key: str, value: object, rule: str) -> None:
    result = PROVIDER.check({}, {**GOOD, key: value})  # no stack config, no endpoint: no call
    assert [(f.property, rule in f.reason) for f in result.failures] == [(key, True)]


@pytest.mark.parametrize(
    ("region", "project_id"),
    [
        ("cn-north-4", "0123456789abcdef0123456789abcdef"),
        ("ap-southeast-1", "a4a5d4098fb4474fa22cd05f897d6b99"),
        (" la-south-2 ", " a4a5d4098fb4474fa22cd05f897d6b99 "),  # trimmed, as config is
    ],
)
def test_real_region_and_project_id_pass(region: str, project_id: str) -> None:
    inputs, failures = check_inputs({**GOOD, "region": region, "project_id": project_id})
    assert not failures
    assert (inputs["region"], inputs["project_id"]) == (region.strip(), project_id.strip())
    unknown, failures = check_inputs({**GOOD, "region": Unknown(), "project_id": Unknown()})
    assert not failures and isinstance(unknown["region"], Unknown)
