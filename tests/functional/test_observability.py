"""Logs and metrics: the CloudTrail eventID on every log line, Powertools' cold-start
metric, and the repair times the dashboard plots."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from aws_lambda_powertools.metrics.provider import cold_start

from drill.world import World
from tests.functional.helpers import aws, fresh


def _printed(
    capsys: pytest.CaptureFixture[str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    metrics = [r for r in records if "_aws" in r]
    logs = [r for r in records if "_aws" not in r]
    return logs, metrics


def test_every_log_line_carries_the_event_id(
    world: World, event: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    delivery = fresh(event("stop_logging.json"))
    world.handler("RestoreTrailFunction")  # imported: Powertools' log handler exists
    # Powertools writes to the stdout it found at import; read what it writes here.
    written = io.StringIO()
    handlers = [h for h in logging.getLogger("trailguard").handlers if hasattr(h, "stream")]
    assert handlers
    for handler in handlers:
        monkeypatch.setattr(handler, "stream", written)

    world.invoke("RestoreTrailFunction", delivery)

    logs = [json.loads(line) for line in written.getvalue().splitlines()]
    assert len(logs) >= 2
    assert {log.get("correlation_id") for log in logs} == {delivery["detail"]["eventID"]}


def test_cold_start_and_repair_times_are_metrics(
    world: World, event: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cold_start, "is_cold_start", True)  # a fresh execution environment
    aws("cloudtrail").stop_logging(Name=world.trail_name)
    capsys.readouterr()

    world.invoke("RestoreTrailFunction", fresh(event("stop_logging.json")))
    world.invoke("RestoreTrailFunction", fresh(event("stop_logging.json")))

    _, metrics = _printed(capsys)
    names = [
        m["Name"]
        for record in metrics
        for d in record["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    ]
    assert names.count("ColdStart") == 1
    [repair] = [r for r in metrics if "SecondsToRepair" in r]
    assert repair["service"] == "trailguard"
    assert repair["SecondsToRepair"][0] >= 0
    assert repair["BlindWindowSeconds"] == repair["SecondsToRepair"]  # I2: not recording
