"""In-memory fakes of the ports, recording every call, for unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from trailguard.domain.alerts import Alert
from trailguard.domain.drift import Aspect, LiveTrail
from trailguard.domain.trails import (
    Selectors,
    TrailBaseline,
    TrailRef,
    TrailSettings,
    TrailSnapshot,
)
from trailguard.engine.remediation import Dependencies
from trailguard.errors import AwsCallFailed
from trailguard.ports import BaselineRead, Claim, LedgerEntry, Precondition, RecordedEvent
from trailguard.render.fallback import render_safely
from trailguard.render.sns import RenderedAlert
from trailguard.settings import Settings

ACCOUNT = "111111111111"
REGION = "us-east-1"
REF = TrailRef("org-trail", REGION, ACCOUNT)
SETTINGS = Settings(
    region=REGION,
    alert_topic_arn=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts",
    baseline_table_name="baselines",
    ledger_table_name="ledger",
    protected_trail_names=(),
    allowed_principal_arns=(),
    remediator_role_arns=(f"arn:aws:iam::{ACCOUNT}:role/trailguard-RestoreTrailRole-EXAMPLE",),
    detect_only=False,
    alert_on_other_service_principals=False,
)
BASELINE = TrailSnapshot(
    ref=REF,
    settings=TrailSettings(
        s3_bucket_name="org-trail-logs",
        s3_key_prefix="org",
        include_global_service_events=True,
        is_multi_region_trail=True,
        is_organization_trail=True,
        log_file_validation_enabled=True,
        kms_key_id=f"arn:aws:kms:{REGION}:{ACCOUNT}:key/example",
    ),
    selectors=Selectors(
        event_selectors=(
            {"ReadWriteType": "All", "IncludeManagementEvents": True, "DataResources": []},
        ),
        insight_selectors=({"InsightType": "ApiCallRateInsight"},),
    ),
    tags={"owner": "security"},
)


@dataclass
class FakeTrails:
    """One account's trails; `fail` makes a named call raise."""

    trails: dict[TrailRef, TrailSnapshot] = field(default_factory=dict)
    logging: dict[TrailRef, bool] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    fail: dict[str, AwsCallFailed] = field(default_factory=dict)
    # StopLoggingTime per trail; a trail not listed was stopped just now (None: never).
    stopped_at: dict[TrailRef, datetime | None] = field(default_factory=dict)

    def _record(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail:
            raise self.fail[name]

    def read(self, ref: TrailRef, aspects: frozenset[Aspect]) -> LiveTrail:
        self._record("read")
        if ref not in self.trails:
            return LiveTrail(exists=False)
        stopped = self.stopped_at.get(ref, datetime.now(UTC))
        return LiveTrail(True, self.trails[ref], self.logging.get(ref, False), stopped_at=stopped)

    def list_home_trails(self, region: str) -> list[TrailSnapshot]:
        return [s for r, s in self.trails.items() if r.region == region]

    def foreign_trails(self, region: str) -> list[tuple[str, str]]:
        return [(r.name, r.region) for r in self.trails if r.region != region]

    def organization_trails(self, region: str) -> list[TrailRef]:
        return [
            r
            for r, s in self.trails.items()
            if r.region == region and s.settings.is_organization_trail
        ]

    def create(self, baseline: TrailSnapshot) -> None:
        self._record("CreateTrail")
        self.trails[baseline.ref] = replace(baseline, selectors=Selectors())
        self.logging[baseline.ref] = False

    def update(self, baseline: TrailSnapshot) -> None:
        self._record("UpdateTrail")
        self.trails[baseline.ref] = replace(self.trails[baseline.ref], settings=baseline.settings)

    def restore_tags(self, baseline: TrailSnapshot, live_tags: dict[str, str]) -> None:
        self._record("RestoreTags")
        self.trails[baseline.ref] = replace(self.trails[baseline.ref], tags=dict(baseline.tags))

    def put_event_selectors(self, baseline: TrailSnapshot) -> None:
        self._record("PutEventSelectors")
        current = self.trails[baseline.ref]
        self.trails[baseline.ref] = replace(
            current,
            selectors=replace(
                current.selectors,
                event_selectors=baseline.selectors.event_selectors,
                advanced_event_selectors=baseline.selectors.advanced_event_selectors,
            ),
        )

    def put_insight_selectors(self, baseline: TrailSnapshot) -> None:
        self._record("PutInsightSelectors")
        current = self.trails[baseline.ref]
        self.trails[baseline.ref] = replace(
            current,
            selectors=replace(
                current.selectors, insight_selectors=baseline.selectors.insight_selectors
            ),
        )

    def start_logging(self, ref: TrailRef) -> None:
        self._record("StartLogging")
        self.logging[ref] = True


@dataclass
class FakeTrustedAccess:
    enabled: set[str] = field(default_factory=lambda: {"cloudtrail.amazonaws.com"})
    calls: list[str] = field(default_factory=list)
    enable_works: bool = True

    def is_enabled(self, service_principal: str) -> bool:
        self.calls.append("List")
        return service_principal in self.enabled

    def enable(self, service_principal: str) -> None:
        self.calls.append("Enable")
        if self.enable_works:
            self.enabled.add(service_principal)


@dataclass
class FakeRoles:
    present: set[str] = field(default_factory=lambda: {"cloudtrail.amazonaws.com"})
    calls: list[str] = field(default_factory=list)

    def exists(self, service_name: str) -> bool:
        self.calls.append("List")
        return service_name in self.present

    def create(self, service_name: str) -> None:
        self.calls.append("Create")
        self.present.add(service_name)


@dataclass
class InMemoryBaselineStore:
    baselines: dict[TrailRef, TrailBaseline] = field(default_factory=dict)
    history: list[TrailBaseline] = field(default_factory=list)

    # What a verified read reports (set by a test to play a tampered baseline).
    problems: dict[TrailRef, tuple[str, ...]] = field(default_factory=dict)
    put_back: list[tuple[TrailRef, str]] = field(default_factory=list)

    def get(self, ref: TrailRef) -> TrailBaseline | None:
        return self.baselines.get(ref)

    def read(self, ref: TrailRef) -> BaselineRead:
        baseline = self.baselines.get(ref)
        version = f"V#{baseline.captured_at}" if baseline else ""
        return BaselineRead(baseline, self.problems.get(ref, ()), version)

    def repair_current(self, ref: TrailRef, version: str) -> None:
        self.put_back.append((ref, version))
        self.problems.pop(ref, None)

    def refs(self) -> list[TrailRef]:
        return sorted(set(self.baselines) | set(self.problems))

    def has_baseline(self, ref: TrailRef) -> bool:
        return ref in self.baselines

    def existence_check(self, ref: TrailRef) -> None:
        return None  # the in-memory store answers has_baseline itself

    def put(self, baseline: TrailBaseline) -> None:
        self.baselines[baseline.ref] = baseline
        self.history.append(baseline)

    def all(self) -> Iterator[TrailBaseline]:
        return iter(list(self.baselines.values()))


@dataclass
class RecordingAlertSink:
    alerts: list[Alert] = field(default_factory=list)
    broken: bool = False

    rendered: list[RenderedAlert] = field(default_factory=list)

    def publish(self, alert: Alert) -> str:
        message_id = self.publish_rendered(render_safely(alert))
        self.alerts.append(alert)
        return message_id

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        if self.broken:
            raise RuntimeError("SNS unavailable")
        self.rendered.append(rendered)
        return f"message-{len(self.rendered)}"


def clock() -> datetime:
    return datetime(2026, 11, 24, 10, 0, 2, tzinfo=UTC)


def make_deps(settings: Settings = SETTINGS, **overrides: object) -> Dependencies:
    store = InMemoryBaselineStore()
    store.put(TrailBaseline(BASELINE, "2026-11-01T00:00:00+00:00", "cloudformation", "deploy"))
    trails = FakeTrails(trails={REF: BASELINE}, logging={REF: True})
    deps = Dependencies(
        settings=settings,
        trusted_access=FakeTrustedAccess(),
        trails=trails,
        roles=FakeRoles(),
        baselines=store,
        alerts=RecordingAlertSink(),
        clock=clock,
        sleep=lambda seconds: None,
    )
    for name, value in overrides.items():
        setattr(deps, name, value)
    return deps


@dataclass
class InMemoryLedger:
    entries: dict[str, LedgerEntry] = field(default_factory=dict)
    unavailable: bool = False

    def _check(self) -> None:
        if self.unavailable:
            raise AwsCallFailed("PutItem", "ResourceNotFoundException", "no table", "check it")

    def claim(self, key: str, precondition: Precondition | None = None) -> LedgerEntry:
        self._check()
        if key in self.entries:
            return self.entries[key]
        self.entries[key] = LedgerEntry(Claim.IN_PROGRESS)
        return LedgerEntry(Claim.NEW)

    def complete(self, key: str, summary: dict[str, Any]) -> None:
        self._check()
        self.entries[key] = LedgerEntry(Claim.DONE, summary)

    def hold_alert(self, key: str, rendered: RenderedAlert, summary: dict[str, Any]) -> None:
        self._check()
        self.entries[key] = LedgerEntry(Claim.ALERT_PENDING, summary, rendered)

    def release(self, key: str) -> None:
        self._check()
        self.entries.pop(key, None)


@dataclass
class FakeEventRecords:
    """CloudTrail Event history as LookupEvents would answer it: only what was recorded."""

    recorded: dict[str, RecordedEvent] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    def find(self, event_id: str, region: str) -> RecordedEvent | None:
        self.lookups.append(event_id)
        return self.recorded.get(event_id)

    def record(self, raw: dict[str, Any]) -> dict[str, Any]:
        """Record an EventBridge event's CloudTrail record, as CloudTrail would; returns it."""
        detail = raw["detail"]
        identity = detail.get("userIdentity", {})
        issuer = identity.get("sessionContext", {}).get("sessionIssuer", {})
        self.recorded[detail["eventID"]] = RecordedEvent(
            event_id=detail["eventID"],
            event_name=detail["eventName"],
            principal_arn=issuer.get("arn") or identity.get("arn", ""),
            error_code=detail.get("errorCode", ""),
        )
        return raw
