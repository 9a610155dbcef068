"""RestoreDeliveryChainFunction's service against hostile events: generated from the
samples in events/ as tests/unit/test_hostile_input.py does, with the bucket, key and
log group names mutated too. In a world in sync nothing may be written, and no
attacker string may reach an alert's own words."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fakes import BASELINE, make_deps
from tests.unit.test_hostile_input import HOSTILE_TEXT, JSON_VALUES, mutated_samples
from trailguard.domain.delivery_chain import (
    BucketState,
    ChainLocation,
    DeliveryChain,
    KeyState,
    LogGroupState,
    Part,
)
from trailguard.domain.trails import TrailBaseline
from trailguard.engine.handler import handle_api_call
from trailguard.protected.delivery_chain import protect_delivery_chain

KEY_ARN = "arn:aws:kms:us-east-1:222222222222:key/4f1d5c2a-8b3e-4c6f-9a7d-2e5b8c1f0a93"
CHAIN = DeliveryChain(
    ChainLocation(
        bucket_name="org-trail-logs-111111111111",
        bucket_account="222222222222",
        key_arn=KEY_ARN,
        log_group_name="org-trail",
    ),
    bucket=BucketState(True, "us-east-1", {"Statement": []}, (), "Enabled"),
    key=KeyState(True, "Enabled", {"Statement": []}),
    log_group=LogGroupState(True, 365),
)


@dataclass
class _Writes:
    calls: list[str]

    def __getattr__(self, name: str) -> Any:
        def record(*_: Any, **__: Any) -> None:
            self.calls.append(name)

        return record


@dataclass
class FakeChains:
    """The chain as in its baseline (a world in sync); records every call."""

    calls: list[str] = field(default_factory=list)

    def bucket_account(self, home_account: str) -> str:
        return "222222222222"

    def read(self, location: ChainLocation, parts: frozenset[Part], home: str) -> DeliveryChain:
        self.calls.append("read")
        return CHAIN

    def bucket(self, location: ChainLocation, home: str) -> Any:
        return _Writes(self.calls)

    def key(self, location: ChainLocation, home: str) -> Any:
        return _Writes(self.calls)

    def logs(self) -> Any:
        return _Writes(self.calls)


CHAIN_FIELDS = [
    ("detail", "requestParameters", "bucketName"),
    ("detail", "requestParameters", "keyId"),
    ("detail", "requestParameters", "logGroupName"),
]


@st.composite
def hostile_chain_events(draw: st.DrawFn) -> Any:
    event = copy.deepcopy(draw(mutated_samples()))
    parameters = event.get("detail", {}) if isinstance(event, dict) else {}
    parameters = parameters.get("requestParameters") if isinstance(parameters, dict) else None
    if isinstance(parameters, dict):
        _, _, name = draw(st.sampled_from(CHAIN_FIELDS))
        parameters[name] = draw(st.one_of(HOSTILE_TEXT, JSON_VALUES))
    return event


def _assert_harmless(raw: Any) -> None:
    chains = FakeChains()
    deps = make_deps(chain=chains)
    deps.baselines.put(TrailBaseline(BASELINE, "2026-11-01T00:00:00+00:00", "op", "x", CHAIN))
    handle_api_call(raw, protect_delivery_chain, deps=deps)
    assert set(chains.calls) <= {"read"}
    for alert in deps.alerts.alerts:  # type: ignore[attr-defined]
        # trailguard's own words only: the headline never quotes the request.
        assert "\x1b" not in alert.headline and "<script>" not in alert.headline


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_chain_events())
def test_hostile_chain_events_never_crash_or_write(raw: Any) -> None:
    _assert_harmless(raw)


def test_the_unmutated_samples_are_read_and_found_in_sync() -> None:
    """The generator starts from events that do reach the read: the test can fail."""
    from tests.unit.test_hostile_input import SAMPLES

    reached = 0
    for raw in SAMPLES:
        chains = FakeChains()
        deps = make_deps(chain=chains)
        deps.baselines.put(TrailBaseline(BASELINE, "2026-11-01T00:00:00+00:00", "op", "x", CHAIN))
        outcome = handle_api_call(copy.deepcopy(raw), protect_delivery_chain, deps=deps)
        if chains.calls:
            reached += 1
            assert chains.calls == ["read"]
            assert outcome["outcome"] in ("in_sync", "attempt_failed")
    assert reached >= 7  # the trail's bucket, key and log group events
