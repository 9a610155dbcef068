"""Answering CloudFormation custom resource requests (the deploy-time capture).

A custom resource that never answers leaves its stack waiting for the custom
resource's `ServiceTimeout` (an hour by default). So the answer is guarded three ways:

- A timer answers FAILED shortly before the function would time out
  (`context.get_remaining_time_in_millis()`), if the work has not answered by then.
- The answer, a PUT to the pre-signed ResponseURL, is retried with a short backoff.
- Exactly one answer goes out: whichever of the work and the timer comes first.

The template also sets `ServiceTimeout` on the custom resource, for the case where the
function never runs at all.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, Protocol
from urllib.parse import urlparse

logger = logging.getLogger("trailguard")

# Seconds kept in hand before the function's timeout: enough for every attempt of the
# PUT below (3 attempts of at most 4 s, with 0.5 s and 1 s between them).
TIMEOUT_MARGIN = 15.0
ATTEMPTS = 3
_PUT_TIMEOUT = 4.0
_BACKOFF = (0.5, 1.0)

Work = Callable[[], tuple[str, str, Mapping[str, Any]]]  # -> (status, reason, data)
Opener = Callable[..., Any]


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class ResponseNotDelivered(RuntimeError):
    """CloudFormation could not be told the outcome after every attempt."""


def is_custom_resource_request(event: object) -> bool:
    return isinstance(event, dict) and "RequestType" in event and "ResponseURL" in event


def _body(
    event: Mapping[str, Any], status: str, reason: str, data: Mapping[str, Any], physical_id: str
) -> bytes:
    return json.dumps(
        {
            "Status": status,
            # CloudFormation shows Reason in the console; it must stay short.
            "Reason": reason[:400],
            "PhysicalResourceId": physical_id,
            "StackId": event["StackId"],
            "RequestId": event["RequestId"],
            "LogicalResourceId": event["LogicalResourceId"],
            "NoEcho": False,
            "Data": dict(data),
        }
    ).encode()


def respond(
    event: Mapping[str, Any],
    status: str,
    reason: str,
    data: Mapping[str, Any],
    physical_id: str,
    *,
    opener: Opener | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """PUT the answer to the ResponseURL, retrying; ResponseNotDelivered after the last."""
    url = str(event["ResponseURL"])
    if urlparse(url).scheme != "https":
        raise ValueError("ResponseURL is not https")
    body = _body(event, status, reason, data, physical_id)
    opener = opener or urllib.request.urlopen
    for attempt in range(1, ATTEMPTS + 1):
        request = urllib.request.Request(  # noqa: S310 (scheme checked above)
            url,
            data=body,
            method="PUT",
            headers={"Content-Type": "", "Content-Length": str(len(body))},
        )
        try:
            with opener(request, timeout=_PUT_TIMEOUT) as response:
                logger.info(
                    "custom resource answered",
                    extra={"status": status, "http": response.status, "attempt": attempt},
                )
                return
        except Exception as exc:  # URLError, HTTPError, timeouts: all worth another try
            logger.warning(
                "custom resource answer failed",
                extra={"status": status, "attempt": attempt, "error": str(exc)[:300]},
            )
            if attempt == ATTEMPTS:
                raise ResponseNotDelivered(
                    f"CloudFormation was not answered after {ATTEMPTS} attempts: {exc}"
                ) from exc
            sleep(_BACKOFF[attempt - 1])


class _OneAnswer:
    """Sends at most one answer, from whichever thread asks first."""

    def __init__(self, event: Mapping[str, Any], physical_id: str, opener: Opener | None) -> None:
        self._event = event
        self._physical_id = physical_id
        self._opener = opener
        self._lock = threading.Lock()
        self.sent: str = ""  # the status that went out

    def send(self, status: str, reason: str, data: Mapping[str, Any]) -> bool:
        with self._lock:
            if self.sent:
                return False
            self.sent = status
        respond(self._event, status, reason, data, self._physical_id, opener=self._opener)
        return True


def _stop(timer: threading.Timer) -> None:
    # If the timer already fired, wait for its answer to go out: Lambda freezes the
    # environment once the handler returns, which would cut a PUT in flight.
    timer.cancel()
    timer.join()


def answer_in_time(
    event: Mapping[str, Any],
    context: LambdaContext,
    work: Work,
    physical_id: str,
    *,
    margin: float = TIMEOUT_MARGIN,
    opener: Opener | None = None,
) -> str:
    """Run `work` and answer CloudFormation with its outcome, or FAILED when the work
    raises or is still running `margin` seconds before the function's timeout.

    Returns the status sent. Re-raises the work's exception after answering, so that
    the function's logs and error metrics show it.
    """
    answer = _OneAnswer(event, physical_id, opener)
    seconds_left = context.get_remaining_time_in_millis() / 1000 - margin

    def out_of_time() -> None:
        logger.error("custom resource work still running near the timeout; answering FAILED")
        try:
            answer.send(
                "FAILED",
                "trailguard did not finish before the function's timeout; see the "
                "CaptureBaselineFunction log group",
                {},
            )
        except ResponseNotDelivered:
            logger.exception("custom resource timeout answer not delivered")

    timer = threading.Timer(max(seconds_left, 0.0), out_of_time)
    timer.daemon = True
    timer.start()
    try:
        status, reason, data = work()
    except Exception as exc:
        _stop(timer)
        answer.send("FAILED", f"baseline capture failed: {exc}", {})
        raise
    _stop(timer)
    if not answer.send(status, reason, data):
        logger.warning("work finished after the timeout answer", extra={"status": status})
    return answer.sent
