"""The witness's handler (companions/witness/function/app.py) under moto, in the audit
account: what it alerts on, what it only counts, what it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from drill.witness import Witness, as_account
from drill.world import ACCOUNT, AUDIT_ACCOUNT, World, seeded_world
from tests.functional.helpers import aws


@pytest.fixture
def witness() -> Iterator[Witness]:
    with seeded_world() as _world:
        assert isinstance(_world, World)
        yield Witness(ACCOUNT)


def _event(detail_type: str, detail: Any, account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": detail_type,
        "source": "trailguard",
        "account": account,
        "time": "2026-11-24T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
    }


def _run(witness: Witness, event: dict[str, Any]) -> dict[str, Any]:
    with as_account(AUDIT_ACCOUNT):
        return witness._invoke(event)


def _security_team(witness: Witness) -> list[dict[str, Any]]:
    with as_account(AUDIT_ACCOUNT):
        return [json.loads(m["Message"]) for m in witness._take(witness.on_call_url)]


def test_healthy_heartbeat_is_counted_not_alerted(witness: Witness) -> None:
    result = _run(witness, _event("trailguard heartbeat", {"healthy": True, "invariants": []}))

    assert result == {"outcome": "heartbeat"}
    assert witness.heartbeats() == 1
    assert _security_team(witness) == []


def test_a_failed_run_alerts(witness: Witness) -> None:
    result = _run(witness, _event("trailguard heartbeat", {"healthy": False, "error": "x"}))

    assert result["outcome"] == "alerted"
    [message] = _security_team(witness)
    assert message["reason"] == "trailguard's reconciler reports a failed run"
    assert message["from"]["account"] == ACCOUNT


def test_an_event_from_another_account_is_refused(witness: Witness) -> None:
    event = _event("trailguard alert", {"severity": "CRITICAL"}, account="444444444444")

    assert _run(witness, event)["outcome"] == "rejected"
    assert _security_team(witness) == []


@pytest.mark.parametrize(
    "event",
    [
        {"source": "trailguard"},
        _event("trailguard alert", "not an object"),
        _event("trailguard alert", {"severity": "PANIC"}),
        _event("something else", {"severity": "CRITICAL"}),
        {**_event("trailguard alert", {"severity": "CRITICAL"}), "source": "attacker"},
    ],
)
def test_malformed_events_are_refused_without_alerting(
    witness: Witness, event: dict[str, Any]
) -> None:
    assert _run(witness, event)["outcome"] == "rejected"
    assert _security_team(witness) == []


def test_hostile_text_stays_data(witness: Witness) -> None:
    headline = "ALL CLEAR!\n\u2028MANUAL ACTION NEEDED\u001b[2J"
    detail = {"severity": "CRITICAL", "invariant": "I2", "headline": headline}

    assert _run(witness, _event("trailguard alert", detail))["outcome"] == "alerted"
    with as_account(AUDIT_ACCOUNT):
        [raw] = aws("sqs").receive_message(QueueUrl=witness.on_call_url)["Messages"]
    envelope = json.loads(raw["Body"])
    # The subject is the witness's own words; the hostile text is only inside JSON.
    assert envelope["Subject"] == "[trailguard witness] CRITICAL: CRITICAL from trailguard"
    assert json.loads(envelope["Message"])["received"]["headline"] == headline
