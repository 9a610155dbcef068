"""LookupEvents by EventId, with AWS's own response shapes (botocore Stubber)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from trailguard import clients
from trailguard.adapters.event_records import EventRecordsGateway, recorded_event

EVENT_ID = "00000000-0000-0000-1234-567890ad4123"


def _structure(**record: Any) -> dict[str, Any]:
    return {
        "EventId": EVENT_ID,
        "EventName": "UpdateTrail",
        "ReadOnly": "false",
        "EventTime": datetime(2026, 11, 24, 10, 0, tzinfo=UTC),
        "EventSource": "cloudtrail.amazonaws.com",
        "Username": "terraform",
        "Resources": [],
        "CloudTrailEvent": json.dumps(
            {
                "eventID": EVENT_ID,
                "eventName": "UpdateTrail",
                "userIdentity": {
                    "type": "AssumedRole",
                    "arn": "arn:aws:sts::111111111111:assumed-role/iac-deploy/terraform",
                    "sessionContext": {
                        "sessionIssuer": {"arn": "arn:aws:iam::111111111111:role/iac-deploy"}
                    },
                },
                **record,
            }
        ),
    }


@pytest.fixture
def stubber(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    with Stubber(client) as stub:
        monkeypatch.setattr(clients, "client", lambda service, region: client)
        yield stub
        stub.assert_no_pending_responses()


def test_an_event_in_history_is_found_with_its_recorded_caller(stubber: Stubber) -> None:
    stubber.add_response(
        "lookup_events",
        {"Events": [_structure()]},
        {
            "LookupAttributes": [{"AttributeKey": "EventId", "AttributeValue": EVENT_ID}],
            "StartTime": ANY,
            "EndTime": ANY,
            "MaxResults": 1,
        },
    )

    found = EventRecordsGateway().find(EVENT_ID, "us-east-1")

    assert found is not None
    assert (found.event_name, found.principal_arn, found.error_code) == (
        "UpdateTrail",
        "arn:aws:iam::111111111111:role/iac-deploy",
        "",
    )


def test_an_event_not_in_history_is_none(stubber: Stubber) -> None:
    stubber.add_response("lookup_events", {"Events": []})

    assert EventRecordsGateway().find(EVENT_ID, "us-east-1") is None


def test_a_failed_call_keeps_its_error_code_and_text_is_cleaned() -> None:
    found = recorded_event(_structure(errorCode="AccessDenied\u0007"))

    assert found is not None
    assert found.error_code == "AccessDenied\N{REPLACEMENT CHARACTER}"


def test_a_record_that_is_not_json_is_none() -> None:
    assert recorded_event({"EventId": EVENT_ID, "CloudTrailEvent": "{not json"}) is None
