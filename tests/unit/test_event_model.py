from __future__ import annotations

import copy
from typing import Any

import pytest

from trailguard.domain.events import parse_api_call_event
from trailguard.domain.trails import TrailRef
from trailguard.errors import InvalidEvent


def test_sample_event_parses_into_typed_fields(event: Any) -> None:
    parsed = parse_api_call_event(event("stop_logging_console_sso.json"))

    assert parsed.event_name == "StopLogging"
    assert parsed.event_source == "cloudtrail.amazonaws.com"
    assert parsed.account_id == "111111111111"
    assert parsed.principal.type == "AssumedRole"
    assert parsed.principal.acting_arn.startswith(
        "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/"
    )
    assert parsed.user_agent == "console.amazonaws.com"
    assert not parsed.failed


def test_error_code_null_means_success(event: Any) -> None:
    raw = event("stop_logging.json")
    raw["detail"]["errorCode"] = None

    assert not parse_api_call_event(raw).failed


def _broken(raw: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(raw)
    target = copied
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copied


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        (["detail-type"], "Scheduled Event", "detail-type"),
        (["source"], "aws.s3", "source"),
        (["source"], ["aws.cloudtrail"], "source"),
        (["detail"], "x", "detail"),
        (["detail", "eventSource"], "s3.amazonaws.com", "eventSource"),
        (["detail", "eventID"], KeyError, "eventID"),
        (["detail", "eventID"], "x" * 65, "eventID"),
        (["detail", "eventName"], "Stop Logging; rm -rf", "eventName"),
        (["detail", "awsRegion"], "moon-1", "awsRegion"),
        (["detail", "recipientAccountId"], "12345", "recipientAccountId"),
        (["detail", "eventTime"], "yesterday", "eventTime"),
        (["detail", "eventTime"], "2026-11-24T10:00:00", "time zone"),
        (["detail", "errorCode"], 42, "errorCode"),
        (["detail", "requestParameters"], ["name"], "requestParameters"),
    ],
)
def test_malformed_events_are_rejected_with_reason(
    event: Any, path: list[str], value: Any, reason: str
) -> None:
    raw = _broken(event("stop_logging.json"), path, value)

    with pytest.raises(InvalidEvent, match=reason):
        parse_api_call_event(raw)


def test_not_an_object_is_rejected() -> None:
    with pytest.raises(InvalidEvent):
        parse_api_call_event(["not", "an", "event"])


def test_hostile_user_agent_is_cleaned_and_bounded(event: Any) -> None:
    raw = event("stop_logging.json")
    raw["detail"]["userAgent"] = "\x1b[31mevil\r\n" + "A" * 10_000

    parsed = parse_api_call_event(raw)

    assert "\x1b" not in parsed.user_agent and "\n" not in parsed.user_agent
    assert len(parsed.user_agent) <= 256


def test_trail_named_by_arn_takes_region_and_account_from_the_arn() -> None:
    ref = TrailRef.parse(
        "arn:aws:cloudtrail:eu-west-1:222222222222:trail/org-trail", "us-east-1", "111111111111"
    )

    assert ref == TrailRef("org-trail", "eu-west-1", "222222222222")


@pytest.mark.parametrize(
    "name",
    ["", "ab", "-trail", "trail-", "x" * 129, "a/b", "org trail", "org-trail\x00", "<script>"],
)
def test_invalid_trail_names_are_rejected(name: str) -> None:
    with pytest.raises(InvalidEvent):
        TrailRef.parse(name, "us-east-1", "111111111111")
