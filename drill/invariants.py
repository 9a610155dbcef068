"""The invariants, checked the way an auditor would: by reading moto's state
directly, not through trailguard's own drift logic.

Besides the invariants, observations: state a scenario shows that is not an
invariant trailguard restores. An observation never counts as an invariant left
broken. Checks of trailguard itself (one of its rules, the alert key) are
restored by trailguard but exist only once a scenario deployed them: they are
checked where a scenario watches them, not at the end of every drill.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drill.routing import rule_name
from drill.world import REGION, World

# trailguard's rule that tamper-with-trailguard disables. The seeded world deploys no
# rules (EventBridge's matching is the drill's own): that scenario creates it first.
WATCHED_RULE_OF = ("RestoreTrailFunction", "TrailChanged")
WATCHED_RULE = rule_name(*WATCHED_RULE_OF)


@dataclass(frozen=True)
class Check:
    key: str
    label: str
    holds: bool
    state: str  # what was seen, in a word or two
    detail: str = ""  # what differs, when a word is not enough
    invariant: bool = True  # False: an observation, shown but not restored by trailguard


def _trusted_access(world: World) -> Check:
    enabled = world.trusted_access_enabled()
    return Check(
        "trusted-access",
        "I1 trusted access for CloudTrail",
        enabled,
        "enabled" if enabled else "DISABLED",
    )


def _service_linked_role(world: World) -> Check:
    exists = world.service_linked_role_exists()
    return Check(
        "service-linked-role",
        "I6 CloudTrail service-linked role",
        exists,
        "exists" if exists else "MISSING",
    )


def _trail_exists(world: World) -> Check:
    exists = world.trail() is not None
    return Check("trail-exists", "I3 trail exists", exists, "present" if exists else "DELETED")


def _trail_logging(world: World) -> Check:
    if world.trail() is None:
        return Check("trail-logging", "I2 trail logging", False, "no trail")
    logging = world.is_logging()
    return Check("trail-logging", "I2 trail logging", logging, "on" if logging else "OFF")


def _camel(field_name: str) -> str:
    return "".join(part.capitalize() for part in field_name.split("_"))


def _differences(live: Any, baseline: Any) -> list[str]:
    names = [_camel(key) for key, _, _ in baseline.settings.differences(live.settings)]
    if live.selectors.event_selectors != baseline.selectors.event_selectors or (
        live.selectors.advanced_event_selectors != baseline.selectors.advanced_event_selectors
    ):
        names.append("event selectors")
    if live.selectors.insight_selectors != baseline.selectors.insight_selectors:
        names.append("insight selectors")
    if dict(live.tags) != dict(baseline.tags):
        names.append("tags")
    return names


def _trail_baseline(world: World) -> Check:
    label = "I4/I5 trail matches baseline"
    baseline = world.baseline()
    if baseline is None:
        return Check("trail-baseline", label, False, "NO BASELINE")
    live = world.snapshot()
    if live is None:
        return Check("trail-baseline", label, False, "no trail")
    if live == baseline.snapshot:
        return Check("trail-baseline", label, True, "matches")
    differing = _differences(live, baseline.snapshot) or ["snapshot"]
    return Check(
        "trail-baseline",
        label,
        False,
        f"DIFFERS ({len(differing)})",
        ", ".join(differing) + " differ from the baseline",
    )


def _watched_rule(world: World) -> Check:
    import boto3
    from botocore.exceptions import ClientError

    label = f"trailguard's rule {WATCHED_RULE_OF[1]}"
    try:
        state = str(
            boto3.client("events", region_name=REGION).describe_rule(Name=WATCHED_RULE)["State"]
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        state = "MISSING"
    # Restored by trailguard (EnableRule), so it counts as an invariant where watched.
    return Check("trailguard-rule", label, state == "ENABLED", state)


def _alert_key(world: World) -> Check:
    import boto3

    key = world.environment["ALERT_KEY_ARN"].rsplit("/", 1)[-1]
    state = str(
        boto3.client("kms", region_name=REGION).describe_key(KeyId=key)["KeyMetadata"]["KeyState"]
    )
    # Restored by trailguard (EnableKey, CancelKeyDeletion): an invariant where watched.
    return Check("alert-key", "trailguard's alert topic key", state == "Enabled", state)


INVARIANTS: dict[str, Callable[[World], Check]] = {
    "trusted-access": _trusted_access,
    "service-linked-role": _service_linked_role,
    "trail-exists": _trail_exists,
    "trail-logging": _trail_logging,
    "trail-baseline": _trail_baseline,
}
OBSERVATIONS: dict[str, Callable[[World], Check]] = {
    "trailguard-rule": _watched_rule,
    "alert-key": _alert_key,
}
CHECKS: dict[str, Callable[[World], Check]] = {**INVARIANTS, **OBSERVATIONS}
EVERY_CHECK = tuple(INVARIANTS)  # every invariant; observations are a scenario's to watch


def check(world: World, keys: tuple[str, ...] = EVERY_CHECK) -> tuple[Check, ...]:
    return tuple(CHECKS[key](world) for key in keys)
