"""The one place AWS clients are made.

Clients are botocore clients: trailguard uses no boto3 resource or transfer
helper, and importing boto3 costs about a third of a cold start (it pulls in
s3transfer). Clients are created lazily and cached per (service, region): creating one costs
milliseconds of cold start, and a client made before a test's moto mock starts
would talk to real AWS.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

from trailguard import __version__

_ORGANIZATIONS_REGION = "us-east-1"


@lru_cache(maxsize=1)
def _config() -> Any:
    from botocore.config import Config

    # Standard mode retries throttling and transient 5xx with backoff; the
    # attempt cap keeps a remediation well inside the function timeout.
    return Config(
        retries={"mode": "standard", "total_max_attempts": 5},
        connect_timeout=3,
        read_timeout=10,
        user_agent_extra=f"trailguard/{__version__}",
    )


@lru_cache(maxsize=1)
def _session() -> Any:
    import botocore.session

    # One session: its loader parses each service model once, not once per client.
    return botocore.session.get_session()


# A botocore session is not thread-safe, the clients it makes are: independent calls run
# on threads (concurrency.py), so a client is made under this lock, once.
_MAKING = threading.Lock()


def client(service: str, region: str) -> Any:
    if service in ("organizations", "iam"):
        # Global services: one endpoint, whatever region the function runs in.
        region = _ORGANIZATIONS_REGION
    with _MAKING:
        return _client(service, region)


@lru_cache(maxsize=32)
def _client(service: str, region: str) -> Any:
    # Typed as Any: the service name is data here, which the stubs' overloads cannot follow.
    session: Any = _session()
    return session.create_client(service, region_name=region, config=_config())


@lru_cache(maxsize=1)
def _best_effort_config() -> Any:
    from botocore.config import Config

    # For destinations that must not hold up the invocation (engine/destinations.py):
    # one retry and short timeouts bound a failing destination to about 15 seconds.
    return Config(
        retries={"mode": "standard", "total_max_attempts": 2},
        connect_timeout=2,
        read_timeout=5,
        user_agent_extra=f"trailguard/{__version__}",
    )


def best_effort_client(service: str, region: str) -> Any:
    with _MAKING:
        return _best_effort_client(service, region)


@lru_cache(maxsize=32)
def _best_effort_client(service: str, region: str) -> Any:
    session: Any = _session()
    return session.create_client(service, region_name=region, config=_best_effort_config())


# Credentials of a role in another account (the log-archive companion's role),
# kept until a few minutes before they expire: one AssumeRole per environment and hour.
_ASSUMED: dict[str, tuple[float, Any]] = {}
_ASSUME_SECONDS = 3600
_RENEW_BEFORE = 300.0


def client_as(service: str, region: str, role_arn: str, session_name: str = "trailguard") -> Any:
    """A client acting as `role_arn` (another account); the ordinary client when ''."""
    import time

    if not role_arn:
        return client(service, region)
    now = time.monotonic()
    cached = _ASSUMED.get(role_arn)
    if cached is None or cached[0] - _RENEW_BEFORE < now:
        credentials = client("sts", region).assume_role(
            RoleArn=role_arn, RoleSessionName=session_name, DurationSeconds=_ASSUME_SECONDS
        )["Credentials"]
        cached = (now + _ASSUME_SECONDS, {"credentials": credentials, "clients": {}})
        _ASSUMED[role_arn] = cached
    made: dict[tuple[str, str], Any] = cached[1]["clients"]
    if (service, region) not in made:
        # The one botocore session (its loaded service models), with the role's keys.
        credentials = cached[1]["credentials"]
        with _MAKING:
            session: Any = _session()
            made[(service, region)] = session.create_client(
                service,
                region_name=region,
                config=_config(),
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
    return made[(service, region)]


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh moto world per test)."""
    _client.cache_clear()
    _best_effort_client.cache_clear()
    _session.cache_clear()
    _ASSUMED.clear()
