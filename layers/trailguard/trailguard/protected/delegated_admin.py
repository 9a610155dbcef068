"""A CloudTrail delegated administrator can manage, and stop, organization trails.

The change is made through CloudTrail (RegisterOrganizationDelegatedAdmin) or
through Organizations (RegisterDelegatedAdministrator); either way it is
alerted, never reverted: only a person can tell a planned change from an attack.
"""

from __future__ import annotations

from trailguard.domain.alerts import Outcome, Severity
from trailguard.domain.events import ApiCallEvent
from trailguard.domain.guards import Verdict, judge
from trailguard.engine.remediation import Dependencies, Result, Subject, report_only


def delegated_admin_changed(event: ApiCallEvent, deps: Dependencies, account: str) -> Result:
    subject = Subject(
        "delegated administrator for CloudTrail",
        f"account {account or '?'}",
        event.account_id,
        event.region,
        event,
    )
    if judge(event, deps.settings) is Verdict.FAILED_ATTEMPT:
        return report_only(
            deps,
            subject,
            Severity.WARNING,
            Outcome.ATTEMPT_FAILED,
            f"{event.event_name} attempt was refused; nothing changed",
        )
    return report_only(
        deps,
        subject,
        Severity.HIGH,
        Outcome.NOTICE,
        f"{event.event_name}: CloudTrail delegated administrator changed",
        manual_action="confirm the change was planned: a delegated administrator can "
        "manage (and stop) organization trails",
    )
