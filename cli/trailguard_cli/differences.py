"""Live state against a baseline (or one baseline against the next), field by field.

Shared by `baseline diff`, `baseline show --history` and `baseline capture`'s preview.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trailguard.domain.drift import EVERY_ASPECT, SETTING_LABELS, Aspect, LiveTrail, trail_drift
from trailguard.domain.trails import TrailSnapshot
from trailguard_cli.output import blob, shown


@dataclass(frozen=True)
class FieldDiff:
    """One field that differs. Values are raw; rendering quotes them."""

    invariant: str
    field: str
    baseline: Any
    live: Any
    is_document: bool = False  # selectors: shown as JSON blobs

    def as_dict(self) -> dict[str, object]:
        return {
            "invariant": self.invariant,
            "field": self.field,
            "baseline": self.baseline,
            "live": self.live,
        }


_ABSENT = None  # a tag on one side only (tag values are strings, never None)


def selectors_of(snapshot: TrailSnapshot) -> dict[str, list[Any]]:
    s = snapshot.selectors
    return {
        "EventSelectors": [dict(x) for x in s.event_selectors],
        "AdvancedEventSelectors": [dict(x) for x in s.advanced_event_selectors],
        "InsightSelectors": [dict(x) for x in s.insight_selectors],
    }


def differences(baseline: TrailSnapshot, live: LiveTrail) -> list[FieldDiff]:
    """Live state against the baseline, field by field.

    Which aspects differ is decided by drift.trail_drift, as for the
    reconciler; this only spells out the fields of each."""
    if not live.exists:
        return [FieldDiff("I3", "Trail", "exists", "does not exist")]
    drifted = {d.aspect for d in trail_drift(baseline, live, EVERY_ASPECT)}
    diffs: list[FieldDiff] = []
    if Aspect.LOGGING in drifted:
        diffs.append(FieldDiff("I2", "IsLogging", True, False))
    snapshot = live.snapshot
    if snapshot is None:  # only the status was read
        return diffs
    for key, expected, actual in baseline.settings.differences(snapshot.settings):
        diffs.append(FieldDiff("I4", SETTING_LABELS[key], expected, actual))
    before, after = selectors_of(baseline), selectors_of(snapshot)
    if Aspect.EVENT_SELECTORS in drifted:
        for name in ("EventSelectors", "AdvancedEventSelectors"):
            if before[name] or after[name]:
                diffs.append(FieldDiff("I5", name, before[name], after[name], True))
    if Aspect.INSIGHT_SELECTORS in drifted:
        name = "InsightSelectors"
        diffs.append(FieldDiff("I5", name, before[name], after[name], True))
    if Aspect.TAGS in drifted:
        mine, theirs = dict(baseline.tags), dict(snapshot.tags)
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                diffs.append(
                    FieldDiff(
                        "I3", f"Tag {key!r}", mine.get(key, _ABSENT), theirs.get(key, _ABSENT)
                    )
                )
    return diffs


def _value(value: Any) -> str:
    return "(absent)" if value is _ABSENT else shown(value)


def format_differences(
    diffs: Sequence[FieldDiff], before: str = "baseline", after: str = "live", indent: str = "  "
) -> list[str]:
    rows = [d for d in diffs if not d.is_document]
    width = max((len(d.field) for d in rows), default=0)
    lines = [
        f"{indent}{d.invariant:<4}{d.field:<{width}}  {before} {_value(d.baseline)}, "
        f"{after} {_value(d.live)}"
        for d in rows
    ]
    for d in diffs:
        if d.is_document:
            lines.append(f"{indent}{d.invariant:<4}{d.field} differ")
            lines.append(f"{indent}    {before}:")
            lines += blob(d.baseline, indent + "      ")
            lines.append(f"{indent}    {after}:")
            lines += blob(d.live, indent + "      ")
    return lines
