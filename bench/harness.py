"""What every benchmark worker shares. Standard library only at import time.

Workers run in two interpreters (the project's .venv and Cloud Custodian's own
venv), so nothing here imports boto3 or the project until a function asks for
it. The cold-start script (bench/cold.py) uses none of this. Timings use
time.perf_counter(); waits across processes use time.time().
"""

from __future__ import annotations

import copy
import importlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
WORK = ROOT / "bench" / "work"
ACCOUNT = "111111111111"
REGION = "us-east-1"
TRAIL_NAME = "org-trail"
TRAIL_ARN = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{TRAIL_NAME}"
HARNESS_AGENT = "bench-harness/1"
BARE_AGENT = "bench-bare/1"


# ------------------------------------------------------------------ events
def load_event(name: str) -> dict[str, Any]:
    with (EVENTS / f"{name}.json").open() as handle:
        return dict(json.load(handle))


def fresh_event(template: dict[str, Any]) -> dict[str, Any]:
    """A new delivery of the same call: its own eventID, time = now."""
    event = copy.deepcopy(template)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["id"] = str(uuid.uuid4())
    event["time"] = stamp
    event["detail"]["eventID"] = str(uuid.uuid4())
    event["detail"]["eventTime"] = stamp
    return event


@dataclass
class FakeLambdaContext:
    """The attributes Lambda's context object has (as drill/world.py fakes it)."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline: float = field(default_factory=lambda: time.monotonic() + 60)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "bench"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


# ------------------------------------------------------------------ timing inside botocore
class CallClock:
    """Time spent in botocore, split into HTTP (Endpoint._send: network + moto) and
    whole API calls (BaseClient._make_api_call: serialise, sign, send, parse, retry).

    The benchmark's own patch on the two methods, in the worker process only; the
    code under test is not changed. Cost of the wrapper: about a microsecond per call.
    """

    def __init__(self) -> None:
        self.http_seconds = 0.0
        self.http_requests = 0
        self.api_seconds = 0.0
        self.api_calls = 0
        self._depth = 0

    def install(self) -> CallClock:
        endpoint = importlib.import_module("botocore.endpoint")
        client = importlib.import_module("botocore.client")
        send = endpoint.Endpoint._send
        make_api_call = client.BaseClient._make_api_call
        clock = self

        def timed_send(self: Any, request: Any) -> Any:
            started = time.perf_counter()
            try:
                return send(self, request)
            finally:
                clock.http_seconds += time.perf_counter() - started
                clock.http_requests += 1

        def timed_call(self: Any, operation_name: str, api_params: Any) -> Any:
            started = time.perf_counter()
            clock._depth += 1
            try:
                return make_api_call(self, operation_name, api_params)
            finally:
                clock._depth -= 1
                if clock._depth == 0:
                    clock.api_seconds += time.perf_counter() - started
                    clock.api_calls += 1

        endpoint.Endpoint._send = timed_send
        client.BaseClient._make_api_call = timed_call
        return self

    def reset(self) -> None:
        self.http_seconds = self.api_seconds = 0.0
        self.http_requests = self.api_calls = 0

    def snapshot(self) -> dict[str, float]:
        return {
            "http_s": self.http_seconds,
            "http_requests": self.http_requests,
            "api_s": self.api_seconds,
            "api_calls": self.api_calls,
        }


# ------------------------------------------------------------------ the counting server
def endpoint() -> str:
    return os.environ["AWS_ENDPOINT_URL"]


def server_reset() -> None:
    request = importlib.import_module("urllib.request")
    req = request.Request(f"{endpoint()}/_bench/reset", data=b"", method="POST")
    with request.urlopen(req, timeout=10) as response:
        response.read()


def _server_state() -> dict[str, Any]:
    request = importlib.import_module("urllib.request")
    with request.urlopen(f"{endpoint()}/_bench/counts", timeout=10) as response:
        state: dict[str, Any] = json.loads(response.read())
    return state


def server_counts(exclude_harness: bool = True) -> list[list[Any]]:
    """[[caller, service, operation, n, seconds], ...] since the last reset."""
    rows = _server_state()["calls"]
    return [r for r in rows if not (exclude_harness and r[0] == "harness")]


def logging_resumed_after(caller: str, started_at: float) -> float | None:
    """Seconds from `started_at` (unix time) until the server answered the first
    StartLogging made by `caller` since the last reset; None if it made none."""
    times = [t for who, t in _server_state()["logging_started"] if who == caller]
    return min(times) - started_at if times else None


def server_latency(profile: dict[str, Any] | None) -> None:
    """Turn the server's per-call delay on (a latency profile) or off (None)."""
    request = importlib.import_module("urllib.request")
    body = json.dumps(profile or {}).encode()
    req = request.Request(f"{endpoint()}/_bench/latency", data=body, method="POST")
    with request.urlopen(req, timeout=10) as response:
        response.read()


LATENCY_PROFILE = ROOT / "bench" / "latency_profile.json"


def latency_profile() -> dict[str, Any]:
    """bench/latency_profile.json as the server's control endpoint takes it (seconds)."""
    profile = read_json(LATENCY_PROFILE)
    return {
        "default": profile["default_ms"] / 1000,
        "operations": {k: v["ms"] / 1000 for k, v in profile["operations"].items()},
    }


# ------------------------------------------------------------------ harness clients
_HARNESS: dict[str, Any] = {}


def harness(service: str) -> Any:
    """The benchmark's own clients (setup and checks): tagged so the server sets them apart."""
    if service not in _HARNESS:
        boto3 = importlib.import_module("boto3")
        config = importlib.import_module("botocore.config")
        session = _HARNESS.setdefault("", boto3.session.Session())
        _HARNESS[service] = session.client(
            service,
            region_name=REGION,
            config=config.Config(user_agent_extra=HARNESS_AGENT, retries={"max_attempts": 10}),
        )
    return _HARNESS[service]


def stop_trail() -> None:
    harness("cloudtrail").stop_logging(Name=TRAIL_NAME)


def delete_trail() -> None:
    # By name: moto ignores DeleteTrail by ARN (README, Limitations).
    harness("cloudtrail").delete_trail(Name=TRAIL_NAME)


def trail_logging() -> bool:
    return bool(harness("cloudtrail").get_trail_status(Name=TRAIL_ARN)["IsLogging"])


def trail_exists() -> bool:
    trails = harness("cloudtrail").describe_trails(trailNameList=[TRAIL_ARN])["trailList"]
    return any(t["Name"] == TRAIL_NAME for t in trails)


# ------------------------------------------------------------------ processes
def wait_for(path: Path, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while not path.exists():
        if time.time() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.005)


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path) as handle:
        return json.load(handle)
