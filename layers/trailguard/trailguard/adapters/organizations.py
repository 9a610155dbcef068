"""AWS Organizations adapter: trusted access for a service principal."""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call

IAM_ACTIONS = frozenset(
    {
        "organizations:ListAWSServiceAccessForOrganization",
        "organizations:EnableAWSServiceAccess",
    }
)


class OrganizationsGateway:
    def _client(self) -> Any:
        return clients.client("organizations", "us-east-1")

    def is_enabled(self, service_principal: str) -> bool:
        api = self._client()
        operation = "ListAWSServiceAccessForOrganization"
        kwargs: dict[str, Any] = {}
        while True:
            page = call(
                operation,
                f"organizations:{operation}",
                api.list_aws_service_access_for_organization,
                **kwargs,
            )
            for enabled in page.get("EnabledServicePrincipals", []):
                if enabled.get("ServicePrincipal") == service_principal:
                    return True
            token = page.get("NextToken")
            if not token:
                return False
            kwargs = {"NextToken": token}

    def enable(self, service_principal: str) -> None:
        call(
            "EnableAWSServiceAccess",
            "organizations:EnableAWSServiceAccess",
            self._client().enable_aws_service_access,
            ServicePrincipal=service_principal,
        )
