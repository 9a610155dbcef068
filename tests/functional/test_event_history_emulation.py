"""drill/emulation/event_history.py answers LookupEvents as AWS documents it: the
calls moto really served, one lookup attribute, time range, pages of at most 50,
2 requests per second, and a delay before events appear."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from drill.world import World
from tests.functional.helpers import aws


def _raw_client() -> Any:
    # No retries: the emulation's own answers are under test, not botocore's.
    return boto3.client(
        "cloudtrail", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
    )


def _names(response: dict[str, Any]) -> list[str]:
    return [e["EventName"] for e in response["Events"]]


def test_calls_really_made_are_in_event_history(world: World) -> None:
    aws("iam").create_user(UserName="mallory")
    aws("iam").create_access_key(UserName="mallory")
    found = aws("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateAccessKey"}]
    )
    [event] = found["Events"]
    assert event["EventSource"] == "iam.amazonaws.com" and event["ReadOnly"] == "false"
    assert '"awsRegion": "us-east-1"' in event["CloudTrailEvent"]


def test_one_attribute_a_time_range_and_pages_of_at_most_50(world: World) -> None:
    world.emulation.history.rate_per_second = 1000  # the rate has its own test
    start = datetime.now(UTC)
    for number in range(7):
        aws("iam").create_user(UserName=f"user-{number}")
    client = _raw_client()
    with pytest.raises(ClientError) as two:
        client.lookup_events(
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "CreateUser"},
                {"AttributeKey": "ReadOnly", "AttributeValue": "false"},
            ]
        )
    assert two.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    with pytest.raises(ClientError) as too_many:
        client.lookup_events(MaxResults=51)
    assert too_many.value.response["Error"]["Code"] == "InvalidMaxResultsException"

    pages = (
        aws("cloudtrail")
        .get_paginator("lookup_events")
        .paginate(
            StartTime=start,
            LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}],
            PaginationConfig={"PageSize": 3},
        )
    )
    names = [n for page in pages for n in _names(page)]
    assert names == ["CreateUser"] * 7
    before = aws("cloudtrail").lookup_events(EndTime=start - timedelta(seconds=1))
    assert "CreateUser" not in _names(before)


def test_more_than_two_requests_a_second_are_throttled(world: World) -> None:
    client = _raw_client()
    codes = []
    for _ in range(3):
        try:
            client.lookup_events(MaxResults=1)
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert codes == ["ok", "ok", "ThrottlingException"]


def test_events_appear_after_the_delay(world: World) -> None:
    world.emulation.history.delay_seconds = 3600
    aws("iam").create_user(UserName="late")
    found = aws("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}]
    )
    assert "late" not in str(found["Events"])
    world.emulation.history.delay_seconds = 0
    found = aws("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateUser"}]
    )
    assert "late" in str(found["Events"])


def test_trailguards_calls_are_its_roles(world: World) -> None:
    world.invoke("ReconcileInvariantsFunction", {"detail-type": "Scheduled Event", "detail": {}})
    found = aws("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetTrailStatus"}]
    )
    assert any("assumed-role" in e["CloudTrailEvent"] for e in found["Events"])
