"""SNS adapter: publishes rendered alerts to the stack's topic."""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.domain.alerts import Alert
from trailguard.errors import AlertNotDelivered, AwsCallFailed
from trailguard.render.fallback import render_safely
from trailguard.render.sns import RenderedAlert

IAM_ACTIONS = frozenset({"sns:Publish"})


class SnsAlertSink:
    def __init__(self, topic_arn: str) -> None:
        self._topic_arn = topic_arn
        self._region = topic_arn.split(":")[3]

    def _client(self) -> Any:
        return clients.client("sns", self._region)

    def publish(self, alert: Alert) -> str:
        return self.publish_rendered(render_safely(alert))

    def publish_rendered(self, rendered: RenderedAlert) -> str:
        try:
            response = call(
                "Publish",
                "sns:Publish",
                self._client().publish,
                TopicArn=self._topic_arn,
                Subject=rendered.subject,
                Message=rendered.message,
                MessageStructure="json",
                MessageAttributes=rendered.attributes,
            )
        except AwsCallFailed as exc:
            raise AlertNotDelivered(f"{exc} ({exc.hint})", rendered) from exc
        return str(response.get("MessageId", ""))
