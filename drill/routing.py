"""Delivering an event the way EventBridge would: every rule of template.yaml
whose pattern matches invokes its function once.

No routing table of our own: if a pattern in the template stops matching an
attack, the drill shows the attack going unanswered.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from typing import Any

from drill import template as tpl
from drill.handler_output import HandlerOutput, Printed
from drill.world import DeliveredAlert, World


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

    @property
    def outcome(self) -> str:
        if self.summary is None:
            return "raised"
        return str(self.summary.get("outcome", "?"))

    @property
    def actions(self) -> list[str]:
        return [str(a) for a in (self.summary or {}).get("actions", [])]


@dataclass(frozen=True)
class Delivery:
    """One event delivered to every matching rule, and the alerts it produced."""

    event: dict[str, Any]
    invocations: tuple[Invocation, ...]
    alerts: tuple[DeliveredAlert, ...]


def matching_rules(event: dict[str, Any]) -> list[tpl.Rule]:
    return [rule for rule in tpl.rules() if rule.matches(event)]


def _invoke(
    world: World, rule: tpl.Rule, event: dict[str, Any], output: HandlerOutput
) -> Invocation:
    output.take()  # forget anything printed outside an invocation
    cold_start = rule.module not in sys.modules
    summary: dict[str, Any] | None = None
    error = ""
    started = time.perf_counter()
    try:
        returned = world.invoke(rule.function_id, event)
        summary = returned if isinstance(returned, dict) else {"returned": returned}
    except Exception as exc:  # Lambda counts any exception as a failed invocation
        error = f"{type(exc).__name__}: {exc}"
    elapsed = time.perf_counter() - started
    return Invocation(
        rule.rule_id, rule.function_id, summary, error, elapsed, cold_start, output.take()
    )


def deliver(world: World, event: dict[str, Any], output: HandlerOutput) -> Delivery:
    invocations = tuple(_invoke(world, rule, event, output) for rule in matching_rules(event))
    return Delivery(event, invocations, tuple(world.drain_alerts()))
