"""Who may change what: failed calls, trailguard's own roles, the allow-list.

What an allow-listed principal's change means is decided here, once per kind of
event, for the event handlers and the reconciler alike (README, "One desired
state"):

- RECAPTURE: a configuration change (UpdateTrail, PutEventSelectors,
  PutInsightSelectors). It becomes the new baseline, so the reconciler agrees
  with it, but only when the live trail shows a change and CloudTrail's Event
  history holds the event (protected/trail.py). Otherwise it is reverted.
- REVERT: a change that breaks an invariant (StopLogging, DeleteTrail,
  DisableAWSServiceAccess, DeleteServiceLinkedRole). No allow-list makes it
  desired: it is reverted, and the alert says the principal was allow-listed.
  Planned maintenance pauses trailguard with Mode=detect instead.
"""

from __future__ import annotations

from enum import Enum
from fnmatch import fnmatchcase

from trailguard.domain.events import ApiCallEvent
from trailguard.settings import Settings


class Verdict(Enum):
    ACT = "act"
    FAILED_ATTEMPT = "failed_attempt"  # errorCode set: AWS refused, nothing changed
    # Made under one of trailguard's roles: its own repair echoing back, or someone
    # else using the role. Checked against the baseline with reads only.
    OWN_ROLE = "own_role"
    ALLOWED = "allowed"  # an allow-listed change principal (see AllowListed)


class AllowListed(Enum):
    RECAPTURE = "recapture"
    REVERT = "revert"


ALLOW_LIST_SEMANTICS: dict[str, AllowListed] = {
    "UpdateTrail": AllowListed.RECAPTURE,
    "PutEventSelectors": AllowListed.RECAPTURE,
    "PutInsightSelectors": AllowListed.RECAPTURE,
    "StopLogging": AllowListed.REVERT,
    "DeleteTrail": AllowListed.REVERT,
    "DisableAWSServiceAccess": AllowListed.REVERT,
    "DeleteServiceLinkedRole": AllowListed.REVERT,
}


def allow_listed(event_name: str) -> AllowListed:
    """What an allow-listed principal's `event_name` means; unknown kinds are reverted."""
    return ALLOW_LIST_SEMANTICS.get(event_name, AllowListed.REVERT)


def _matches(arn: str, patterns: tuple[str, ...]) -> bool:
    return bool(arn) and any(fnmatchcase(arn, pattern) for pattern in patterns)


def is_allow_listed(arn: str, settings: Settings) -> bool:
    return _matches(arn, settings.allowed_principal_arns)


def judge(event: ApiCallEvent, settings: Settings) -> Verdict:
    principal = event.principal
    if _matches(principal.session_issuer_arn, settings.remediator_role_arns):
        return Verdict.OWN_ROLE
    if event.failed:
        return Verdict.FAILED_ATTEMPT
    if is_allow_listed(principal.acting_arn, settings) or is_allow_listed(principal.arn, settings):
        return Verdict.ALLOWED
    return Verdict.ACT
