"""Where an alert goes: the alert topic first, then every other destination.

1. The SNS alert topic (e-mail text and the trailguard.alert/1 document), as always.
   Its failure raises AlertNotDelivered, so that the event is retried (engine/handler.py).
2. The account's default EventBridge bus (render/eventbridge.py), always.
3. The chat topic for Amazon Q Developer in chat applications (render/chat.py), when
   the stack has one.
4. Security Hub (render/asff.py), when the stack turns it on.

Destinations 2-4 never block the alert topic: they are tried after it, whatever it
answered, and a failure of one of them is logged and counted
(`AlertDestinationFailed_<destination>`), never raised. A held alert re-published on a
retry (`publish_rendered`) goes to the alert topic only: the others had their chance
when the alert was first published.

The publisher also fills in each alert's context (stack, account alias, log group),
reading the account alias once per execution environment, and records the alert's
repair times as metrics for the dashboard.

None of this may lengthen a repair: `prepare()` (called when an event arrives) reads
the alias and makes the destinations' clients on a background thread, while the repair
waits on AWS; the alert topic and the other destinations are then called at the same
time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from trailguard.concurrency import together
from trailguard.domain.alerts import Alert, AlertContext, Outcome, now
from trailguard.domain.text import clean_text
from trailguard.render.asff import asff_finding
from trailguard.render.chat import chat_message
from trailguard.render.eventbridge import alert_event
from trailguard.render.sns import RenderedAlert
from trailguard.settings import Settings

logger = logging.getLogger("trailguard")

# (metric name, unit, value); the functions record it with Powertools' metrics.
Metric = Callable[[str, str, float], None]

# Invariants whose drift leaves the organization trail not recording: the time from
# the event to the repair is a window in which CloudTrail logged nothing.
_BLINDING = ("I2 ", "I3 ")


class AlertTopic(Protocol):
    def publish(self, alert: Alert) -> str: ...

    def publish_rendered(self, rendered: RenderedAlert) -> str: ...


class EventBus(Protocol):
    def __call__(
        self, bus: str, source: str, detail_type: str, detail: Any, region: str
    ) -> str: ...


class ChatTopic(Protocol):
    def publish_notification(self, notification: Any) -> str: ...


class Findings(Protocol):
    def import_finding(self, finding: Any) -> None: ...


def _no_metric(name: str, unit: str, value: float) -> None:
    return None


@dataclass
class AlertPublisher:
    """An AlertSink (ports.py) that fans each alert out to every configured destination."""

    settings: Settings
    topic: AlertTopic
    put_event: EventBus | None = None
    chat: ChatTopic | None = None
    findings: Findings | None = None
    account_alias: Callable[[], str] = lambda: ""
    metric: Metric = _no_metric
    clock: Callable[[], datetime] = now
    # Makes the destinations' AWS clients (CPU: their service models), ahead of need.
    warm_up: Callable[[], None] = lambda: None
    _context: AlertContext | None = field(default=None, init=False)
    _prepared: threading.Thread | None = field(default=None, init=False)
    _starting: threading.Lock = field(default_factory=threading.Lock, init=False)
    _reading: threading.Lock = field(default_factory=threading.Lock, init=False)

    def prepare(self) -> None:
        """Once per execution environment: the alias and the clients, on a background
        thread, so that the first alert finds them ready."""
        with self._starting:
            if self._prepared is None:
                self._prepared = threading.Thread(target=self._prepare, daemon=True)
                self._prepared.start()

    def _prepare(self) -> None:
        try:
            self.warm_up()
        except Exception as exc:  # only a head start: publish makes what it needs
            logger.info("alert destinations not prepared ahead", extra={"error": str(exc)})
        self._read_context()

    def context(self) -> AlertContext:
        prepared = self._prepared
        if prepared is not None and prepared is not threading.current_thread():
            prepared.join()
        return self._read_context()

    def _read_context(self) -> AlertContext:
        with self._reading:
            if self._context is None:
                self._context = self._new_context()
            return self._context

    def _new_context(self) -> AlertContext:
        try:
            alias = clean_text(self.account_alias(), 63)
        except Exception as exc:
            # The alias is a nicety: an alert without it is still an alert.
            logger.warning("account alias not read", extra={"error": str(exc)})
            alias = ""
        return AlertContext(
            stack_name=self.settings.stack_name,
            account_alias=alias,
            function_region=self.settings.region,
            log_group=self.settings.log_group_name,
        )

    def publish(self, alert: Alert) -> str:
        alert = replace(alert, context=self.context())
        try:
            # The topic and the others at the same time; only the topic's failure raises
            # (the others are guarded), once both are done.
            sent = together(
                {"topic": lambda: self.topic.publish(alert), "others": lambda: self._others(alert)}
            )
            return str(sent["topic"])
        finally:
            self._record_times(alert)

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        return self.topic.publish_rendered(rendered)

    def _others(self, alert: Alert) -> None:
        settings = self.settings
        put_event, chat, findings = self.put_event, self.chat, self.findings
        # Each destination renders inside its guard: a renderer that raises costs that
        # destination only, never the alert topic's answer.
        if put_event is not None:

            def to_bus() -> str:
                event = alert_event(alert)
                return put_event(
                    settings.alert_event_bus,
                    event.source,
                    event.detail_type,
                    event.detail,
                    settings.region,
                )

            self._guarded("EventBridge", alert, to_bus)
        if chat is not None:
            self._guarded("Chat", alert, lambda: chat.publish_notification(chat_message(alert)))
        if findings is not None:
            self._guarded(
                "SecurityHub",
                alert,
                lambda: findings.import_finding(asff_finding(alert, settings.region, self.clock())),
            )

    def _guarded(self, destination: str, alert: Alert, send: Callable[[], object]) -> None:
        try:
            send()
        except Exception as exc:
            logger.warning(
                "alert destination failed; the alert topic is not affected",
                extra={
                    "destination": destination,
                    "severity": alert.severity.value,
                    "resource": alert.resource,
                    "error": str(exc)[:500],
                },
            )
            self.metric(f"AlertDestinationFailed_{destination}", "Count", 1)

    def _record_times(self, alert: Alert) -> None:
        seconds = alert.seconds_to_repair
        if alert.outcome is not Outcome.REPAIRED or seconds is None:
            return
        self.metric("SecondsToRepair", "Seconds", seconds)
        if alert.invariant.startswith(_BLINDING):
            self.metric("BlindWindowSeconds", "Seconds", seconds)


def powertools_metric(name: str, unit: str, value: float) -> None:
    """Record a metric in the functions' Powertools metric set (flushed by their
    `log_metrics`); imported here so that the command line never needs Powertools."""
    from aws_lambda_powertools import Metrics

    Metrics().add_metric(name=name, unit=unit, value=value)


def build_publisher(
    settings: Settings, metric: Metric | None = None, topic: AlertTopic | None = None
) -> AlertPublisher:
    """The real destinations for `settings`; `topic` replaces the plain alert topic
    (a sink that wraps it, for instance)."""
    from trailguard.adapters.events import put_events
    from trailguard.adapters.iam import IamGateway
    from trailguard.adapters.securityhub import SecurityHubFindings
    from trailguard.adapters.sns import SnsAlertSink, SnsChatTopic

    return AlertPublisher(
        settings=settings,
        topic=topic or SnsAlertSink(settings.alert_topic_arn),
        put_event=put_events,
        chat=SnsChatTopic(settings.chat_topic_arn) if settings.chat_topic_arn else None,
        findings=SecurityHubFindings(settings.region) if settings.security_hub_findings else None,
        account_alias=IamGateway().account_alias,
        metric=metric or _no_metric,
        warm_up=lambda: _warm_clients(settings),
    )


def _warm_clients(settings: Settings) -> None:
    from trailguard import clients

    for service in ("sns", "events"):
        clients.client(service, settings.region)
