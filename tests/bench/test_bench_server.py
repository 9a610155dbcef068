"""The bench's counting server: the latency profile delays only the measured sides, and
the moment logging resumed is recorded. The WSGI middleware runs here around a stub app."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from bench import harness as h
from bench.server import CountingMiddleware

SIGNED = "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/{service}/aws4_request"


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b"{}"]


def _call(app: CountingMiddleware, service: str, operation: str, agent: str) -> None:
    environ = {
        "PATH_INFO": "/",
        "REQUEST_METHOD": "POST",
        "HTTP_AUTHORIZATION": SIGNED.format(service=service),
        "HTTP_X_AMZ_TARGET": f"Service.{operation}",
        "HTTP_USER_AGENT": agent,
        "wsgi.input": io.BytesIO(b""),
    }
    app(environ, lambda *_: None)


def _control(app: CountingMiddleware, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else b""
    environ = {"PATH_INFO": path, "CONTENT_LENGTH": str(len(data)), "wsgi.input": io.BytesIO(data)}
    return json.loads(b"".join(app._control(environ, lambda *_: None)))


def test_latency_profile_delays_measured_sides_but_never_the_harness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    monkeypatch.setattr("bench.server.time.sleep", waits.append)
    app = CountingMiddleware(_app)
    _control(app, "/_bench/latency", {"default": 0.05, "operations": {"dynamodb:*": 0.01}})
    _call(app, "cloudtrail", "StartLogging", "trailguard/1.0")
    _call(app, "cloudtrail", "StartLogging", "bench-harness/1")
    _call(app, "dynamodb", "PutItem", "bench-bare/1")
    _control(app, "/_bench/latency", {})
    _call(app, "cloudtrail", "StartLogging", "c7n/0.9")
    # The answer leaves the profile's figure after the call arrived, moto's time included.
    assert len(waits) == 2
    assert 0.049 < waits[0] <= 0.05
    assert 0.009 < waits[1] <= 0.01


def test_logging_started_is_recorded_per_caller_and_forgotten_on_reset() -> None:
    app = CountingMiddleware(_app)
    before = time.time()
    _call(app, "cloudtrail", "StartLogging", "bench-bare/1")
    _call(app, "cloudtrail", "StartLogging", "bench-harness/1")
    state = _control(app, "/_bench/counts")
    assert [who for who, _ in state["logging_started"]] == ["bare"]
    assert state["logging_started"][0][1] >= before
    assert state["calls"][0][:4] == ["bare", "cloudtrail", "StartLogging", 1]
    _control(app, "/_bench/reset")
    assert _control(app, "/_bench/counts") == {"calls": [], "logging_started": []}


def test_latency_profile_file_states_a_source_for_every_figure() -> None:
    profile = h.read_json(h.LATENCY_PROFILE)
    assert profile["default_source"]
    for key, entry in profile["operations"].items():
        assert ":" in key and entry["ms"] >= 0 and entry["source"], key
    loaded = h.latency_profile()
    assert loaded["default"] == profile["default_ms"] / 1000
