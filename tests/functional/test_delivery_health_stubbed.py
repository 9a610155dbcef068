"""GetTrailStatus's delivery fields and LookupEvents' paging and throttling, with the
response shapes of AWS's own model (botocore's Stubber validates them)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from tests.fakes import BASELINE, REF
from tests.functional.test_aws_behaviour_stubbed import StubbedClients
from trailguard import clients
from trailguard.adapters import cloudtrail
from trailguard.adapters.cloudtrail import CloudTrailGateway, lookup_events
from trailguard.domain.delivery import Channel, Destination, delivery_problems
from trailguard.domain.drift import Aspect
from trailguard.errors import AwsCallFailed

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
WHERE = Destination(
    bucket=BASELINE.settings.s3_bucket_name,
    kms_key=BASELINE.settings.kms_key_id,
    log_group="arn:aws:logs:us-east-1:111111111111:log-group:org-trail:*",
    logs_role="arn:aws:iam::111111111111:role/CloudTrailToCloudWatchLogs",
    topic="arn:aws:sns:us-east-1:111111111111:org-trail-deliveries",
    log_file_validation=True,
)
HEALTHY = {
    "IsLogging": True,
    "StartLoggingTime": NOW - timedelta(days=3),
    "LatestDeliveryTime": NOW - timedelta(minutes=4),
    "LatestDigestDeliveryTime": NOW - timedelta(minutes=40),
    "LatestCloudWatchLogsDeliveryTime": NOW - timedelta(minutes=3),
    "LatestNotificationTime": NOW - timedelta(minutes=4),
    # Documented as no longer in use: present in real answers, ignored by trailguard.
    "LatestDeliveryAttemptTime": "2026-12-01T09:56:00Z",
    "LatestDeliveryAttemptSucceeded": "2026-12-01T09:56:00Z",
    "TimeLoggingStarted": "2026-11-28T10:00:00Z",
}


@pytest.fixture
def stubbed(monkeypatch: pytest.MonkeyPatch) -> Iterator[StubbedClients]:
    fake = StubbedClients()
    monkeypatch.setattr(clients, "client", fake)
    cloudtrail._last_lookup.clear()
    yield fake
    for stubber in fake.stubbers.values():
        stubber.assert_no_pending_responses()


def _status(stubbed: StubbedClients, response: dict[str, Any]) -> Any:
    stubbed.stub("cloudtrail").add_response("get_trail_status", response, {"Name": REF.arn})
    live = CloudTrailGateway().read(REF, frozenset({Aspect.LOGGING}))
    assert live.status is not None
    return live.status


def test_a_healthy_status_has_no_problem(stubbed: StubbedClients) -> None:
    status = _status(stubbed, HEALTHY)
    assert status.is_logging and status.latest_delivery_error == ""
    assert status.latest_digest_delivery_time == NOW - timedelta(minutes=40)
    assert delivery_problems(status, WHERE, NOW) == []


@pytest.mark.parametrize(
    ("field", "code", "channel", "cause"),
    [
        ("LatestDeliveryError", "NoSuchBucket", Channel.LOG_FILES, "does not exist"),
        ("LatestDeliveryError", "AccessDenied", Channel.LOG_FILES, "bucket policy"),
        ("LatestDigestDeliveryError", "AccessDenied", Channel.DIGEST_FILES, "bucket policy"),
        ("LatestDeliveryError", "KMS.DisabledException", Channel.LOG_FILES, "is disabled"),
        (
            "LatestDigestDeliveryError",
            "KMS.KMSInvalidStateException",
            Channel.DIGEST_FILES,
            "pending deletion",
        ),
        (
            "LatestCloudWatchLogsDeliveryError",
            "ResourceNotFoundException",
            Channel.CLOUDWATCH_LOGS,
            "log_group_marker",
        ),
        (
            "LatestCloudWatchLogsDeliveryError",
            "AccessDeniedException",
            Channel.CLOUDWATCH_LOGS,
            "CloudTrailToCloudWatchLogs",
        ),
        ("LatestNotificationError", "NotFound", Channel.NOTIFICATION, "org-trail-deliveries"),
    ],
)
def test_each_error_field_is_a_named_problem(
    stubbed: StubbedClients, field: str, code: str, channel: Channel, cause: str
) -> None:
    status = _status(stubbed, {**HEALTHY, field: code})
    [problem] = delivery_problems(status, WHERE, NOW)
    assert problem.channel is channel and problem.code == code
    expected = "does not exist" if cause == "log_group_marker" else cause
    assert expected in problem.cause
    assert problem.manual_action


def test_no_digest_for_longer_than_the_threshold_is_a_problem(stubbed: StubbedClients) -> None:
    status = _status(stubbed, {**HEALTHY, "LatestDigestDeliveryTime": NOW - timedelta(hours=3)})
    [problem] = delivery_problems(status, WHERE, NOW)
    assert problem.channel is Channel.HEARTBEAT and "3.0 h" in problem.cause
    # A longer threshold (the template parameter) tolerates it.
    assert delivery_problems(status, WHERE, NOW, stale_after=timedelta(hours=4)) == []


def test_a_stopped_trail_is_not_judged_on_delivery(stubbed: StubbedClients) -> None:
    status = _status(
        stubbed,
        {**HEALTHY, "IsLogging": False, "StopLoggingTime": NOW, "LatestDeliveryError": "x"},
    )
    assert status.stop_logging_time == NOW
    assert delivery_problems(status, WHERE, NOW) == []


def _event(number: int) -> dict[str, Any]:
    return {
        "EventId": f"id-{number}",
        "EventName": "CreateAccessKey",
        "ReadOnly": "false",
        "EventTime": NOW - timedelta(seconds=number),
        "EventSource": "iam.amazonaws.com",
        "Username": "root",
        "CloudTrailEvent": "{}",
    }


def _lookup_request(token: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {
        "StartTime": NOW - timedelta(hours=1),
        "EndTime": NOW,
        "MaxResults": 50,
    }
    if token:
        request["NextToken"] = token
    return request


def test_lookup_events_reads_every_page_and_spaces_its_calls(stubbed: StubbedClients) -> None:
    stub: Stubber = stubbed.stub("cloudtrail")
    stub.add_response(
        "lookup_events",
        {"Events": [_event(n) for n in range(50)], "NextToken": "page-2"},
        _lookup_request(),
    )
    stub.add_response("lookup_events", {"Events": [_event(50)]}, _lookup_request("page-2"))
    pauses: list[float] = []
    result = lookup_events(
        "us-east-1", NOW - timedelta(hours=1), NOW, sleep=pauses.append, monotonic=lambda: 100.0
    )
    assert len(result.events) == 51 and not result.more
    # Two calls in the same instant: the second waits its half second (2 requests/s).
    assert pauses == [cloudtrail.LOOKUP_SPACING_SECONDS]


def test_lookup_events_stops_at_its_page_bound_and_says_so(stubbed: StubbedClients) -> None:
    stub: Stubber = stubbed.stub("cloudtrail")
    stub.add_response(
        "lookup_events", {"Events": [_event(1)], "NextToken": "page-2"}, _lookup_request()
    )
    result = lookup_events(
        "us-east-1", NOW - timedelta(hours=1), NOW, max_pages=1, sleep=lambda s: None
    )
    assert result.more and len(result.events) == 1


def test_a_throttled_lookup_waits_and_tries_again(stubbed: StubbedClients) -> None:
    stub: Stubber = stubbed.stub("cloudtrail")
    stub.add_client_error(
        "lookup_events",
        service_error_code="ThrottlingException",
        service_message="Rate exceeded",
        http_status_code=400,
        expected_params=_lookup_request(),
    )
    stub.add_response("lookup_events", {"Events": [_event(1)]}, _lookup_request())
    pauses: list[float] = []
    clock = iter(range(0, 100, 10))
    result = lookup_events(
        "us-east-1",
        NOW - timedelta(hours=1),
        NOW,
        sleep=pauses.append,
        monotonic=lambda: float(next(clock)),
    )
    assert [e["EventId"] for e in result.events] == ["id-1"]
    assert pauses == [1.0]  # backed off, then the retry was far enough from the last call


def test_lookup_events_gives_up_after_repeated_throttling(stubbed: StubbedClients) -> None:
    stub: Stubber = stubbed.stub("cloudtrail")
    for _ in range(cloudtrail.LOOKUP_THROTTLE_RETRIES + 1):
        stub.add_client_error(
            "lookup_events", service_error_code="ThrottlingException", http_status_code=400
        )
    pauses: list[float] = []
    with pytest.raises(AwsCallFailed) as failed:
        lookup_events("us-east-1", NOW - timedelta(hours=1), NOW, sleep=pauses.append)
    assert failed.value.code == "ThrottlingException"
    assert [p for p in pauses if p >= 1.0] == [1.0, 2.0, 4.0]
