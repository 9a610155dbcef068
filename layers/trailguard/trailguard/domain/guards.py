"""Who may change what: failed calls, trailguard's own role, the allow-list."""

from __future__ import annotations

from enum import Enum
from fnmatch import fnmatchcase

from trailguard.domain.events import ApiCallEvent
from trailguard.settings import Settings


class Verdict(Enum):
    ACT = "act"
    FAILED_ATTEMPT = "failed_attempt"  # errorCode set: AWS refused, nothing changed
    OWN_CHANGE = "own_change"  # trailguard's own repair echoing back
    ALLOWED = "allowed"  # an allow-listed change principal: alert, do not revert


def _matches(arn: str, patterns: tuple[str, ...]) -> bool:
    return bool(arn) and any(fnmatchcase(arn, pattern) for pattern in patterns)


def judge(event: ApiCallEvent, settings: Settings) -> Verdict:
    principal = event.principal
    if _matches(principal.session_issuer_arn, settings.remediator_role_arns):
        return Verdict.OWN_CHANGE
    if event.failed:
        return Verdict.FAILED_ATTEMPT
    if _matches(principal.acting_arn, settings.allowed_principal_arns) or _matches(
        principal.arn, settings.allowed_principal_arns
    ):
        return Verdict.ALLOWED
    return Verdict.ACT
