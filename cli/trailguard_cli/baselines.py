"""Choosing baselines from TRAIL on the command line, shared by `baseline show` and `diff`."""

from __future__ import annotations

from collections.abc import Callable

from trailguard.domain.trails import TrailBaseline, TrailRef
from trailguard.engine.reconciler import protected_baselines
from trailguard.engine.remediation import Dependencies
from trailguard.errors import InvalidEvent
from trailguard_cli.errors import CliError


def trail_matcher(raw: str, region: str) -> Callable[[TrailRef], bool]:
    """TRAIL on the command line: a trail ARN, or a name in the stack's region."""
    if raw.startswith("arn:"):
        try:
            arn = TrailRef.from_arn(raw).arn
        except ValueError as exc:
            raise CliError(f"not a trail ARN: {raw!r}") from exc
        return lambda ref: ref.arn == arn
    try:
        name = TrailRef.parse(raw, region, "000000000000").name
    except InvalidEvent as exc:
        raise CliError(f"not a trail name: {raw!r}") from exc
    return lambda ref: (ref.name, ref.region) == (name, region)


def select_baselines(deps: Dependencies, trail: str | None) -> tuple[list[TrailBaseline], str]:
    """(baselines asked for, why none when empty). No TRAIL: the protected trails'."""
    if trail is None:
        baselines, problems = protected_baselines(deps)
        why = "; ".join(problems) or f"no baseline in {deps.settings.region}"
        return sorted(baselines, key=lambda b: b.ref), why
    matches = trail_matcher(trail, deps.settings.region)
    chosen = [b for b in deps.baselines.all() if matches(b.ref)]
    return sorted(chosen, key=lambda b: b.ref), f"no baseline for trail {trail!r}"
