"""CloudTrail adapter. Every call goes to the trail's home region."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.concurrency import together
from trailguard.domain.delivery import TrailStatus
from trailguard.domain.drift import Aspect, LiveTrail
from trailguard.domain.trails import Selectors, TrailRef, TrailSettings, TrailSnapshot
from trailguard.errors import AwsCallFailed

IAM_ACTIONS_READ = frozenset(
    {
        "cloudtrail:GetTrail",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetInsightSelectors",
        "cloudtrail:ListTags",
        "cloudtrail:DescribeTrails",
    }
)
IAM_ACTIONS_WRITE = frozenset(
    {
        "cloudtrail:CreateTrail",
        "cloudtrail:UpdateTrail",
        "cloudtrail:AddTags",
        "cloudtrail:RemoveTags",
        "cloudtrail:PutEventSelectors",
        "cloudtrail:PutInsightSelectors",
        "cloudtrail:StartLogging",
    }
)
# Event history: LookupEvents takes no resource-level permission (Resource "*").
IAM_ACTIONS_LOOKUP = frozenset({"cloudtrail:LookupEvents"})
# Aspects that need the trail's description; existence alone is also told by GetTrailStatus.
_DESCRIBED = frozenset(
    {Aspect.SETTINGS, Aspect.EVENT_SELECTORS, Aspect.INSIGHT_SELECTORS, Aspect.TAGS}
)


def _settings(trail: dict[str, Any]) -> TrailSettings:
    return TrailSettings(
        s3_bucket_name=trail.get("S3BucketName") or "",
        s3_key_prefix=trail.get("S3KeyPrefix") or "",
        sns_topic_name=trail.get("SnsTopicARN") or trail.get("SnsTopicName") or "",
        include_global_service_events=bool(trail.get("IncludeGlobalServiceEvents", False)),
        is_multi_region_trail=bool(trail.get("IsMultiRegionTrail", False)),
        is_organization_trail=bool(trail.get("IsOrganizationTrail", False)),
        log_file_validation_enabled=bool(trail.get("LogFileValidationEnabled", False)),
        kms_key_id=trail.get("KmsKeyId") or "",
        cloud_watch_logs_log_group_arn=trail.get("CloudWatchLogsLogGroupArn") or "",
        cloud_watch_logs_role_arn=trail.get("CloudWatchLogsRoleArn") or "",
    )


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def trail_status(response: dict[str, Any]) -> TrailStatus:
    """GetTrailStatus's live members. The `*Attempt*` and `TimeLogging*` members are
    documented as no longer in use: nothing is built on them."""
    return TrailStatus(
        is_logging=bool(response.get("IsLogging")),
        start_logging_time=_time(response.get("StartLoggingTime")),
        stop_logging_time=_time(response.get("StopLoggingTime")),
        latest_delivery_time=_time(response.get("LatestDeliveryTime")),
        latest_delivery_error=str(response.get("LatestDeliveryError") or ""),
        latest_digest_delivery_time=_time(response.get("LatestDigestDeliveryTime")),
        latest_digest_delivery_error=str(response.get("LatestDigestDeliveryError") or ""),
        latest_cloudwatch_logs_delivery_time=_time(
            response.get("LatestCloudWatchLogsDeliveryTime")
        ),
        latest_cloudwatch_logs_delivery_error=str(
            response.get("LatestCloudWatchLogsDeliveryError") or ""
        ),
        latest_notification_time=_time(response.get("LatestNotificationTime")),
        latest_notification_error=str(response.get("LatestNotificationError") or ""),
    )


def _topic_parameter(topic: str, ref: TrailRef) -> str:
    """SnsTopicName for Create/UpdateTrail: the plain name when the topic is the
    trail's own account and region (what AWS and moto both accept), else the ARN."""
    parts = topic.split(":")
    if len(parts) == 6 and parts[3] == ref.region and parts[4] == ref.account_id:
        return parts[5]
    return topic


class CloudTrailGateway:
    def _client(self, region: str) -> Any:
        return clients.client("cloudtrail", region)

    def connect(self, region: str) -> None:
        """Make the client for `region` now (CPU: its service model), so that a repair's
        first call does not wait for it."""
        self._client(region)

    def read(self, ref: TrailRef, aspects: frozenset[Aspect]) -> LiveTrail:
        """The asked aspects of the trail, its reads made at the same time (each is by
        ARN and independent of the others): one round trip, not up to five."""
        api = self._client(ref.region)
        described = bool(aspects & _DESCRIBED) or aspects == {Aspect.EXISTS}
        jobs: dict[str, Callable[[], Any]] = {}
        if described:
            jobs["trail"] = lambda: call(
                "GetTrail", "cloudtrail:GetTrail", api.get_trail, Name=ref.arn
            )["Trail"]
        if Aspect.LOGGING in aspects:
            jobs["status"] = lambda: call(
                "GetTrailStatus", "cloudtrail:GetTrailStatus", api.get_trail_status, Name=ref.arn
            )
        if described:
            jobs |= self._detail_jobs(api, ref, aspects)
        try:
            found = together(jobs)
        except AwsCallFailed as exc:
            if exc.code == "TrailNotFoundException":
                return LiveTrail(exists=False)
            raise
        raw_status = found.get("status", {})
        status = trail_status(raw_status) if "status" in found else None
        is_logging = status.is_logging if status is not None else None
        stopped = raw_status.get("StopLoggingTime")
        stopped_at = stopped if isinstance(stopped, datetime) else None
        if not described:
            return LiveTrail(
                exists=True, is_logging=is_logging, status=status, stopped_at=stopped_at
            )
        snapshot = self._snapshot_of(ref, found["trail"], found)
        return LiveTrail(
            exists=True,
            snapshot=snapshot,
            is_logging=is_logging,
            status=status,
            stopped_at=stopped_at,
        )

    def _detail_jobs(
        self, api: Any, ref: TrailRef, aspects: frozenset[Aspect]
    ) -> dict[str, Callable[[], Any]]:
        jobs: dict[str, Callable[[], Any]] = {}
        if Aspect.EVENT_SELECTORS in aspects:
            jobs["selectors"] = lambda: call(
                "GetEventSelectors",
                "cloudtrail:GetEventSelectors",
                api.get_event_selectors,
                TrailName=ref.arn,
            )
        # Always asked, not skipped on HasInsightSelectors=false: a flag read from
        # the same trail description is one more thing that can be wrong (moto
        # never sets it), and an attacker who clears insights wants it false.
        if Aspect.INSIGHT_SELECTORS in aspects:

            def insights() -> Any:
                try:
                    return call(
                        "GetInsightSelectors",
                        "cloudtrail:GetInsightSelectors",
                        api.get_insight_selectors,
                        TrailName=ref.arn,
                    )
                except AwsCallFailed as exc:
                    if exc.code != "InsightNotEnabledException":
                        raise
                    return {}

            jobs["insights"] = insights
        if Aspect.TAGS in aspects:
            jobs["tags"] = lambda: call(
                "ListTags", "cloudtrail:ListTags", api.list_tags, ResourceIdList=[ref.arn]
            )
        return jobs

    def _snapshot(
        self, ref: TrailRef, trail: dict[str, Any], aspects: frozenset[Aspect]
    ) -> TrailSnapshot:
        api = self._client(ref.region)
        return self._snapshot_of(ref, trail, together(self._detail_jobs(api, ref, aspects)))

    @staticmethod
    def _snapshot_of(ref: TrailRef, trail: dict[str, Any], found: dict[str, Any]) -> TrailSnapshot:
        selectors = found.get("selectors", {})
        tags: dict[str, str] = {}
        for resource in found.get("tags", {}).get("ResourceTagList", []):
            tags.update({t["Key"]: t.get("Value", "") for t in resource.get("TagsList", [])})
        return TrailSnapshot(
            ref=ref,
            settings=_settings(trail),
            selectors=Selectors(
                tuple(selectors.get("EventSelectors") or []),
                tuple(selectors.get("AdvancedEventSelectors") or []),
                tuple(found.get("insights", {}).get("InsightSelectors") or []),
            ),
            tags=tags,
        )

    def list_home_trails(self, region: str) -> list[TrailSnapshot]:
        """Full snapshots of every trail whose home region is `region`."""
        api = self._client(region)
        response = call(
            "DescribeTrails",
            "cloudtrail:DescribeTrails",
            api.describe_trails,
            includeShadowTrails=False,
        )
        snapshots = []
        for trail in response.get("trailList", []):
            if trail.get("HomeRegion", region) != region:
                continue
            ref = TrailRef.from_arn(trail["TrailARN"])
            snapshots.append(self._snapshot(ref, trail, frozenset(Aspect)))
        return snapshots

    def organization_trails(self, region: str) -> list[TrailRef]:
        """The organization trails homed in `region`: one DescribeTrails, nothing else."""
        api = self._client(region)
        response = call(
            "DescribeTrails",
            "cloudtrail:DescribeTrails",
            api.describe_trails,
            includeShadowTrails=False,
        )
        return [
            TrailRef.from_arn(trail["TrailARN"])
            for trail in response.get("trailList", [])
            if trail.get("IsOrganizationTrail") and trail.get("HomeRegion", region) == region
        ]

    def foreign_trails(self, region: str) -> list[tuple[str, str]]:
        """(name, home region) of trails seen from `region` but homed elsewhere."""
        api = self._client(region)
        response = call(
            "DescribeTrails",
            "cloudtrail:DescribeTrails",
            api.describe_trails,
            includeShadowTrails=True,
        )
        return [
            (str(trail["Name"]), str(trail["HomeRegion"]))
            for trail in response.get("trailList", [])
            if trail.get("HomeRegion") and trail["HomeRegion"] != region
        ]

    def create(self, baseline: TrailSnapshot) -> None:
        settings = baseline.settings
        kwargs: dict[str, Any] = {
            "Name": baseline.ref.name,
            "S3BucketName": settings.s3_bucket_name,
            "IncludeGlobalServiceEvents": settings.include_global_service_events,
            "IsMultiRegionTrail": settings.is_multi_region_trail,
            "EnableLogFileValidation": settings.log_file_validation_enabled,
            "IsOrganizationTrail": settings.is_organization_trail,
        }
        optional = {
            "S3KeyPrefix": settings.s3_key_prefix,
            "SnsTopicName": _topic_parameter(settings.sns_topic_name, baseline.ref),
            "KmsKeyId": settings.kms_key_id,
            "CloudWatchLogsLogGroupArn": settings.cloud_watch_logs_log_group_arn,
            "CloudWatchLogsRoleArn": settings.cloud_watch_logs_role_arn,
        }
        kwargs.update({key: value for key, value in optional.items() if value})
        if baseline.tags:
            kwargs["TagsList"] = [{"Key": k, "Value": v} for k, v in sorted(baseline.tags.items())]
        api = self._client(baseline.ref.region)
        call("CreateTrail", "cloudtrail:CreateTrail", api.create_trail, **kwargs)

    def update(self, baseline: TrailSnapshot) -> None:
        settings = baseline.settings
        api = self._client(baseline.ref.region)
        # Empty strings clear a setting, so every field is sent: the result is
        # the baseline whatever the attacker changed.
        call(
            "UpdateTrail",
            "cloudtrail:UpdateTrail",
            api.update_trail,
            Name=baseline.ref.arn,
            S3BucketName=settings.s3_bucket_name,
            S3KeyPrefix=settings.s3_key_prefix,
            SnsTopicName=_topic_parameter(settings.sns_topic_name, baseline.ref),
            IncludeGlobalServiceEvents=settings.include_global_service_events,
            IsMultiRegionTrail=settings.is_multi_region_trail,
            EnableLogFileValidation=settings.log_file_validation_enabled,
            CloudWatchLogsLogGroupArn=settings.cloud_watch_logs_log_group_arn,
            CloudWatchLogsRoleArn=settings.cloud_watch_logs_role_arn,
            KmsKeyId=settings.kms_key_id,
            IsOrganizationTrail=settings.is_organization_trail,
        )

    def restore_tags(self, baseline: TrailSnapshot, live_tags: dict[str, str]) -> None:
        api = self._client(baseline.ref.region)
        extra = [{"Key": key} for key in sorted(set(live_tags) - set(baseline.tags))]
        if extra:
            call(
                "RemoveTags",
                "cloudtrail:RemoveTags",
                api.remove_tags,
                ResourceId=baseline.ref.arn,
                TagsList=extra,
            )
        changed = [
            {"Key": k, "Value": v}
            for k, v in sorted(baseline.tags.items())
            if live_tags.get(k) != v
        ]
        if changed:
            call(
                "AddTags",
                "cloudtrail:AddTags",
                api.add_tags,
                ResourceId=baseline.ref.arn,
                TagsList=changed,
            )

    def put_event_selectors(self, baseline: TrailSnapshot) -> None:
        api = self._client(baseline.ref.region)
        selectors = baseline.selectors
        if selectors.uses_advanced:
            kwargs: dict[str, Any] = {
                "AdvancedEventSelectors": [dict(s) for s in selectors.advanced_event_selectors]
            }
        else:
            kwargs = {"EventSelectors": [dict(s) for s in selectors.event_selectors]}
        call(
            "PutEventSelectors",
            "cloudtrail:PutEventSelectors",
            api.put_event_selectors,
            TrailName=baseline.ref.arn,
            **kwargs,
        )

    def put_insight_selectors(self, baseline: TrailSnapshot) -> None:
        api = self._client(baseline.ref.region)
        call(
            "PutInsightSelectors",
            "cloudtrail:PutInsightSelectors",
            api.put_insight_selectors,
            TrailName=baseline.ref.arn,
            InsightSelectors=[dict(s) for s in baseline.selectors.insight_selectors],
        )

    def start_logging(self, ref: TrailRef) -> None:
        api = self._client(ref.region)
        call("StartLogging", "cloudtrail:StartLogging", api.start_logging, Name=ref.arn)


# ---------------------------------------------------------------- Event history

# LookupEvents is limited to 2 requests per second per account and region (not
# adjustable; CloudTrail API Reference, LookupEvents). Calls from one execution
# environment are spaced by this much per region, and a throttled call waits and
# tries again (after botocore's own retries) this many times, doubling the pause.
LOOKUP_SPACING_SECONDS = 0.55  # 2 per second, with a margin for clock skew
LOOKUP_THROTTLE_RETRIES = 3
LOOKUP_PAGE_SIZE = 50  # the maximum AWS allows
_last_lookup: dict[str, float] = {}


def _wait(seconds: float) -> None:
    # Not time.sleep: the pacing must really wait, also where tests make sleeps instant.
    threading.Event().wait(seconds)


@dataclass(frozen=True)
class LookupResult:
    """LookupEvents' Event structures, newest first; `more` when pages were left unread."""

    events: tuple[dict[str, Any], ...]
    more: bool


def lookup_events(
    region: str,
    start: datetime,
    end: datetime,
    *,
    attribute: tuple[str, str] | None = None,
    max_pages: int = 4,
    patient: bool = True,
    sleep: Callable[[float], None] = _wait,
    monotonic: Callable[[], float] = time.monotonic,
) -> LookupResult:
    """Event history of this account in `region` between `start` and `end` (inclusive).

    At most `max_pages` pages of 50 are read: a bound on the time and on the rate
    budget that a reconciler run spends; `more` says when events were left unread.
    Not `patient`: rather than wait for the rate budget (an event handler in a storm),
    fail at once with code `RateBudgetInUse`; the reconciler reads it later.
    """
    last = _last_lookup.get(region)
    if not patient and last is not None and monotonic() - last < LOOKUP_SPACING_SECONDS:
        raise AwsCallFailed(
            "LookupEvents",
            "RateBudgetInUse",
            "Event history was read less than half a second ago",
            "the reconciler's next run reads Event history for this window",
        )
    api = clients.client("cloudtrail", region)
    kwargs: dict[str, Any] = {
        "StartTime": start,
        "EndTime": end,
        "MaxResults": LOOKUP_PAGE_SIZE,
    }
    if attribute is not None:
        key, value = attribute
        kwargs["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
    events: list[dict[str, Any]] = []
    for _ in range(max_pages):
        page = _paced_lookup(api, region, kwargs, sleep, monotonic)
        events.extend(page.get("Events", []))
        token = page.get("NextToken")
        if not token:
            return LookupResult(tuple(events), more=False)
        kwargs["NextToken"] = token
    return LookupResult(tuple(events), more=True)


def _paced_lookup(
    api: Any,
    region: str,
    kwargs: dict[str, Any],
    sleep: Callable[[float], None],
    monotonic: Callable[[], float],
) -> dict[str, Any]:
    pause = 1.0
    for attempt in range(LOOKUP_THROTTLE_RETRIES + 1):
        last = _last_lookup.get(region)
        if last is not None:
            wait = LOOKUP_SPACING_SECONDS - (monotonic() - last)
            if wait > 0:
                sleep(wait)
        _last_lookup[region] = monotonic()
        try:
            page: dict[str, Any] = call(
                "LookupEvents", "cloudtrail:LookupEvents", api.lookup_events, **kwargs
            )
            return page
        except AwsCallFailed as exc:
            if exc.code != "ThrottlingException" or attempt == LOOKUP_THROTTLE_RETRIES:
                raise
            sleep(pause)
            pause *= 2
    raise AssertionError("unreachable")  # pragma: no cover


class EventHistoryGateway:
    """The EventHistory port: the write events of a time range, paced and bounded."""

    def __init__(self, max_pages: int = 4) -> None:
        self._max_pages = max_pages

    def lookup(
        self, region: str, start: datetime, end: datetime, *, patient: bool = True
    ) -> tuple[list[Mapping[str, Any]], bool]:
        # Write calls only: Event history's one lookup attribute does the filtering, so
        # the page budget is not spent on reads.
        result = lookup_events(
            region,
            start,
            end,
            attribute=("ReadOnly", "false"),
            max_pages=self._max_pages,
            patient=patient,
        )
        return list(result.events), result.more
