"""What every event handler does around its service: parse, guard, report.

Bad input is rejected with a logged reason and never raises (a raise would
make Lambda retry an event that can never succeed). A failure to act or to
verify raises after a CRITICAL alert, so that retries and the on-failure
destination take over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from trailguard.alerts import Outcome, Severity
from trailguard.errors import AwsCallFailed, InvalidEvent, RemediationFailed
from trailguard.event_model import ApiCallEvent, parse_api_call_event
from trailguard.remediation import Dependencies, Result, Subject, notify
from trailguard.runtime import dependencies

logger = logging.getLogger("trailguard")

Service = Callable[[ApiCallEvent, Dependencies], Result]


class MetricSink(Protocol):
    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


def _count(metrics: MetricSink | None, name: str) -> None:
    if metrics is not None:
        metrics.add_metric(name=name, unit="Count", value=1)


def rejected(reason: str, metrics: MetricSink | None) -> dict[str, Any]:
    logger.warning("event rejected, no action", extra={"reason": reason})
    _count(metrics, "EventsRejected")
    return {"outcome": "rejected", "reason": reason}


def handle_api_call(
    raw_event: object,
    service: Service,
    metrics: MetricSink | None = None,
    deps: Dependencies | None = None,
) -> dict[str, Any]:
    try:
        event = parse_api_call_event(raw_event)
    except InvalidEvent as exc:
        return rejected(str(exc), metrics)
    logger.info(
        "event received",
        extra={
            "event_id": event.event_id,
            "event_name": event.event_name,
            "principal": event.principal.acting_arn,
            "error_code": event.error_code or None,
        },
    )
    deps = deps or dependencies()
    try:
        result = service(event, deps)
    except InvalidEvent as exc:
        return rejected(str(exc), metrics)
    except RemediationFailed:
        _count(metrics, "RemediationsFailed")
        raise
    except AwsCallFailed as exc:
        # Failed before any repair began (reading state): still CRITICAL.
        _count(metrics, "RemediationsFailed")
        subject = Subject(event.event_name, "state check", event.account_id, event.region, event)
        alert = subject.alert(
            Severity.CRITICAL,
            Outcome.REMEDIATION_FAILED,
            "could not check state; drift may be unrepaired",
            manual_action=exc.hint,
            detail=str(exc),
        )
        try:
            notify(deps, alert)
        except Exception as alert_error:
            raise RemediationFailed(str(exc)) from alert_error
        raise RemediationFailed(str(exc)) from exc
    _count(metrics, f"Outcome_{result.outcome.value}")
    logger.info("done", extra=result.summary())
    return result.summary()
