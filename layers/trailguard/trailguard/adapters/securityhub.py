"""Security Hub adapter: imports trailguard's findings (ASFF) with BatchImportFindings.

BatchImportFindings answers HTTP 200 even when it refused a finding: the refusal is in
`FailedCount` and `FailedFindings`. That case is raised as AwsCallFailed too, or a
refused finding would pass for an imported one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call
from trailguard.errors import AwsCallFailed

IAM_ACTIONS = frozenset({"securityhub:BatchImportFindings"})


class SecurityHubFindings:
    def __init__(self, region: str) -> None:
        self._region = region

    def _client(self) -> Any:
        # An optional destination: bounded retries and timeouts (clients.py).
        return clients.best_effort_client("securityhub", self._region)

    def import_finding(self, finding: Mapping[str, Any]) -> None:
        response = call(
            "BatchImportFindings",
            "securityhub:BatchImportFindings",
            self._client().batch_import_findings,
            Findings=[dict(finding)],
        )
        if response.get("FailedCount"):
            failed = (response.get("FailedFindings") or [{}])[0]
            code = str(failed.get("ErrorCode") or "FailedFinding")
            raise AwsCallFailed(
                "BatchImportFindings",
                code,
                str(failed.get("ErrorMessage", ""))[:300],
                f"Security Hub refused the finding ({code}): check that Security Hub is "
                "enabled in this account and region",
            )
