"""IAM adapter: service-linked roles.

Service-linked roles live under the path /aws-service-role/<service>/, so the
role is found by path rather than by exact name. IAM role names are
case-insensitive anyway, and moto names the CloudTrail role
`AWSServiceRoleForcloudtrail` where AWS says `AWSServiceRoleForCloudTrail`.
"""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call

IAM_ACTIONS = frozenset({"iam:ListRoles", "iam:CreateServiceLinkedRole"})
# The account alias, shown in alerts (engine/destinations.py) by every alerting function.
IAM_ACTIONS_READ = frozenset({"iam:ListAccountAliases"})


class IamGateway:
    def _client(self) -> Any:
        return clients.client("iam", "us-east-1")

    def exists(self, service_name: str) -> bool:
        api = self._client()
        kwargs: dict[str, Any] = {"PathPrefix": f"/aws-service-role/{service_name}/"}
        while True:
            page = call("ListRoles", "iam:ListRoles", api.list_roles, **kwargs)
            if page.get("Roles"):
                return True
            if not page.get("IsTruncated"):
                return False
            kwargs["Marker"] = page["Marker"]

    def create(self, service_name: str) -> None:
        call(
            "CreateServiceLinkedRole",
            "iam:CreateServiceLinkedRole",
            self._client().create_service_linked_role,
            AWSServiceName=service_name,
        )

    def account_alias(self) -> str:
        """The account's alias ('' when it has none: an account has at most one)."""
        response = call(
            "ListAccountAliases",
            "iam:ListAccountAliases",
            self._client().list_account_aliases,
        )
        aliases = response.get("AccountAliases") or []
        return str(aliases[0]) if aliases else ""
