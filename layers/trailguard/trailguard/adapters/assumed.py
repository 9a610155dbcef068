"""A client in the account that owns the trail's bucket and key (the log-archive
companion's role there), or the management account's own when no role is given."""

from __future__ import annotations

from typing import Any

from trailguard import clients
from trailguard.adapters.aws_errors import call

IAM_ACTIONS = frozenset({"sts:AssumeRole"})


def client_in_chain_account(service: str, region: str, role_arn: str) -> Any:
    return call(
        "AssumeRole",
        "sts:AssumeRole",
        clients.client_as,
        service=service,
        region=region,
        role_arn=role_arn,
    )
