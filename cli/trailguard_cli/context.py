"""What every command runs with: the adapters, the deployment, the caller, the streams."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TextIO

from trailguard.engine.remediation import Dependencies
from trailguard_cli.deployment import Deployment
from trailguard_cli.output import ident


@dataclass
class Context:
    deps: Dependencies
    deployment: Deployment
    account_id: str
    caller_arn: str
    as_json: bool
    out: TextIO
    err: TextIO

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def context_document(self) -> dict[str, object]:
        return {
            "source": self.deployment.source,
            "stack": self.deployment.stack_name or None,
            "region": self.deployment.region,
            "account": self.account_id,
            "caller": self.caller_arn,
            "baselineTable": self.deployment.table,
            "alertTopic": self.deployment.topic or None,
            "mode": self.deployment.mode,
            "protectedTrailNames": list(self.deps.settings.protected_trail_names),
        }

    def header(self, command: str) -> str:
        d = self.deployment
        protected = ", ".join(self.deps.settings.protected_trail_names) or "every baseline"
        return (
            f"trailguard {command}: {d.source}, region {d.region}, account {self.account_id}, "
            f"mode {d.mode}\n  baseline table {ident(d.table)}, protected trails: {protected}\n"
            f"  caller {ident(self.caller_arn)}"
        )
