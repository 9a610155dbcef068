"""The drill's --json report shows every alert at every destination."""

from __future__ import annotations

import io
import json
from pathlib import Path

import jsonschema

from drill.__main__ import main
from drill.runner import EXIT_OK
from tests.drill.helpers import only_play
from tests.unit.test_render_destinations import CHAT_SCHEMA


def test_json_report_has_each_alert_at_each_destination(tmp_path: Path) -> None:
    target = tmp_path / "report.json"

    code = main(
        ["--scenario", "stop-logging", "--json", str(target)],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )

    assert code == EXIT_OK
    [delivery] = only_play(json.loads(target.read_text()))["deliveries"]
    [alert] = delivery["alerts"]
    document = alert["document"]
    destinations = alert["destinations"]
    assert set(destinations) == {"eventBridge", "chat", "securityHub"}

    entry = destinations["eventBridge"]
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "trailguard",
        "trailguard Alert",
        "default",
    )
    assert entry["Detail"] == document

    chat = destinations["chat"]
    jsonschema.validate(chat, CHAT_SCHEMA)
    assert chat["metadata"]["threadId"] == document["dedupKey"]

    finding = destinations["securityHub"]
    assert finding["Id"] == document["dedupKey"]
    assert finding["Severity"]["Label"] == "HIGH"
    assert finding["RecordState"] == "ARCHIVED"
    assert finding["Action"]["AwsApiCallAction"]["Api"] == "StopLogging"
    assert finding["Resources"][0]["Type"] == "AwsCloudTrailTrail"
