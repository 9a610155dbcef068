"""Exit statuses, the command line's own error, and hints worded for an operator."""

from __future__ import annotations

from trailguard.errors import AwsCallFailed

EXIT_OK = 0
EXIT_DRIFT = 1  # drift found or left, a baseline missing, trailguard impaired, or declined
EXIT_ERROR = 2  # could not find out: usage, credentials, permissions, no stack

_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")
_NO_CREDENTIALS = (
    "NoCredentialsError",
    "PartialCredentialsError",
    "CredentialRetrievalError",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "TokenRetrievalError",
    "SSOTokenLoadError",
    "UnauthorizedSSOTokenError",
)
_THROTTLED = ("Throttling", "ThrottlingException", "TooManyRequestsException")


class CliError(Exception):
    """trailguard could not do what was asked; `hint` says what to do (exit status 2)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def operator_hint(exc: AwsCallFailed) -> str:
    """The library's hint, reworded for someone running with their own credentials."""
    if exc.code in _NO_CREDENTIALS:
        return (
            "your AWS credentials are missing, invalid or expired: sign in again "
            "(for example `aws sso login`) or set AWS_PROFILE"
        )
    if exc.code in _DENIED:
        return exc.hint.replace(
            "the function's role is missing", "your credentials are missing"
        ).replace(": add it to the role", ": sign in with a role that has it")
    if exc.code in _THROTTLED:
        return "AWS throttled the call after retries: try again in a minute"
    if exc.code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return "AWS could not be reached: check the network and --region"
    return exc.hint
