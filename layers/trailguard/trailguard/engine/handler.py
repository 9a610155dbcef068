"""What every event handler does around its service: parse, deduplicate, report.

- Bad input is rejected with a logged reason and never raises: a raise would
  make Lambda retry an event that can never succeed.
- Each CloudTrail event (detail.eventID) has one effect however often it is
  delivered: the delivery ledger remembers it. If the ledger is unavailable the
  service runs anyway; it re-reads live state, so a repeat is safe.
- A failure to act or verify raises after a CRITICAL alert, so that retries
  and the on-failure destination take over.
- A repair whose alert could not be published keeps the alert in the ledger
  and raises: the retry publishes it without repairing a second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from trailguard.concurrency import together
from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.events import ApiCallEvent, parse_api_call_event
from trailguard.engine.remediation import Dependencies, Result, Subject, fail_loudly
from trailguard.errors import AlertNotDelivered, AwsCallFailed, InvalidEvent, RemediationFailed
from trailguard.ports import Claim, DeliveryLedger, Precondition
from trailguard.render.sns import RenderedAlert
from trailguard.runtime import dependencies

logger = logging.getLogger("trailguard")

Service = Callable[[ApiCallEvent, Dependencies], Result]
# What must exist for an event to concern the service, checked with the claim (one
# call, not two); None when there is nothing to check or the answer is known.
PreconditionOf = Callable[[ApiCallEvent, Dependencies], Precondition | None]
# Reads the service will need, made at the same time as the claim (by key, into
# deps.prefetched); a failed prefetch only means the service reads for itself.
Prefetch = Callable[[ApiCallEvent, Dependencies], dict[str, Any]]


class MetricSink(Protocol):
    def add_metric(self, name: str, unit: Any, value: float) -> None: ...


def _count(metrics: MetricSink | None, name: str) -> None:
    if metrics is not None:
        metrics.add_metric(name=name, unit="Count", value=1)


def rejected(reason: str, metrics: MetricSink | None) -> dict[str, Any]:
    logger.warning("event rejected, no action", extra={"reason": reason})
    _count(metrics, "EventsRejected")
    return {"outcome": "rejected", "reason": reason}


class _Ledger:
    """The ledger's calls, each degrading to 'no ledger' when the store fails."""

    def __init__(self, ledger: DeliveryLedger | None, key: str, metrics: MetricSink | None):
        self._ledger = ledger
        self._key = key
        self._metrics = metrics

    def _guarded(self, what: str, action: Callable[[DeliveryLedger], Any]) -> Any:
        if self._ledger is None:
            return None
        try:
            return action(self._ledger)
        except AwsCallFailed as exc:
            logger.warning(
                "delivery ledger unavailable; continuing without duplicate suppression",
                extra={"step": what, "error": str(exc)},
            )
            _count(self._metrics, "LedgerUnavailable")
            self._ledger = None
            return None

    def claim(self, precondition: Precondition | None = None) -> Any:
        return self._guarded("claim", lambda ledger: ledger.claim(self._key, precondition))

    def complete(self, summary: dict[str, Any]) -> None:
        self._guarded("complete", lambda ledger: ledger.complete(self._key, summary))

    def hold_alert(self, rendered: RenderedAlert, summary: dict[str, Any]) -> None:
        self._guarded("hold_alert", lambda ledger: ledger.hold_alert(self._key, rendered, summary))

    def release(self) -> None:
        self._guarded("release", lambda ledger: ledger.release(self._key))


def handle_api_call(
    raw_event: object,
    service: Service,
    metrics: MetricSink | None = None,
    deps: Dependencies | None = None,
    *,
    precondition: PreconditionOf | None = None,
    prefetch: Prefetch | None = None,
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
        checked = _precondition(precondition, event, deps)
    except InvalidEvent as exc:
        return rejected(str(exc), metrics)
    ledger = _Ledger(deps.ledger, f"{event.event_source}/{event.event_id}", metrics)
    entry = _claim_and_prefetch(ledger, checked, prefetch, event, deps)
    # The alert's context and clients are made on a background thread while the repair
    # waits on AWS (engine/destinations.py); started after the claim and the repair's own
    # clients, so as not to compete with them. A sink without the need has no `prepare`.
    prepare = getattr(deps.alerts, "prepare", None)
    if callable(prepare):
        prepare()
    if entry is not None and entry.claim is not Claim.NEW:
        return _repeat(entry, deps, ledger, metrics)

    try:
        result = service(event, deps)
    except InvalidEvent as exc:
        return rejected(str(exc), metrics)
    except AlertNotDelivered as exc:
        _count(metrics, "AlertsNotDelivered")
        if isinstance(exc.rendered, RenderedAlert):
            ledger.hold_alert(exc.rendered, {"outcome": "alert_pending"})
        else:
            ledger.release()
        raise
    except RemediationFailed:
        _count(metrics, "RemediationsFailed")
        ledger.release()
        raise
    except AwsCallFailed as exc:
        _count(metrics, "RemediationsFailed")
        ledger.release()
        _state_check_failed(event, deps, exc)
    except Exception:
        ledger.release()
        raise
    # No write on success: the claim marks the event handled (delivery_ledger.py).
    summary = result.summary()
    _count(metrics, f"Outcome_{result.outcome.value}")
    logger.info("done", extra=summary)
    return summary


def _claim_and_prefetch(
    ledger: _Ledger,
    precondition: Precondition | None,
    prefetch: Prefetch | None,
    event: ApiCallEvent,
    deps: Dependencies,
) -> Any:
    """The ledger claim and the service's first reads, at the same time."""
    deps.prefetched.clear()
    if prefetch is None:
        return ledger.claim(precondition)

    def read() -> dict[str, Any]:
        try:
            return prefetch(event, deps)
        except (AwsCallFailed, InvalidEvent) as exc:
            logger.info("prefetch skipped; the service reads for itself", extra={"why": str(exc)})
            return {}

    done = together({"claim": lambda: ledger.claim(precondition), "read": read})
    deps.prefetched.update(done["read"])
    return done["claim"]


def _precondition(
    precondition: PreconditionOf | None, event: ApiCallEvent, deps: Dependencies
) -> Precondition | None:
    """What the claim must also check; raises InvalidEvent for an event the service
    would reject, so that a bad input is rejected before any write, the claim included."""
    if precondition is None:
        return None
    found = precondition(event, deps)
    return found if deps.ledger is not None else None


def _repeat(
    entry: Any, deps: Dependencies, ledger: _Ledger, metrics: MetricSink | None
) -> dict[str, Any]:
    _count(metrics, "DuplicateDeliveries")
    if entry.claim is Claim.ALERT_PENDING and entry.pending_alert is not None:
        deps.alerts.publish_rendered(entry.pending_alert)
        ledger.complete({**entry.summary, "outcome": "alert_delivered_on_retry"})
        logger.info("held alert delivered on retry")
        return {"outcome": "alert_delivered_on_retry"}
    logger.info("duplicate delivery; already handled", extra={"state": entry.claim.value})
    return {"outcome": "duplicate", "state": entry.claim.value, "first": entry.summary}


def _state_check_failed(event: ApiCallEvent, deps: Dependencies, exc: AwsCallFailed) -> None:
    """Failed before any repair began (reading state): still CRITICAL, then raise."""
    subject = Subject(event.event_name, "state check", event.account_id, event.region, event)
    alert = subject.alert(
        Severity.CRITICAL,
        Outcome.REMEDIATION_FAILED,
        "could not check state; drift may be unrepaired",
        manual_action=exc.hint,
        detail=str(exc),
    )
    fail_loudly(deps, alert, str(exc), cause=exc)
