"""moto's HTTP server on 127.0.0.1, wrapped in a middleware that counts every AWS call.

Runs in bench/work/venv (moto[server]); started and stopped by bench/run.py.
Each request is counted by (caller, service, operation). The caller comes from
the User-Agent: trailguard's clients add `trailguard/<version>`, Cloud
Custodian's say `c7n/<version>`, the bench's minimal scripts `bench-bare/1` and
the bench's own setup calls `bench-harness/1` (reported apart, never as work).

Control endpoints (not AWS, not counted):
  GET  /_bench/counts   {"calls": [[caller, service, operation, n, seconds], ...],
                         "logging_started": [[caller, unix time], ...]}
  POST /_bench/reset    forget the counts
  POST /_bench/latency  {"default": seconds, "operations": {"service:Operation": seconds,
                         "service:*": seconds}}: from now on, answer each call of a
                         measured side that much later (bench/latency_profile.json);
                         {} turns the delay off. The bench's own setup calls are never
                         delayed.

`logging_started` records when each StartLogging answer left the server, so that
the bench can tell when logging resumed, not only when the handler returned.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_CALLERS = (
    ("trailguard/", "trailguard"),
    ("c7n/", "c7n"),
    ("bench-bare/", "bare"),
    ("bench-harness/", "harness"),
)


def caller_of(user_agent: str) -> str:
    for marker, name in _CALLERS:
        if marker in user_agent:
            return name
    return "other"


class CountingMiddleware:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._calls: dict[tuple[str, str, str], list[float]] = {}
        self._logging_started: list[list[Any]] = []
        self._delays: dict[str, float] = {}
        self._default_delay = 0.0

    def _delay(self, caller: str, service: str, operation: str) -> float:
        if caller == "harness":
            return 0.0
        for key in (f"{service}:{operation}", f"{service}:*"):
            if key in self._delays:
                return self._delays[key]
        return self._default_delay

    def _control(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if environ["PATH_INFO"] == "/_bench/reset":
            with self._lock:
                self._calls.clear()
                self._logging_started.clear()
            body = b"{}"
        elif environ["PATH_INFO"] == "/_bench/latency":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            profile = json.loads(environ["wsgi.input"].read(length) or b"{}")
            with self._lock:
                self._default_delay = float(profile.get("default", 0.0))
                self._delays = {k: float(v) for k, v in profile.get("operations", {}).items()}
            body = b"{}"
        else:
            with self._lock:
                rows = [[*key, int(v[0]), v[1]] for key, v in sorted(self._calls.items())]
                started = [list(entry) for entry in self._logging_started]
            body = json.dumps({"calls": rows, "logging_started": started}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_bench/"):
            return self._control(environ, start_response)
        started = time.perf_counter()
        scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
        service = scope.group(1) if scope else "unsigned"
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rsplit(".", 1)[-1] if target else ""
        if not operation:
            # Query protocol (SNS, IAM, STS): the operation is the form's Action.
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(body)
            action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
            action = action or parse_qs(environ.get("QUERY_STRING", "")).get("Action", [""])[0]
            operation = action or f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')}"
        result = list(self._app(environ, start_response))
        elapsed = time.perf_counter() - started
        caller = caller_of(environ.get("HTTP_USER_AGENT", ""))
        key = (caller, service, operation)
        with self._lock:
            delay = self._delay(caller, service, operation)
        if delay:
            # The answer leaves as late as AWS's would (threaded server: other
            # requests are served meanwhile, as concurrent calls are in AWS).
            time.sleep(max(0.0, delay - elapsed))
        with self._lock:
            entry = self._calls.setdefault(key, [0.0, 0.0])
            entry[0] += 1
            entry[1] += elapsed
            if operation == "StartLogging" and caller != "harness":
                self._logging_started.append([caller, time.time()])
        return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ready", required=True, help="file to write the port to once serving")
    args = parser.parse_args()
    # Imported here: the middleware above is importable (and tested) without moto[server].
    from moto.moto_server.werkzeug_app import (  # noqa: PLC0415
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server  # noqa: PLC0415

    app = CountingMiddleware(DomainDispatcherApplication(create_backend_app))
    # Port 0: the kernel picks a free port on the loopback interface.
    server = make_server("127.0.0.1", 0, app, True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    tmp = args.ready + ".tmp"
    with open(tmp, "w") as handle:
        handle.write(str(port))
    os.replace(tmp, args.ready)
    print(f"moto server with call counting on 127.0.0.1:{port}", file=sys.stderr)
    server.serve_forever()


if __name__ == "__main__":
    main()
