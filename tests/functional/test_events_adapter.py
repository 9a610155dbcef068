"""adapters/events.py: one custom event on a bus, and AWS's refusals seen as failures.

PutEvents answers 200 with FailedEntryCount for a refused entry: botocore's
Stubber gives that response shape exactly as AWS documents it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from drill.world import World
from tests.functional.helpers import aws
from trailguard import clients
from trailguard.adapters.events import bus_region, put_events
from trailguard.errors import AwsCallFailed

BUS = "arn:aws:events:eu-west-1:333333333333:event-bus/witness"


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    client = boto3.client("events", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.activate()
    regions: list[str] = []

    def fake(service: str, region: str) -> Any:
        regions.append(region)
        return client

    monkeypatch.setattr(clients, "client", fake)
    yield stubber
    stubber.assert_no_pending_responses()
    assert set(regions) <= {"eu-west-1"}, "the bus ARN's region must be used"


def _entry(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "Entries": [
            {
                "EventBusName": BUS,
                "Source": "trailguard",
                "DetailType": "trailguard alert",
                "Detail": json.dumps(detail, sort_keys=True),
            }
        ]
    }


def test_event_goes_to_the_bus_in_its_own_region(stub: Stubber) -> None:
    stub.add_response(
        "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e-1"}]}, _entry({"a": 1})
    )

    assert put_events(BUS, "trailguard", "trailguard alert", {"a": 1}) == "e-1"


def test_a_refused_entry_in_a_200_response_is_a_failure(stub: Stubber) -> None:
    stub.add_response(
        "put_events",
        {
            "FailedEntryCount": 1,
            "Entries": [{"ErrorCode": "AccessDeniedException", "ErrorMessage": "not allowed"}],
        },
        _entry({"a": 1}),
    )

    with pytest.raises(AwsCallFailed) as raised:
        put_events(BUS, "trailguard", "trailguard alert", {"a": 1})
    assert raised.value.code == "AccessDeniedException"
    assert "policy admits this account" in raised.value.hint


def test_an_error_response_names_the_permission(stub: Stubber) -> None:
    stub.add_client_error("put_events", "AccessDeniedException", "denied")

    with pytest.raises(AwsCallFailed) as raised:
        put_events(BUS, "trailguard", "trailguard alert", {"a": 1})
    assert "events:PutEvents" in raised.value.hint


def test_oversized_detail_is_refused_before_any_call(stub: Stubber) -> None:
    with pytest.raises(AwsCallFailed, match="DetailTooLarge"):
        put_events(BUS, "trailguard", "trailguard alert", {"a": "x" * 300_000})


def test_bus_region() -> None:
    assert bus_region(BUS, "us-east-1") == "eu-west-1"
    assert bus_region("default", "us-east-2") == "us-east-2"


def test_event_reaches_a_rule_on_the_default_bus_under_moto(world: World) -> None:
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName="bus-listener")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = aws("events")
    events.put_rule(
        Name="listener", EventPattern=json.dumps({"source": ["trailguard"]}), State="ENABLED"
    )
    events.put_targets(Rule="listener", Targets=[{"Id": "q", "Arn": arn}])

    event_id = put_events("default", "trailguard", "trailguard alert", {"severity": "HIGH"})

    [message] = sqs.receive_message(QueueUrl=url).get("Messages", [])
    body = json.loads(message["Body"])
    assert body["id"] == event_id
    assert body["detail"] == {"severity": "HIGH"}
    assert body["detail-type"] == "trailguard alert"
