"""CloudWatch Logs adapter: the trail's log group (delivery chain).

A trail's log group is always in the trail's own account, so no role is assumed.
"""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.domain.delivery_chain import LogGroupState
from trailguard.errors import AwsCallFailed

# iam:GetRole: whether the role CloudTrail writes to the group with still exists.
IAM_ACTIONS_READ = frozenset({"logs:DescribeLogGroups", "iam:GetRole"})
IAM_ACTIONS_WRITE = frozenset({"logs:CreateLogGroup", "logs:PutRetentionPolicy"})


class LogsGateway:
    def __init__(self, region: str = "us-east-1") -> None:
        self._region = region

    def _client(self) -> Any:
        return clients.client("logs", self._region)

    def read(self, name: str, role_arn: str = "") -> LogGroupState:
        role_exists = self._role_exists(role_arn) if role_arn else None
        kwargs: dict[str, Any] = {"logGroupNamePrefix": name}
        api = self._client()
        while True:
            page = call(
                "DescribeLogGroups", "logs:DescribeLogGroups", api.describe_log_groups, **kwargs
            )
            for group in page.get("logGroups", []):
                if group.get("logGroupName") == name:
                    days = group.get("retentionInDays")
                    return LogGroupState(True, int(days) if days else None, role_exists)
            if not page.get("nextToken"):
                return LogGroupState(exists=False, role_exists=role_exists)
            kwargs["nextToken"] = page["nextToken"]

    def _role_exists(self, role_arn: str) -> bool:
        try:
            call(
                "GetRole",
                "iam:GetRole",
                clients.client("iam", "us-east-1").get_role,
                RoleName=role_arn.rsplit("/", 1)[-1],
            )
        except AwsCallFailed as exc:
            if exc.code == "NoSuchEntity":
                return False
            raise
        return True

    def create(self, name: str) -> None:
        call(
            "CreateLogGroup",
            "logs:CreateLogGroup",
            self._client().create_log_group,
            logGroupName=name,
        )

    def put_retention(self, name: str, days: int) -> None:
        call(
            "PutRetentionPolicy",
            "logs:PutRetentionPolicy",
            self._client().put_retention_policy,
            logGroupName=name,
            retentionInDays=days,
        )
