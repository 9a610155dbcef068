"""What the functions print while the drill runs, kept off the drill's own output.

In Lambda, stdout is the function's log stream: Powertools writes its JSON log
records and its EMF metrics there. The drill redirects stdout for the whole run
(Powertools binds its log handler to whatever stdout is when the first handler
module is imported, so the redirect must start before the world is built) and
files what each invocation printed under that invocation.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Printed:
    """One invocation's stdout, sorted into log records, metric names and other lines."""

    logs: tuple[dict[str, Any], ...] = ()
    metrics: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


def _metric_names(emf: dict[str, Any]) -> list[str]:
    names = []
    for directive in emf["_aws"].get("CloudWatchMetrics", []):
        names += [str(metric.get("Name", "?")) for metric in directive.get("Metrics", [])]
    return names


def sort_printed(text: str) -> Printed:
    logs: list[dict[str, Any]] = []
    metrics: list[str] = []
    other: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            other.append(line)
            continue
        if isinstance(record, dict) and "_aws" in record:
            metrics += _metric_names(record)
        elif isinstance(record, dict):
            logs.append(record)
        else:
            other.append(line)
    return Printed(tuple(logs), tuple(metrics), tuple(other))


class HandlerOutput:
    """Collects stdout while active; `take()` returns what arrived since the last take."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._taken = 0

    @contextmanager
    def captured(self) -> Iterator[None]:
        with redirect_stdout(self._buffer):
            yield

    def take(self) -> Printed:
        text = self._buffer.getvalue()
        fresh, self._taken = text[self._taken :], len(text)
        return sort_printed(fresh)
