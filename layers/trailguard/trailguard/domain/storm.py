"""Storm damping: a drift repaired a thousand times is not a thousand e-mails.

An attacker who loops StopLogging makes trailguard repair the trail on every
event, and each repair is worth knowing about, but not each as a page. Only
the same drift of the same resource, by the same actor, repaired and verified,
is damped: within a window alerts 1, 2 and 3 go out, then only the 10th,
100th, 1000th, ... each saying how many repairs it stands for.

What is never damped, and never counts towards a window: a CRITICAL alert;
anything but a verified repair (a detection, an attempt, an unverified or
failed repair); anything in detect-only mode (the caller passes `detect_only`).
A new actor or a different drift starts its own window, so a harmless storm
cannot hide the next, different change, and events that repaired nothing (a
forged one) cannot prime a window for a real attacker.

The count lives in the execution environment's memory: no API call per alert.
With the functions' reserved concurrency (a handful of environments), a storm
of N events yields about log10(N) + 3 alerts per environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trailguard.domain.alerts import Alert, Outcome, Severity, now

WINDOW = timedelta(minutes=15)
ALWAYS_SENT = 3

StormKey = tuple[str, str, str, tuple[str, ...]]


def _is_milestone(count: int) -> bool:
    if count <= ALWAYS_SENT:
        return True
    while count % 10 == 0:
        count //= 10
    return count == 1


@dataclass
class _Window:
    started: datetime
    count: int = 0


def storm_key(alert: Alert) -> StormKey | None:
    """What makes two alerts 'the same' for damping; None: never damped."""
    if alert.severity is Severity.CRITICAL or alert.outcome is not Outcome.REPAIRED:
        return None
    # The caller's own ARN (a role session names the person), not only the role.
    principal = alert.event.principal if alert.event is not None else None
    actor = (principal.arn or principal.acting_arn) if principal is not None else ""
    return (alert.resource, alert.invariant, actor, tuple(sorted(alert.drift)))


@dataclass
class StormDamper:
    clock: Callable[[], datetime] = now
    _windows: dict[StormKey, _Window] = field(default_factory=dict)

    def admit(self, alert: Alert, detect_only: bool = False) -> int | None:
        """The alert's occurrence number in its window if it should go out, else None."""
        key = storm_key(alert)
        if key is None or detect_only:
            return 1
        current = self.clock()
        window = self._windows.get(key)
        if window is None or current - window.started > WINDOW:
            window = self._windows[key] = _Window(current)
        window.count += 1
        return window.count if _is_milestone(window.count) else None
