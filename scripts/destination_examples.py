"""README examples of one alert at every destination, rendered by trailguard's own code.

    .venv/bin/python scripts/destination_examples.py           # rewrite the README sections
    .venv/bin/python scripts/destination_examples.py --check   # exit 1 if they are stale

The alert is the repair of events/stop_logging.json, with a user agent that tries to
ping a Slack channel, so that the chat example shows how attacker text is neutralised.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "trailguard")]

from scripts.readme_sections import README, SectionMissing, read_section, replace_section
from trailguard.domain.alerts import ActionRecord, Alert, AlertContext, Outcome, Severity
from trailguard.domain.events import parse_api_call_event
from trailguard.render.asff import asff_finding
from trailguard.render.chat import chat_message
from trailguard.render.document import alert_document
from trailguard.render.email import email_text
from trailguard.render.eventbridge import alert_event
from trailguard.render.sns import subject_for

SAMPLE = "events/stop_logging.json"
HOSTILE_AGENT = "<!channel> aws-cli/2.17.0 *urgent*"
COMMAND = "make readme-destinations"


def sample_alert() -> Alert:
    raw = json.loads((ROOT / SAMPLE).read_text())
    raw["detail"]["userAgent"] = HOSTILE_AGENT
    event = parse_api_call_event(raw)
    trail = f"arn:aws:cloudtrail:{event.region}:{event.account_id}:trail/org-trail"
    return Alert(
        severity=Severity.HIGH,
        outcome=Outcome.REPAIRED,
        headline="drift repaired and verified",
        invariant="I2 the protected trail is logging",
        resource=trail,
        account_id=event.account_id,
        region=event.region,
        event=event,
        drift=("logging was stopped (StopLogging)",),
        actions=(ActionRecord("StartLogging", trail, "ok"),),
        verification="state re-read after repair matches the baseline",
        repaired_at=event.event_time + timedelta(seconds=1.8),
        context=AlertContext(
            stack_name="trailguard",
            account_alias="acme-management",
            function_region=event.region,
            log_group="/trailguard/trailguard/restore-trail",
        ),
    )


@dataclass(frozen=True)
class Example:
    section: str
    intro: str
    payload: object  # text is shown as it is, anything else as JSON


def examples() -> list[Example]:
    alert = sample_alert()
    assert alert.repaired_at is not None
    moment = alert.repaired_at  # the finding is imported when the alert is published
    return [
        Example(
            "destination-email",
            "The `email` text of the alert topic's message:",
            f"Subject: {subject_for(alert)}\n\n{email_text(alert)}",
        ),
        Example(
            "destination-sns",
            "The JSON document of the same message (`sqs`, `lambda`, `https`, `default`):",
            alert_document(alert),
        ),
        Example(
            "destination-eventbridge",
            "The PutEvents entry (`Detail` is sent as JSON text):",
            alert_event(alert).entry(),
        ),
        Example(
            "destination-chat",
            "The message published to the chat topic:",
            chat_message(alert),
        ),
        Example(
            "destination-securityhub",
            "The finding passed to `BatchImportFindings`:",
            asff_finding(alert, alert.region, moment),
        ),
    ]


def body(example: Example) -> str:
    if isinstance(example.payload, str):
        fence, text = "```", example.payload.rstrip("\n")
    else:
        fence, text = "```json", json.dumps(example.payload, indent=2, ensure_ascii=False)
    return (
        f"Written by `{COMMAND}` from `{SAMPLE}` (user agent `{HOSTILE_AGENT}`). "
        f"{example.intro}\n\n{fence}\n{text}\n```\n"
    )


def main(argv: list[str] | None = None, readme: Path = README) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="exit 1 if a section is stale")
    args = parser.parse_args(argv)
    stale = []
    for example in examples():
        wanted = body(example)
        try:
            current = read_section(example.section, readme)
        except SectionMissing as missing:
            print(missing, file=sys.stderr)
            return 2
        if current == wanted:
            continue
        stale.append(example.section)
        if not args.check:
            replace_section(example.section, wanted, readme)
    if args.check and stale:
        print(f"stale README sections: {', '.join(stale)}; run {COMMAND}", file=sys.stderr)
        return 1
    print(("stale: " if args.check else "written: ") + (", ".join(stale) or "none"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
