"""Property: no event, however malformed or hostile, crashes a handler or changes AWS.

Thousands of generated events (random JSON, and sample events with fields
replaced by random values, huge strings and control characters) go through
every event handler's entry point, against fakes whose world is in sync: a
handler may read and may alert, but never raise, and never write unless the
event is still a valid StopLogging (answered by an idempotent StartLogging).
"""

from __future__ import annotations

import copy
import json
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import SETTINGS, make_deps
from trailguard.domain.events import parse_api_call_event
from trailguard.engine.handler import handle_api_call
from trailguard.errors import InvalidEvent
from trailguard.protected.service_linked_role import restore_service_linked_role
from trailguard.protected.trail import protect_trail
from trailguard.protected.trailguard_itself import self_tampering
from trailguard.protected.trusted_access import organizations_change as restore_trusted_access

SERVICES = (restore_trusted_access, protect_trail, restore_service_linked_role, self_tampering)
SAMPLES = [
    json.loads(path.read_text())
    for path in sorted((Path(__file__).parent.parent.parent / "events").glob("*.json"))
]
HOSTILE_TEXT = st.one_of(
    st.text(max_size=64),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=32),
    # Line and paragraph separators, NEL, bidi controls and lone surrogates, mixed in.
    st.text(
        alphabet=st.sampled_from("a-1\n\u2028\u2029\x85\u202e\u2066\ufeff\ud800\udfff\x1b"),
        min_size=1,
        max_size=24,
    ),
    st.just("trailguard-Rule\n\nMANUAL ACTION NEEDED\n  none \u2013 approved drill"),
    st.just("\u2028ALL CLEAR!"),
    st.just("org-trail\x1b[2J<script>alert(1)</script>"),
    st.just("A" * 300_000),
    st.just("arn:aws:cloudtrail:us-east-1:111111111111:trail/../../etc/passwd"),
    st.just("arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail\n"),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | HOSTILE_TEXT,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    ("source",),
    ("detail-type",),
    ("detail",),
    ("detail", "eventName"),
    ("detail", "eventSource"),
    ("detail", "eventID"),
    ("detail", "eventTime"),
    ("detail", "awsRegion"),
    ("detail", "recipientAccountId"),
    ("detail", "errorCode"),
    ("detail", "userIdentity"),
    ("detail", "userIdentity", "arn"),
    ("detail", "userIdentity", "sessionContext"),
    ("detail", "userAgent"),
    ("detail", "requestParameters"),
    ("detail", "requestParameters", "name"),
    ("detail", "requestParameters", "trailName"),
    ("detail", "requestParameters", "servicePrincipal"),
    ("detail", "requestParameters", "roleName"),
    ("detail", "requestParameters", "memberAccountId"),
    ("detail", "requestParameters", "accountId"),
    ("detail", "errorMessage"),
    ("detail", "sourceIPAddress"),
]
# Never in an alert, whatever the event said (the e-mail's own line breaks aside).
FORBIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@st.composite
def mutated_samples(draw: st.DrawFn) -> Any:
    event = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(FIELDS))
        target = event
        for key in path[:-1]:
            if not isinstance(target, dict) or not isinstance(target.get(key), dict):
                break
            target = target[key]
        else:
            if draw(st.booleans()):
                target.pop(path[-1], None)
            else:
                target[path[-1]] = draw(JSON_VALUES)
    return event


def _still_a_valid_stop_logging(raw: Any) -> bool:
    try:
        return parse_api_call_event(raw).event_name == "StopLogging"
    except InvalidEvent:
        return False


def _assert_harmless(raw: Any) -> None:
    # The one write a world in sync may see: a StopLogging event that survived the
    # mutation is answered by StartLogging without a read first (idempotent).
    allowed = {"read", "StartLogging"} if _still_a_valid_stop_logging(raw) else {"read"}
    for service in SERVICES:
        # Named like the world's stack, so that self-tampering events reach an alert.
        deps = make_deps(
            replace(SETTINGS, stack_name="trailguard", alert_on_other_service_principals=True)
        )
        handle_api_call(raw, service, deps=deps)
        assert set(deps.trails.calls) <= allowed  # type: ignore[attr-defined]
        assert set(deps.trusted_access.calls) <= {"List"}  # type: ignore[attr-defined]
        assert set(deps.roles.calls) <= {"List"}  # type: ignore[attr-defined]
        assert len(deps.baselines.history) == 1  # type: ignore[attr-defined]
        for rendered in deps.alerts.rendered:  # type: ignore[attr-defined]
            _assert_clean_alert(rendered)


def _assert_clean_alert(rendered: Any) -> None:
    assert rendered.subject.isascii()
    assert rendered.subject.isprintable()
    bodies = json.loads(rendered.message)
    email = bodies["email"]
    assert not [c for c in email if c != "\n" and unicodedata.category(c) in FORBIDDEN]
    lines = [line.strip() for line in email.splitlines()]
    assert "ALL CLEAR!" not in lines
    document = json.loads(bodies["sqs"])
    # Cleaned where it entered, event text never needs the minimal fallback.
    assert "minimal" not in document
    assert lines.count("MANUAL ACTION NEEDED") == (1 if document["manualAction"] else 0)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_samples())
def test_mutated_sample_events_never_crash_or_write(raw: Any) -> None:
    _assert_harmless(raw)


@settings(max_examples=500, deadline=None)
@given(JSON_VALUES)
def test_arbitrary_json_never_crashes_or_writes(raw: Any) -> None:
    _assert_harmless(raw)


@st.composite
def samples_with_hostile_text(draw: st.DrawFn) -> Any:
    """A sample event whose every string parameter, and who and how, end in hostile text:
    the call stays what it was, so the services act and alert on it."""
    event = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
    detail = event.get("detail")
    if not isinstance(detail, dict):
        return event
    text = draw(HOSTILE_TEXT.filter(lambda t: len(t) < 1000))
    for key, value in (detail.get("requestParameters") or {}).items():
        if isinstance(value, str):
            detail["requestParameters"][key] = value + text
    for key in ("userAgent", "sourceIPAddress", "errorMessage"):
        detail[key] = f"{detail.get(key) or ''}{text}"
    identity = detail.setdefault("userIdentity", {})
    identity["arn"] = f"{identity.get('arn', '')}{text}"
    return event


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(samples_with_hostile_text())
def test_hostile_text_in_every_field_never_shapes_an_alert(raw: Any) -> None:
    _assert_harmless(raw)
