"""Playing scenarios against one seeded world (drill/replay.py replays event files)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from drill.events import event_time, fresh_event, now
from drill.handler_output import HandlerOutput
from drill.invariants import EVERY_CHECK, Check, check
from drill.routing import SCHEDULE, Delivery, Invocation, deliver, fire, schedules
from drill.scenarios import BY_EVENT, BY_SCHEDULE, Scenario
from drill.world import LOG_ARCHIVE_LAYOUT, DeliveredAlert, World, seeded_world

EXIT_OK = 0
EXIT_INVARIANT_BROKEN = 1
EXIT_UNEXPECTED = 3  # every invariant holds, but trailguard did not do what was expected

BEFORE, AFTER_ATTACK, AFTER_TRAILGUARD = "before", "after attack", "after trailguard"


@dataclass(frozen=True)
class Play:
    """One scenario played (or one event file replayed), and everything seen."""

    name: str
    title: str
    note: str
    attacks: tuple[str, ...]  # the real calls made, in order; none when AWS refused
    attack_error: str
    attacked_at: str  # eventTime of the (first) attack; "" for a replay
    states: tuple[tuple[str, tuple[Check, ...]], ...]  # (moment, checks) in time order
    deliveries: tuple[Delivery, ...]
    problems: tuple[str, ...]  # deviations from what the scenario expects
    replayed: bool = False  # an event file delivered as is: nothing expected of it
    detected_by: str = BY_EVENT  # BY_SCHEDULE: no event was delivered, the schedule fired

    @property
    def attack(self) -> str:
        return "; ".join(self.attacks)

    @property
    def invocations(self) -> list[Invocation]:
        return [i for d in self.deliveries for i in d.invocations]

    @property
    def alerts(self) -> list[DeliveredAlert]:
        return [a for d in self.deliveries for a in d.alerts]

    @property
    def repaired(self) -> bool:
        return any(i.outcome == "repaired" for i in self.invocations)

    @property
    def repaired_by_schedule(self) -> bool:
        return any(i.outcome == "repaired" and i.trigger == SCHEDULE for i in self.invocations)

    @property
    def failures(self) -> list[Invocation]:
        return [i for i in self.invocations if i.error]


@dataclass(frozen=True)
class DrillReport:
    kind: str  # "scenarios" or "replay"
    started_at: str
    setup_seconds: float
    seconds: float
    plays: tuple[Play, ...]
    final: tuple[Check, ...]  # every invariant, checked after the last play
    # The observations the plays watched (not invariants), checked after the last play.
    observed: tuple[Check, ...] = ()

    @property
    def broken(self) -> list[Check]:
        return [c for c in self.final if not c.holds]

    @property
    def exit_code(self) -> int:
        if self.broken:
            return EXIT_INVARIANT_BROKEN
        if any(play.problems or play.failures for play in self.plays):
            return EXIT_UNEXPECTED
        return EXIT_OK


def _alert_label(alert: DeliveredAlert) -> str:
    found_by = str(alert.document.get("detectedBy", BY_EVENT))
    by = "" if found_by == BY_EVENT else f" by {found_by}"
    return f"{alert.severity} {alert.outcome}{by}"


def _own(alerts: tuple[DeliveredAlert, ...], attacked_at: datetime) -> list[DeliveredAlert]:
    """The alerts about this play: a follow-up on a blind window that ended before its
    attack (Event history caught up on an earlier play) belongs to that earlier play."""
    own = []
    for alert in alerts:
        window = alert.document.get("blindWindow") or {}
        ended = window.get("to")
        if window.get("followUp") and ended and datetime.fromisoformat(ended) < attacked_at:
            continue
        own.append(alert)
    return own


def _deviations(
    scenario: Scenario,
    deliveries: list[Delivery],
    states: dict[str, tuple[Check, ...]],
    attacked_at: datetime,
) -> list[str]:
    problems = []
    if scenario.attacks:
        problems += [
            f"the attack did not break {c.label}: the drill proves nothing here"
            for c in states[AFTER_ATTACK]
            if c.holds
        ]
    if len(deliveries) != scenario.deliveries:
        what = "schedule firings" if scenario.detected_by == BY_SCHEDULE else "deliveries"
        problems.append(f"{len(deliveries)} {what}, expected {scenario.deliveries}")
    for number, (delivery, expected) in enumerate(
        zip(deliveries, scenario.expected_outcomes, strict=False), start=1
    ):
        routed = [i.function_id for i in delivery.invocations]
        if routed != [scenario.function_id]:
            problems.append(
                f"delivery {number} routed to {routed or 'no function'}, "
                f"expected [{scenario.function_id!r}]"
            )
        outcomes = [i.outcome for i in delivery.invocations]
        if len(outcomes) != 1 or outcomes[0] not in expected:
            problems.append(
                f"delivery {number} outcome {outcomes}, expected one of {list(expected)}"
            )
        redelivered = scenario.detected_by != BY_SCHEDULE  # a schedule fires anew each time
        if redelivered and number > 1 and any(i.actions for i in delivery.invocations):
            problems.append(f"delivery {number} of the same event made calls again")
    alerts = [_alert_label(a) for d in deliveries for a in _own(d.alerts, attacked_at)]
    if alerts != list(scenario.expected_alerts):
        problems.append(f"alerts {alerts}, expected {list(scenario.expected_alerts)}")
    if scenario.check_alerts is not None:
        problems += scenario.check_alerts(
            [a for d in deliveries for a in _own(d.alerts, attacked_at)]
        )
    if scenario.expected_witness is not None:
        witnessed = [w.label for d in deliveries for w in d.witnessed if w.outcome == "alerted"]
        if witnessed != list(scenario.expected_witness):
            problems.append(
                f"the witness passed on {witnessed}, expected {list(scenario.expected_witness)}"
            )
    for attacked, after in zip(states[AFTER_ATTACK], states[AFTER_TRAILGUARD], strict=True):
        if after.invariant and not after.holds:
            problems.append(f"left broken: {after.label} ({after.state})")
        elif not after.invariant and after.state != attacked.state:
            # Not trailguard's to restore: it alerts, and a human redeploys.
            problems.append(
                f"{after.label} went from {attacked.state} to {after.state}: "
                "trailguard was expected to alert and leave it"
            )
    return problems


def _deliver(
    world: World, scenario: Scenario, output: HandlerOutput, attacked_at: datetime
) -> list[Delivery]:
    deliveries: list[Delivery] = []
    if scenario.detected_by == BY_SCHEDULE:
        # No event arrives: the schedule fires (here at once; in AWS within its interval).
        for number in range(scenario.deliveries):
            deliveries += [fire(world, schedule, output, now()) for schedule in schedules()]
            _by_hand(world, scenario, number)
        return deliveries
    if scenario.sample is None:
        return []
    # The same event each time: a redelivery keeps its eventID.
    event = fresh_event(scenario.sample, attacked_at, scenario.request_parameters)
    for number in range(scenario.deliveries):
        deliveries.append(deliver(world, event, output))
        _by_hand(world, scenario, number)
    return deliveries


def _by_hand(world: World, scenario: Scenario, number: int) -> None:
    if number < len(scenario.by_hand) and (step := scenario.by_hand[number]) is not None:
        step(world)


def play_scenario(world: World, scenario: Scenario, output: HandlerOutput) -> Play:
    if scenario.setup is not None:
        scenario.setup(world)
    earlier = scenario.prelude(world, output) if scenario.prelude is not None else []
    for attack in scenario.attacks:
        if attack.prepare is not None:
            attack.prepare()
    states = {BEFORE: check(world, scenario.watches)}
    attack_error = ""
    # eventTime is when the call was made: the alert's secondsToRepair counts from here.
    attacked_at = now()
    for attack in scenario.attacks:
        try:
            attack.perform()
        except Exception as exc:  # a drill that cannot attack must say so, not crash
            failed = f"{attack.operation}: " if len(scenario.attacks) > 1 else ""
            attack_error = f"{failed}{type(exc).__name__}: {exc}"
            break
    states[AFTER_ATTACK] = check(world, scenario.watches)
    deliveries = [] if attack_error else _deliver(world, scenario, output, attacked_at)
    states[AFTER_TRAILGUARD] = check(world, scenario.watches)
    if attack_error:
        problems = [f"the attack call failed ({attack_error}); no event was sent"]
    else:
        problems = _deviations(scenario, deliveries, states, attacked_at)
    problems = [*earlier, *problems]
    return Play(
        name=scenario.name,
        title=scenario.title,
        note=scenario.note,
        attacks=tuple(attack.describe() for attack in scenario.attacks),
        attack_error=attack_error,
        attacked_at=event_time(attacked_at),
        states=tuple(states.items()),
        deliveries=tuple(deliveries),
        problems=tuple(problems),
        detected_by=scenario.detected_by,
    )


PlayStep = Callable[[World, HandlerOutput], Play]
# Run in the world after the last play, before the final checks (the drill's --cli).
AfterPlays = Callable[[World], None]


def run_plays(
    kind: str,
    steps: Iterable[PlayStep],
    on_play: Callable[[Play], None] | None,
    observe: tuple[str, ...] = (),
    after: AfterPlays | None = None,
) -> DrillReport:
    """Play `steps` in turn against one seeded world (scenarios, or a replay's events);
    `after` runs in that world after the last play, before the final checks."""
    output = HandlerOutput()
    started_at, started = event_time(now()), time.perf_counter()
    plays = []
    with output.captured(), seeded_world(layout=LOG_ARCHIVE_LAYOUT) as world:
        setup_seconds = time.perf_counter() - started
        output.take()  # the seeding's own logs (baseline capture) belong to no play
        for step in steps:
            play = step(world, output)
            plays.append(play)
            if on_play is not None:
                on_play(play)
        if after is not None:
            after(world)
        final = check(world, EVERY_CHECK)
        observed = check(world, observe)
    return DrillReport(
        kind,
        started_at,
        setup_seconds,
        time.perf_counter() - started,
        tuple(plays),
        final,
        observed,
    )


def _scenario_step(scenario: Scenario) -> PlayStep:
    def step(world: World, output: HandlerOutput) -> Play:
        return play_scenario(world, scenario, output)

    return step


def run_scenarios(
    scenarios: Iterable[Scenario],
    on_play: Callable[[Play], None] | None = None,
    after: AfterPlays | None = None,
) -> DrillReport:
    """Play the scenarios in turn against one world, as one attacker after another."""
    scenarios = list(scenarios)
    # What the plays watched besides the invariants, checked once more at the end.
    observe = tuple(
        dict.fromkeys(key for s in scenarios for key in s.watches if key not in EVERY_CHECK)
    )
    return run_plays("scenarios", [_scenario_step(s) for s in scenarios], on_play, observe, after)
