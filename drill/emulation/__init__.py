"""AWS behaviour that moto 5.2 lacks, emulated as AWS documents it: the one place.

The drill, the tests, `make reliability` and the bench all run against moto.
Where moto does not model something trailguard depends on, it is emulated here,
server-side (inside moto's backends and responses), so that every client sees
it the same way: trailguard's own clients, the drill's attacker, the CLI.

Each module says what AWS does, where that is documented, and what moto does
instead. Nothing here computes trailguard's own results: it only makes moto
answer as AWS would.

- `event_history`: CloudTrail Event history (LookupEvents), filled from the calls
  moto really serves, with its filters, paging, rate limit and delay.
- `trail_status`: GetTrailStatus's delivery errors and times, derived from the
  state of the trail's bucket, KMS key, log group, role and topic.
- `trail_writes`: CreateTrail/UpdateTrail refuse a missing CloudWatch Logs role or
  log group, and an unusable KMS key.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

from drill.emulation import event_history, trail_status, trail_writes


@dataclass
class Emulation:
    history: event_history.EventHistory
    delivery: trail_status.DeliveryState


@contextmanager
def installed() -> Iterator[Emulation]:
    """Install every emulation inside moto (call within mock_aws())."""
    emulation = Emulation(event_history.EventHistory(), trail_status.DeliveryState())
    with ExitStack() as stack:
        stack.enter_context(event_history.installed(emulation.history))
        stack.enter_context(trail_status.installed(emulation.delivery))
        stack.enter_context(trail_writes.installed())
        yield emulation
