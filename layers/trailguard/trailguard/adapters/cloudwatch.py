"""CloudWatch adapter: trailguard's alarms, whose actions are re-enabled when someone
disabled them (protected/trailguard_itself.py)."""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call

IAM_ACTIONS = frozenset({"cloudwatch:DescribeAlarms", "cloudwatch:EnableAlarmActions"})


class AlarmsGateway:
    def __init__(self, region: str) -> None:
        self._region = region

    def _client(self) -> Any:
        return clients.client("cloudwatch", self._region)

    def actions_enabled(self, names: list[str]) -> dict[str, bool]:
        """ActionsEnabled of each named alarm that exists (a deleted one is absent)."""
        found: dict[str, bool] = {}
        kwargs: dict[str, Any] = {
            "AlarmNames": names,
            "AlarmTypes": ["MetricAlarm", "CompositeAlarm"],
        }
        while True:
            page = call(
                "DescribeAlarms",
                "cloudwatch:DescribeAlarms",
                self._client().describe_alarms,
                **kwargs,
            )
            for alarm in [*page.get("MetricAlarms", []), *page.get("CompositeAlarms", [])]:
                found[str(alarm["AlarmName"])] = bool(alarm.get("ActionsEnabled"))
            if not page.get("NextToken"):
                return found
            kwargs["NextToken"] = page["NextToken"]

    def enable_actions(self, names: list[str]) -> None:
        call(
            "EnableAlarmActions",
            "cloudwatch:EnableAlarmActions",
            self._client().enable_alarm_actions,
            AlarmNames=names,
        )
