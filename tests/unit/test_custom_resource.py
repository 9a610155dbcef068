"""The deploy-time custom resource always answers CloudFormation, in time, once."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.error import URLError

import pytest

from trailguard.engine import custom_resource
from trailguard.engine.custom_resource import ResponseNotDelivered, answer_in_time, respond

EVENT = {
    "RequestType": "Create",
    "ResponseURL": "https://cloudformation-custom-resource-response-useast1.s3.amazonaws.com/x",
    "StackId": "arn:aws:cloudformation:us-east-1:111111111111:stack/trailguard/guid",
    "RequestId": "request-1",
    "LogicalResourceId": "BaselineCapture",
}


def pause(seconds: float) -> None:
    # Not time.sleep: the suite's autouse fixture replaces it (tests/conftest.py).
    threading.Event().wait(seconds)


@dataclass
class FakeResponse:
    status: int = 200

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


@dataclass
class FakeCloudFormation:
    """Records each PUT; the first `failures` attempts fail as a network error would."""

    failures: int = 0
    delay: float = 0.0
    puts: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Any, timeout: float) -> FakeResponse:
        assert request.get_method() == "PUT"
        assert timeout <= 5
        pause(self.delay)
        with self.lock:
            if self.failures:
                self.failures -= 1
                raise URLError("connection reset")
            self.puts.append(json.loads(request.data))
        return FakeResponse()


@dataclass
class Context:
    millis: int

    def get_remaining_time_in_millis(self) -> int:
        return self.millis


def test_answer_is_retried_until_it_goes_through() -> None:
    cloudformation = FakeCloudFormation(failures=2)
    pauses: list[float] = []

    respond(
        EVENT, "SUCCESS", "ok", {"Captured": 1}, "pid", opener=cloudformation, sleep=pauses.append
    )

    [put] = cloudformation.puts
    assert put["Status"] == "SUCCESS"
    assert put["Data"] == {"Captured": 1}
    assert (put["RequestId"], put["LogicalResourceId"]) == ("request-1", "BaselineCapture")
    assert pauses == [0.5, 1.0]


def test_answer_that_never_goes_through_raises() -> None:
    cloudformation = FakeCloudFormation(failures=10)

    with pytest.raises(ResponseNotDelivered, match="3 attempts"):
        respond(EVENT, "SUCCESS", "ok", {}, "pid", opener=cloudformation, sleep=lambda s: None)

    assert cloudformation.puts == []


def test_plain_http_response_url_is_refused() -> None:
    with pytest.raises(ValueError, match="https"):
        respond({**EVENT, "ResponseURL": "http://x"}, "SUCCESS", "", {}, "pid")


def test_work_outcome_is_the_answer() -> None:
    cloudformation = FakeCloudFormation()

    status = answer_in_time(
        EVENT,
        Context(300_000),
        lambda: ("SUCCESS", "captured 1", {"Captured": 1}),
        "pid",
        opener=cloudformation,
    )

    assert status == "SUCCESS"
    assert [p["Status"] for p in cloudformation.puts] == ["SUCCESS"]


def test_work_that_raises_answers_failed_then_raises() -> None:
    cloudformation = FakeCloudFormation()

    def work() -> tuple[str, str, dict[str, Any]]:
        raise RuntimeError("DynamoDB is down")

    with pytest.raises(RuntimeError, match="DynamoDB"):
        answer_in_time(EVENT, Context(300_000), work, "pid", opener=cloudformation)

    [put] = cloudformation.puts
    assert put["Status"] == "FAILED"
    assert "DynamoDB is down" in put["Reason"]


def test_slow_work_is_answered_failed_before_the_timeout_and_only_once() -> None:
    cloudformation = FakeCloudFormation()
    started = time.monotonic()

    def slow() -> tuple[str, str, dict[str, Any]]:
        pause(0.6)
        return "SUCCESS", "too late", {}

    # 0.3 s left, 0.1 s margin: the timer answers after about 0.2 s.
    status = answer_in_time(EVENT, Context(300), slow, "pid", margin=0.1, opener=cloudformation)

    assert status == "FAILED"
    [put] = cloudformation.puts  # the late SUCCESS is never sent
    assert put["Status"] == "FAILED"
    assert "timeout" in put["Reason"]
    assert time.monotonic() - started < 2


def test_a_timeout_answer_in_flight_is_waited_for() -> None:
    # The timer's PUT is slow; the handler must not return (and be frozen) before it lands.
    cloudformation = FakeCloudFormation(delay=0.4)

    def slow() -> tuple[str, str, dict[str, Any]]:
        pause(0.2)
        return "SUCCESS", "late", {}

    answer_in_time(EVENT, Context(100), slow, "pid", margin=0.05, opener=cloudformation)

    assert [p["Status"] for p in cloudformation.puts] == ["FAILED"]


def test_margin_covers_every_attempt() -> None:
    attempts = custom_resource.ATTEMPTS
    assert (
        attempts * custom_resource._PUT_TIMEOUT + sum(custom_resource._BACKOFF)
        <= custom_resource.TIMEOUT_MARGIN
    )
