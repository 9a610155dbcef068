"""EventBridge rules adapter: trailguard's own rules, re-enabled when someone disabled
them (protected/trailguard_itself.py). PutEvents lives in adapters/events.py."""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call

IAM_ACTIONS = frozenset({"events:DescribeRule", "events:EnableRule"})


class RulesGateway:
    def __init__(self, region: str) -> None:
        self._region = region

    def _client(self) -> Any:
        return clients.client("events", self._region)

    def state(self, name: str, bus: str) -> str:
        response = call(
            "DescribeRule",
            "events:DescribeRule",
            self._client().describe_rule,
            Name=name,
            EventBusName=bus,
        )
        return str(response.get("State", ""))

    def enable(self, name: str, bus: str) -> None:
        call(
            "EnableRule",
            "events:EnableRule",
            self._client().enable_rule,
            Name=name,
            EventBusName=bus,
        )
