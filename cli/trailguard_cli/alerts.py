"""Alerts as an operator publishes them: a refused alert is kept and printed, not raised."""

from __future__ import annotations

import json
from dataclasses import dataclass

from trailguard.domain.alerts import Alert
from trailguard.domain.text import clean_text
from trailguard.errors import AlertNotDelivered, AwsCallFailed
from trailguard.ports import AlertSink
from trailguard.render.fallback import render_safely
from trailguard.render.sns import RenderedAlert
from trailguard_cli.output import aws_text


@dataclass(frozen=True)
class Undelivered:
    rendered: RenderedAlert
    error: str

    def document(self) -> dict[str, object]:
        body = json.loads(self.rendered.message)
        return {
            "subject": self.rendered.subject,
            "error": self.error,
            "alert": json.loads(body["default"]),
        }

    def text(self) -> list[str]:
        body = json.loads(self.rendered.message)
        lines = [self.rendered.subject, *str(body["email"]).splitlines()]
        return [clean_text(line, 2000) for line in lines]


class OperatorAlerts:
    """The stack's topic as an operator reaches it: a refused alert is kept, not raised.

    The topic's policy lets only trailguard's own roles publish, so an
    operator's Publish is normally refused. The run goes on (an alert must never
    hold up the next repair) and the command prints what could not be sent."""

    def __init__(self, inner: AlertSink) -> None:
        self._inner = inner
        self.undelivered: list[Undelivered] = []

    def publish(self, alert: Alert) -> str:
        return self.publish_rendered(render_safely(alert))

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        try:
            return self._inner.publish_rendered(rendered)
        except AlertNotDelivered as exc:
            # The AWS error itself; the library's hint is written for the functions.
            cause = exc.__cause__ if isinstance(exc.__cause__, AwsCallFailed) else exc
            self.undelivered.append(Undelivered(rendered, aws_text(cause)))
            return ""
