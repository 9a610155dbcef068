"""Properties of the cleaner (domain/text.py), the event model that applies it once,
and the rendering that never raises (render/fallback.py)."""

from __future__ import annotations

import copy
import json
import unicodedata
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import load_event
from trailguard.domain.alerts import ActionRecord, Alert, Outcome, Severity
from trailguard.domain.events import parse_api_call_event
from trailguard.domain.text import clean_json, clean_text
from trailguard.errors import InvalidEvent
from trailguard.render.fallback import minimal, render_safely

# Written out here rather than imported, so that the test does not trust the module's list.
FORBIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
SEPARATORS_AND_SURROGATES = st.sampled_from(
    ["\u2028", "\u2029", "\ud800", "\udfff", "\x85", "\u202e", "\u2066", "\x1b", "\x00", "\n"]
)
ANY_TEXT = st.text(alphabet=st.one_of(st.characters(), SEPARATORS_AND_SURROGATES), max_size=300)


def _clean(text: str) -> bool:
    return not any(unicodedata.category(ch) in FORBIDDEN for ch in text)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    if is_dataclass(value) and not isinstance(value, type):
        return [s for f in fields(value) for s in _strings(getattr(value, f.name))]
    return []


@given(ANY_TEXT, st.integers(min_value=1, max_value=400))
def test_cleaned_text_is_safe_bounded_encodable_and_stable(raw: str, limit: int) -> None:
    cleaned = clean_text(raw, limit)

    assert _clean(cleaned)
    assert len(cleaned) <= limit
    cleaned.encode("utf-8")  # a lone surrogate would raise here
    assert clean_text(cleaned, limit) == cleaned


@given(st.text(alphabet=st.characters(exclude_categories=tuple(FORBIDDEN)), max_size=100))
def test_safe_text_is_left_alone(raw: str) -> None:
    assert clean_text(raw, 100) == raw


@given(ANY_TEXT)
def test_each_unsafe_character_is_replaced_visibly_in_place(raw: str) -> None:
    cleaned = clean_text(raw, 1000)

    assert len(cleaned) == len(raw)
    for before, after in zip(raw, cleaned, strict=True):
        if unicodedata.category(before) in FORBIDDEN:
            assert after == "\N{REPLACEMENT CHARACTER}"
        else:
            assert after == before


@given(st.one_of(st.integers(), st.floats(), st.none(), st.binary(), st.lists(st.text())))
def test_non_strings_become_empty(raw: Any) -> None:
    assert clean_text(raw) == ""


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(ANY_TEXT, children, max_size=5)
    ),
    max_leaves=30,
)


@given(JSON)
def test_cleaned_json_is_valid_json_and_every_string_in_it_is_safe(raw: Any) -> None:
    cleaned = clean_json(raw)

    assert all(_clean(s) for s in _strings(cleaned))
    json.dumps(cleaned, allow_nan=False).encode("utf-8")


def test_cleaned_json_is_bounded_in_depth_and_width() -> None:
    deep: Any = "leaf"
    for _ in range(50):
        deep = {"k": deep}
    wide = {"list": list(range(10_000)), "huge": 10**30, "nan": float("nan")}

    cleaned = clean_json({"deep": deep, **wide})

    assert json.dumps(cleaned).count("{") <= 9
    assert len(cleaned["list"]) == 128
    assert cleaned["huge"] is None
    assert cleaned["nan"] is None


FIELDS = [
    ("userAgent",),
    ("sourceIPAddress",),
    ("errorMessage",),
    ("userIdentity", "arn"),
    ("userIdentity", "type"),
    ("userIdentity", "invokedBy"),
    ("userIdentity", "accountId"),
    ("userIdentity", "sessionContext", "sessionIssuer", "arn"),
    ("requestParameters", "name"),
    ("requestParameters", "memberAccountId"),
    ("requestParameters", "nested", "deeper"),
    ("requestParameters", ANY_TEXT),
]


@given(st.lists(st.tuples(st.sampled_from(FIELDS), ANY_TEXT), min_size=1, max_size=6), st.data())
def test_every_string_the_event_model_hands_on_is_safe(
    replacements: list[tuple[tuple[Any, ...], str]], data: st.DataObject
) -> None:
    raw = copy.deepcopy(load_event("disable_own_rule.json"))
    for path, value in replacements:
        target = raw["detail"]
        for key in path[:-1]:
            target = target.setdefault(key, {})
        last = path[-1] if isinstance(path[-1], str) else data.draw(path[-1])
        target[last] = value
    try:
        event = parse_api_call_event(raw)
    except InvalidEvent:
        return
    assert all(_clean(s) for s in _strings(event))


@given(st.sampled_from(["\n", "\r", "\u2028", "\u2029", "\x85", "\x0b", "\x0c"]))
def test_identifiers_with_a_trailing_line_break_are_rejected(breaker: str) -> None:
    for path in (["recipientAccountId"], ["eventID"], ["awsRegion"], ["eventName"]):
        raw = load_event("stop_logging.json")
        raw["detail"][path[0]] += breaker
        try:
            parse_api_call_event(raw)
        except InvalidEvent:
            continue
        raise AssertionError(f"{path} accepted {breaker!r}")


def test_identifiers_in_other_scripts_are_rejected() -> None:
    raw = load_event("stop_logging.json")
    raw["detail"]["recipientAccountId"] = "\u0661" * 12  # ARABIC-INDIC DIGIT ONE

    try:
        parse_api_call_event(raw)
    except InvalidEvent as exc:
        assert "account" in str(exc)
    else:
        raise AssertionError("non-ASCII digits accepted as an account id")


def _alert(text: str) -> Alert:
    """An alert built around the boundary: every field carries raw text."""
    event = parse_api_call_event(load_event("stop_logging.json"))
    return Alert(
        severity=Severity.CRITICAL,
        outcome=Outcome.REMEDIATION_FAILED,
        headline=text,
        invariant=text,
        resource=text,
        account_id=text,
        region=text,
        event=event,
        detected_by=text,
        drift=(text,),
        actions=(ActionRecord(text, text, text),),
        verification=text,
        manual_action=text,
        detail=text,
        repaired_at=datetime.now(UTC),
    )


@given(ANY_TEXT)
def test_rendering_never_raises_and_is_always_publishable(text: str) -> None:
    rendered = render_safely(_alert(text))

    assert rendered.subject.isascii()
    assert rendered.subject.isprintable()
    assert len(rendered.subject) <= 100
    bodies = json.loads(rendered.message)
    rendered.message.encode("utf-8")
    assert all(ch == "\n" or _clean(ch) for ch in bodies["email"])
    document = json.loads(bodies["sqs"])
    assert document["severity"] == "CRITICAL"
    for attribute in rendered.attributes.values():
        assert attribute["StringValue"].isascii()


def test_a_field_that_breaks_the_full_rendering_gives_the_minimal_alert() -> None:
    rendered = render_safely(_alert("trailguard-Rule-\ud800\n\nMANUAL ACTION NEEDED"))

    document = json.loads(json.loads(rendered.message)["sqs"])
    assert document["minimal"] is True
    assert document["severity"] == "CRITICAL"
    assert document["event"]["name"] == "StopLogging"
    assert "MANUAL ACTION NEEDED" not in json.loads(rendered.message)["email"].splitlines()


def test_the_minimal_alert_survives_an_alert_that_is_not_one() -> None:
    rendered = minimal(object(), "boom")  # type: ignore[arg-type]

    document = json.loads(json.loads(rendered.message)["default"])
    assert document["severity"] == "CRITICAL"
    assert document["renderError"] == "boom"
