"""Emulator fault rules are checked when armed: a careless or hostile rule is refused
at once (naming the field), never breaking the next call."""

from __future__ import annotations

import math
import time
from typing import Any

import httpx
import pytest

from pulumi_batchip.baidu.bcc import BccClient
from pulumi_batchip.config import BaiduSettings, Credentials
from pulumi_batchip.emulator import (
    DEFAULT_BCE_CREDENTIALS,
    EmulatorConfig,
    RunningEmulator,
)
from pulumi_batchip.emulator.faults import FaultRule

from ..conftest import Admin

# --- fault rules are checked when armed -------------------------------------------------

DELAY = '{"operation": "ListPublicips", "action": "delay", "seconds": %s}'


def post_raw(emulator: RunningEmulator, path: str, body: str) -> httpx.Response:
    """POST ``body`` as it is (JSON no client would write) to /_emulator/``path``."""
    return httpx.post(
        f"{emulator.url}/_emulator/{path}",
        content=body,
        headers={"Content-Type": "application/json"},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # Raw JSON: Python's parser (and werkzeug's) takes NaN and Infinity literals.
        (DELAY % "NaN", "seconds"),
        (DELAY % "Infinity", "seconds"),
        (DELAY % "-Infinity", "seconds"),
        (DELAY % "1e999", "seconds"),  # parses as infinity
        (DELAY % "-0.5", "seconds"),
        (DELAY % "600.001", "seconds"),
        (DELAY % "1e12", "seconds"),
        (DELAY % '"5"', "seconds"),
        (DELAY % "true", "seconds"),
        ('{"operation": "*", "action": "throttle", "times": Infinity}', "times"),
        ('{"operation": "*", "action": "throttle", "times": NaN}', "times"),
        ('{"operation": "*", "action": "throttle", "times": 1.5}', "times"),
        ('{"operation": "*", "action": "throttle", "times": -1}', "times"),
        ('{"operation": "*", "action": "throttle", "times": "2"}', "times"),
        ('{"operation": "*", "action": "throttle", "times": true}', "times"),
        ('{"operation": "*", "action": "throttle", "times": 1e300}', "times"),
        ('{"operation": "*", "action": "throttle", "after": -Infinity}', "after"),
        ('{"operation": "*", "action": "throttle", "after": 1000000001}', "after"),
        ('{"operation": "*", "action": "throttle", "probability": NaN}', "probability"),
        ('{"operation": "*", "action": "throttle", "probability": Infinity}', "probability"),
        ('{"operation": "*", "action": "throttle", "probability": 1.01}', "probability"),
        ('{"operation": "*", "action": "throttle", "probability": true}', "probability"),
        ('{"operation": "*", "action": "job_fail", "created": Infinity}', "created"),
        ('{"operation": "*", "action": "job_fail", "created": -1}', "created"),
        ('{"operation": "*", "action": "job_fail", "created": 0.5}', "created"),
        ('{"operation": "*", "action": "error", "status": NaN}', "status"),
        ('{"operation": "*", "action": "error", "status": Infinity}', "status"),
        ('{"operation": "*", "action": "error", "status": "500"}', "status"),
        ('{"operation": "*", "action": "error", "status": 500.5}', "status"),
        ('{"operation": "*", "action": "error", "status": 600}', "status"),
        ('{"operation": "*", "action": "throttle", "status": 99999}', "status"),
        ('{"operation": "*", "action": "error", "status": 500, "code": 7}', "code"),
        ('{"operation": "*", "action": "error", "status": 500, "message": []}', "message"),
    ],
)
def test_malformed_rules_refused_when_armed(
    emulator: RunningEmulator, admin: Admin, body: str, field: str
) -> None:
    response = post_raw(emulator, "faults", body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["code"] == "BadFaultRules"
    assert f"'{field}'" in answer["message"]
    assert admin.state()["faults"] == []
    # Nothing armed: the next call is answered as usual (a NaN delay used to answer an
    # HTML 500 here, an infinite one a 500 or a thread asleep for ever).
    assert httpx.get(f"{emulator.url}/_emulator/faults").json() == {"faults": []}


def test_one_bad_rule_arms_none(emulator: RunningEmulator, admin: Admin) -> None:
    body = '[{"operation": "*", "action": "throttle"}, ' + DELAY % "NaN" + "]"
    response = post_raw(emulator, "faults", body)
    assert response.status_code == 400
    assert admin.state()["faults"] == []


@pytest.mark.parametrize(
    ("rule", "field", "value"),
    [
        ({"action": "delay", "seconds": 600}, "seconds", 600.0),
        ({"action": "delay", "seconds": 0}, "seconds", 0.0),
        ({"action": "delay", "seconds": 0.25}, "seconds", 0.25),
        ({"action": "throttle", "times": 2.0}, "times", 2),  # integral numbers pass
        ({"action": "throttle", "times": 0}, "times", 0),
        ({"action": "throttle", "after": 1_000_000_000}, "after", 1_000_000_000),
        ({"action": "throttle", "probability": 0}, "probability", 0.0),
        ({"action": "throttle", "probability": 1}, "probability", 1.0),
        ({"action": "error", "status": 599}, "status", 599),
        ({"action": "error", "status": 400, "code": None}, "code", None),
        ({"action": "job_fail", "created": 3}, "created", 3),
    ],
)
def test_good_rules_armed(admin: Admin, rule: dict[str, Any], field: str, value: Any) -> None:
    admin.faults({"operation": "NoSuchOperation", **rule})
    [armed] = admin.state()["faults"]
    assert armed[field] == value
    assert type(armed[field]) is type(value)


def test_from_json_takes_every_number_type_it_documents() -> None:
    rule = FaultRule.from_json(
        {"operation": "*", "action": "delay", "seconds": 2, "times": 3, "after": 1}
    )
    assert (rule.seconds, rule.times, rule.after) == (2.0, 3, 1)
    assert isinstance(rule.seconds, float)


def test_a_bounded_delay_still_delays(emulator: RunningEmulator, admin: Admin) -> None:
    admin.faults({"operation": "GetInstance", "action": "delay", "seconds": 0.3})
    [(access_key, secret_key)] = DEFAULT_BCE_CREDENTIALS.items()
    settings = BaiduSettings(Credentials(access_key, secret_key), "bj", emulator.url)
    client = BccClient.from_settings(settings)
    try:
        started = time.monotonic()
        assert client.get_instance("i-DhjUXmSA").status == "Running"
        assert time.monotonic() - started >= 0.3
    finally:
        client.close()
    assert [r.get("fault") for r in admin.requests()] == ["delay"]


@pytest.mark.parametrize(
    "body",
    [
        '{"memory": NaN}',
        '{"memory": Infinity}',
        '{"reboot_seconds": NaN}',
        '{"reboot_seconds": Infinity}',
    ],
)
def test_admin_instance_numbers_must_be_finite(
    emulator: RunningEmulator, admin: Admin, body: str
) -> None:
    response = post_raw(emulator, "bcc/instances", body)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"code", "message"}
    assert list(admin.state()["bcc"]["instances"]) == ["i-DhjUXmSA"]


@pytest.mark.parametrize(
    "settings",
    [
        {"latency_seconds": math.nan},
        {"latency_seconds": math.inf},
        {"latency_seconds": -1.0},
        {"latency_seconds": 601.0},
        {"job_seconds": math.nan},
        {"job_seconds": -1.0},
        {"eip_quota": -1},
        {"max_connections": 0},
        {"idle_timeout_seconds": 0.0},
        {"idle_timeout_seconds": math.inf},
        {"max_skew_seconds": math.nan},
    ],
)
def test_config_refuses_values_that_would_break_calls(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(settings))):
        EmulatorConfig(**settings)
