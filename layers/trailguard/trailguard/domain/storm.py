"""Storm damping: a drift repaired a thousand times is not a thousand e-mails.

An attacker who loops StopLogging makes trailguard repair the trail on every
event, and each repair is worth knowing about, but not each as a page. Per
(resource, invariant, outcome) within a window, alerts 1, 2 and 3 go out, then
only the 10th, 100th, 1000th, ... each saying how many repairs it stands for.
CRITICAL alerts are never damped.

The count lives in the execution environment's memory: no API call per alert.
With the functions' reserved concurrency (a handful of environments), a storm
of N events yields about log10(N) + 3 alerts per environment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from trailguard.domain.alerts import Alert, Severity, now

WINDOW = timedelta(minutes=15)
ALWAYS_SENT = 3


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


@dataclass
class StormDamper:
    clock: Callable[[], datetime] = now
    _windows: dict[tuple[str, str, str], _Window] = field(default_factory=dict)

    def admit(self, alert: Alert) -> int | None:
        """The alert's occurrence number in its window if it should go out, else None."""
        if alert.severity is Severity.CRITICAL:
            return 1
        key = (alert.resource, alert.invariant, alert.outcome.value)
        current = self.clock()
        window = self._windows.get(key)
        if window is None or current - window.started > WINDOW:
            window = self._windows[key] = _Window(current)
        window.count += 1
        return window.count if _is_milestone(window.count) else None
