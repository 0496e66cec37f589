"""huawei/confirm.py: which ids a short list answer gets read by id, and what counts as gone."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest

from pulumi_batchip.errors import AuthError, CloudApiError, NotFoundError
from pulumi_batchip.huawei.confirm import (
    CONFIRM_SAMPLE,
    ListContradiction,
    confirm_absent,
    sample,
)
from pulumi_batchip.huawei.eip import PublicIp


def test_sample_is_bounded_and_spread() -> None:
    ids = [f"e{n}" for n in range(100)]
    picked = sample(ids)
    assert len(picked) == CONFIRM_SAMPLE == 5
    assert picked[0] == "e0" and picked[-1] == "e99" and picked == sorted(picked, key=ids.index)
    assert sample(ids[:3]) == ids[:3]


class FakeClient:
    def __init__(self, answers: dict[str, PublicIp | Exception]) -> None:
        self.answers = answers
        self.read: list[str] = []

    def show_publicip(self, publicip_id: str) -> PublicIp:
        self.read.append(publicip_id)
        answer = self.answers[publicip_id]
        if isinstance(answer, Exception):
            raise answer
        return answer


def run(fn: Callable[[str], PublicIp | None], items: Sequence[str]) -> list[PublicIp | None]:
    return [fn(i) for i in items]


def _error(kind: type[CloudApiError], status: int) -> CloudApiError:
    return kind(
        cloud="huawei",
        operation="ShowPublicip",
        status=status,
        code=None,
        message="x",
        request_id=None,
    )


def _gone() -> CloudApiError:
    return _error(NotFoundError, 404)


def test_404_and_pending_delete_are_gone_anything_else_contradicts() -> None:
    client = FakeClient(
        {"a": _gone(), "b": PublicIp(id="b", status="PENDING_DELETE"), "c": _gone()}
    )
    confirm_absent(client, ["a", "b", "c"], what="the state", run=run)  # type: ignore[arg-type]
    client.answers["c"] = PublicIp(id="c", status="DOWN")
    with pytest.raises(ListContradiction, match=r"left out 3 EIP\(s\) the state says exist"):
        confirm_absent(client, ["a", "b", "c"], what="the state", run=run)  # type: ignore[arg-type]


def test_a_refused_read_is_no_proof_of_absence() -> None:
    refused = _error(AuthError, 403)
    client = FakeClient({"a": refused})
    with pytest.raises(ListContradiction, match="vpc:publicIps:get"):
        confirm_absent(client, ["a"], what="the state", run=run)  # type: ignore[arg-type]


def test_at_most_a_sample_is_read() -> None:
    ids = [f"e{n}" for n in range(40)]
    client = FakeClient(dict.fromkeys(ids, _gone()))
    confirm_absent(client, ids, what="the state", run=run)  # type: ignore[arg-type]
    assert len(client.read) == CONFIRM_SAMPLE
