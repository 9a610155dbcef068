"""Domain errors. Adapters raise these `from` the botocore error they translate."""

from __future__ import annotations


class InvalidEvent(ValueError):
    """The event cannot be trusted or understood; nothing is done with it."""


class RemediationFailed(RuntimeError):
    """A repair was attempted and the invariant is still broken.

    Raised after the CRITICAL alert is published so that Lambda's retries and
    the on-failure destination take over.
    """


class AwsCallFailed(RuntimeError):
    """An AWS call failed; `hint` tells the on-call engineer what to do about it."""

    def __init__(self, operation: str, code: str, message: str, hint: str) -> None:
        super().__init__(f"{operation} failed with {code}: {message}")
        self.operation = operation
        self.code = code
        self.hint = hint


class AlertNotDelivered(RuntimeError):
    """The alert could not be published. The repair (if any) stands.

    `rendered` is the SNS message that was not delivered, kept so that a retry
    of the same event publishes it without repairing a second time.
    """

    def __init__(self, message: str, rendered: object | None = None) -> None:
        super().__init__(message)
        self.rendered = rendered
