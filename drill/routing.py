"""Delivering an event the way EventBridge would: every rule of template.yaml
whose pattern matches invokes its function once; and firing the template's
schedules, as their EventBridge rules do whether or not any event arrived.

No routing table of our own: if a pattern in the template stops matching an
attack, the drill shows the attack going unanswered; if the template loses its
schedule, the drill shows lost events going unanswered.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drill import template as tpl
from drill.events import scheduled_event
from drill.handler_output import HandlerOutput, Printed
from drill.patterns import mismatches
from drill.world import STACK, DeliveredAlert, World, resolve

RULE = "rule"  # an EventBridgeRule event: the function runs when its pattern matches
SCHEDULE = "schedule"  # a Schedule event: the function runs every interval, events or not


def rule_name(function_id: str, event_id: str) -> str:
    """The name CloudFormation gives a function's EventBridge rule in the world's stack:
    `<stack>-<function><event>-<random suffix>`, here with EXAMPLE as the suffix."""
    return f"{STACK}-{function_id}{event_id}-EXAMPLE"


@dataclass(frozen=True)
class Schedule:
    """One Schedule event of a function, as the template declares it."""

    function_id: str
    event_id: str
    expression: Any  # Properties.Schedule, intrinsic functions unresolved
    module: str

    @property
    def rule_name(self) -> str:
        return rule_name(self.function_id, self.event_id)


def schedules(template: dict[str, Any] | None = None) -> list[Schedule]:
    """Every function's Schedule events, found in the template's functions."""
    template = template or tpl.load_template()
    return [
        Schedule(
            function_id=function_id,
            event_id=event_id,
            expression=event["Schedule"],
            module=tpl.module_path(props["CodeUri"], tpl.handler_of(props, template)),
        )
        for function_id, event_id, event, props in tpl.function_events("Schedule", template)
    ]


@dataclass(frozen=True)
class Invocation:
    """One function invoked for one event, and what came of it."""

    rule_id: str
    function_id: str
    summary: dict[str, Any] | None  # the handler's return value; None when it raised
    error: str  # "" when the handler returned
    handler_seconds: float
    cold_start: bool  # first call of this function: the time includes importing it
    printed: Printed
    trigger: str = RULE  # RULE: rule_id is an EventBridgeRule event; SCHEDULE: a Schedule event

    @property
    def results(self) -> list[dict[str, Any]]:
        """The reconciler's summary: one result per invariant it repaired (or alerted on)."""
        results = (self.summary or {}).get("results")
        return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []

    @property
    def outcome(self) -> str:
        if self.summary is None:
            return "raised"
        if "outcome" in self.summary or "results" not in self.summary:
            return str(self.summary.get("outcome", "?"))
        # The reconciler: nothing to do, or the outcomes of what it did ("repaired").
        outcomes = dict.fromkeys(str(r.get("outcome", "?")) for r in self.results)
        return "/".join(outcomes) or "in_sync"

    @property
    def actions(self) -> list[str]:
        if "results" in (self.summary or {}):
            return [str(a) for r in self.results for a in r.get("actions", [])]
        return [str(a) for a in (self.summary or {}).get("actions", [])]


@dataclass(frozen=True)
class Delivery:
    """One event delivered to every matching rule (or by a schedule to its function),
    and the alerts it produced."""

    event: dict[str, Any]
    invocations: tuple[Invocation, ...]
    alerts: tuple[DeliveredAlert, ...]
    schedule: str = ""  # the schedule's expression when a schedule fired, "" for an event
    # When no rule matched: the rules that came nearest, each with the fields that failed.
    unmatched: tuple[Unmatched, ...] = ()
    # What the witness (drill/witness.py, once a scenario deployed it) saw and did.
    witnessed: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Unmatched:
    """A rule of the template that an event did not match, and why."""

    rule_id: str
    function_id: str
    reasons: tuple[str, ...]  # one sentence per field of the pattern the event fails


def matching_rules(event: dict[str, Any]) -> list[tpl.Rule]:
    return [rule for rule in tpl.rules() if rule.matches(event)]


def nearest_misses(event: dict[str, Any]) -> list[Unmatched]:
    """The rules the event came nearest to matching (fewest fields failed), with the
    fields that kept it out: what to fix in the event, or in the template."""
    missed = [
        Unmatched(rule.rule_id, rule.function_id, tuple(mismatches(rule.pattern, event)))
        for rule in tpl.rules()
    ]
    missed = [m for m in missed if m.reasons]
    fewest = min((len(m.reasons) for m in missed), default=0)
    return [m for m in missed if len(m.reasons) == fewest]


def _invoke(
    world: World,
    trigger: tpl.Rule | Schedule,
    event: dict[str, Any],
    output: HandlerOutput,
) -> Invocation:
    output.take()  # forget anything printed outside an invocation
    cold_start = trigger.module not in sys.modules
    summary: dict[str, Any] | None = None
    error = ""
    started = time.perf_counter()
    try:
        returned = world.invoke(trigger.function_id, event)
        summary = returned if isinstance(returned, dict) else {"returned": returned}
    except Exception as exc:  # Lambda counts any exception as a failed invocation
        error = f"{type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - started
    if isinstance(trigger, Schedule):
        trigger_id, kind = trigger.event_id, SCHEDULE
    else:
        trigger_id, kind = trigger.rule_id, RULE
    return Invocation(
        trigger_id,
        trigger.function_id,
        summary,
        error,
        elapsed,
        cold_start,
        output.take(),
        kind,
    )


def deliver(world: World, event: dict[str, Any], output: HandlerOutput) -> Delivery:
    rules = [rule for rule in matching_rules(event) if world.receives(rule, event)]
    invocations = tuple(_invoke(world, rule, event, output) for rule in rules)
    unmatched = () if invocations else tuple(nearest_misses(event))
    return Delivery(
        event,
        invocations,
        tuple(world.drain_alerts()),
        unmatched=unmatched,
        witnessed=_witnessed(world),
    )


def expression(world: World, schedule: Schedule) -> str:
    """The schedule as deployed with the world's parameters: "rate(5 minutes)"."""
    try:
        return str(resolve(schedule.expression, world.parameters, {}, {}))
    except (KeyError, TypeError, IndexError):  # an intrinsic the drill does not evaluate
        return str(schedule.expression)


def fire(world: World, schedule: Schedule, output: HandlerOutput, at: datetime) -> Delivery:
    """The schedule's rule fires: its function gets a Scheduled Event, whatever happened."""
    event = scheduled_event(schedule.rule_name, at)
    invocation = _invoke(world, schedule, event, output)
    return Delivery(
        event,
        (invocation,),
        tuple(world.drain_alerts()),
        expression(world, schedule),
        _witnessed(world),
    )


def _witnessed(world: World) -> tuple[Any, ...]:
    return tuple(world.witness.deliver_pending()) if world.witness is not None else ()
