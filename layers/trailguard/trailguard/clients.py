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


def reset_clients() -> None:
    """Forget cached clients (tests start a fresh moto world per test)."""
    _client.cache_clear()
    _best_effort_client.cache_clear()
    _session.cache_clear()
